//! The delimited-text reader that every CSV input shares: EHR user exports and the HR roster.
//!
//! It decodes the bytes ([`crate::text`]), settles the delimiter, and returns the header and
//! the records as strings. It does not interpret columns: the EHR profiles and the roster reader
//! map columns to fields.
//!
//! Parsing follows RFC 4180 as spreadsheet programs write it: fields in double quotes may hold
//! the delimiter, `""` and line breaks, and `\r\n`, `\n` and a lone `\r` all end a record
//! outside quotes. Blank lines are skipped. Header names are trimmed and compared without
//! regard to case.

mod dialect;
mod error;
mod lines;
pub mod timestamp;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use dialect::{Delimiter, LineEnding};
pub use error::DelimitedError;

use crate::diagnostic::{Diagnostic, Level, Location};
use crate::text::{self, Decoding, Detection, TextEncoding};
use dialect::Detected;
use lines::LineIndex;

/// How to read a delimited file; the defaults detect both encoding and delimiter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The encoding to use when the file has no byte order mark; `None` detects it.
    pub encoding: Option<TextEncoding>,
    /// The delimiter; `None` detects it from the header line.
    pub delimiter: Option<Delimiter>,
}

/// One data record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The 1-based record number, the header being record 1.
    pub record: u64,
    /// The line the record starts on.
    pub line: u64,
    /// The fields, as many as the header has columns, not trimmed.
    pub fields: Vec<String>,
}

impl Row {
    /// Returns the field in column `index`, if the row has it.
    pub fn get(&self, index: usize) -> Option<&str> {
        self.fields.get(index).map(String::as_str)
    }

    /// Returns the record's location for diagnostics.
    pub fn location(&self) -> Location {
        Location::Record { record: self.record, line: self.line }
    }
}

/// A decoded delimited file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The header names, trimmed, in file order.
    pub columns: Vec<String>,
    /// The line the header is on.
    pub header_line: u64,
    /// The data records that have as many fields as the header and are not blank.
    pub rows: Vec<Row>,
    /// The encoding used and why.
    pub decoding: Decoding,
    /// The delimiter used.
    pub delimiter: Delimiter,
    /// Whether the delimiter was detected rather than configured.
    pub delimiter_detected: bool,
    /// The line ending of the header line.
    pub line_ending: LineEnding,
    /// Problems found while reading: the encoding used, skipped records.
    pub diagnostics: Vec<Diagnostic>,
}

impl Table {
    /// Returns the index of the column named `name`, compared trimmed and without regard to case.
    pub fn column(&self, name: &str) -> Option<usize> {
        let wanted = name.trim().to_lowercase();
        self.columns.iter().position(|column| column.to_lowercase() == wanted)
    }

    /// Returns the indices of the columns `names`, in that order.
    ///
    /// # Errors
    ///
    /// Returns [`DelimitedError::MissingColumns`] naming every absent column and listing the
    /// columns the file has.
    pub fn require(&self, names: &[&str]) -> Result<Vec<usize>, DelimitedError> {
        let mut indices = Vec::with_capacity(names.len());
        let mut missing = Vec::new();
        for name in names {
            match self.column(name) {
                Some(index) => indices.push(index),
                None => missing.push((*name).to_owned()),
            }
        }
        if missing.is_empty() {
            Ok(indices)
        } else {
            Err(DelimitedError::MissingColumns {
                line: self.header_line,
                missing,
                found: self.columns.clone(),
            })
        }
    }
}

/// Reads `bytes` as a delimited table; `file` names the file in diagnostics.
///
/// # Errors
///
/// Returns [`DelimitedError`] when the bytes cannot be decoded, the file has no header line,
/// the delimiter cannot be detected, or the header names a column twice. Records with the
/// wrong number of fields are skipped with a warning instead.
pub fn read_table(
    bytes: &[u8],
    file: &Path,
    options: &ReadOptions,
) -> Result<Table, DelimitedError> {
    let decoded = text::decode(bytes, options.encoding)?;
    let mut diagnostics = Vec::new();
    note_decoding(&decoded.decoding, file, &mut diagnostics);

    let header = dialect::header_line(&decoded.text);
    if header.text.trim().is_empty() {
        return Err(DelimitedError::Empty);
    }
    let (delimiter, delimiter_detected) = match options.delimiter {
        Some(delimiter) => (delimiter, false),
        None => match dialect::detect_delimiter(header.text) {
            Detected::One(delimiter) => (delimiter, true),
            Detected::NoneFound => {
                diagnostics.push(Diagnostic::new(
                    Level::Info,
                    file,
                    Location::Line(1),
                    "the header line holds no `,`, `;`, tab or `|`, so the file was read as one \
                     column; set the source's delimiter if it has more",
                ));
                (Delimiter::Comma, true)
            }
            Detected::Tie(candidates) => {
                return Err(DelimitedError::AmbiguousDelimiter {
                    header: header.text.to_owned(),
                    candidates,
                });
            }
        },
    };

    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter.as_byte())
        .has_headers(false)
        .flexible(true)
        .from_reader(decoded.text.as_bytes());
    let mut records = reader.records();
    let lines = LineIndex::new(&decoded.text);
    let position = |record: &csv::StringRecord| {
        record
            .position()
            .map_or((0, 0), |position| (position.record() + 1, lines.record_line(position.byte())))
    };

    let (columns, header_line) = match records.next() {
        Some(result) => {
            let record = result.map_err(|error| unreadable(&error, &lines))?;
            let (_, line) = position(&record);
            let columns: Vec<String> = record.iter().map(|name| name.trim().to_owned()).collect();
            check_duplicates(&columns, line)?;
            (columns, line)
        }
        None => return Err(DelimitedError::Empty),
    };

    let mut rows = Vec::new();
    let mut blank_rows = 0u64;
    for result in records {
        let record = result.map_err(|error| unreadable(&error, &lines))?;
        let (record_number, line) = position(&record);
        if record.iter().all(|field| field.trim().is_empty()) {
            blank_rows += 1;
            continue;
        }
        if record.len() != columns.len() {
            diagnostics.push(Diagnostic::new(
                Level::Warning,
                file,
                Location::Record { record: record_number, line },
                format!(
                    "record has `{}` fields but the header has {}, so it was skipped; quote any \
                     field that holds `{delimiter}` or a line break",
                    record.len(),
                    columns.len()
                ),
            ));
            continue;
        }
        rows.push(Row {
            record: record_number,
            line,
            fields: record.iter().map(str::to_owned).collect(),
        });
    }
    if blank_rows > 0 {
        diagnostics.push(Diagnostic::new(
            Level::Info,
            file,
            Location::File,
            format!("skipped `{blank_rows}` records whose fields are all empty"),
        ));
    }

    Ok(Table {
        columns,
        header_line,
        rows,
        decoding: decoded.decoding,
        delimiter,
        delimiter_detected,
        line_ending: header.ending,
        diagnostics,
    })
}

/// Records an info diagnostic for every decoding choice other than plain UTF-8.
fn note_decoding(decoding: &Decoding, file: &Path, diagnostics: &mut Vec<Diagnostic>) {
    let file: PathBuf = file.to_path_buf();
    let message = match decoding.detection {
        Detection::Fallback { first_invalid_line } => Some(format!(
            "decoded as `windows-1252` because line {first_invalid_line} is not valid UTF-8; set \
             the source's encoding if the file uses another code page"
        )),
        Detection::Utf16Pattern => Some(format!(
            "decoded as `{}` because the file has no byte order mark and its first characters \
             are paired with NUL bytes",
            decoding.encoding
        )),
        Detection::ByteOrderMark if decoding.encoding != TextEncoding::Utf8 => {
            Some(format!("decoded as `{}` from its byte order mark", decoding.encoding))
        }
        Detection::ByteOrderMark | Detection::Forced | Detection::ValidUtf8 => None,
    };
    if let Some(message) = message {
        diagnostics.push(Diagnostic::new(Level::Info, file.clone(), Location::File, message));
    }
    if decoding.stray_marks_removed > 0 {
        diagnostics.push(Diagnostic::new(
            Level::Info,
            file,
            Location::File,
            format!(
                "removed `{}` byte order marks inside the text, left by joining exported files",
                decoding.stray_marks_removed
            ),
        ));
    }
}

/// Rejects a header that names a column twice, ignoring case; empty names may repeat.
fn check_duplicates(columns: &[String], line: u64) -> Result<(), DelimitedError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut names = Vec::new();
    for column in columns.iter().filter(|column| !column.is_empty()) {
        let count = seen.entry(column.to_lowercase()).or_default();
        *count += 1;
        if *count == 2 {
            names.push(column.clone());
        }
    }
    if names.is_empty() { Ok(()) } else { Err(DelimitedError::DuplicateColumns { line, names }) }
}

fn unreadable(error: &csv::Error, lines: &LineIndex<'_>) -> DelimitedError {
    let (record, line) = error
        .position()
        .map_or((0, 0), |position| (position.record() + 1, lines.record_line(position.byte())));
    DelimitedError::Unreadable { record, line, reason: error.to_string() }
}

#[cfg(test)]
mod tests;
