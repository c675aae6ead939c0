//! LDAP and Active Directory: the pieces that the LDIF reader and a live connector share.
//!
//! Both produce [`LdapEntry`] values (a DN and attribute descriptions with raw byte
//! values). [`LdapImport`] turns a set of entries into one `SourceSnapshot` for the
//! source `ldap`. The other modules contain the formats the mapping reads: RFC 4514 DNs,
//! RFC 4515 filter escaping, ranged retrieval of large attributes, and Active Directory
//! value formats.

pub mod ad;
pub mod dn;
pub mod entry;
pub mod filter;
pub mod import;
pub mod range;

pub use dn::{Dn, DnError, normalize_dn};
pub use entry::LdapEntry;
pub use import::{EntryOrigin, LdapImport};
pub use range::{RangeCollector, RangeError, RangeStatus, ValueRange, parse_description};

#[cfg(test)]
mod tests;
