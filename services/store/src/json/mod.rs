//! The JSON forms of the domain types kept in JSONB columns.
//!
//! `rollcall-core` types carry no serde derives, so each has a mirror type here with an
//! explicit conversion both ways. A change in the domain model therefore breaks the build
//! here instead of silently changing what is stored. The JSON uses snake_case names and
//! RFC 3339 instants in UTC with their full precision.

mod account;
mod auth;
mod entitlement;
mod finding;
mod settings;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub(crate) use account::AccountJson;
pub(crate) use entitlement::{EntitlementJson, MembershipJson};
pub(crate) use finding::{EvidenceJson, SubjectJson};
pub(crate) use settings::{SettingsJson, WorkerJson};

use crate::error::StoreError;

/// Serialises `value` into a JSON value for a JSONB column, rejecting text that
/// PostgreSQL cannot store. `path` names the value in the error, such as `accounts`.
pub(crate) fn encode<T: Serialize>(value: &T, path: &str) -> Result<Value, StoreError> {
    let json = serde_json::to_value(value)
        .map_err(|e| StoreError::Encode { path: path.to_owned(), reason: e.to_string() })?;
    find_nul(&json, path)?;
    Ok(json)
}

/// Deserialises a JSONB value read from `table`, for the row named by `key`.
pub(crate) fn decode<T: DeserializeOwned>(
    value: Value,
    table: &'static str,
    key: &str,
) -> Result<T, StoreError> {
    serde_json::from_value(value).map_err(|e| StoreError::CorruptRow {
        table,
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

/// Deserialises JSONB read as text (`column::text`) from `table`, for the row named by
/// `key`. Straight from the text, without a [`Value`] in between: loading a large
/// practice's snapshots for a campaign launch spends most of its time here.
pub(crate) fn decode_text<T: DeserializeOwned>(
    text: &str,
    table: &'static str,
    key: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::CorruptRow {
        table,
        key: key.to_owned(),
        reason: e.to_string(),
    })
}

/// Rejects a NUL character (U+0000) in `text`: PostgreSQL's `text` type cannot hold it.
pub(crate) fn check_text(text: &str, path: &str) -> Result<(), StoreError> {
    if text.contains('\0') {
        return Err(StoreError::NulCharacter { path: path.to_owned() });
    }
    Ok(())
}

/// Rejects a NUL character in any string or object key of `value`, naming its JSON path:
/// jsonb rejects `\u0000` like `text` does.
pub(crate) fn find_nul(value: &Value, path: &str) -> Result<(), StoreError> {
    match nul_path(value) {
        Some(suffix) => Err(StoreError::NulCharacter { path: format!("{path}{suffix}") }),
        None => Ok(()),
    }
}

/// Returns the path below `value` of the first NUL character, built only when one is
/// found so that a clean snapshot costs no allocation per element.
fn nul_path(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(String::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_path(item).map(|rest| format!("[{index}]{rest}"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            let key_text = key.escape_default();
            if key.contains('\0') {
                return Some(format!(".{key_text}"));
            }
            nul_path(item).map(|rest| format!(".{key_text}{rest}"))
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

#[cfg(test)]
mod tests;
