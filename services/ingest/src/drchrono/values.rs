//! Field values as DrChrono writes them: ids as numbers or strings, booleans as JSON or
//! strings, and naive local timestamps.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

/// Returns a trimmed, non-empty string field.
pub(super) fn text<'a>(record: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    record.get(name)?.as_str().map(str::trim).filter(|value| !value.is_empty())
}

/// Returns an id written as a JSON integer or a string (`70112` or `"70112"`).
pub(super) fn id(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
        _ => None,
    }
}

/// Returns the id field `name` of a record.
pub(super) fn id_field(record: &Map<String, Value>, name: &str) -> Option<String> {
    record.get(name).and_then(id)
}

/// Reads a doctor reference written as an integer, a string, or the doctor's API URL
/// (`https://app.drchrono.com/api/doctors/88301`), whose last path segment is the id.
pub(super) fn doctor_ref(value: &Value) -> Option<String> {
    let text = id(value)?;
    if !text.contains('/') {
        return Some(text);
    }
    let path = text.split(['?', '#']).next().unwrap_or_default();
    path.split('/').rev().find(|segment| !segment.is_empty()).map(str::to_owned)
}

/// The result of reading a boolean field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Flag {
    /// The field is absent or null.
    Absent,
    /// `true`/`false`, as JSON or as a string in any case.
    Value(bool),
    /// Anything else, as JSON text, for the warning.
    Invalid(String),
}

/// Reads a boolean written as JSON `true`/`false` or as the strings `"true"`/`"false"`;
/// DrChrono's OpenAPI schema types `is_doctor`, `is_staff` and `active` as strings.
pub(super) fn flag(record: &Map<String, Value>, name: &str) -> Flag {
    match record.get(name) {
        None | Some(Value::Null) => Flag::Absent,
        Some(Value::Bool(value)) => Flag::Value(*value),
        Some(Value::String(text)) if text.trim().eq_ignore_ascii_case("true") => Flag::Value(true),
        Some(Value::String(text)) if text.trim().eq_ignore_ascii_case("false") => {
            Flag::Value(false)
        }
        Some(other) => Flag::Invalid(other.to_string()),
    }
}

/// The reason a timestamp could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TimeError {
    /// Not RFC 3339 and not `YYYY-MM-DDTHH:MM:SS[.fff]`.
    Format,
    /// A local time skipped by a daylight-saving change in the zone.
    Skipped,
}

/// Parses a DrChrono timestamp. An RFC 3339 value keeps its offset. A naive value
/// (`2026-11-30T07:58:12`, the API's usual form) is read in `zone`. A local time that
/// occurs twice at the end of daylight saving time resolves to the earlier instant.
pub(super) fn timestamp(text: &str, zone: Tz) -> Result<DateTime<Utc>, TimeError> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .ok_or(TimeError::Format)?;
    zone.from_local_datetime(&naive)
        .earliest()
        .map(|time| time.with_timezone(&Utc))
        .ok_or(TimeError::Skipped)
}

pub(super) use crate::json_support::type_name;
