//! HR vendor connections: each tenant's vendors, their delivery route, the read-back of
//! committed deliveries through the vendor's API, and the daily poll.
//!
//! A vendor delivery is committed to `rollcall.hr_vendor_deliveries` before the vendor
//! gets its 2xx ([`route`]). The resolver ([`resolve`]) then reads the worker back until
//! the read succeeds and turns a change of the worker's employment into the same
//! `HrEvent` the generic webhook produces. The poll ([`poll`]) enqueues every worker of
//! the vendor's list once a day, and pulls ADP's event queue.

pub mod config;
pub mod poll;
pub mod resolve;
pub mod route;
pub mod tasks;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rollcall_hr_vendors::{Credentials, Vendor, VendorAdapter, VendorClient};

pub use config::{VendorConfig, VendorConfigError};

/// One tenant's connection to one vendor.
pub struct VendorConnection {
    /// The vendor.
    pub vendor: Vendor,
    /// The adapter, with the tenant's settings.
    pub adapter: Box<dyn VendorAdapter>,
    /// The keys and credentials deliveries must carry.
    pub credentials: Credentials,
    /// The client of the tenant's vendor API.
    pub client: VendorClient,
    /// Gusto only: the subscription whose handshake the service completes.
    pub gusto_subscription: Option<String>,
}

impl fmt::Debug for VendorConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VendorConnection").field("vendor", &self.vendor).finish_non_exhaustive()
    }
}

/// The vendor connections of every tenant, by tenant id and vendor.
pub type VendorConnections = HashMap<(String, Vendor), Arc<VendorConnection>>;
