//! Source identifiers: which system of record an account or entitlement comes from.

use std::fmt;
use std::str::FromStr;

/// The kind of a system of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    /// Microsoft Entra ID, read through Microsoft Graph.
    Entra,
    /// An LDAP v3 directory or Active Directory.
    Ldap,
    /// An EHR's user export; the instance names the vendor (`ehr:epic`).
    Ehr,
    /// The HR system: the list of workers and their employment status.
    Hr,
}

impl SourceKind {
    /// The lowercase name used in source ids, file layouts and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Entra => "entra",
            SourceKind::Ldap => "ldap",
            SourceKind::Ehr => "ehr",
            SourceKind::Hr => "hr",
        }
    }
}

/// A source within one tenant: `entra`, `ldap`, `ehr:<vendor>` or `hr`.
///
/// `ldap` and `entra` may carry an instance name too (`ldap:north`) for a tenant with two
/// directories. The instance is lowercase ASCII letters, digits, `-` and `_`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId {
    kind: SourceKind,
    instance: Option<String>,
}

/// A source id string that does not follow the `kind[:instance]` form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceIdError {
    /// The part before `:` is not a known source kind.
    #[error("unknown source kind `{0}`: use `entra`, `ldap`, `ehr:<vendor>` or `hr`")]
    UnknownKind(String),
    /// An EHR source without its vendor name.
    #[error("an EHR source needs a vendor name, for example `ehr:epic`")]
    MissingVendor,
    /// The instance name has characters other than lowercase letters, digits, `-` and `_`.
    #[error(
        "invalid source instance `{0}`: use lowercase letters, digits, `-` and `_`, at most 64"
    )]
    InvalidInstance(String),
}

impl SourceId {
    /// The tenant's Entra ID.
    pub fn entra() -> Self {
        Self { kind: SourceKind::Entra, instance: None }
    }

    /// The tenant's LDAP or Active Directory domain.
    pub fn ldap() -> Self {
        Self { kind: SourceKind::Ldap, instance: None }
    }

    /// The tenant's HR system.
    pub fn hr() -> Self {
        Self { kind: SourceKind::Hr, instance: None }
    }

    /// An EHR source for `vendor` (`epic`, `athenahealth`, ...).
    pub fn ehr(vendor: &str) -> Result<Self, SourceIdError> {
        Self::with_instance(SourceKind::Ehr, Some(vendor))
    }

    /// A source of `kind` with an optional instance name.
    pub fn with_instance(kind: SourceKind, instance: Option<&str>) -> Result<Self, SourceIdError> {
        let instance = match instance {
            None if kind == SourceKind::Ehr => return Err(SourceIdError::MissingVendor),
            None => None,
            Some(name) => {
                let valid = !name.is_empty()
                    && name.len() <= 64
                    && name.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    });
                if !valid {
                    return Err(SourceIdError::InvalidInstance(name.to_owned()));
                }
                Some(name.to_owned())
            }
        };
        Ok(Self { kind, instance })
    }

    /// The kind of system.
    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// The instance name (the vendor for EHR sources).
    pub fn instance(&self) -> Option<&str> {
        self.instance.as_deref()
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.instance {
            Some(instance) => write!(f, "{}:{}", self.kind.as_str(), instance),
            None => f.write_str(self.kind.as_str()),
        }
    }
}

impl FromStr for SourceId {
    type Err = SourceIdError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, instance) = match s.split_once(':') {
            Some((kind, instance)) => (kind, Some(instance)),
            None => (s, None),
        };
        let kind = match kind {
            "entra" => SourceKind::Entra,
            "ldap" => SourceKind::Ldap,
            "ehr" => SourceKind::Ehr,
            "hr" => SourceKind::Hr,
            other => return Err(SourceIdError::UnknownKind(other.to_owned())),
        };
        Self::with_instance(kind, instance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_id_round_trips() {
        for text in ["entra", "ldap", "ldap:north", "ehr:epic", "hr"] {
            let id: SourceId = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(id.to_string(), text);
        }
    }

    #[test]
    fn ehr_without_vendor_rejected() {
        assert_eq!("ehr".parse::<SourceId>(), Err(SourceIdError::MissingVendor));
    }

    #[test]
    fn bad_instance_rejected() {
        assert!(matches!("ehr:Epic".parse::<SourceId>(), Err(SourceIdError::InvalidInstance(_))));
        assert!(matches!("crm".parse::<SourceId>(), Err(SourceIdError::UnknownKind(_))));
    }
}
