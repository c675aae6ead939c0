//! The normalised form: lowercase types and values, escapes resolved and written back in
//! one canonical way, AVAs of a multi-valued RDN sorted.

use std::fmt::Write as _;

use super::parse::{is_attribute_type, strip_oid_prefix};
use super::{AttributeValue, Ava, Rdn};

pub(super) fn normalize_rdns(rdns: &[Rdn]) -> String {
    // Entry and member DNs are normalised once each per import, so the common single-AVA
    // RDN is written straight into one buffer instead of through a string per part.
    let mut normalized = String::with_capacity(rdns.len() * 16);
    for (index, rdn) in rdns.iter().enumerate() {
        if index > 0 {
            normalized.push(',');
        }
        match rdn.avas() {
            [ava] => push_ava(&mut normalized, ava),
            avas => {
                let mut parts: Vec<String> = avas
                    .iter()
                    .map(|ava| {
                        let mut part = String::new();
                        push_ava(&mut part, ava);
                        part
                    })
                    .collect();
                parts.sort();
                normalized.push_str(&parts.join("+"));
            }
        }
    }
    normalized
}

/// Returns the normal form of a DN that needs none of the parser's special cases, or
/// `None` for any other DN, including every invalid one.
///
/// A plain DN has no `\\`, `+`, `#`, `"`, `;`, `<`, `>` or NUL, and each of its RDNs is
/// one `type=value` with a descriptor or numeric OID as type. Spaces are dropped where the
/// parser drops them: before the type, around `=` and after the value.
pub(super) fn normalize_plain(text: &str) -> Option<String> {
    if text.bytes().any(|b| matches!(b, b'\\' | b'+' | b'#' | b'"' | b';' | b'<' | b'>' | 0)) {
        return None;
    }
    // The parser reads an empty DN, or one of spaces only, as the root DSE.
    if text.bytes().all(|b| b == b' ') {
        return None;
    }
    let mut normalized = String::with_capacity(text.len());
    for (index, rdn) in text.split(',').enumerate() {
        let (attribute_type, value) = rdn.split_once('=')?;
        let attribute_type = attribute_type.trim_start_matches(' ').trim_end();
        if !is_attribute_type(attribute_type) {
            return None;
        }
        let value = value.trim_start_matches(' ').trim_end_matches(' ');
        if index > 0 {
            normalized.push(',');
        }
        push_type(&mut normalized, attribute_type);
        normalized.push('=');
        push_text(&mut normalized, value);
    }
    Some(normalized)
}

/// Appends `type=value` in normal form.
fn push_ava(out: &mut String, ava: &Ava) {
    push_type(out, ava.attribute_type());
    out.push('=');
    match ava.value() {
        AttributeValue::Ber(bytes) => {
            out.push('#');
            for byte in bytes {
                // Writing to a String cannot fail.
                let _ = write!(out, "{byte:02x}");
            }
        }
        AttributeValue::Text(text) => push_text(out, text),
    }
}

/// Appends a text value lowercased and escaped.
fn push_text(out: &mut String, text: &str) {
    if text.is_ascii() {
        // For ASCII text `to_lowercase` is `to_ascii_lowercase`, which needs no copy.
        escape_value_into(out, text.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        escape_value_into(out, text.to_lowercase().chars());
    }
}

/// Appends the type in lowercase, with the numeric OIDs of the RFC 4514 section 3 names
/// replaced by those names, so `2.5.4.3=x` equals `CN=x`.
fn push_type(out: &mut String, name: &str) {
    let name = strip_oid_prefix(name);
    // Numeric OIDs have no letters, so they match before lowercasing.
    let short = match name {
        "2.5.4.3" => "cn",
        "2.5.4.6" => "c",
        "2.5.4.7" => "l",
        "2.5.4.8" => "st",
        "2.5.4.9" => "street",
        "2.5.4.10" => "o",
        "2.5.4.11" => "ou",
        "0.9.2342.19200300.100.1.1" => "uid",
        "0.9.2342.19200300.100.1.25" => "dc",
        _ => {
            out.extend(name.chars().map(|c| c.to_ascii_lowercase()));
            return;
        }
    };
    out.push_str(short);
}

/// Escapes a value for the RFC 4514 string form: the special characters, a leading `#` or
/// space, a trailing space, and NUL.
pub fn escape_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    escape_value_into(&mut escaped, value.chars());
    escaped
}

/// Appends the characters of a value, escaped as [`escape_value`] describes.
fn escape_value_into(out: &mut String, value: impl Iterator<Item = char>) {
    let mut value = value.peekable();
    let mut first = true;
    while let Some(c) = value.next() {
        let last = value.peek().is_none();
        match c {
            '\\' | ',' | '+' | '"' | ';' | '<' | '>' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\0' => out.push_str("\\00"),
            '#' if first => out.push_str("\\#"),
            ' ' if first || last => out.push_str("\\ "),
            other => out.push(other),
        }
        first = false;
    }
}
