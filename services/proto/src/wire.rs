//! Field-level conversions shared by the message conversions: timestamps, enum numbers and
//! the ids that have a fixed text form.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use rollcall_core::TenantId;
use rollcall_core::model::SourceId;
use uuid::Uuid;

use crate::error::ConvertError;

/// The largest nanosecond value a `google.protobuf.Timestamp` allows.
const MAX_NANOS: u32 = 999_999_999;

/// Converts an instant into a `google.protobuf.Timestamp`.
///
/// A leap second (`23:59:60`), which chrono stores as a nanosecond value of one billion or
/// more, becomes the last nanosecond of the second before it, because Timestamp has no
/// leap seconds (its definition in `google/protobuf/timestamp.proto` smears them). Every
/// other instant converts without loss.
pub(crate) fn timestamp_to_proto(instant: DateTime<Utc>) -> Timestamp {
    let nanos = instant.timestamp_subsec_nanos().min(MAX_NANOS);
    Timestamp { seconds: instant.timestamp(), nanos: i32::try_from(nanos).unwrap_or(i32::MAX) }
}

/// Converts an optional instant; `None` leaves the message field unset.
pub(crate) fn optional_timestamp_to_proto(instant: Option<DateTime<Utc>>) -> Option<Timestamp> {
    instant.map(timestamp_to_proto)
}

/// Converts a `google.protobuf.Timestamp` into an instant.
pub(crate) fn timestamp_from_proto(
    timestamp: Timestamp,
    field: &str,
) -> Result<DateTime<Utc>, ConvertError> {
    let invalid = || ConvertError::InvalidTimestamp {
        field: field.to_owned(),
        seconds: timestamp.seconds,
        nanos: timestamp.nanos,
    };
    let nanos = u32::try_from(timestamp.nanos).map_err(|_| invalid())?;
    if nanos > MAX_NANOS {
        return Err(invalid());
    }
    DateTime::from_timestamp(timestamp.seconds, nanos).ok_or_else(invalid)
}

/// Converts an optional timestamp; an unset field becomes `None`.
pub(crate) fn optional_timestamp_from_proto(
    timestamp: Option<Timestamp>,
    field: &str,
) -> Result<Option<DateTime<Utc>>, ConvertError> {
    timestamp.map(|t| timestamp_from_proto(t, field)).transpose()
}

/// Converts a required timestamp; an unset field is [`ConvertError::Missing`].
pub(crate) fn required_timestamp_from_proto(
    timestamp: Option<Timestamp>,
    field: &str,
) -> Result<DateTime<Utc>, ConvertError> {
    let timestamp = timestamp.ok_or_else(|| ConvertError::missing(field))?;
    timestamp_from_proto(timestamp, field)
}

/// Reads an enum number as the generated enum `E`, rejecting `0` (`_UNSPECIFIED`) as
/// missing and a number `E` does not define as unknown.
///
/// The caller still matches the `Unspecified` variant, which this function never returns.
pub(crate) fn enum_from_proto<E: TryFrom<i32>>(value: i32, field: &str) -> Result<E, ConvertError> {
    if value == 0 {
        return Err(ConvertError::missing(field));
    }
    E::try_from(value).map_err(|_| ConvertError::UnknownEnum { field: field.to_owned(), value })
}

/// Parses a source id such as `ehr:epic`.
pub(crate) fn source_from_proto(value: String, field: &str) -> Result<SourceId, ConvertError> {
    value.parse().map_err(|source| ConvertError::InvalidSourceId {
        field: field.to_owned(),
        value,
        source,
    })
}

/// Parses a tenant id.
pub(crate) fn tenant_from_proto(value: String, field: &str) -> Result<TenantId, ConvertError> {
    TenantId::new(&value)
        .map_err(|_| ConvertError::InvalidTenant { field: field.to_owned(), value: value.clone() })
}

/// Parses a UUID, accepting only the lowercase hyphenated form that [`Uuid`]'s `Display`
/// writes. The id doubles as a NATS message id, which JetStream compares as text, so two
/// spellings of one UUID must not both be valid.
pub(crate) fn uuid_from_proto(value: String, field: &str) -> Result<Uuid, ConvertError> {
    let invalid = || ConvertError::InvalidUuid { field: field.to_owned(), value: value.clone() };
    let uuid = Uuid::try_parse(&value).map_err(|_| invalid())?;
    if uuid.hyphenated().to_string() != value {
        return Err(invalid());
    }
    Ok(uuid)
}
