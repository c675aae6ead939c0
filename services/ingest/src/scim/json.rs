//! JSON access with SCIM's rules: attribute names are case-insensitive (RFC 7643,
//! section 2.1), and some servers send booleans as strings.

use serde_json::{Map, Value};

/// Returns the attribute `name`, matched exactly first and then ignoring ASCII case.
pub(super) fn attribute<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| {
        object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
    })
}

/// Returns the string attribute `name`, trimmed, or `None` when it is missing, empty or
/// not a string.
pub(super) fn text<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    attribute(object, name)?.as_str().map(str::trim).filter(|value| !value.is_empty())
}

/// Returns an id-like attribute as text: a string, or an integer that a server wrote
/// without quotes.
pub(super) fn id_text(object: &Map<String, Value>, name: &str) -> Option<String> {
    match attribute(object, name)? {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
        _ => None,
    }
}

/// Returns the object attribute `name`.
pub(super) fn object<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Option<&'a Map<String, Value>> {
    attribute(object, name)?.as_object()
}

/// Returns the objects of the multi-valued attribute `name`, with their indexes; other items
/// are skipped.
pub(super) fn objects<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Vec<(usize, &'a Map<String, Value>)> {
    match attribute(object, name) {
        Some(Value::Array(items)) => {
            items.iter().enumerate().filter_map(|(i, item)| Some((i, item.as_object()?))).collect()
        }
        _ => Vec::new(),
    }
}

/// Reads a boolean written as JSON `true`/`false` or as the strings `"true"`/`"false"` in
/// any case (`"False"`), which some SCIM servers send in place of a JSON boolean.
pub(super) fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(flag) => Some(*flag),
        Value::String(text) if text.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Returns whether the `schemas` attribute lists `urn`, ignoring ASCII case as for
/// attribute names.
pub(super) fn has_schema(object: &Map<String, Value>, urn: &str) -> bool {
    match attribute(object, "schemas") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|schema| schema.trim().eq_ignore_ascii_case(urn)),
        _ => false,
    }
}

pub(super) use crate::json_support::type_name;
