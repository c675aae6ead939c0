//! One export row read into account facts, before rows of the same user are folded.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use rollcall_core::model::{
    Account, AccountKind, EntitlementKind, EpcsStatus, LastSignIn, ManagerRef,
};

use crate::delimited::Row;
use crate::delimited::timestamp::{DateOnly, LocalFit, parse_cell_time};
use crate::diagnostic::{Diagnostic, Level, Location};

use super::columns::{Columns, GrantColumn, Mapped};
use super::fields::{looks_like_sid, npi_is_valid, split_last_comma_first, split_values};
use super::spec::{EpcsWord, ManagerRefersTo, NameFormat, RecordType, StatusWord};

/// The attribute that stores the canonical status word.
pub(crate) const STATUS_ATTRIBUTE: &str = "ehr.status";

/// One grant read from a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    pub kind: EntitlementKind,
    pub id: String,
    pub name: String,
    pub scope: Option<String>,
    /// The 1-based position in an ordered column.
    pub priority: Option<usize>,
}

/// The facts of one user row, with the status not yet turned into an account status.
#[derive(Debug, Clone)]
pub(crate) struct RowFacts {
    pub location: Location,
    pub account: Account,
    pub status: StatusWord,
    /// `column: value` for each cell that decided the status.
    pub status_raw: Vec<String>,
    pub status_since: Option<DateTime<Utc>>,
    /// When the validity period ended, if it ended at or before `as_of`.
    pub ended_at: Option<DateTime<Utc>>,
    pub grants: Vec<Grant>,
    /// Whether the sid column held a value that is not a security identifier.
    pub non_sid_value: bool,
}

/// The outcome of reading one row.
#[derive(Debug, Clone)]
pub(crate) enum RowOutcome {
    /// A user row.
    User(Box<RowFacts>),
    /// A row of a type that is not an account (template, patient...).
    Dropped(RecordType),
    /// A row that cannot be read; a warning gives the reason.
    Skipped,
}

/// The reading context shared by all rows of one file.
pub(crate) struct RowReader<'a> {
    pub columns: &'a Columns,
    pub headers: &'a [String],
    pub name_format: NameFormat,
    pub zone: Tz,
    pub as_of: DateTime<Utc>,
    pub file: &'a Path,
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl RowReader<'_> {
    /// Reads one row; problems in single cells are warnings and leave that field unknown.
    pub(crate) fn read(&mut self, row: &Row) -> RowOutcome {
        let columns = self.columns;
        let record_type = self.record_type(row);
        if !record_type.is_account() {
            return RowOutcome::Dropped(record_type);
        }
        let Some(user_id) = cell(row, Some(columns.user_id)) else {
            let column = self.header(columns.user_id);
            self.warn(
                row,
                format!("empty user id in column `{column}`, so the record was skipped"),
            );
            return RowOutcome::Skipped;
        };

        let mut account = Account::new(user_id);
        account.attributes = row
            .fields
            .iter()
            .zip(self.headers)
            .filter(|(value, header)| !value.trim().is_empty() && !header.is_empty())
            .map(|(value, header)| (header.clone(), value.clone()))
            .collect();
        account.login = cell(row, Some(columns.login)).map(str::to_owned);
        self.read_names(row, &mut account);
        account.email = owned(row, columns.email);
        account.employee_id = owned(row, columns.employee_id);
        account.job_title = owned(row, columns.job_title);
        account.department = columns.departments.iter().find_map(|&index| owned(row, Some(index)));
        if record_type == RecordType::Service {
            account.kind = AccountKind::Service;
        }
        account.is_provider =
            record_type == RecordType::Provider || cell(row, columns.provider_id).is_some();
        self.read_npi(row, &mut account);
        account.epcs = self.read_epcs(row);
        account.manager = columns.manager.and_then(|(index, refers_to)| {
            let value = cell(row, Some(index))?.to_owned();
            Some(match refers_to {
                ManagerRefersTo::Account => ManagerRef::Account(value),
                ManagerRefersTo::EmployeeId => ManagerRef::EmployeeId(value),
            })
        });
        let sid = cell(row, columns.sid);
        account.sid = sid.filter(|value| looks_like_sid(value)).map(str::to_owned);
        let non_sid_value = sid.is_some() && account.sid.is_none();
        account.last_sign_in = self.read_last_login(row);

        let valid_from = self.time(row, columns.valid_from, DateOnly::StartOfDay);
        // A date alone in the end column is the first day without access.
        let valid_to = self.time(row, columns.valid_to, DateOnly::StartOfDay);
        let ended_at = valid_to.filter(|end| *end <= self.as_of);
        let (status, status_raw) = self.read_status(row, ended_at.is_some());
        let status_since = self.time(row, columns.status_since, DateOnly::StartOfDay);
        for (key, value) in [("ehr.valid_from", valid_from), ("ehr.valid_to", valid_to)] {
            if let Some(value) = value {
                account
                    .attributes
                    .insert(key.to_owned(), value.to_rfc3339_opts(SecondsFormat::Secs, true));
            }
        }

        let mut grants = Vec::new();
        for column in &columns.grants {
            grants.extend(self.read_grants(row, column));
        }

        RowOutcome::User(Box::new(RowFacts {
            location: row.location(),
            account,
            status,
            status_raw,
            status_since,
            ended_at,
            grants,
            non_sid_value,
        }))
    }

    fn record_type(&mut self, row: &Row) -> RecordType {
        let Some(column) = &self.columns.record_type else { return RecordType::User };
        let raw = row.get(column.index).unwrap_or_default();
        match column.lookup(raw) {
            Mapped::Known(record_type) => record_type,
            Mapped::Empty => RecordType::User,
            Mapped::Unlisted => {
                let message = format!(
                    "unknown record type `{}` in column `{}`, so the record was read as a user; \
                     add the value to the profile's `record_type` values",
                    raw.trim(),
                    column.name
                );
                self.warn(row, message);
                RecordType::User
            }
        }
    }

    fn read_names(&mut self, row: &Row, account: &mut Account) {
        let columns = self.columns;
        account.display_name = owned(row, columns.display_name);
        if self.name_format == NameFormat::LastCommaFirst
            && let Some((family, given)) =
                account.display_name.as_deref().and_then(split_last_comma_first)
        {
            account.family_name = Some(family.to_owned());
            account.given_name = Some(given.to_owned());
        }
        if let Some(family) = owned(row, columns.family_name) {
            account.family_name = Some(family);
        }
        if let Some(given) = owned(row, columns.given_name) {
            account.given_name = Some(given);
        }
    }

    fn read_npi(&mut self, row: &Row, account: &mut Account) {
        let Some(npi) = cell(row, self.columns.npi) else { return };
        if !npi_is_valid(npi) {
            self.warn(
                row,
                format!(
                    "NPI `{npi}` is not ten digits with a valid check digit; it was kept as \
                     exported, so correct it in the provider record"
                ),
            );
        }
        account.npi = Some(npi.to_owned());
    }

    fn read_epcs(&mut self, row: &Row) -> Option<EpcsStatus> {
        let column = self.columns.epcs.as_ref()?;
        let raw = row.get(column.index).unwrap_or_default();
        match column.lookup(raw) {
            Mapped::Known(EpcsWord::Enabled) => Some(EpcsStatus::Enabled),
            Mapped::Known(EpcsWord::Pending) => Some(EpcsStatus::Pending),
            Mapped::Known(EpcsWord::Disabled) => Some(EpcsStatus::Disabled),
            Mapped::Empty => None,
            Mapped::Unlisted => {
                let message = format!(
                    "unknown EPCS status `{}` in column `{}`, so it was left unknown; add the \
                     value to the profile's `epcs` values",
                    raw.trim(),
                    column.name
                );
                self.warn(row, message);
                None
            }
        }
    }

    fn read_last_login(&mut self, row: &Row) -> LastSignIn {
        let Some((index, reliable)) = self.columns.last_login else { return LastSignIn::Unknown };
        if cell(row, Some(index)).is_none() {
            return if reliable { LastSignIn::Never } else { LastSignIn::Unknown };
        }
        match self.time(row, Some(index), DateOnly::StartOfDay) {
            Some(instant) => LastSignIn::At(instant),
            None => LastSignIn::Unknown,
        }
    }

    /// Combines the status columns and an `ended` validity period: the most severe word wins,
    /// and no word at all is unknown.
    fn read_status(&mut self, row: &Row, ended: bool) -> (StatusWord, Vec<String>) {
        let mut words = Vec::new();
        let mut raw_parts = Vec::new();
        for column in &self.columns.status {
            let raw = row.get(column.index).unwrap_or_default();
            let word = match column.lookup(raw) {
                Mapped::Empty => continue,
                Mapped::Known(word) => word,
                Mapped::Unlisted => {
                    let message = format!(
                        "unknown status `{}` in column `{}`, so the status is unknown; add the \
                         value to the profile's `status` values",
                        raw.trim(),
                        column.name
                    );
                    self.warn(row, message);
                    StatusWord::Unknown
                }
            };
            words.push(word);
            raw_parts.push(format!("{}: {}", column.name, raw.trim()));
        }
        if ended && let Some(index) = self.columns.valid_to {
            words.push(StatusWord::Inactive);
            let raw = cell(row, Some(index)).unwrap_or_default();
            raw_parts.push(format!("{}: {raw}", self.header(index)));
        }
        let status = words.into_iter().max().unwrap_or(StatusWord::Unknown);
        (status, raw_parts)
    }

    fn read_grants(&mut self, row: &Row, column: &GrantColumn) -> Vec<Grant> {
        let Some(cell_text) = cell(row, Some(column.index)) else { return Vec::new() };
        let separator = column.separator.as_deref();
        let ids = split_values(cell_text, separator);
        let names = cell(row, column.name_index).map(|names| split_values(names, separator));
        let names = match names {
            Some(names) if names.len() == ids.len() => Some(names),
            Some(names) => {
                let message = format!(
                    "column `{}` has {} values but its name column has {}, so the ids are used \
                     as names; export both columns in the same order",
                    column.name,
                    ids.len(),
                    names.len()
                );
                self.warn(row, message);
                None
            }
            None => None,
        };
        let scope =
            column.scope_index.and_then(|index| owned(row, Some(index))).or(column.scope.clone());

        let mut grants = Vec::with_capacity(ids.len());
        for (position, value) in ids.iter().enumerate() {
            let (id, name) = match (column.pairs, value.split_once('=')) {
                (true, Some((id, name))) if !id.trim().is_empty() => {
                    let name = if name.trim().is_empty() { id } else { name };
                    (id.trim(), name.trim())
                }
                (true, _) => {
                    let message = format!(
                        "value `{value}` in column `{}` is not an `ID=NAME` pair, so it is used \
                         as both id and name",
                        column.name
                    );
                    self.warn(row, message);
                    (*value, *value)
                }
                (false, _) => {
                    (*value, names.as_ref().and_then(|n| n.get(position)).copied().unwrap_or(value))
                }
            };
            grants.push(Grant {
                kind: column.kind,
                id: id.to_owned(),
                name: name.to_owned(),
                scope: scope.clone(),
                priority: column.ordered.then_some(position + 1),
            });
        }
        grants
    }

    /// Parses a timestamp cell; a value that is not a timestamp is a warning.
    fn time(&mut self, row: &Row, index: Option<usize>, rule: DateOnly) -> Option<DateTime<Utc>> {
        let index = index?;
        let raw = cell(row, Some(index))?;
        let column = self.header(index);
        match parse_cell_time(raw, self.zone, rule) {
            Some(time) => {
                let note = match time.fit {
                    LocalFit::Exact => None,
                    LocalFit::Earlier => Some("occurs twice, so the earlier instant was used"),
                    LocalFit::AfterGap => {
                        Some("does not exist, so the first instant after the clock change was used")
                    }
                };
                if let Some(note) = note {
                    let message = format!(
                        "local time `{raw}` in column `{column}` {note} in `{}`",
                        self.zone
                    );
                    self.diagnostics.push(Diagnostic::new(
                        Level::Info,
                        self.file,
                        row.location(),
                        message,
                    ));
                }
                Some(time.instant)
            }
            None => {
                self.warn(
                    row,
                    format!(
                        "invalid timestamp `{raw}` in column `{column}`, so the value was left \
                         unknown; use `YYYY-MM-DD HH:MM:SS`, with an offset where the export \
                         has one"
                    ),
                );
                None
            }
        }
    }

    fn header(&self, index: usize) -> String {
        self.headers.get(index).cloned().unwrap_or_default()
    }

    fn warn(&mut self, row: &Row, message: String) {
        self.diagnostics.push(Diagnostic::new(Level::Warning, self.file, row.location(), message));
    }
}

/// Returns the trimmed cell in column `index`, or `None` when it is empty or absent.
fn cell(row: &Row, index: Option<usize>) -> Option<&str> {
    let value = row.get(index?)?.trim();
    (!value.is_empty()).then_some(value)
}

fn owned(row: &Row, index: Option<usize>) -> Option<String> {
    cell(row, index).map(str::to_owned)
}
