//! An RFC 2849 LDIF reader for content exports, such as `ldapsearch` output.
//!
//! Accepted: an optional `version: 1` line, comments (folded too), folded lines, LF or
//! CRLF line ends, `attr: value`, `attr:: base64` and `dn::` base64, and any attribute
//! options, including `member;range=0-2` as ldapsearch prints Active Directory's ranged
//! results. The `search:`/`result:` and `ref:` records that ldapsearch prints without `-L`
//! are read for their status and skipped.
//!
//! Rejected with an [`LdifError`]: change records (`changetype:`, `control:`) and values
//! given as URLs (`attr:< file:///...`), because Rollcall reads only the file it is given.
//!
//! Values stay bytes. Per-record problems (invalid base64, a line without `:`, a
//! continuation line with nothing to continue) become warnings and the rest is read.

mod error;
mod lines;
mod record;

use std::path::Path;

pub use error::LdifError;

use crate::diagnostic::{Diagnostic, Level, Location};
use crate::ldap::LdapEntry;
use lines::{LogicalLine, split_records};
use record::{Reporter, read_record};

/// One entry of an LDIF file and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdifEntry {
    /// The 1-based line of the entry's `dn:` line.
    pub line: u64,
    /// The DN and attributes.
    pub entry: LdapEntry,
}

/// The entries of an LDIF file and the problems found while reading it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LdifFile {
    /// Every entry, in file order. The same DN may appear in several entries.
    pub entries: Vec<LdifEntry>,
    /// Warnings about records or lines that were skipped, and notes about the search.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads the LDIF content records in `bytes`. `file` names the file in diagnostics.
pub fn parse(file: &Path, bytes: &[u8]) -> Result<LdifFile, LdifError> {
    let split = split_records(bytes);
    let mut reporter = Reporter { file, diagnostics: Vec::new() };
    for line in &split.orphan_continuations {
        let message = "the line starts with a space, which continues the line before it, but there is no line before it in this record, so it was skipped".to_owned();
        reporter.report(Level::Warning, *line, message);
    }

    let mut entries = Vec::new();
    for (index, record) in split.records.iter().enumerate() {
        let record =
            if index == 0 { skip_version(record, &mut reporter) } else { record.as_slice() };
        entries.extend(read_record(record, &mut reporter)?);
    }
    // LDIF has no end marker, so a copy cut off mid-entry still parses. ldapsearch ends
    // every line with a line break, and a last line without one is the visible trace.
    if bytes.last().is_some_and(|last| *last != b'\n') {
        let last_line = bytes.iter().filter(|b| **b == b'\n').count() as u64 + 1;
        reporter.report(
            Level::Warning,
            last_line,
            "the file does not end with a line break, so its last entry may be cut off; check that the whole export was copied".to_owned(),
        );
    }
    // Continuation warnings were collected first; list everything in file order.
    reporter.diagnostics.sort_by_key(|diagnostic| match diagnostic.location {
        Location::Line(line) => line,
        _ => 0,
    });
    Ok(LdifFile { entries, diagnostics: reporter.diagnostics })
}

/// Skips a leading `version:` line, warning when it is not `version: 1`, the only version
/// RFC 2849 defines.
fn skip_version<'a>(record: &'a [LogicalLine], reporter: &mut Reporter<'_>) -> &'a [LogicalLine] {
    let Some((first, rest)) = record.split_first() else { return record };
    let is_version =
        first.text.get(..8).is_some_and(|prefix| prefix.eq_ignore_ascii_case(b"version:"));
    let Some(value) = first.text.get(8..).filter(|_| is_version) else { return record };
    if value.trim_ascii() != b"1" {
        let message = format!(
            "`version: {}` is not an LDIF version Rollcall knows, so the file was read as version 1",
            String::from_utf8_lossy(value.trim_ascii())
        );
        reporter.report(Level::Warning, first.line, message);
    }
    rest
}

#[cfg(test)]
mod tests;
