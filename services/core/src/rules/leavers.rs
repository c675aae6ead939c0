//! Terminated workers whose accounts are still enabled.

use chrono::TimeDelta;

use crate::context::{Context, IdentityView};
use crate::finding::{Evidence, FindingKind, Severity};
use crate::model::AccountStatus;

use super::Emitter;

/// Overdue by more than this escalates from high to critical.
const CRITICAL_AFTER_DAYS: i64 = 7;

/// Reports every account of a leaver that can still sign in, or whose status the export
/// does not give (access cannot be shown gone).
pub fn check(ctx: &Context<'_>, identities: &[IdentityView<'_>], out: &mut Emitter<'_>) {
    for identity in identities.iter().filter(|i| i.has_left) {
        let Some(worker) = identity.worker else { continue };
        let deadline =
            worker.terminated_at.and_then(|t| t.checked_add_signed(ctx.tenant.deprovision_sla));
        for linked in &identity.identity.accounts {
            let Some((view, account)) = ctx.account(&linked.account) else { continue };
            if account.status == AccountStatus::Disabled {
                continue;
            }
            let source = view.source();
            let subject = ctx.account_subject(source, account);
            let hr_record = format!("hr:{}", worker.employee_id);
            let mut evidence = vec![
                Evidence::new(None, hr_record.clone(), "status", worker.status_raw.clone()),
                Evidence::new(
                    None,
                    hr_record.clone(),
                    "termination",
                    worker
                        .terminated_at
                        .map_or_else(|| "no date".to_owned(), crate::finding::timestamp),
                ),
                Evidence::new(
                    Some(source),
                    linked.account.to_string(),
                    "status",
                    account.status_text(),
                ),
            ];
            let login = account.login.clone().unwrap_or_else(|| account.id.clone());
            match deadline {
                Some(deadline) if ctx.as_of < deadline => {
                    let left = deadline.signed_duration_since(ctx.as_of);
                    evidence.push(Evidence::new(
                        None,
                        hr_record,
                        "deadline",
                        crate::finding::timestamp(deadline),
                    ));
                    out.push(
                        FindingKind::TerminatedActive,
                        Severity::Info,
                        subject,
                        "",
                        format!(
                            "{} has left, and their {source} account `{login}` is still enabled; {} remain before the deadline.",
                            identity.name,
                            human(left)
                        ),
                        evidence,
                    );
                }
                Some(deadline) => {
                    let overdue = ctx.as_of.signed_duration_since(deadline);
                    let severity = if overdue > TimeDelta::days(CRITICAL_AFTER_DAYS) {
                        Severity::Critical
                    } else {
                        Severity::High
                    };
                    evidence.push(Evidence::new(
                        None,
                        hr_record,
                        "deadline",
                        crate::finding::timestamp(deadline),
                    ));
                    out.push(
                        FindingKind::DeprovisionOverdue,
                        severity,
                        subject,
                        "",
                        format!(
                            "{} has left, but their {source} account `{login}` is still enabled, {} past the deadline.",
                            identity.name,
                            human(overdue)
                        ),
                        evidence,
                    );
                }
                None => {
                    out.push(
                        FindingKind::DeprovisionOverdue,
                        Severity::High,
                        subject,
                        "",
                        format!(
                            "{} is terminated in HR with no termination date, and their {source} account `{login}` is still enabled.",
                            identity.name
                        ),
                        evidence,
                    );
                }
            }
        }
    }
}

/// A duration in days and hours, or hours and minutes when under a day.
pub fn human(duration: TimeDelta) -> String {
    let minutes = duration.num_minutes().max(0);
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    if days > 0 { format!("{days} d {hours} h") } else { format!("{hours} h {mins} min") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human(TimeDelta::minutes(90)), "1 h 30 min");
        assert_eq!(human(TimeDelta::hours(50)), "2 d 2 h");
        assert_eq!(human(TimeDelta::minutes(-5)), "0 h 0 min");
    }
}
