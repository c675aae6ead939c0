use rollcall_core::model::WorkerStatus;

use super::*;
use crate::hr::{RosterField, normalize_header};

#[test]
fn header_spellings_normalized() {
    for header in ["Employee ID", "employee_id", "EmployeeID", "EMPLOYEE-ID", " Employee Id "] {
        assert_eq!(normalize_header(header), "employeeid", "`{header}`");
    }
    assert_eq!(normalize_header("Employee #"), "employeenumber");
    assert_eq!(normalize_header("Work E-mail"), "workemail");
}

#[test]
fn alternative_headers_read() {
    let read = read(
        "EmployeeID,Full Name,E-mail,Employee Status,Date of Hire,Term Date,Supervisor ID,Title,\
         Dept,Site\n\
         7,Zoë Okafor,zo@example.org,Terminated,2020-02-03,2026-11-14,3,Nurse,Clinical,North\n",
    );
    let zoe = worker(&read, "7");
    assert_eq!(zoe.name.as_deref(), Some("Zoë Okafor"));
    assert_eq!(zoe.email.as_deref(), Some("zo@example.org"));
    assert_eq!(zoe.status, WorkerStatus::Terminated);
    assert_eq!(zoe.hired_at, Some(utc("2020-02-03T06:00:00Z")));
    assert_eq!(zoe.terminated_at, Some(utc("2026-11-15T06:00:00Z")));
    assert_eq!(zoe.manager_employee_id.as_deref(), Some("3"));
    assert_eq!(zoe.job_title.as_deref(), Some("Nurse"));
    assert_eq!(zoe.department.as_deref(), Some("Clinical"));
    assert_eq!(zoe.location.as_deref(), Some("North"));
}

#[test]
fn work_email_preferred_over_email() {
    let read = read(
        "Employee ID,Status,Email,Work Email\n7,Active,me@home.example,zo@work.example\n8,Active,x@home.example,\n",
    );
    assert_eq!(worker(&read, "7").email.as_deref(), Some("zo@work.example"));
    assert_eq!(worker(&read, "8").email.as_deref(), Some("x@home.example"));
}

#[test]
fn rehire_date_preferred_over_hire_date() {
    let read = read(
        "Employee ID,Status,Hire Date,Rehire Date,Termination Date\n\
         7,Active,2015-01-05,2026-03-02,2024-06-30\n",
    );
    let rehired = worker(&read, "7");
    assert_eq!(rehired.hired_at, Some(utc("2026-03-02T06:00:00Z")));
    assert!(!rehired.has_left(utc("2026-12-01T00:00:00Z")));
}

#[test]
fn every_field_has_spellings() {
    for field in RosterField::ALL {
        assert!(!field.spellings().is_empty(), "{field:?}");
        let normalized: Vec<String> =
            field.spellings().iter().map(|spelling| normalize_header(spelling)).collect();
        for other in RosterField::ALL.into_iter().filter(|other| *other != field) {
            for spelling in other.spellings() {
                assert!(
                    !normalized.contains(&normalize_header(spelling)),
                    "`{spelling}` names both {field:?} and {other:?}"
                );
            }
        }
    }
}
