//! Search filters in the RFC 4515 string form, built so that any DN can be used as an
//! assertion value.
//!
//! A DN read back from Active Directory carries RFC 4514 escapes (`\,`, `\#`). A filter
//! needs its own escapes on top (`\5c` for each backslash), so the DN string exactly as the
//! server returned it goes through [`escape_value`] unchanged: stripping or rewriting the
//! DN's escapes first yields a different DN that matches nothing.

use std::fmt::Write;

/// Escapes an assertion value per RFC 4515 section 3: `\` as `\5c`, `*` as `\2a`, `(` as
/// `\28`, `)` as `\29` and NUL as `\00`, in lowercase hex. Every other character, UTF-8
/// letters included, stays as it is.
pub fn escape_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\5c"),
            '*' => escaped.push_str("\\2a"),
            '(' => escaped.push_str("\\28"),
            ')' => escaped.push_str("\\29"),
            '\0' => escaped.push_str("\\00"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Escapes every byte of a binary assertion value as `\xx`, the form a filter on
/// `objectGUID` or `objectSid` needs.
pub fn escape_bytes(value: &[u8]) -> String {
    let mut escaped = String::with_capacity(value.len() * 3);
    for byte in value {
        // `fmt::Write` for `String` always returns `Ok`.
        let _ = write!(escaped, "\\{byte:02x}");
    }
    escaped
}

/// Builds the equality filter `(attribute=value)` with `value` escaped by [`escape_value`].
///
/// `attribute` is written as given, so it must be a valid attribute description such as
/// `member` or `objectClass`.
pub fn equality(attribute: &str, value: &str) -> String {
    format!("({attribute}={})", escape_value(value))
}

/// Joins filters into `(&...)`: every one must match.
pub fn and<I, S>(filters: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    join('&', filters)
}

/// Joins filters into `(|...)`: at least one must match.
pub fn or<I, S>(filters: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    join('|', filters)
}

fn join<I, S>(operator: char, filters: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut joined = String::from("(");
    joined.push(operator);
    for filter in filters {
        joined.push_str(filter.as_ref());
    }
    joined.push(')');
    joined
}
