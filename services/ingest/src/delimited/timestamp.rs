//! Timestamps in delimited cells, with or without a time zone.
//!
//! Accepted forms, tried in this order:
//! - RFC 3339 with an offset or `Z` (`2026-11-30T07:41:12-05:00`; a space may replace `T`);
//! - a local date-time followed by an IANA zone name (`2026-11-30 07:41 America/New_York`);
//! - a local date-time without a zone (`2026-11-30 07:41:12.000`, `2026-11-30T07:41:12`,
//!   `11/30/2026 7:41`, `11/30/2026 7:41:12 AM`), read in the zone the caller passes;
//! - a date alone (`2026-11-30`, `11/30/2026`), read as the start or the end of that day in
//!   the caller's zone, as the caller chooses.
//!
//! Dates with `/` are month first, as US Excel writes them; day-first dates are not read.

use chrono::{
    DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

/// Local date-time layouts, as `chrono` format strings. `%.f` also matches no fraction.
const LOCAL_FORMATS: [&str; 9] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%Y/%m/%d %H:%M:%S",
];

/// Date layouts.
const DATE_FORMATS: [&str; 3] = ["%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d"];

/// The maximum gap in local time to step over, in minutes. Daylight-saving gaps are 30 or 60
/// minutes; a longer jump, such as Samoa skipping 2011-12-30, yields no instant.
const MAX_GAP_MINUTES: i64 = 120;

/// The instant that a date without a time means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOnly {
    /// 00:00 of that day.
    StartOfDay,
    /// 00:00 of the next day: the end of that day, for a last day worked.
    EndOfDay,
}

/// The way a cell gives its time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeForm {
    /// A numeric offset or `Z`.
    Offset,
    /// An IANA zone name after the date-time.
    NamedZone(Tz),
    /// No zone: read in the caller's zone.
    Local,
    /// A date without a time, in the caller's zone.
    Date(NaiveDate),
}

/// The fit of a local time to a daylight-saving change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalFit {
    /// The local time exists exactly once.
    Exact,
    /// The local time occurs twice (clocks went back); the earlier instant was taken.
    Earlier,
    /// The local time does not exist (clocks went forward); the first instant after the gap
    /// was taken.
    AfterGap,
}

/// A timestamp read from a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellTime {
    /// The instant.
    pub instant: DateTime<Utc>,
    /// The way the cell gave its zone.
    pub form: TimeForm,
    /// The fit of the local time, for local and date forms.
    pub fit: LocalFit,
}

/// Reads `raw` as a timestamp; `zone` applies to cells without an offset or zone name.
///
/// Returns `None` when the text matches no accepted form (including an empty cell).
pub fn parse_cell_time(raw: &str, zone: Tz, date_only: DateOnly) -> Option<CellTime> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Some(instant) = parse_with_offset(raw) {
        return Some(CellTime { instant, form: TimeForm::Offset, fit: LocalFit::Exact });
    }
    if let Some((local, named)) = raw.rsplit_once(' ')
        && let Ok(named_zone) = named.parse::<Tz>()
    {
        let local = local.trim_end();
        if let Some(naive) = parse_local(local) {
            let (instant, fit) = resolve_local(naive, named_zone)?;
            return Some(CellTime { instant, form: TimeForm::NamedZone(named_zone), fit });
        }
        let date = parse_date(local)?;
        let (instant, fit) = resolve_date(date, named_zone, date_only)?;
        return Some(CellTime { instant, form: TimeForm::NamedZone(named_zone), fit });
    }
    if let Some(naive) = parse_local(raw) {
        let (instant, fit) = resolve_local(naive, zone)?;
        return Some(CellTime { instant, form: TimeForm::Local, fit });
    }
    let date = parse_date(raw)?;
    let (instant, fit) = resolve_date(date, zone, date_only)?;
    Some(CellTime { instant, form: TimeForm::Date(date), fit })
}

fn parse_with_offset(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(raw) {
        return Some(parsed.with_timezone(&Utc));
    }
    ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.f%z"]
        .iter()
        .find_map(|format| DateTime::parse_from_str(raw, format).ok())
        .map(|parsed| parsed.with_timezone(&Utc))
}

fn parse_local(raw: &str) -> Option<NaiveDateTime> {
    LOCAL_FORMATS.iter().find_map(|format| NaiveDateTime::parse_from_str(raw, format).ok())
}

fn parse_date(raw: &str) -> Option<NaiveDate> {
    DATE_FORMATS.iter().find_map(|format| NaiveDate::parse_from_str(raw, format).ok())
}

fn resolve_date(date: NaiveDate, zone: Tz, rule: DateOnly) -> Option<(DateTime<Utc>, LocalFit)> {
    let day = match rule {
        DateOnly::StartOfDay => date,
        DateOnly::EndOfDay => date.checked_add_days(Days::new(1))?,
    };
    resolve_local(day.and_time(NaiveTime::MIN), zone)
}

/// Fits a local date-time to `zone`: the earlier instant of a repeated hour, or the first
/// instant after a skipped one.
fn resolve_local(naive: NaiveDateTime, zone: Tz) -> Option<(DateTime<Utc>, LocalFit)> {
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(time) => Some((time.with_timezone(&Utc), LocalFit::Exact)),
        LocalResult::Ambiguous(earlier, _) => {
            Some((earlier.with_timezone(&Utc), LocalFit::Earlier))
        }
        LocalResult::None => {
            // Daylight-saving changes happen on whole minutes, so stepping by minutes from the
            // start of the minute lands exactly on the end of the gap.
            let minute_start = naive.with_second(0)?.with_nanosecond(0)?;
            (1..=MAX_GAP_MINUTES).find_map(|minutes| {
                let later = minute_start.checked_add_signed(TimeDelta::minutes(minutes))?;
                let first_after = zone.from_local_datetime(&later).earliest()?;
                Some((first_after.with_timezone(&Utc), LocalFit::AfterGap))
            })
        }
    }
}
