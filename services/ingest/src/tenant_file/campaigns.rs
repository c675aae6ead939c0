//! `campaigns:` in `tenant.yaml`: the access-review campaigns of the tenant. The checked
//! [`Campaign`] is the type `rollcall-reviews` launches from, whichever way the
//! definition was stored.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDateTime, TimeDelta, Timelike};
use rollcall_core::model::SourceId;
use serde::{Deserialize, Serialize};

use super::campaign_mail::{
    Escalation, EscalationSpec, MailOffset, check_escalation, check_reminders,
};
use super::error::TenantFileError;
use super::load::parse_sla;

/// The source age that blocks a launch when a campaign does not set `max_source_age`.
pub const DEFAULT_MAX_SOURCE_AGE_HOURS: i64 = 72;
/// The deadline when a campaign does not set `deadline_days`.
pub const DEFAULT_DEADLINE_DAYS: u32 = 14;
/// The maximum `deadline_days`: one year.
pub const MAX_DEADLINE_DAYS: u32 = 366;

/// One entry of `campaigns:` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    /// The campaign's id, unique in the tenant: `[a-z0-9-]`, 1 to 63 characters.
    pub id: String,
    /// The name reviewers see.
    pub name: String,
    /// `quarterly` (the default), or a five-field cron expression in the tenant's zone.
    #[serde(default)]
    pub schedule: Option<String>,
    /// The grants the campaign reviews.
    #[serde(default)]
    pub scope: ScopeSpec,
    /// Who reviews.
    pub reviewers: ReviewersSpec,
    /// Days from launch to the deadline.
    #[serde(default)]
    pub deadline_days: Option<u32>,
    /// The action on undecided items at the deadline.
    #[serde(default)]
    pub at_expiry: ExpiryAction,
    /// How long ago each source may have synced for the launch to go ahead, as a duration
    /// such as `72h` or `3d`.
    #[serde(default)]
    pub max_source_age: Option<String>,
    /// Offsets before the deadline at which each reviewer with work left gets a reminder,
    /// such as `[3d, 1d]`. An empty list sends none.
    #[serde(default)]
    pub reminders: Option<Vec<String>>,
    /// Mail after the deadline about reviewers who did not finish.
    #[serde(default)]
    pub escalation: Option<EscalationSpec>,
}

/// `scope:` of a campaign: a name, or `{ source: <source id> }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeSpec {
    /// Every grant of every person.
    #[default]
    Everyone,
    /// Every grant of accounts that are privileged.
    Privileged,
    /// Every grant in one source, written `{ source: entra }`.
    Source(String),
    /// Role grants in EHR sources.
    EhrRoles,
    /// Grants that did not exist when the definition last launched, or every grant for
    /// the first campaign.
    AddedSinceLast,
}

/// The scope names, as written.
const SCOPE_NAMES: &[&str] = &["everyone", "privileged", "ehr_roles", "added_since_last"];

// serde_yaml_ng reads an externally tagged enum only from a YAML tag (`!source entra`),
// so the map form `{ source: entra }` needs its own visitor.
impl<'de> Deserialize<'de> for ScopeSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScopeVisitor)
    }
}

struct ScopeVisitor;

impl<'de> serde::de::Visitor<'de> for ScopeVisitor {
    type Value = ScopeSpec;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "one of {} or `{{ source: <source id> }}`", SCOPE_NAMES.join(", "))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<ScopeSpec, E> {
        match value.trim() {
            "everyone" => Ok(ScopeSpec::Everyone),
            "privileged" => Ok(ScopeSpec::Privileged),
            "ehr_roles" => Ok(ScopeSpec::EhrRoles),
            "added_since_last" => Ok(ScopeSpec::AddedSinceLast),
            _ => Err(E::unknown_variant(value, SCOPE_NAMES)),
        }
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ScopeSpec, A::Error> {
        let mut source: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "source" || source.is_some() {
                return Err(serde::de::Error::unknown_field(&key, &["source"]));
            }
            source = Some(map.next_value()?);
        }
        source.map(ScopeSpec::Source).ok_or_else(|| serde::de::Error::missing_field("source"))
    }
}

/// `reviewers:` of a campaign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewersSpec {
    /// The source of the reviewee's manager.
    #[serde(default)]
    pub manager: ManagerSource,
    /// The HR employee id of the reviewer for items without a manager, and for items
    /// whose manager would review their own access.
    pub fallback: String,
    /// The HR employee id of the second-stage reviewer (the security officer), who signs
    /// off after every first-stage reviewer did.
    #[serde(default)]
    pub second_stage: Option<String>,
    /// Whether an item whose entitlement has a `reviewer` in the policy's entitlement
    /// catalogue goes to that reviewer instead of the manager.
    #[serde(default)]
    pub entitlement_owner: bool,
}

/// The source of a reviewee's manager.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ManagerSource {
    /// The HR roster's manager column, else the directory's manager attribute.
    #[default]
    HrThenDirectory,
    /// Only the HR roster.
    Hr,
    /// Only the directory's manager attribute (Entra `manager`, AD `manager`).
    Directory,
}

/// The action applied to undecided items at the deadline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryAction {
    /// Leave them undecided, and the campaign overdue.
    #[default]
    None,
    /// Revoke them.
    Revoke,
    /// Approve them.
    Approve,
}

impl ExpiryAction {
    /// Returns the lowercase name stored with the campaign.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryAction::None => "none",
            ExpiryAction::Revoke => "revoke",
            ExpiryAction::Approve => "approve",
        }
    }
}

/// When a campaign is launched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// At the start of each calendar quarter in the tenant's zone.
    Quarterly,
    /// At each minute a cron expression matches, in the tenant's zone.
    Cron(CronSchedule),
}

/// A checked campaign definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// When it is launched.
    pub schedule: Schedule,
    /// The schedule as written (`quarterly` or the cron expression), stored with each launch.
    pub schedule_text: String,
    /// The grants it reviews. A `Source` scope contains a valid source id.
    pub scope: ScopeSpec,
    /// The source of managers.
    pub manager: ManagerSource,
    /// The fallback reviewer's employee id, trimmed.
    pub fallback_reviewer: String,
    /// The second-stage reviewer's employee id, trimmed.
    pub second_stage_reviewer: Option<String>,
    /// Whether items go to the `reviewer` of their entitlement's catalogue entry, where
    /// it names one.
    pub entitlement_owner: bool,
    /// Days from launch to the deadline, 1 to [`MAX_DEADLINE_DAYS`].
    pub deadline_days: u32,
    /// The action on undecided items at the deadline.
    pub at_expiry: ExpiryAction,
    /// The largest age of a source's last sync that lets a launch go ahead.
    pub max_source_age: TimeDelta,
    /// The reminder offsets before the deadline, from the largest to the smallest.
    pub reminders: Vec<MailOffset>,
    /// Whom to tell after the deadline, and when.
    pub escalation: Escalation,
}

/// Checks every entry of `campaigns:`.
pub(super) fn check(specs: &[CampaignSpec]) -> Result<Vec<Campaign>, TenantFileError> {
    let mut ids = BTreeSet::new();
    let mut campaigns = Vec::with_capacity(specs.len());
    for (index, spec) in specs.iter().enumerate() {
        let field = |key: &str| format!("campaigns[{index}].{key}");
        let error =
            |key: &str, reason: String| TenantFileError::Campaign { field: field(key), reason };

        let id = spec.id.trim();
        let id_valid = !id.is_empty()
            && id.len() <= 63
            && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_valid {
            return Err(error(
                "id",
                format!("`{id}` is not a campaign id; use 1 to 63 of a-z, 0-9 and `-`"),
            ));
        }
        if !ids.insert(id.to_owned()) {
            return Err(error(
                "id",
                format!("`{id}` is used by an earlier campaign; ids must be unique"),
            ));
        }

        let schedule_text = spec.schedule.as_deref().unwrap_or("quarterly").trim().to_owned();
        let schedule = if schedule_text == "quarterly" {
            Schedule::Quarterly
        } else {
            Schedule::Cron(CronSchedule::parse(&schedule_text).map_err(|reason| {
                error(
                    "schedule",
                    format!(
                        "`{schedule_text}` is neither `quarterly` nor a cron expression: {reason}"
                    ),
                )
            })?)
        };

        if let ScopeSpec::Source(source) = &spec.scope {
            source
                .trim()
                .parse::<SourceId>()
                .map_err(|e| error("scope.source", format!("`{source}`: {e}")))?;
        }

        let fallback_reviewer = spec.reviewers.fallback.trim().to_owned();
        if fallback_reviewer.is_empty() {
            return Err(error(
                "reviewers.fallback",
                "is empty; write the HR employee id of the reviewer for items without a manager"
                    .into(),
            ));
        }
        let second_stage_reviewer = match spec.reviewers.second_stage.as_deref().map(str::trim) {
            Some("") => {
                return Err(error(
                    "reviewers.second_stage",
                    "is empty; write the security officer's HR employee id or leave the key out"
                        .into(),
                ));
            }
            other => other.map(str::to_owned),
        };

        let deadline_days = spec.deadline_days.unwrap_or(DEFAULT_DEADLINE_DAYS);
        if !(1..=MAX_DEADLINE_DAYS).contains(&deadline_days) {
            return Err(error(
                "deadline_days",
                format!("`{deadline_days}` is out of range; write 1 to {MAX_DEADLINE_DAYS}"),
            ));
        }

        let max_source_age = match spec.max_source_age.as_deref() {
            Some(text) => parse_sla(text).ok_or_else(|| {
                error(
                    "max_source_age",
                    format!("`{text}` is not a duration; write one such as `72h` or `3d`"),
                )
            })?,
            None => TimeDelta::hours(DEFAULT_MAX_SOURCE_AGE_HOURS),
        };

        let reminders = check_reminders(index, spec.reminders.as_deref())?;
        let escalation =
            check_escalation(index, spec.escalation.as_ref(), second_stage_reviewer.is_some())?;

        campaigns.push(Campaign {
            id: id.to_owned(),
            name: spec.name.trim().to_owned(),
            schedule,
            schedule_text,
            scope: spec.scope.clone(),
            manager: spec.reviewers.manager,
            fallback_reviewer,
            second_stage_reviewer,
            entitlement_owner: spec.reviewers.entitlement_owner,
            deadline_days,
            at_expiry: spec.at_expiry,
            max_source_age,
            reminders,
            escalation,
        });
    }
    Ok(campaigns)
}

/// A five-field cron expression: minute, hour, day of month, month, day of week (0 or 7
/// is Sunday). Each field is `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a
/// comma-separated list of those. Names (`MON`, `JAN`) and `@` macros are not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    minutes: u64,
    hours: u64,
    days: u64,
    months: u64,
    weekdays: u64,
    /// Whether day of month was `*`: as in Vixie cron, a restricted day of month and a
    /// restricted day of week match when either matches.
    any_day: bool,
    /// Whether day of week was `*`.
    any_weekday: bool,
}

impl CronSchedule {
    /// Parses the expression, returning the reason it is invalid.
    pub fn parse(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(format!("it has {} fields, and a cron expression has 5", fields.len()));
        };
        let mut weekdays = cron_field(weekday, 0, 7, "day of week")?;
        // 7 is Sunday, like 0.
        if weekdays & (1 << 7) != 0 {
            weekdays = (weekdays & !(1 << 7)) | 1;
        }
        Ok(Self {
            minutes: cron_field(minute, 0, 59, "minute")?,
            hours: cron_field(hour, 0, 23, "hour")?,
            days: cron_field(day, 1, 31, "day of month")?,
            months: cron_field(month, 1, 12, "month")?,
            weekdays,
            any_day: *day == "*",
            any_weekday: *weekday == "*",
        })
    }

    /// Checks whether the expression matches the minute of `local`, a wall-clock time in the
    /// tenant's zone. Seconds are ignored.
    pub fn matches(&self, local: NaiveDateTime) -> bool {
        self.matches_day(local.date()) && self.matches_time(local.hour(), local.minute())
    }

    /// Checks whether the expression matches some minute of `date`.
    pub fn matches_day(&self, date: chrono::NaiveDate) -> bool {
        let bit = |set: u64, value: u32| set & (1u64 << value) != 0;
        if !bit(self.months, date.month()) {
            return false;
        }
        let day = bit(self.days, date.day());
        let weekday = bit(self.weekdays, date.weekday().num_days_from_sunday());
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => weekday,
            (false, true) => day,
            (false, false) => day || weekday,
        }
    }

    /// Checks whether the expression matches `hour:minute` on a matching day.
    pub fn matches_time(&self, hour: u32, minute: u32) -> bool {
        hour < 64
            && minute < 64
            && self.hours & (1u64 << hour) != 0
            && self.minutes & (1u64 << minute) != 0
    }
}

/// Parses one cron field into a bit set of the values from `min` to `max`.
fn cron_field(text: &str, min: u32, max: u32, name: &str) -> Result<u64, String> {
    let mut set = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                    format!("the {name} step `{step}` is not a whole number above 0")
                })?;
                (range, step)
            }
            None => (part, 1),
        };
        let number =
            |value: &str| -> Result<u32, String> {
                value.parse::<u32>().ok().filter(|v| (min..=max).contains(v)).ok_or_else(|| {
                    format!("the {name} `{value}` is not a number from {min} to {max}")
                })
            };
        let (low, high) = match range.split_once('-') {
            _ if range == "*" => (min, max),
            Some((low, high)) => (number(low)?, number(high)?),
            // `5/15` means from 5 to the end, every 15.
            None if step > 1 => (number(range)?, max),
            None => {
                let value = number(range)?;
                (value, value)
            }
        };
        if low > high {
            return Err(format!("the {name} range `{range}` runs backwards"));
        }
        let mut value = low;
        while value <= high {
            set |= 1u64 << value;
            value = value.saturating_add(step);
        }
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn cron_quarterly_morning() {
        let cron = CronSchedule::parse("0 8 1 1,4,7,10 *").unwrap();
        assert!(cron.matches(at("2026-10-01 08:00")));
        assert!(!cron.matches(at("2026-10-01 08:01")));
        assert!(!cron.matches(at("2026-11-01 08:00")));
    }

    #[test]
    fn cron_steps_ranges_and_sunday() {
        let cron = CronSchedule::parse("*/15 9-17 * * 7").unwrap();
        // 6 December 2026 is a Sunday.
        assert!(cron.matches(at("2026-12-06 09:45")));
        assert!(!cron.matches(at("2026-12-06 09:50")));
        assert!(!cron.matches(at("2026-12-07 09:45")));
        assert!(cron.matches_day(NaiveDate::from_ymd_opt(2026, 12, 13).unwrap()));
    }

    #[test]
    fn cron_day_or_weekday() {
        // The 1st of the month or any Monday, as Vixie cron reads it.
        let cron = CronSchedule::parse("0 0 1 * 1").unwrap();
        assert!(cron.matches(at("2026-12-01 00:00")));
        assert!(cron.matches(at("2026-12-07 00:00")));
        assert!(!cron.matches(at("2026-12-08 00:00")));
    }

    #[test]
    fn cron_invalid_forms() {
        for bad in [
            "",
            "* * * *",
            "* * * * * *",
            "60 * * * *",
            "* 24 * * *",
            "* * 0 * *",
            "* * * 13 *",
            "* * * * 8",
            "*/0 * * * *",
            "5-1 * * * *",
            "MON * * * *",
            "a-b * * * *",
        ] {
            assert!(CronSchedule::parse(bad).is_err(), "`{bad}` was accepted");
        }
    }
}
