//! Time values: Windows FILETIME integers and LDAP generalized time.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::AdError;

/// 100-nanosecond intervals from 1601-01-01 to 1970-01-01, both UTC.
const FILETIME_UNIX_EPOCH: i64 = 116_444_736_000_000_000;

/// FILETIME intervals per second.
const INTERVALS_PER_SECOND: i64 = 10_000_000;

/// Parses a FILETIME attribute (`lastLogonTimestamp`, `pwdLastSet`, `accountExpires`): a
/// decimal count of 100-nanosecond intervals since 1601-01-01 UTC.
///
/// Returns `None` for 0 and for 9223372036854775807, the two values AD uses for "never"
/// (`accountExpires`) or "not set" (`lastLogonTimestamp`, and `pwdLastSet` when the user
/// must change the password at next sign-in). Negative values are errors.
pub fn parse_filetime(text: &str) -> Result<Option<DateTime<Utc>>, AdError> {
    let invalid = || AdError::InvalidFileTime { value: text.to_owned() };
    let intervals: i64 = text.trim().parse().map_err(|_| invalid())?;
    if intervals == 0 || intervals == i64::MAX {
        return Ok(None);
    }
    if intervals < 0 {
        return Err(invalid());
    }
    let since_unix = intervals - FILETIME_UNIX_EPOCH;
    let seconds = since_unix.div_euclid(INTERVALS_PER_SECOND);
    let nanos =
        u32::try_from(since_unix.rem_euclid(INTERVALS_PER_SECOND) * 100).map_err(|_| invalid())?;
    DateTime::from_timestamp(seconds, nanos).map(Some).ok_or_else(invalid)
}

/// Parses an RFC 4517 section 3.3.13 generalized time (`whenCreated: 20240101120000.0Z`,
/// `createTimestamp: 20240101120000Z`, `authTimestamp`).
///
/// Minutes and seconds are optional, a fraction (after `.` or `,`) applies to the last unit
/// given, and the zone is `Z` or an offset `+HH[MM]` / `-HH[MM]`. A leap second (`60`)
/// is read as second 59, since `NaiveTime::from_hms_opt` rejects second 60.
pub fn parse_generalized_time(text: &str) -> Result<DateTime<Utc>, AdError> {
    parse_generalized(text.trim())
        .ok_or_else(|| AdError::InvalidGeneralizedTime { value: text.to_owned() })
}

fn parse_generalized(text: &str) -> Option<DateTime<Utc>> {
    let digits_end = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let digits = text.get(..digits_end)?;
    let rest = text.get(digits_end..)?;
    // YYYYMMDDHH, then optional MM and SS.
    let (minute, second) = match digits.len() {
        10 => (None, None),
        12 => (Some(number(digits, 10..12)?), None),
        14 => (Some(number(digits, 10..12)?), Some(number(digits, 12..14)?)),
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(number(digits, 0..4)?).ok()?,
        number(digits, 4..6)?,
        number(digits, 6..8)?,
    )?;
    let hour = number(digits, 8..10)?;
    let leap = second == Some(60);
    let time = NaiveTime::from_hms_opt(
        hour,
        minute.unwrap_or(0),
        if leap { 59 } else { second.unwrap_or(0) },
    )?;
    let mut instant = NaiveDateTime::new(date, time);

    let (fraction, zone) = split_fraction(rest)?;
    if let Some(fraction) = fraction {
        let unit_nanos: u128 = match (minute, second) {
            (None, _) => 3_600_000_000_000,
            (Some(_), None) => 60_000_000_000,
            (Some(_), Some(_)) => 1_000_000_000,
        };
        // Digits past the 18th cannot change a nanosecond result.
        let significant = fraction.get(..fraction.len().min(18))?;
        let numerator: u128 = significant.parse().ok()?;
        let nanos = numerator * unit_nanos / 10u128.pow(u32::try_from(significant.len()).ok()?);
        instant = instant.checked_add_signed(Duration::nanoseconds(i64::try_from(nanos).ok()?))?;
    }
    let offset_seconds = parse_zone(zone)?;
    let utc = instant.checked_sub_signed(Duration::seconds(offset_seconds))?;
    Some(utc.and_utc())
}

fn number(digits: &str, range: std::ops::Range<usize>) -> Option<u32> {
    digits.get(range)?.parse().ok()
}

/// Splits `.123Z` into the fraction digits and the zone.
fn split_fraction(rest: &str) -> Option<(Option<&str>, &str)> {
    let Some(after_dot) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(',')) else {
        return Some((None, rest));
    };
    let end = after_dot.find(|c: char| !c.is_ascii_digit()).unwrap_or(after_dot.len());
    if end == 0 {
        return None;
    }
    Some((Some(after_dot.get(..end)?), after_dot.get(end..)?))
}

/// Returns the zone's offset east of UTC in seconds.
fn parse_zone(zone: &str) -> Option<i64> {
    if zone == "Z" {
        return Some(0);
    }
    let (sign, digits) = match zone.split_at_checked(1)? {
        ("+", digits) => (1, digits),
        ("-", digits) => (-1, digits),
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        2 => (number(digits, 0..2)?, 0),
        4 => (number(digits, 0..2)?, number(digits, 2..4)?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * i64::from(hours * 3600 + minutes * 60))
}
