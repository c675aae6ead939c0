//! Conversions at the edge between Rust values and PostgreSQL columns.

use chrono::{DateTime, Timelike, Utc};

/// Truncates `instant` to whole microseconds, the resolution of `timestamptz`, so that a
/// value compared or hashed in Rust equals the value PostgreSQL stores.
pub(crate) fn to_micros(instant: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = instant.nanosecond();
    instant.with_nanosecond(nanos - nanos % 1_000).unwrap_or(instant)
}
