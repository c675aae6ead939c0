//! The domain model: what a source holds for a tenant, in source-neutral terms.
//!
//! Parsers and connectors produce these types; the rules only read them.

pub mod account;
pub mod auth;
pub mod entitlement;
pub mod hr;
pub mod snapshot;
pub mod source;

pub use account::{
    Account, AccountKind, AccountMarker, AccountRef, AccountStatus, EpcsStatus, LastSignIn,
    ManagerRef,
};
pub use auth::{AuthMethod, MethodKind, MfaSummary, PhoneType, Strength};
pub use entitlement::{Entitlement, EntitlementKind, GrantState, Member, Membership};
pub use hr::{Worker, WorkerStatus};
pub use snapshot::{Availability, HrSnapshot, SourceSettings, SourceSnapshot};
pub use source::{SourceId, SourceIdError, SourceKind};
