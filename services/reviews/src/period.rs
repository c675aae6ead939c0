//! Schedule periods: which launch a campaign definition owes at an instant.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;
use rollcall_ingest::tenant_file::{CronSchedule, Schedule};

/// How far back a cron schedule is searched for its last match: eight years, enough for
/// an expression that matches only on 29 February.
const CRON_LOOKBACK_DAYS: i64 = 8 * 366;

/// One period of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// The first instant of the period. The scheduler launches each definition once per
    /// period start.
    pub start: DateTime<Utc>,
    /// The period for people: `2026-Q4`, or the local minute the cron expression matched.
    pub label: String,
}

/// Returns the period of `schedule` that contains `now`, in the tenant's zone `zone`: the
/// current calendar quarter, or the period that began at the last minute the cron
/// expression matched at or before `now`. `None` when a cron expression matched no minute
/// in the last eight years (such as `0 0 31 2 *`).
pub fn current_period(schedule: &Schedule, zone: Tz, now: DateTime<Utc>) -> Option<Period> {
    let local = now.with_timezone(&zone).naive_local();
    match schedule {
        Schedule::Quarterly => {
            let quarter = local.month0() / 3;
            let start =
                NaiveDate::from_ymd_opt(local.year(), quarter * 3 + 1, 1)?.and_hms_opt(0, 0, 0)?;
            Some(Period {
                start: to_utc(zone, start)?,
                label: format!("{}-Q{}", local.year(), quarter + 1),
            })
        }
        Schedule::Cron(cron) => {
            let start = last_match(cron, zone, local, now)?;
            let local_start = start.with_timezone(&zone).naive_local();
            Some(Period { start, label: local_start.format("%Y-%m-%dT%H:%M").to_string() })
        }
    }
}

/// Converts a local wall-clock time to UTC. An ambiguous time (the repeated hour when
/// clocks go back) is its first occurrence. A time in the gap when clocks go forward does
/// not exist, so the first minute after the gap is taken.
fn to_utc(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => Some(at.with_timezone(&Utc)),
        LocalResult::None => {
            // Gaps are at most a few hours; step forward a minute at a time.
            (1..=240).find_map(|minutes| {
                let later = local.checked_add_signed(TimeDelta::minutes(minutes))?;
                zone.from_local_datetime(&later).earliest().map(|at| at.with_timezone(&Utc))
            })
        }
    }
}

/// Finds the last minute at or before `now` (local wall-clock `local`) that `cron`
/// matches, walking days backwards and, in a matching day, hours and minutes backwards.
/// A local minute in a daylight-saving gap never happens, so it is skipped.
fn last_match(
    cron: &CronSchedule,
    zone: Tz,
    local: NaiveDateTime,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let today = local.date();
    for back in 0..=CRON_LOOKBACK_DAYS {
        let day = today.checked_sub_signed(TimeDelta::days(back))?;
        if !cron.matches_day(day) {
            continue;
        }
        for hour in (0..24u32).rev() {
            for minute in (0..60u32).rev() {
                if !cron.matches_time(hour, minute) {
                    continue;
                }
                let Some(candidate) = day.and_hms_opt(hour, minute, 0) else { continue };
                let Some(at) = zone.from_local_datetime(&candidate).earliest() else { continue };
                let at = at.with_timezone(&Utc);
                if at <= now {
                    return Some(at);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn quarter_starts_at_local_midnight() {
        let zone = chrono_tz::America::Chicago;
        let period =
            current_period(&Schedule::Quarterly, zone, at("2026-12-01T15:00:00Z")).unwrap();
        assert_eq!(period.label, "2026-Q4");
        // 1 October 2026 00:00 in Chicago is CDT, UTC-5.
        assert_eq!(period.start, at("2026-10-01T05:00:00Z"));
    }

    #[test]
    fn quarter_follows_the_tenant_zone() {
        // 03:00 UTC on 1 January is still 31 December in Chicago.
        let zone = chrono_tz::America::Chicago;
        let period =
            current_period(&Schedule::Quarterly, zone, at("2027-01-01T03:00:00Z")).unwrap();
        assert_eq!(period.label, "2026-Q4");
        let period =
            current_period(&Schedule::Quarterly, zone, at("2027-01-01T06:00:00Z")).unwrap();
        assert_eq!(period.label, "2027-Q1");
        assert_eq!(period.start, at("2027-01-01T06:00:00Z"));
    }

    #[test]
    fn cron_period_is_last_match() {
        let zone = chrono_tz::America::Chicago;
        let cron = Schedule::Cron(CronSchedule::parse("0 8 1 * *").unwrap());
        // 07:59 in Chicago on 1 December: the November launch is the current period. 1
        // November 2026 is the day clocks go back, so 08:00 that day is CST, UTC-6.
        let period = current_period(&cron, zone, at("2026-12-01T13:59:00Z")).unwrap();
        assert_eq!(period.label, "2026-11-01T08:00");
        assert_eq!(period.start, at("2026-11-01T14:00:00Z"));
        let period = current_period(&cron, zone, at("2026-12-01T14:00:00Z")).unwrap();
        assert_eq!(period.label, "2026-12-01T08:00");
    }

    #[test]
    fn cron_without_a_match_has_no_period() {
        let cron = Schedule::Cron(CronSchedule::parse("0 0 31 2 *").unwrap());
        assert_eq!(current_period(&cron, chrono_tz::UTC, at("2026-12-01T00:00:00Z")), None);
    }

    #[test]
    fn cron_skips_the_spring_gap() {
        // 02:30 on 8 March 2026 does not exist in Chicago; the previous day's 02:30 is
        // the last match.
        let zone = chrono_tz::America::Chicago;
        let cron = Schedule::Cron(CronSchedule::parse("30 2 * * *").unwrap());
        let period = current_period(&cron, zone, at("2026-03-08T12:00:00Z")).unwrap();
        assert_eq!(period.label, "2026-03-07T02:30");
    }
}
