//! The mail keys of a campaign definition: `reminders:` before the deadline and
//! `escalation:` after it. `rollcall-reviews` sends the mails; this module only checks
//! what the definition requests.

use std::collections::BTreeSet;

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::error::TenantFileError;

/// The reminder offsets when a campaign does not set `reminders`: three days and one day
/// before the deadline, so a reviewer hears of it twice in the last week.
pub const DEFAULT_REMINDERS: [MailOffset; 2] =
    [MailOffset { days: 3, minutes: 0 }, MailOffset { days: 1, minutes: 0 }];
/// The delay after the deadline when `escalation.after` is not set.
pub const DEFAULT_ESCALATION_AFTER: MailOffset = MailOffset { days: 1, minutes: 0 };
/// The maximum number of reminder offsets per campaign.
pub const MAX_REMINDERS: usize = 10;
/// The maximum offset, in days: a campaign's deadline is at most this far from its launch.
const MAX_OFFSET_DAYS: u32 = 366;

/// A distance from a campaign's deadline: whole calendar days in the tenant's zone, then
/// minutes. `3d` is the same wall-clock time three days earlier, also across a
/// daylight-saving change, and `12h` is twelve hours of elapsed time. Hours and minutes
/// that add up to a whole day or more count as days, so `24h` equals `1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct MailOffset {
    /// Calendar days.
    pub days: u32,
    /// Minutes after the days.
    pub minutes: u32,
}

impl MailOffset {
    /// Parses `3d`, `12h`, `90m` or a sum such as `1d12h`. Returns `None` for anything
    /// else, for zero and for more than 366 days.
    pub fn parse(text: &str) -> Option<MailOffset> {
        let mut days: u32 = 0;
        let mut minutes: u32 = 0;
        let mut number = String::new();
        let mut parts = 0;
        for c in text.trim().chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let value: u32 = number.parse().ok()?;
            number.clear();
            match c {
                'd' => days = days.checked_add(value)?,
                'h' => minutes = minutes.checked_add(value.checked_mul(60)?)?,
                'm' => minutes = minutes.checked_add(value)?,
                _ => return None,
            }
            parts += 1;
        }
        // Whole days of minutes move into days, so `24h` and `1d` are one offset.
        days = days.checked_add(minutes / 1440)?;
        minutes %= 1440;
        let valid = number.is_empty()
            && parts > 0
            && (days, minutes) != (0, 0)
            && (days < MAX_OFFSET_DAYS || (days == MAX_OFFSET_DAYS && minutes == 0));
        valid.then_some(MailOffset { days, minutes })
    }

    /// Returns the offset in minutes with a day counted as 1440, the key under which the
    /// sent mail is recorded.
    pub fn total_minutes(self) -> i64 {
        i64::from(self.days) * 1440 + i64::from(self.minutes)
    }

    /// Returns the instant this offset before `deadline`, counting days on the wall clock
    /// of `zone`. A wall-clock time that does not exist (the spring gap) moves forward by
    /// the gap's length, as the tenant's clocks do.
    pub fn before(self, deadline: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        let local = deadline.with_timezone(&zone);
        let days_back = local
            .checked_sub_days(chrono::Days::new(u64::from(self.days)))
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|| deadline - TimeDelta::days(i64::from(self.days)));
        days_back - TimeDelta::minutes(i64::from(self.minutes))
    }

    /// Returns the instant this offset after `deadline`, counting days on the wall clock
    /// of `zone`.
    pub fn after(self, deadline: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        let local = deadline.with_timezone(&zone);
        let days_on = local
            .checked_add_days(chrono::Days::new(u64::from(self.days)))
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|| deadline + TimeDelta::days(i64::from(self.days)));
        days_on + TimeDelta::minutes(i64::from(self.minutes))
    }
}

impl std::fmt::Display for MailOffset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hours = self.minutes / 60;
        let minutes = self.minutes % 60;
        if self.days > 0 {
            write!(f, "{}d", self.days)?;
        }
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if minutes > 0 {
            write!(f, "{minutes}m")?;
        }
        Ok(())
    }
}

/// `escalation:` of a campaign as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationSpec {
    /// How long after the deadline the escalation goes out, such as `1d`.
    #[serde(default)]
    pub after: Option<String>,
    /// The recipients: `second_stage`, `manager` or both. An empty list turns escalation off.
    #[serde(default)]
    pub to: Option<Vec<EscalationTarget>>,
}

/// A recipient of escalation mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationTarget {
    /// The second-stage reviewer (the security officer): one mail listing every late
    /// reviewer.
    SecondStage,
    /// Each late reviewer's manager: one mail listing their late reports.
    Manager,
}

impl EscalationTarget {
    /// Returns the name as written in `tenant.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationTarget::SecondStage => "second_stage",
            EscalationTarget::Manager => "manager",
        }
    }
}

/// A checked escalation: whom to tell, how long after the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation {
    /// The delay after the deadline.
    pub after: MailOffset,
    /// The recipients, without duplicates, in a fixed order. Empty when escalation is off.
    pub to: Vec<EscalationTarget>,
}

/// Checks `reminders:` of campaign `index`, or returns the defaults when it is not set.
/// The offsets come back sorted from the earliest reminder (the largest offset) to the
/// last.
pub(super) fn check_reminders(
    index: usize,
    texts: Option<&[String]>,
) -> Result<Vec<MailOffset>, TenantFileError> {
    let Some(texts) = texts else {
        return Ok(DEFAULT_REMINDERS.to_vec());
    };
    if texts.len() > MAX_REMINDERS {
        return Err(TenantFileError::Campaign {
            field: format!("campaigns[{index}].reminders"),
            reason: format!(
                "has {} offsets; write at most {MAX_REMINDERS}, because each one mails every reviewer",
                texts.len()
            ),
        });
    }
    let mut offsets = BTreeSet::new();
    for (position, text) in texts.iter().enumerate() {
        let field = format!("campaigns[{index}].reminders[{position}]");
        let offset = MailOffset::parse(text).ok_or_else(|| TenantFileError::Campaign {
            field: field.clone(),
            reason: format!(
                "`{text}` is not an offset before the deadline; write one such as `3d`, `12h` or `1d12h`, at most 366d"
            ),
        })?;
        if !offsets.insert(offset) {
            return Err(TenantFileError::Campaign {
                field,
                reason: format!("`{text}` repeats an earlier offset; write each offset once"),
            });
        }
    }
    Ok(offsets.into_iter().rev().collect())
}

/// Checks `escalation:` of campaign `index`. Without the key, escalation goes to the
/// second-stage reviewer one day after the deadline, or nowhere when the campaign has no
/// second stage.
pub(super) fn check_escalation(
    index: usize,
    spec: Option<&EscalationSpec>,
    has_second_stage: bool,
) -> Result<Escalation, TenantFileError> {
    let field = |key: &str| format!("campaigns[{index}].escalation.{key}");
    let after = match spec.and_then(|spec| spec.after.as_deref()) {
        Some(text) => MailOffset::parse(text).ok_or_else(|| TenantFileError::Campaign {
            field: field("after"),
            reason: format!(
                "`{text}` is not a delay after the deadline; write one such as `1d` or `12h`, at most 366d"
            ),
        })?,
        None => DEFAULT_ESCALATION_AFTER,
    };
    let to: Vec<EscalationTarget> = match spec.and_then(|spec| spec.to.as_ref()) {
        Some(targets) => {
            let unique: BTreeSet<EscalationTarget> = targets.iter().copied().collect();
            if unique.contains(&EscalationTarget::SecondStage) && !has_second_stage {
                return Err(TenantFileError::Campaign {
                    field: field("to"),
                    reason: "names `second_stage`, but the campaign has no `reviewers.second_stage`; set one or remove `second_stage` here".into(),
                });
            }
            unique.into_iter().collect()
        }
        None if has_second_stage => vec![EscalationTarget::SecondStage],
        None => Vec::new(),
    };
    Ok(Escalation { after, to })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn offset_forms() {
        assert_eq!(MailOffset::parse("3d"), Some(MailOffset { days: 3, minutes: 0 }));
        assert_eq!(MailOffset::parse("12h"), Some(MailOffset { days: 0, minutes: 720 }));
        assert_eq!(MailOffset::parse(" 1d12h "), Some(MailOffset { days: 1, minutes: 720 }));
        assert_eq!(MailOffset::parse("24h"), MailOffset::parse("1d"));
        assert_eq!(MailOffset::parse("366d"), Some(MailOffset { days: 366, minutes: 0 }));
        for bad in ["", "0d", "3", "d", "3w", "-1d", "367d", "366d1m", "99999999999d", "1d 2h"] {
            assert_eq!(MailOffset::parse(bad), None, "`{bad}` was accepted");
        }
    }

    #[test]
    fn offset_prints_as_written() {
        for text in ["3d", "12h", "1d12h", "90m", "2h30m"] {
            let offset = MailOffset::parse(text).unwrap();
            let printed = offset.to_string();
            assert_eq!(MailOffset::parse(&printed), Some(offset), "{text} printed {printed}");
        }
        assert_eq!(MailOffset::parse("90m").unwrap().to_string(), "1h30m");
    }

    #[test]
    fn days_follow_the_wall_clock() {
        // Clocks in Chicago go back on 1 November 2026, so the deadline at 17:00 CST on
        // 2 November is 23:00 UTC and 17:00 CDT two days earlier is 22:00 UTC.
        let zone = chrono_tz::America::Chicago;
        let deadline = at("2026-11-02T23:00:00Z");
        let two_days = MailOffset::parse("2d").unwrap();
        assert_eq!(two_days.before(deadline, zone), at("2026-10-31T22:00:00Z"));
        let forty_eight_hours = MailOffset { days: 0, minutes: 48 * 60 - 1 };
        assert_eq!(forty_eight_hours.before(deadline, zone), at("2026-10-31T23:01:00Z"));
        assert_eq!(two_days.after(at("2026-10-31T22:00:00Z"), zone), deadline);
    }
}
