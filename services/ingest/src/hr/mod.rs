//! The HR roster: a CSV of workers with their employment status and dates.
//!
//! Columns are found by any of their common header spellings ([`RosterField::spellings`]);
//! `docs/inputs/hr.md` lists them with the status words and the time rules. The employee id
//! and status columns are required.
//!
//! Timestamps may carry an RFC 3339 offset, end in an IANA zone name
//! (`2026-11-14 17:30 America/Chicago`), or have neither and be read in the tenant's zone. A
//! date alone means the start of that day for a hire and the end of that day, the following
//! midnight, for a termination, because rosters record the last day worked.

mod error;
mod headers;
mod status;
mod worker;

use std::collections::HashMap;
use std::path::Path;

use chrono_tz::Tz;
use rollcall_core::model::HrSnapshot;

use crate::delimited::{self, Delimiter, LineEnding, ReadOptions};
use crate::diagnostic::{Diagnostic, Level, Location};
use crate::text::{Decoding, TextEncoding};

pub use error::HrError;
pub use headers::{RosterField, normalize_header};
pub use status::worker_status;

use headers::RosterColumns;
use worker::WorkerReader;

/// The caller's settings for one roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HrOptions {
    /// The tenant's zone, for timestamps without an offset or zone name.
    pub time_zone: Tz,
    /// The encoding when the file has no byte order mark; detected when `None`.
    pub encoding: Option<TextEncoding>,
    /// The delimiter; detected from the header line when `None`.
    pub delimiter: Option<Delimiter>,
}

impl HrOptions {
    /// Creates options that read timestamps in `time_zone` and detect everything else.
    pub fn new(time_zone: Tz) -> Self {
        Self { time_zone, encoding: None, delimiter: None }
    }
}

/// A roster read into workers.
#[derive(Debug, Clone, PartialEq)]
pub struct HrRead {
    /// The workers, in file order.
    pub snapshot: HrSnapshot,
    /// Problems found: skipped records, unknown status words, local times.
    pub diagnostics: Vec<Diagnostic>,
    /// The encoding used and why.
    pub decoding: Decoding,
    /// The delimiter used.
    pub delimiter: Delimiter,
    /// The line ending of the header line.
    pub line_ending: LineEnding,
}

/// Reads an HR roster; `file` names the file in diagnostics.
///
/// # Errors
///
/// Returns [`HrError`] when the file cannot be read as a table or has no employee id or
/// status column. Problems in single records are diagnostics: a record without an employee
/// id is skipped, and of two records with the same employee id the first is kept.
pub fn read_hr_roster(bytes: &[u8], file: &Path, options: &HrOptions) -> Result<HrRead, HrError> {
    let read_options = ReadOptions { encoding: options.encoding, delimiter: options.delimiter };
    let table = delimited::read_table(bytes, file, &read_options)?;
    let columns = RosterColumns::find(&table);
    for field in [RosterField::EmployeeId, RosterField::Status] {
        if columns.of(field).is_empty() {
            return Err(HrError::MissingColumn {
                field: field.label(),
                line: table.header_line,
                spellings: field.spellings(),
                found: table.columns.clone(),
            });
        }
    }

    let mut diagnostics = table.diagnostics.clone();
    let mut reader = WorkerReader {
        columns: &columns,
        headers: &table.columns,
        zone: options.time_zone,
        file,
        diagnostics: &mut diagnostics,
        local_times: 0,
    };
    let mut workers = Vec::new();
    let mut first_row: HashMap<String, Location> = HashMap::new();
    for row in &table.rows {
        let Some(worker) = reader.read(row) else { continue };
        if let Some(first) = first_row.get(&worker.employee_id) {
            reader.diagnostics.push(Diagnostic::new(
                Level::Warning,
                file,
                row.location(),
                format!(
                    "employee id `{}` repeats the one at {first}, so this record was skipped; \
                     remove the duplicate from the roster",
                    worker.employee_id
                ),
            ));
            continue;
        }
        first_row.insert(worker.employee_id.clone(), row.location());
        workers.push(worker);
    }
    let local_times = reader.local_times;
    if local_times > 0 {
        diagnostics.push(Diagnostic::new(
            Level::Info,
            file,
            Location::File,
            format!(
                "read {local_times} dates and times without an offset in the tenant's zone \
                 `{}`",
                options.time_zone
            ),
        ));
    }

    Ok(HrRead {
        snapshot: HrSnapshot { collected_at: None, workers },
        diagnostics,
        decoding: table.decoding,
        delimiter: table.delimiter,
        line_ending: table.line_ending,
    })
}

#[cfg(test)]
mod tests;
