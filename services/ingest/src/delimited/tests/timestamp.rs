use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use crate::delimited::timestamp::{CellTime, DateOnly, LocalFit, TimeForm, parse_cell_time};

const CHICAGO: Tz = chrono_tz::America::Chicago;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn parse(raw: &str) -> CellTime {
    parse_cell_time(raw, CHICAGO, DateOnly::StartOfDay).unwrap_or_else(|| panic!("`{raw}`"))
}

#[test]
fn rfc3339_offset_read() {
    let time = parse("2026-11-30T07:41:12-05:00");
    assert_eq!(time.instant, utc("2026-11-30T12:41:12Z"));
    assert_eq!(time.form, TimeForm::Offset);
    assert_eq!(parse("2026-11-30 12:41:12Z").instant, utc("2026-11-30T12:41:12Z"));
}

#[test]
fn named_zone_read() {
    let time = parse("2026-11-30 07:41 America/New_York");
    assert_eq!(time.instant, utc("2026-11-30T12:41:00Z"));
    assert_eq!(time.form, TimeForm::NamedZone(chrono_tz::America::New_York));
    assert_eq!(parse("2026-11-30 07:41:12 Europe/Berlin").instant, utc("2026-11-30T06:41:12Z"));
}

#[test]
fn naive_forms_read_in_zone() {
    let expected = utc("2026-11-30T13:41:12Z");
    for raw in [
        "2026-11-30 07:41:12.000",
        "2026-11-30T07:41:12",
        "2026-11-30 07:41:12",
        "11/30/2026 07:41:12",
        "11/30/2026 7:41:12 AM",
    ] {
        let time = parse(raw);
        assert_eq!(time.instant, expected, "`{raw}`");
        assert_eq!(time.form, TimeForm::Local, "`{raw}`");
    }
    assert_eq!(parse("11/30/2026 7:41").instant, utc("2026-11-30T13:41:00Z"));
    assert_eq!(parse("11/30/2026 7:41 PM").instant, utc("2026-12-01T01:41:00Z"));
}

#[test]
fn date_start_and_end_of_day() {
    let start = parse_cell_time("2026-11-14", CHICAGO, DateOnly::StartOfDay).unwrap();
    assert_eq!(start.instant, utc("2026-11-14T06:00:00Z"));
    assert_eq!(start.form, TimeForm::Date(NaiveDate::from_ymd_opt(2026, 11, 14).unwrap()));
    let end = parse_cell_time("11/14/2026", CHICAGO, DateOnly::EndOfDay).unwrap();
    assert_eq!(end.instant, utc("2026-11-15T06:00:00Z"));
}

#[test]
fn repeated_hour_takes_earlier() {
    // 2026-11-01 01:30 occurs twice in Chicago: first at -05:00, then at -06:00.
    let time = parse("2026-11-01 01:30:00");
    assert_eq!(time.instant, utc("2026-11-01T06:30:00Z"));
    assert_eq!(time.fit, LocalFit::Earlier);
}

#[test]
fn skipped_hour_takes_end_of_gap() {
    // 2026-03-08 02:30 does not exist in Chicago; clocks go from 02:00 -06:00 to 03:00 -05:00.
    let time = parse("2026-03-08 02:30:45");
    assert_eq!(time.instant, utc("2026-03-08T08:00:00Z"));
    assert_eq!(time.fit, LocalFit::AfterGap);
}

#[test]
fn unreadable_cells_rejected() {
    for raw in ["", "  ", "yesterday", "30/11/2026", "2026-13-01", "2026-11-30 07:41 Mars/Base"] {
        assert_eq!(parse_cell_time(raw, CHICAGO, DateOnly::StartOfDay), None, "`{raw}`");
    }
}

proptest! {
    #[test]
    fn parse_cell_time_never_panics(raw in "\\PC{0,40}", end in any::<bool>()) {
        let rule = if end { DateOnly::EndOfDay } else { DateOnly::StartOfDay };
        let _ = parse_cell_time(&raw, CHICAGO, rule);
    }

    #[test]
    fn near_dates_never_panic(raw in "[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}( [A-Za-z/_]{1,20})?)?") {
        let _ = parse_cell_time(&raw, CHICAGO, DateOnly::EndOfDay);
    }
}
