//! The rules for the mail a campaign owes at an instant. They do no I/O: the pass reads
//! the campaign and its definition, and these functions decide.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rollcall_ingest::tenant_file::{Escalation, MailOffset};

/// Returns the reminder due at `now` for a campaign with `deadline`: the offset of the
/// latest reminder instant that has passed, or `None` before the first one and from the
/// deadline on. `offsets` run from the largest to the smallest. Reminders that were
/// missed (the engine was stopped, or the campaign launched after them) are not sent
/// late: only the latest one that passed is due, once.
pub fn due_reminder(
    offsets: &[MailOffset],
    deadline: DateTime<Utc>,
    zone: Tz,
    now: DateTime<Utc>,
) -> Option<MailOffset> {
    if now >= deadline {
        return None;
    }
    offsets.iter().copied().filter(|offset| offset.before(deadline, zone) <= now).min()
}

/// Returns whether the escalation of a campaign with `deadline` is due at `now`: it has
/// recipients, and its delay after the deadline has passed.
pub fn escalation_due(
    escalation: &Escalation,
    deadline: DateTime<Utc>,
    zone: Tz,
    now: DateTime<Utc>,
) -> bool {
    !escalation.to.is_empty() && escalation.after.after(deadline, zone) <= now
}

/// Returns the wait before a failed mail is tried again, after `attempts` attempts: one
/// minute, five minutes, then thirty minutes. A reminder stops being tried once the next
/// reminder is due, because only the latest due one is sent.
pub fn retry_delay(attempts: i32) -> chrono::TimeDelta {
    match attempts {
        ..=1 => chrono::TimeDelta::minutes(1),
        2 => chrono::TimeDelta::minutes(5),
        _ => chrono::TimeDelta::minutes(30),
    }
}

#[cfg(test)]
mod tests {
    use rollcall_ingest::tenant_file::EscalationTarget;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn offsets(texts: &[&str]) -> Vec<MailOffset> {
        texts.iter().map(|text| MailOffset::parse(text).unwrap()).collect()
    }

    #[test]
    fn reminder_is_latest_passed_offset() {
        let zone = chrono_tz::America::Chicago;
        // 17:00 CST on 15 December 2026.
        let deadline = at("2026-12-15T23:00:00Z");
        let list = offsets(&["3d", "1d", "2h"]);
        assert_eq!(due_reminder(&list, deadline, zone, at("2026-12-12T22:59:00Z")), None);
        assert_eq!(
            due_reminder(&list, deadline, zone, at("2026-12-12T23:00:00Z")),
            MailOffset::parse("3d")
        );
        assert_eq!(
            due_reminder(&list, deadline, zone, at("2026-12-14T23:30:00Z")),
            MailOffset::parse("1d")
        );
        assert_eq!(
            due_reminder(&list, deadline, zone, at("2026-12-15T21:00:00Z")),
            MailOffset::parse("2h")
        );
        assert_eq!(due_reminder(&list, deadline, zone, deadline), None);
        assert_eq!(due_reminder(&[], deadline, zone, at("2026-12-15T21:00:00Z")), None);
    }

    #[test]
    fn escalation_waits_for_its_delay() {
        let zone = chrono_tz::UTC;
        let deadline = at("2026-12-15T23:00:00Z");
        let escalation = Escalation {
            after: MailOffset::parse("1d").unwrap(),
            to: vec![EscalationTarget::SecondStage],
        };
        assert!(!escalation_due(&escalation, deadline, zone, at("2026-12-16T22:59:00Z")));
        assert!(escalation_due(&escalation, deadline, zone, at("2026-12-16T23:00:00Z")));
        let off = Escalation { to: Vec::new(), ..escalation };
        assert!(!escalation_due(&off, deadline, zone, at("2026-12-20T00:00:00Z")));
    }

    #[test]
    fn retries_back_off() {
        assert_eq!(retry_delay(1), chrono::TimeDelta::minutes(1));
        assert_eq!(retry_delay(2), chrono::TimeDelta::minutes(5));
        assert_eq!(retry_delay(3), chrono::TimeDelta::minutes(30));
        assert_eq!(retry_delay(40), chrono::TimeDelta::minutes(30));
    }
}
