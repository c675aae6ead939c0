//! Reading one record: an entry, or the result and reference records that ldapsearch
//! prints around entries.

use std::path::Path;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::LdifEntry;
use super::error::LdifError;
use super::lines::LogicalLine;
use crate::diagnostic::{Diagnostic, Level, Location};
use crate::ldap::LdapEntry;

/// Standard base64 that accepts values with or without `=` padding, as LDIF writers differ.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The value part of an `attr: value` line (RFC 2849 `value-spec`).
enum ValueSpec<'a> {
    /// `attr: text`, with the leading spaces removed.
    Plain(&'a [u8]),
    /// `attr:: base64`, with the spaces around it removed.
    Base64(&'a [u8]),
    /// `attr:< url`.
    Url(&'a [u8]),
}

/// The diagnostics of one file, with its path.
pub(super) struct Reporter<'a> {
    pub file: &'a Path,
    pub diagnostics: Vec<Diagnostic>,
}

impl Reporter<'_> {
    pub fn report(&mut self, level: Level, line: u64, message: String) {
        self.diagnostics.push(Diagnostic::new(level, self.file, Location::Line(line), message));
    }
}

/// Splits a line at its first `:` into the attribute description and the value spec.
/// Returns `None` when there is no `:` or the description is not printable ASCII.
fn split_line(text: &[u8]) -> Option<(&str, ValueSpec<'_>)> {
    let colon = text.iter().position(|&b| b == b':')?;
    let name = std::str::from_utf8(text.get(..colon)?).ok()?;
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let rest = text.get(colon + 1..)?;
    let spec = match rest.split_first() {
        Some((b':', value)) => ValueSpec::Base64(value.trim_ascii()),
        Some((b'<', value)) => ValueSpec::Url(value.trim_ascii()),
        _ => ValueSpec::Plain(trim_leading_spaces(rest)),
    };
    Some((name, spec))
}

fn trim_leading_spaces(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|&b| b != b' ').unwrap_or(value.len());
    value.get(start..).unwrap_or_default()
}

/// Returns the first 60 bytes of a line for a message, so a long base64 line does not
/// flood it.
fn excerpt(text: &[u8]) -> String {
    let start =
        String::from_utf8_lossy(text.get(..text.len().min(60)).unwrap_or_default()).into_owned();
    if text.len() > 60 { format!("{start}...") } else { start }
}

/// Reads one record and returns the entries in it.
///
/// A record normally contains one entry. A `dn:` line inside a record, where the blank line
/// before it is missing, starts a further entry with a warning. Lines before the first
/// `dn:` of a record that does not start with one are skipped with a warning.
pub(super) fn read_record(
    record: &[LogicalLine],
    reporter: &mut Reporter<'_>,
) -> Result<Vec<LdifEntry>, LdifError> {
    let Some(first) = record.first() else { return Ok(Vec::new()) };
    let name = split_line(&first.text).map(|(name, _)| name.to_ascii_lowercase());
    match name.as_deref() {
        Some("dn") => read_entries(record, reporter),
        Some("search" | "result") => {
            read_search_result(record, reporter);
            Ok(Vec::new())
        }
        Some("ref") => {
            read_reference(record, reporter);
            Ok(Vec::new())
        }
        _ => {
            let dn_at = record.iter().position(|line| {
                split_line(&line.text).is_some_and(|(name, _)| name.eq_ignore_ascii_case("dn"))
            });
            let start = excerpt(&first.text);
            let Some((skipped, rest)) = dn_at.and_then(|index| record.split_at_checked(index))
            else {
                let message = format!(
                    "the record starts with `{start}` instead of `dn:` and has no `dn:` line, so it was skipped. Every entry must start with its DN."
                );
                reporter.report(Level::Warning, first.line, message);
                return Ok(Vec::new());
            };
            let last = skipped.last().map_or(first.line, |line| line.line);
            let message = format!(
                "the record starts with `{start}` instead of `dn:`, so lines {} to {last} were skipped. Every entry must start with its DN.",
                first.line
            );
            reporter.report(Level::Warning, first.line, message);
            read_entries(rest, reporter)
        }
    }
}

fn read_entries(
    record: &[LogicalLine],
    reporter: &mut Reporter<'_>,
) -> Result<Vec<LdifEntry>, LdifError> {
    let mut entries = Vec::new();
    let mut current: Option<LdifEntry> = None;
    // Set after a DN that could not be read, so the entry's other lines are skipped silently.
    let mut skipping = false;

    for line in record {
        let Some((name, spec)) = split_line(&line.text) else {
            let message = format!(
                "`{}` is not an `attribute: value` line, so it was skipped",
                excerpt(&line.text)
            );
            reporter.report(Level::Warning, line.line, message);
            continue;
        };
        if name.eq_ignore_ascii_case("dn") {
            if current.is_some() || skipping {
                let message = "a new `dn:` starts without a blank line before it, so it was read as the start of a new entry".to_owned();
                reporter.report(Level::Warning, line.line, message);
            }
            entries.extend(current.take());
            skipping = false;
            match read_dn(line, spec, reporter)? {
                Some(dn) => {
                    current = Some(LdifEntry { line: line.line, entry: LdapEntry::new(dn) })
                }
                None => skipping = true,
            }
            continue;
        }
        if name.eq_ignore_ascii_case("changetype") {
            let changetype = String::from_utf8_lossy(value_bytes(&spec)).trim().to_owned();
            // Windows' ldifde writes every exported entry as `changetype: add`; such a
            // record carries the whole entry, so it reads as content. Modify, delete and
            // rename records describe edits, not entries.
            if changetype.eq_ignore_ascii_case("add") {
                continue;
            }
            return Err(LdifError::ChangeRecord { line: line.line, changetype });
        }
        if name.eq_ignore_ascii_case("control") {
            return Err(LdifError::Control { line: line.line });
        }
        if skipping && !matches!(spec, ValueSpec::Url(_)) {
            continue;
        }
        let value = match spec {
            ValueSpec::Plain(value) => Some(value.to_vec()),
            ValueSpec::Base64(encoded) => decode_base64(encoded, name, line.line, reporter),
            ValueSpec::Url(url) => {
                return Err(LdifError::UrlValue {
                    line: line.line,
                    attribute: name.to_owned(),
                    url: String::from_utf8_lossy(url).into_owned(),
                });
            }
        };
        if let (Some(entry), Some(value)) = (current.as_mut(), value) {
            entry.entry.push_value(name, value);
        }
    }
    entries.extend(current);
    Ok(entries)
}

fn value_bytes<'a>(spec: &ValueSpec<'a>) -> &'a [u8] {
    match spec {
        ValueSpec::Plain(value) | ValueSpec::Base64(value) | ValueSpec::Url(value) => value,
    }
}

/// Decodes the DN of an entry. Returns `None`, with a warning, when it is not valid base64
/// or not UTF-8 (RFC 4514 DNs are UTF-8 strings).
fn read_dn(
    line: &LogicalLine,
    spec: ValueSpec<'_>,
    reporter: &mut Reporter<'_>,
) -> Result<Option<String>, LdifError> {
    let bytes = match spec {
        ValueSpec::Plain(value) => value.to_vec(),
        ValueSpec::Base64(encoded) => match decode_base64(encoded, "dn", line.line, reporter) {
            Some(bytes) => bytes,
            None => return Ok(None),
        },
        ValueSpec::Url(url) => {
            return Err(LdifError::UrlValue {
                line: line.line,
                attribute: "dn".to_owned(),
                url: String::from_utf8_lossy(url).into_owned(),
            });
        }
    };
    match String::from_utf8(bytes) {
        Ok(dn) => Ok(Some(dn)),
        Err(_) => {
            let message = "the DN is not valid UTF-8, so the entry was skipped. Export the directory with UTF-8 output.".to_owned();
            reporter.report(Level::Warning, line.line, message);
            Ok(None)
        }
    }
}

fn decode_base64(
    encoded: &[u8],
    attribute: &str,
    line: u64,
    reporter: &mut Reporter<'_>,
) -> Option<Vec<u8>> {
    match BASE64.decode(encoded) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            let skipped = if attribute == "dn" { "the entry" } else { "the value" };
            let message = format!(
                "the base64 value of `{attribute}` (`{}`) is invalid ({error}), so {skipped} was skipped. Check that the file was not truncated or edited.",
                excerpt(encoded)
            );
            reporter.report(Level::Warning, line, message);
            None
        }
    }
}

/// Reads the `search:` / `result:` record that ldapsearch prints after the entries when run
/// without `-L`. Warns when the search did not end in success (RFC 4511 result code 0),
/// because a size or time limit, for example, leaves the export incomplete.
fn read_search_result(record: &[LogicalLine], reporter: &mut Reporter<'_>) {
    let mut result: Option<(u64, String)> = None;
    let mut text = None;
    for line in record {
        let Some((name, ValueSpec::Plain(value))) = split_line(&line.text) else { continue };
        let value = String::from_utf8_lossy(value).into_owned();
        if name.eq_ignore_ascii_case("result") {
            result = Some((line.line, value));
        } else if name.eq_ignore_ascii_case("text") {
            text = Some(value);
        }
    }
    let Some((line, value)) = result else { return };
    let code = value.split_whitespace().next().unwrap_or_default();
    if code == "0" {
        return;
    }
    let detail = text.map(|text| format!(" (`{text}`)")).unwrap_or_default();
    let message = format!(
        "the search ended with `result: {value}`{detail}, so the export may lack entries. Fix the cause (for a size limit, page the search with `-E pr=500/noprompt`) and export again."
    );
    reporter.report(Level::Warning, line, message);
}

/// Notes a search reference (`ref: ldap://...`): entries below it live on another server
/// or partition and are not in this file.
fn read_reference(record: &[LogicalLine], reporter: &mut Reporter<'_>) {
    for line in record {
        let Some((name, spec)) = split_line(&line.text) else { continue };
        if !name.eq_ignore_ascii_case("ref") {
            continue;
        }
        let url = String::from_utf8_lossy(value_bytes(&spec)).into_owned();
        let message = format!(
            "the search returned a reference to `{url}` that was not followed, so entries stored there are not in this export. Export that partition too if it contains users or groups."
        );
        reporter.report(Level::Info, line.line, message);
    }
}
