//! The instant a termination takes effect, from the date a vendor returns.
//!
//! Vendors return dates, not instants, and do not agree on what the date means. Two
//! readings cover them:
//!
//! - [`start_of_day`]: the date is the first day the worker is no longer employed, or
//!   the day a future-dated status row becomes current (BambooHR, HiBob, Paychex,
//!   Paylocity, ADP). Employment ends at 00:00 of that date.
//! - [`end_of_day`]: the date is the last day worked (Gusto, Rippling). Employment ends
//!   at 00:00 of the next day.
//!
//! Both are computed in the zone the date belongs to: the worker's site where the vendor
//! has one per site (HiBob), else the tenant's zone from its vendor settings.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Returns the first instant of `date` in `zone`.
///
/// Where a zone skips midnight for daylight saving time (such as America/Santiago in
/// September), the day starts at the first local time that exists after midnight.
pub fn start_of_day(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    // Every UTC offset in use today is a multiple of 15 minutes (Nepal's +05:45 is one),
    // so 15-minute steps reach the first local time after a gap exactly.
    let mut local = midnight;
    for _ in 0..16 {
        if let Some(instant) = zone.from_local_datetime(&local).earliest() {
            return instant.with_timezone(&Utc);
        }
        local += Duration::minutes(15);
    }
    // No zone has a gap this long; fall back to midnight read as UTC.
    Utc.from_utc_datetime(&midnight)
}

/// Returns the first instant after `date` in `zone`: the end of a last day worked.
pub fn end_of_day(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    match date.succ_opt() {
        Some(next) => start_of_day(next, zone),
        None => start_of_day(date, zone),
    }
}

/// Parses a vendor date: `YYYY-MM-DD`, or a date-time whose date part is that (Paychex
/// and ADP send `2026-11-30T00:00:00Z` in some responses). The time part is ignored,
/// because the vendors mean a calendar date in the company's zone.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let date = text.get(..10)?;
    NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        parse_date(text).unwrap_or(NaiveDate::MIN)
    }

    #[test]
    fn start_of_day_uses_zone() {
        let start = start_of_day(date("2026-12-01"), chrono_tz::America::New_York);
        assert_eq!(start.to_rfc3339(), "2026-12-01T05:00:00+00:00");
    }

    #[test]
    fn end_of_day_is_next_midnight() {
        let end = end_of_day(date("2026-11-30"), chrono_tz::America::Los_Angeles);
        assert_eq!(end.to_rfc3339(), "2026-12-01T08:00:00+00:00");
    }

    #[test]
    fn midnight_gap_starts_at_first_valid_time() {
        // Chile moves clocks from 00:00 to 01:00 on the first Sunday of September.
        let start = start_of_day(date("2026-09-06"), chrono_tz::America::Santiago);
        assert_eq!(start.to_rfc3339(), "2026-09-06T04:00:00+00:00");
    }

    #[test]
    fn parse_date_takes_date_part() {
        assert_eq!(parse_date("2026-11-30T00:00:00Z"), Some(date("2026-11-30")));
        assert_eq!(parse_date("2026-11-30"), Some(date("2026-11-30")));
        assert_eq!(parse_date("11/30/2026"), None);
        assert_eq!(parse_date(""), None);
    }
}
