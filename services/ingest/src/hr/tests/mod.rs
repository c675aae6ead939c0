//! Tests of the HR roster reader on small rosters written for each rule, and on the
//! Excel-saved roster of `testdata/field-cases/csv-excel-roster`.

mod fuzz;
mod headers;
mod roster;
mod times;

use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::America::Chicago;
use rollcall_core::model::Worker;

use super::{HrOptions, HrRead, read_hr_roster};
use crate::diagnostic::Level;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn read(text: &str) -> HrRead {
    read_hr_roster(text.as_bytes(), Path::new("roster.csv"), &HrOptions::new(Chicago)).unwrap()
}

fn worker<'a>(read: &'a HrRead, id: &str) -> &'a Worker {
    read.snapshot
        .workers
        .iter()
        .find(|worker| worker.employee_id == id)
        .unwrap_or_else(|| panic!("no worker `{id}`"))
}

fn warnings(read: &HrRead) -> Vec<&str> {
    read.diagnostics
        .iter()
        .filter(|d| d.level == Level::Warning)
        .map(|d| d.message.as_str())
        .collect()
}
