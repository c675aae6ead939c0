//! The normalised form: lowercase types and values, escapes resolved and written back in
//! one canonical way, AVAs of a multi-valued RDN sorted.

use super::parse::strip_oid_prefix;
use super::{AttributeValue, Rdn};

pub(super) fn normalize_rdns(rdns: &[Rdn]) -> String {
    let mut parts = Vec::with_capacity(rdns.len());
    for rdn in rdns {
        let mut avas: Vec<String> = rdn
            .avas()
            .iter()
            .map(|ava| {
                format!("{}={}", normalize_type(ava.attribute_type()), normalize_value(ava.value()))
            })
            .collect();
        avas.sort();
        parts.push(avas.join("+"));
    }
    parts.join(",")
}

/// Lowercases the type and replaces the numeric OIDs of the RFC 4514 section 3 names by
/// those names, so `2.5.4.3=x` equals `CN=x`.
fn normalize_type(name: &str) -> String {
    let name = strip_oid_prefix(name).to_ascii_lowercase();
    let short = match name.as_str() {
        "2.5.4.3" => "cn",
        "2.5.4.6" => "c",
        "2.5.4.7" => "l",
        "2.5.4.8" => "st",
        "2.5.4.9" => "street",
        "2.5.4.10" => "o",
        "2.5.4.11" => "ou",
        "0.9.2342.19200300.100.1.1" => "uid",
        "0.9.2342.19200300.100.1.25" => "dc",
        _ => return name,
    };
    short.to_owned()
}

fn normalize_value(value: &AttributeValue) -> String {
    match value {
        AttributeValue::Ber(bytes) => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            format!("#{hex}")
        }
        AttributeValue::Text(text) => escape_value(&text.to_lowercase()),
    }
}

/// Escapes a value for the RFC 4514 string form: the special characters, a leading `#` or
/// space, a trailing space, and NUL.
pub fn escape_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (index, c) in value.chars().enumerate() {
        match c {
            '\\' | ',' | '+' | '"' | ';' | '<' | '>' | '=' => {
                escaped.push('\\');
                escaped.push(c);
            }
            '\0' => escaped.push_str("\\00"),
            '#' if index == 0 => escaped.push_str("\\#"),
            ' ' if index == 0 || index == last => escaped.push_str("\\ "),
            other => escaped.push(other),
        }
    }
    escaped
}
