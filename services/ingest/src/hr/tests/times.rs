use super::*;

#[test]
fn offset_timestamp_read_as_given() {
    let read =
        read("Employee ID,Status,Termination Date\n7,Terminated,2026-11-14T17:30:00-05:00\n");
    assert_eq!(worker(&read, "7").terminated_at, Some(utc("2026-11-14T22:30:00Z")));
    assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
}

#[test]
fn named_zone_timestamp_read_in_that_zone() {
    let read = read(
        "Employee ID,Status,Termination Date\n7,Terminated,2026-11-14 17:30 America/Los_Angeles\n",
    );
    assert_eq!(worker(&read, "7").terminated_at, Some(utc("2026-11-15T01:30:00Z")));
    assert!(read.diagnostics.is_empty(), "{:?}", read.diagnostics);
}

#[test]
fn naive_timestamp_read_in_tenant_zone() {
    let read = read("Employee ID,Status,Termination Date\n7,Terminated,2026-11-14 17:30:00\n");
    assert_eq!(worker(&read, "7").terminated_at, Some(utc("2026-11-14T23:30:00Z")));
    assert_eq!(read.diagnostics.len(), 1);
    assert_eq!(read.diagnostics[0].level, Level::Info);
}

#[test]
fn date_only_hire_starts_that_day() {
    let read = read("Employee ID,Status,Hire Date\n7,Pending,12/15/2026\n");
    assert_eq!(worker(&read, "7").hired_at, Some(utc("2026-12-15T06:00:00Z")));
}

#[test]
fn termination_on_clock_change_day() {
    // 2026-11-01 is 25 hours long in Chicago, so its end is 2026-11-02 00:00 CST.
    let read = read("Employee ID,Status,Termination Date\n7,Terminated,2026-11-01\n");
    assert_eq!(worker(&read, "7").terminated_at, Some(utc("2026-11-02T06:00:00Z")));
}

#[test]
fn invalid_date_warned_and_left_empty() {
    let read = read("Employee ID,Status,Termination Date\n7,Terminated,14.11.2026\n");
    let ended = worker(&read, "7");
    assert_eq!(ended.terminated_at, None);
    assert!(ended.has_left(utc("2026-01-01T00:00:00Z")));
    assert_eq!(
        warnings(&read),
        ["invalid termination date `14.11.2026` in column `Termination Date`, so it was left \
          empty; use `YYYY-MM-DD`, `MM/DD/YYYY`, a date and time `YYYY-MM-DD HH:MM` with an \
          optional IANA zone, or RFC 3339"]
    );
}
