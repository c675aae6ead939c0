//! EHR user exports in CSV form: profiles that map a vendor's columns to accounts, and the
//! reader that applies them.
//!
//! A [`ProfileSpec`] names the export's columns for each account field. The built-in presets
//! cover Epic Community Connect, athenahealth and eClinicalWorks ([`PRESET_NAMES`]); a tenant
//! writes its own profile in `tenant.yaml` for any other export. `docs/inputs/ehr.md` lists the
//! fields, each preset's columns and how a practice produces each file.
//!
//! The reader produces a [`SourceSnapshot`] for source `ehr:<vendor>`. Each account keeps
//! every non-empty cell of its rows in `attributes` under the export's column name, plus
//! these derived keys:
//! - `ehr.status`: the canonical status (`active`, `inactive`, `blocked`, `suspended`,
//!   `deleted` or `unknown`);
//! - `ehr.valid_from`, `ehr.valid_to`: the validity period as RFC 3339 instants;
//! - `ehr.priority.<kind>.<id>`: the position of a grant in an ordered column (1 first).

mod assemble;
mod athena;
mod columns;
mod error;
mod fields;
mod presets;
mod rename;
mod row;
mod spec;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_core::model::{Availability, SourceId, SourceSnapshot};

use crate::delimited::{self, Delimiter, LineEnding, ReadOptions, Table};
use crate::diagnostic::{Diagnostic, Level, Location};
use crate::text::Decoding;

pub use assemble::{SOURCE_ID_ATTRIBUTE, SOURCE_NAME_ATTRIBUTE};
pub use athena::{ExportFile, PROVIDER_TYPE_COLUMN, PROVIDER_USERNAME_COLUMN, read_athenahealth};
pub use error::{EhrError, ProfileError};
pub use presets::{ATHENAHEALTH_EPCS_ROLES, EPIC_SECURITY_CLASS_COLUMNS, PRESET_NAMES};
pub use spec::{
    DEFAULT_SEPARATOR, EpcsWord, GrantSpec, LastLoginSpec, ManagerRefersTo, ManagerSpec,
    NameFormat, ProfileSpec, RecordType, StatusWord, ValueMap,
};

use columns::Columns;
use row::{RowOutcome, RowReader};

/// The caller's settings for one read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EhrOptions {
    /// The instant the export is judged at: a validity period that ended at or before it
    /// disables the account.
    pub as_of: DateTime<Utc>,
    /// The zone of timestamps without an offset. For Epic Community Connect this is the host
    /// organisation's zone, which may differ from the practice's.
    pub time_zone: Tz,
}

/// An EHR export read into a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct EhrRead {
    /// The accounts, entitlements and memberships.
    pub snapshot: SourceSnapshot,
    /// Problems found: skipped records, unknown values, invalid NPIs, the encoding used.
    pub diagnostics: Vec<Diagnostic>,
    /// The encoding used and why.
    pub decoding: Decoding,
    /// The delimiter used.
    pub delimiter: Delimiter,
    /// The line ending of the header line.
    pub line_ending: LineEnding,
}

/// Reads a CSV user export with `profile`; `file` names the file in diagnostics.
///
/// # Errors
///
/// Returns [`EhrError`] when the profile is invalid, the file cannot be read as a table, or
/// the user id or login column is missing. Problems in single records are diagnostics.
pub fn read_ehr_csv(
    bytes: &[u8],
    file: &Path,
    profile: &ProfileSpec,
    options: &EhrOptions,
) -> Result<EhrRead, EhrError> {
    let source = profile.validate()?;
    let read_options = ReadOptions { encoding: profile.encoding, delimiter: profile.delimiter };
    let mut table = delimited::read_table(bytes, file, &read_options)?;
    if let Some(null) = profile.null_text.as_deref() {
        blank_null_cells(&mut table, null);
    }
    let columns = Columns::resolve(profile, &table)?;
    let mut diagnostics = table.diagnostics.clone();
    if !columns.absent.is_empty() {
        diagnostics.push(Diagnostic::new(
            Level::Info,
            file,
            Location::Line(table.header_line),
            format!(
                "the profile maps columns that the file lacks, so those fields are unknown: {}",
                quote_list(&columns.absent)
            ),
        ));
    }

    let mut rows = RowSet::default();
    rows.read(&table, &columns, profile, options, file, &mut diagnostics);
    let snapshot = rows.finish(source, &columns, profile, file, &mut diagnostics);

    Ok(EhrRead {
        snapshot,
        diagnostics,
        decoding: table.decoding,
        delimiter: table.delimiter,
        line_ending: table.line_ending,
    })
}

/// Empties every cell of `table` whose trimmed text is `null`, the database's `NULL`.
fn blank_null_cells(table: &mut Table, null: &str) {
    for field in table.rows.iter_mut().flat_map(|row| row.fields.iter_mut()) {
        if field.trim() == null {
            field.clear();
        }
    }
}

/// User rows read from one or more tables that share a header, before they are folded.
#[derive(Default)]
struct RowSet {
    users: Vec<row::RowFacts>,
    dropped: BTreeMap<RecordType, u64>,
}

impl RowSet {
    /// Reads every row of `table`; `file` names the table in diagnostics.
    fn read(
        &mut self,
        table: &Table,
        columns: &Columns,
        profile: &ProfileSpec,
        options: &EhrOptions,
        file: &Path,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let mut reader = RowReader {
            columns,
            headers: &table.columns,
            name_format: profile.name_format,
            zone: options.time_zone,
            as_of: options.as_of,
            file,
            diagnostics,
        };
        for row in &table.rows {
            match reader.read(row) {
                RowOutcome::User(facts) => self.users.push(*facts),
                RowOutcome::Dropped(record_type) => {
                    *self.dropped.entry(record_type).or_default() += 1;
                }
                RowOutcome::Skipped => {}
            }
        }
    }

    /// Folds the rows into accounts and builds the snapshot for `source`.
    fn finish(
        self,
        source: SourceId,
        columns: &Columns,
        profile: &ProfileSpec,
        file: &Path,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> SourceSnapshot {
        for (record_type, count) in self.dropped {
            diagnostics.push(Diagnostic::new(
                Level::Info,
                file,
                Location::File,
                format!(
                    "dropped {count} {} of type `{}`, which are not user accounts",
                    if count == 1 { "record" } else { "records" },
                    record_type.as_str()
                ),
            ));
        }
        let non_sid_count = self.users.iter().filter(|user| user.non_sid_value).count();
        if non_sid_count > 0
            && let Some(column) = &profile.sid
        {
            diagnostics.push(Diagnostic::new(
                Level::Info,
                file,
                Location::File,
                format!(
                    "column `{column}` holds {non_sid_count} values that are not security \
                     identifiers (`S-1-...`); they are kept only as attributes"
                ),
            ));
        }

        let assembled = assemble::assemble(
            self.users,
            profile.fold_rows,
            &profile.epcs_roles,
            file,
            diagnostics,
        );
        let mut snapshot = SourceSnapshot::new(source);
        snapshot.accounts = assembled.accounts;
        snapshot.entitlements = assembled.entitlements;
        snapshot.memberships = assembled.memberships;
        snapshot.settings.sign_in_activity = if columns.last_login.is_some() {
            Availability::Available
        } else {
            Availability::Missing
        };
        snapshot
    }
}

fn quote_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests;
