//! The error of every message-to-domain conversion, naming the field that failed.

use std::fmt::Display;

use rollcall_core::model::SourceIdError;

/// A `rollcall.v1` message that does not convert into a domain value.
///
/// `field` is the path of the offending field inside the converted message, in protobuf
/// field names with list indexes, such as `accounts[3].auth_methods.methods[0].kind`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// A required field is unset, or an enum field is at its `_UNSPECIFIED` value `0`.
    #[error("`{field}` is missing or unspecified: the publisher must set it")]
    Missing {
        /// Path of the field.
        field: String,
    },
    /// An enum field has a number this build's schema does not define, such as a value
    /// added in a later release.
    #[error(
        "`{field}` has the unknown enum number `{value}`: upgrade this consumer to a release whose schema has it"
    )]
    UnknownEnum {
        /// Path of the field.
        field: String,
        /// Number on the wire.
        value: i32,
    },
    /// A source id is not of the form `kind[:instance]`.
    #[error("`{field}` has the invalid source id `{value}`: {source}")]
    InvalidSourceId {
        /// Path of the field.
        field: String,
        /// Value on the wire.
        value: String,
        /// Reason the id is invalid.
        source: SourceIdError,
    },
    /// A tenant id breaks the tenant id rules.
    #[error(
        "`{field}` has the invalid tenant id `{value}`: use 1 to 63 lowercase letters, digits and `-`, starting with a letter or digit"
    )]
    InvalidTenant {
        /// Path of the field.
        field: String,
        /// Value on the wire.
        value: String,
    },
    /// An id is not a UUID in lowercase hyphenated form.
    #[error(
        "`{field}` has the invalid id `{value}`: use a UUID in lowercase hyphenated form, such as `0f8e2c1a-5b7d-4e39-9a61-2d4c8b0e7f13`"
    )]
    InvalidUuid {
        /// Path of the field.
        field: String,
        /// Value on the wire.
        value: String,
    },
    /// A content hash is not 64 lowercase hex digits.
    #[error("`{field}` has the invalid SHA-256 hash `{value}`: use 64 lowercase hex digits")]
    InvalidHash {
        /// Path of the field.
        field: String,
        /// Value on the wire.
        value: String,
    },
    /// A timestamp is outside the range the domain can hold, or its nanoseconds are not
    /// in `0..=999_999_999`.
    #[error(
        "`{field}` has the invalid timestamp `{seconds}` s + `{nanos}` ns: send seconds since 1970-01-01T00:00:00Z and nanoseconds from 0 to 999999999"
    )]
    InvalidTimestamp {
        /// Path of the field.
        field: String,
        /// Seconds since the Unix epoch on the wire.
        seconds: i64,
        /// Nanoseconds on the wire.
        nanos: i32,
    },
    /// A time zone name is not in the IANA time zone database.
    #[error(
        "`{field}` has the unknown time zone `{value}`: use an IANA name such as `America/Chicago`"
    )]
    InvalidTimeZone {
        /// Path of the field.
        field: String,
        /// Value on the wire.
        value: String,
    },
    /// A field is set that the rest of the message rules out, such as a sign-in instant
    /// on an account that never signed in.
    #[error("`{field}` is set, but {reason}: leave it unset")]
    Unexpected {
        /// Path of the field.
        field: String,
        /// Reason the field must be unset, as a clause such as `the method kind is FIDO2`.
        reason: &'static str,
    },
    /// A snapshot of one source was read as the snapshot of another, such as a directory
    /// snapshot given to the HR roster conversion.
    #[error(
        "`{field}` is `{value}`, but an HR roster is the snapshot of source `hr`: convert other sources with source_snapshot_from_proto"
    )]
    NotHrRoster {
        /// Path of the field.
        field: String,
        /// Source id on the wire.
        value: String,
    },
    /// An instant lies before another instant that it must not precede, such as the end
    /// of a sync before its start.
    #[error("`{field}` is `{value}`, before `{other}` at `{other_value}`: it must not be earlier")]
    Before {
        /// Path of the field.
        field: String,
        /// Its value, in RFC 3339.
        value: String,
        /// Path of the field it must not precede.
        other: String,
        /// Value of that field, in RFC 3339.
        other_value: String,
    },
    /// A field differs from another field that must have the same value.
    #[error("`{field}` is `{value}` but must equal `{expected}`, the value of `{other}`")]
    Mismatch {
        /// Path of the field.
        field: String,
        /// Its value.
        value: String,
        /// Path of the field it must equal.
        other: String,
        /// Value of that field.
        expected: String,
    },
}

impl ConvertError {
    /// Returns the path of the offending field.
    pub fn field(&self) -> &str {
        match self {
            ConvertError::Missing { field }
            | ConvertError::UnknownEnum { field, .. }
            | ConvertError::InvalidSourceId { field, .. }
            | ConvertError::InvalidTenant { field, .. }
            | ConvertError::InvalidUuid { field, .. }
            | ConvertError::InvalidHash { field, .. }
            | ConvertError::InvalidTimestamp { field, .. }
            | ConvertError::InvalidTimeZone { field, .. }
            | ConvertError::Unexpected { field, .. }
            | ConvertError::NotHrRoster { field, .. }
            | ConvertError::Before { field, .. }
            | ConvertError::Mismatch { field, .. } => field,
        }
    }

    /// Prefixes the field path with the path of the message that contains it, so an error
    /// raised on `kind` inside `accounts[3]` names `accounts[3].kind`.
    pub(crate) fn within(mut self, parent: impl Display) -> Self {
        let field = match &mut self {
            ConvertError::Missing { field }
            | ConvertError::UnknownEnum { field, .. }
            | ConvertError::InvalidSourceId { field, .. }
            | ConvertError::InvalidTenant { field, .. }
            | ConvertError::InvalidUuid { field, .. }
            | ConvertError::InvalidHash { field, .. }
            | ConvertError::InvalidTimestamp { field, .. }
            | ConvertError::InvalidTimeZone { field, .. }
            | ConvertError::Unexpected { field, .. }
            | ConvertError::NotHrRoster { field, .. }
            | ConvertError::Before { field, .. }
            | ConvertError::Mismatch { field, .. } => field,
        };
        *field = format!("{parent}.{field}");
        if let ConvertError::Mismatch { other, .. } | ConvertError::Before { other, .. } = &mut self
        {
            *other = format!("{parent}.{other}");
        }
        self
    }

    pub(crate) fn missing(field: &str) -> Self {
        ConvertError::Missing { field: field.to_owned() }
    }
}
