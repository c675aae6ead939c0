use std::path::Path;

use chrono_tz::America::Chicago;
use rollcall_core::model::WorkerStatus;

use super::*;
use crate::delimited::Delimiter;
use crate::diagnostic::Location;
use crate::hr::HrError;

const ROSTER: &str = "\
Employee ID,First Name,Last Name,Work Email,Employment Status,Hire Date,Termination Date,Manager Employee ID,Job Title,Department,Location
E-10422,Marta,Kowalczyk,mkowalczyk@cedarrun.example,Active,2019-04-01,,E-10001,Office Manager,Administration,Cedar Run Family Medicine
E-10611,Priya,Whitfield,pwhitfield@cedarrun.example,Terminated,2021-06-14,2026-11-14,E-10422,Front Desk,Front Office,Cedar Run Family Medicine
E-10602,Jean-Luc,Thibodeaux,,On Leave,2022-01-10,,E-10422,Medical Assistant,Clinical,Cedar Run Family Medicine
E-10700,Ines,Carvalho,icarvalho@cedarrun.example,Pending,2026-12-15,,E-10422,Nurse Practitioner,Clinical,Cedar Run Urgent Care
";

#[test]
fn roster_fields_mapped() {
    let read = read(ROSTER);
    assert_eq!(read.snapshot.workers.len(), 4);
    let marta = worker(&read, "E-10422");
    assert_eq!(marta.name.as_deref(), Some("Marta Kowalczyk"));
    assert_eq!(marta.email.as_deref(), Some("mkowalczyk@cedarrun.example"));
    assert_eq!(marta.status, WorkerStatus::Active);
    assert_eq!(marta.status_raw, "Active");
    assert_eq!(marta.hired_at, Some(utc("2019-04-01T05:00:00Z")));
    assert_eq!(marta.terminated_at, None);
    assert_eq!(marta.manager_employee_id.as_deref(), Some("E-10001"));
    assert_eq!(marta.job_title.as_deref(), Some("Office Manager"));
    assert_eq!(marta.department.as_deref(), Some("Administration"));
    assert_eq!(marta.location.as_deref(), Some("Cedar Run Family Medicine"));
}

#[test]
fn status_words_become_statuses() {
    let read = read(ROSTER);
    assert_eq!(worker(&read, "E-10611").status, WorkerStatus::Terminated);
    assert_eq!(worker(&read, "E-10602").status, WorkerStatus::Leave);
    assert_eq!(worker(&read, "E-10602").status_raw, "On Leave");
    assert_eq!(worker(&read, "E-10700").status, WorkerStatus::Pending);
    assert_eq!(worker(&read, "E-10602").email, None);
}

#[test]
fn date_only_termination_ends_that_day() {
    let read = read(ROSTER);
    let priya = worker(&read, "E-10611");
    // The last day worked is 2026-11-14 in Chicago (CST, -06:00), so employment ends at the
    // following midnight.
    assert_eq!(priya.terminated_at, Some(utc("2026-11-15T06:00:00Z")));
    assert_eq!(priya.hired_at, Some(utc("2021-06-14T05:00:00Z")));
    assert!(!priya.has_left(utc("2026-11-15T05:59:59Z")));
    assert!(priya.has_left(utc("2026-11-15T06:00:00Z")));
}

#[test]
fn local_times_noted_once() {
    let read = read(ROSTER);
    let infos: Vec<&str> = read
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Info)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        infos,
        ["read 5 dates and times without an offset in the tenant's zone `America/Chicago`"]
    );
    assert!(warnings(&read).is_empty());
}

#[test]
fn full_name_column_preferred() {
    let read = read("Employee ID,Name,First Name,Status\n7,\"Okafor, Zoë\",Zoë,Active\n");
    assert_eq!(worker(&read, "7").name.as_deref(), Some("Okafor, Zoë"));
}

#[test]
fn single_name_part_used() {
    let read = read("Employee ID,Last Name,Status\n7,Okafor,Active\n");
    assert_eq!(worker(&read, "7").name.as_deref(), Some("Okafor"));
}

#[test]
fn duplicate_employee_id_keeps_first() {
    let read =
        read("Employee ID,Status,Job Title\n7,Active,Nurse\n8,Active,MA\n7,Terminated,Biller\n");
    assert_eq!(read.snapshot.workers.len(), 2);
    assert_eq!(worker(&read, "7").job_title.as_deref(), Some("Nurse"));
    let duplicate = read.diagnostics.iter().find(|d| d.level == Level::Warning).unwrap();
    assert_eq!(duplicate.location, Location::Record { record: 4, line: 4 });
    assert!(duplicate.message.starts_with("employee id `7` repeats the one at record 2 (line 2)"));
}

#[test]
fn empty_employee_id_skipped() {
    let read = read("Employee ID,Status\n ,Active\n8,Active\n");
    assert_eq!(read.snapshot.workers.len(), 1);
    assert_eq!(warnings(&read), ["empty employee id, so the record was skipped"]);
}

#[test]
fn unknown_status_with_termination_is_terminated() {
    let read = read("Employee ID,Status,Termination Date\n7,Contractor ended,2026-10-01\n8,,\n");
    let ended = worker(&read, "7");
    assert_eq!(ended.status, WorkerStatus::Terminated);
    assert_eq!(ended.status_raw, "Contractor ended");
    let blank = worker(&read, "8");
    assert_eq!(blank.status, WorkerStatus::Active);
    assert_eq!(blank.status_raw, "");
    let warnings = warnings(&read);
    assert_eq!(warnings.len(), 2);
    assert!(warnings[0].starts_with(
        "unknown status `Contractor ended`, so the worker was read as `terminated` because it \
         has a termination date"
    ));
    assert!(warnings[1].starts_with("unknown status ``, so the worker was read as `active`"));
}

#[test]
fn semicolon_roster_from_excel() {
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice("employee_id;name;status\r\n7;Renée Dubois;Separated\r\n".as_bytes());
    let read = read_hr_roster(&bytes, Path::new("x.csv"), &HrOptions::new(Chicago)).unwrap();
    assert_eq!(read.delimiter, Delimiter::Semicolon);
    assert_eq!(worker(&read, "7").name.as_deref(), Some("Renée Dubois"));
    assert_eq!(worker(&read, "7").status, WorkerStatus::Terminated);
}

#[test]
fn ehr_roster_lacks_employee_id() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/field-cases/csv-excel-roster/roster-excel-ansi-comma.csv");
    let bytes = std::fs::read(path).unwrap();
    let error =
        read_hr_roster(&bytes, Path::new("roster.csv"), &HrOptions::new(Chicago)).unwrap_err();
    let HrError::MissingColumn { field, line, found, .. } = &error else {
        panic!("expected a missing column, got {error:?}");
    };
    assert_eq!(*field, "employee id");
    assert_eq!(*line, 1);
    assert_eq!(found, &["Login", "Last Name", "First Name", "NPI", "Role", "Status", "Notes"]);
    let message = error.to_string();
    assert!(
        message
            .starts_with("missing the employee id column in the header at line 1 (found `Login`"),
        "{message}"
    );
    assert!(message.contains("name a column `Employee ID`, `Employee Number`"), "{message}");
}

#[test]
fn missing_status_column_named() {
    let error =
        read_hr_roster(b"Employee ID,Name\n7,A\n", Path::new("x.csv"), &HrOptions::new(Chicago))
            .unwrap_err();
    assert!(matches!(error, HrError::MissingColumn { field: "status", .. }));
    assert!(error.to_string().ends_with("`Emp Status` or `Status`"), "{error}");
}
