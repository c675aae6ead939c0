//! One roster row read into a worker.

use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_core::model::{Worker, WorkerStatus};

use crate::delimited::Row;
use crate::delimited::timestamp::{DateOnly, LocalFit, TimeForm, parse_cell_time};
use crate::diagnostic::{Diagnostic, Level};

use super::headers::{RosterColumns, RosterField};
use super::status::worker_status;

/// The reading context shared by all rows of one roster.
pub(crate) struct WorkerReader<'a> {
    pub columns: &'a RosterColumns,
    pub headers: &'a [String],
    pub zone: Tz,
    pub file: &'a Path,
    pub diagnostics: &'a mut Vec<Diagnostic>,
    /// How many timestamps had no offset or zone name and were read in `zone`.
    pub local_times: u64,
}

impl WorkerReader<'_> {
    /// Reads one row, or returns `None` with a warning when it has no employee id.
    pub(crate) fn read(&mut self, row: &Row) -> Option<Worker> {
        let Some((employee_id, _)) = self.cell(row, RosterField::EmployeeId) else {
            self.warn(row, "empty employee id, so the record was skipped".to_owned());
            return None;
        };
        let mut worker = Worker::new(employee_id);

        worker.name = self.text(row, RosterField::Name).or_else(|| {
            let first = self.text(row, RosterField::FirstName);
            let last = self.text(row, RosterField::LastName);
            match (first, last) {
                (Some(first), Some(last)) => Some(format!("{first} {last}")),
                (first, last) => first.or(last),
            }
        });
        worker.email = self.text(row, RosterField::Email);
        worker.manager_employee_id = self.text(row, RosterField::ManagerId);
        worker.job_title = self.text(row, RosterField::JobTitle);
        worker.department = self.text(row, RosterField::Department);
        worker.location = self.text(row, RosterField::Location);
        // A date alone is the first day worked for a hire, and the last day worked for a
        // termination, so employment ends at the following midnight.
        worker.hired_at = self.time(row, RosterField::Hired, DateOnly::StartOfDay);
        worker.terminated_at = self.time(row, RosterField::Terminated, DateOnly::EndOfDay);

        let raw_status = self.text(row, RosterField::Status).unwrap_or_default();
        worker.status = match worker_status(&raw_status) {
            Some(status) => status,
            None => {
                let inferred = if worker.terminated_at.is_some() {
                    WorkerStatus::Terminated
                } else {
                    WorkerStatus::Active
                };
                let reason = if inferred == WorkerStatus::Terminated {
                    "it has a termination date"
                } else {
                    "it has no termination date"
                };
                self.warn(
                    row,
                    format!(
                        "unknown status `{raw_status}`, so the worker was read as `{}` because \
                         {reason}; use active, on leave, terminated or pending",
                        status_name(inferred)
                    ),
                );
                inferred
            }
        };
        worker.status_raw = raw_status;
        Some(worker)
    }

    /// Returns the first non-empty cell among the field's columns, trimmed, and its column.
    fn cell<'r>(&self, row: &'r Row, field: RosterField) -> Option<(&'r str, usize)> {
        self.columns.of(field).iter().find_map(|&index| {
            let value = row.get(index)?.trim();
            (!value.is_empty()).then_some((value, index))
        })
    }

    fn text(&self, row: &Row, field: RosterField) -> Option<String> {
        self.cell(row, field).map(|(value, _)| value.to_owned())
    }

    fn time(&mut self, row: &Row, field: RosterField, rule: DateOnly) -> Option<DateTime<Utc>> {
        let (raw, index) = self.cell(row, field)?;
        let column = self.headers.get(index).cloned().unwrap_or_default();
        let Some(time) = parse_cell_time(raw, self.zone, rule) else {
            self.warn(
                row,
                format!(
                    "invalid {} `{raw}` in column `{column}`, so it was left empty; use \
                     `YYYY-MM-DD`, `MM/DD/YYYY`, a date and time `YYYY-MM-DD HH:MM` with an \
                     optional IANA zone, or RFC 3339",
                    field.label()
                ),
            );
            return None;
        };
        if matches!(time.form, TimeForm::Local | TimeForm::Date(_)) {
            self.local_times += 1;
        }
        let note = match time.fit {
            LocalFit::Exact => None,
            LocalFit::Earlier => Some("occurs twice, so the earlier instant was used"),
            LocalFit::AfterGap => {
                Some("does not exist, so the first instant after the clock change was used")
            }
        };
        if let Some(note) = note {
            let message = format!("local time `{raw}` in column `{column}` {note}");
            self.diagnostics.push(Diagnostic::new(Level::Info, self.file, row.location(), message));
        }
        Some(time.instant)
    }

    fn warn(&mut self, row: &Row, message: String) {
        self.diagnostics.push(Diagnostic::new(Level::Warning, self.file, row.location(), message));
    }
}

fn status_name(status: WorkerStatus) -> &'static str {
    match status {
        WorkerStatus::Active => "active",
        WorkerStatus::Leave => "on leave",
        WorkerStatus::Terminated => "terminated",
        WorkerStatus::Pending => "pending",
    }
}
