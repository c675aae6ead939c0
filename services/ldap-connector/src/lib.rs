//! Rollcall's LDAP and Active Directory connector.
//!
//! For each configured directory, the connector binds over LDAPS or StartTLS with a pinned
//! CA (plain LDAP only when the configuration says `insecure`), reads users and groups with
//! the paged results control, completes Active Directory's ranged `member` values, reads
//! groups outside the base that synced groups contain, and maps the entries with the same
//! code that `rollcall scan` uses for LDIF files ([`rollcall_ingest::ldap::LdapImport`]).
//! So a live sync and a scan of an `ldapsearch` export of the same directory give the same
//! snapshot.
//!
//! Each attempt publishes the snapshot in chunks (`rollcall_proto::split`) and then a
//! `SyncReport` through `rollcall-bus`. An attempt that fails at any stage publishes no
//! snapshot, only a failed report naming the stage and the fix.
//!
//! `docs/connectors/ldap.md` documents set-up, configuration, metrics and failure
//! behaviour.

pub mod client;
pub mod config;
pub mod error;
pub mod metrics;
pub mod referral;
pub mod schedule;
pub mod sync;
pub mod tls;

pub use config::{Directory, DirectoryConfig, Flavor, ReferralPolicy, TlsMode};
pub use error::{Stage, SyncError};
pub use metrics::SyncMetrics;
pub use sync::{DirectoryRead, read_directory, sync_once};
