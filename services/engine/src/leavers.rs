//! The deprovisioning clock in the engine: leavers laid over the roster the rules read,
//! and what each evaluation saw of the leavers' linked accounts.
//!
//! A leaver comes from an HR event (`rollcall_store::Leaver`). The rules only read the
//! roster, so before each evaluation the engine makes every leaver's worker terminated
//! at the leaver's effective instant. After the evaluation, identity resolution lists the
//! accounts of each leaver's worker. The store records per account when it was first seen
//! disabled or gone, and closes the leaver when all are.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rollcall_core::TenantData;
use rollcall_core::identity::Resolution;
use rollcall_core::model::{AccountStatus, HrSnapshot, Worker, WorkerStatus};
use rollcall_store::{Leaver, LeaverAccount, LeaverObservation, LeaverState, ObservedAccount};

/// The roster's word for the status of a worker that only an HR event terminated.
const EVENT_STATUS_RAW: &str = "terminated";

/// Makes each leaver's worker terminated at the leaver's effective instant in the roster
/// the rules read. A worker whose roster record already has that termination instant is
/// left as it is, so a roster and the events derived from it give the findings of the
/// roster alone. A worker missing from the roster is added from the event's worker
/// record. Only leavers in effect (open or closed, not ended) are laid over, the latest
/// per worker.
///
/// TODO: a tenant without any roster gets no overlay, because adding a roster would make
/// every account without an HR worker an orphan for the rules. Termination events for
/// such a tenant open leavers and run the clock, but give no leaver findings.
pub fn overlay(data: &mut TenantData, leavers: &[Leaver]) {
    let Some(roster) = data.hr.as_mut() else { return };
    let mut latest: BTreeMap<&str, &Leaver> = BTreeMap::new();
    for leaver in leavers.iter().filter(|l| l.is_in_effect()) {
        let entry = latest.entry(leaver.employee_id.as_str()).or_insert(leaver);
        if leaver.effective_at > entry.effective_at {
            *entry = leaver;
        }
    }
    for leaver in latest.into_values() {
        overlay_one(roster, leaver);
    }
}

fn overlay_one(roster: &mut HrSnapshot, leaver: &Leaver) {
    let status_raw = leaver
        .worker
        .as_ref()
        .filter(|worker| worker.status == WorkerStatus::Terminated)
        .map_or_else(|| EVENT_STATUS_RAW.to_owned(), |worker| worker.status_raw.clone());
    match roster.workers.iter_mut().find(|w| w.employee_id == leaver.employee_id) {
        Some(worker) if worker.terminated_at == Some(leaver.effective_at) => {}
        Some(worker) => {
            worker.terminated_at = Some(leaver.effective_at);
            worker.status = WorkerStatus::Terminated;
            worker.status_raw = status_raw;
        }
        None => {
            let mut worker =
                leaver.worker.clone().unwrap_or_else(|| Worker::new(leaver.employee_id.clone()));
            worker.employee_id = leaver.employee_id.clone();
            worker.terminated_at = Some(leaver.effective_at);
            worker.status = WorkerStatus::Terminated;
            worker.status_raw = status_raw;
            roster.workers.push(worker);
        }
    }
}

/// Returns what the evaluation at `as_of` saw of the leavers' accounts: every account
/// identity resolution links to the leaver's worker, and whether it can still sign in.
///
/// Every open leaver is observed. A closed leaver that is still in effect and the latest
/// of its worker is observed only when one of its worker's accounts can sign in and is
/// not in `stored` as enabled, so that the store opens it again. That covers the account
/// of a source first synced after the close, and an account enabled again.
///
/// A leaver may close only once its termination is in effect, its worker was resolved
/// and at least one source snapshot is stored, so a roster applied before any directory
/// does not close every leaver at once.
pub fn observations(
    leavers: &[Leaver],
    stored: &[LeaverAccount],
    data: &TenantData,
    resolution: &Resolution,
    as_of: DateTime<Utc>,
) -> Vec<LeaverObservation> {
    let workers = data.hr.as_ref().map_or(&[][..], |roster| roster.workers.as_slice());
    let mut identities = BTreeMap::new();
    for identity in &resolution.identities {
        if let Some(worker) = identity.worker.and_then(|index| workers.get(index)) {
            identities.entry(worker.employee_id.as_str()).or_insert(identity);
        }
    }
    let mut latest_in_effect: BTreeMap<&str, &Leaver> = BTreeMap::new();
    for leaver in leavers.iter().filter(|l| l.is_in_effect()) {
        let entry = latest_in_effect.entry(leaver.employee_id.as_str()).or_insert(leaver);
        if leaver.effective_at > entry.effective_at {
            *entry = leaver;
        }
    }
    leavers
        .iter()
        .filter(|leaver| match leaver.state {
            LeaverState::Open => true,
            LeaverState::Closed => latest_in_effect
                .get(leaver.employee_id.as_str())
                .is_some_and(|latest| latest.leaver_id == leaver.leaver_id),
            LeaverState::Cancelled => false,
        })
        .filter_map(|leaver| {
            let identity = identities.get(leaver.employee_id.as_str());
            let accounts: Vec<ObservedAccount> = identity
                .map(|identity| {
                    identity
                        .accounts
                        .iter()
                        .filter_map(|linked| {
                            let snapshot =
                                data.sources.iter().find(|s| s.source == linked.account.source)?;
                            let account =
                                snapshot.accounts.iter().find(|a| a.id == linked.account.id)?;
                            Some(ObservedAccount {
                                source: linked.account.source.to_string(),
                                account_id: linked.account.id.clone(),
                                can_sign_in: account.status != AccountStatus::Disabled,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            if leaver.state == LeaverState::Closed
                && !accounts.iter().any(|account| enabled_since_close(leaver, stored, account))
            {
                return None;
            }
            Some(LeaverObservation {
                leaver_id: leaver.leaver_id,
                accounts,
                may_close: as_of >= leaver.effective_at
                    && identity.is_some()
                    && !data.sources.is_empty(),
            })
        })
        .collect()
}

/// Returns whether `account` can sign in and the closed `leaver` does not hold it in
/// `stored` as enabled.
fn enabled_since_close(
    leaver: &Leaver,
    stored: &[LeaverAccount],
    account: &ObservedAccount,
) -> bool {
    account.can_sign_in
        && !stored.iter().any(|s| {
            s.leaver_id == leaver.leaver_id
                && s.source == account.source
                && s.account_id == account.account_id
                && s.disabled_at.is_none()
        })
}

/// Counts, per source, the open leavers past their deadline at `as_of` with an account
/// of that source not yet seen disabled or gone.
pub fn overdue_by_source(
    leavers: &[Leaver],
    accounts: &[LeaverAccount],
    as_of: DateTime<Utc>,
) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for leaver in leavers.iter().filter(|l| l.state == LeaverState::Open && l.deadline <= as_of) {
        let mut sources: Vec<&str> = accounts
            .iter()
            .filter(|a| a.leaver_id == leaver.leaver_id && a.disabled_at.is_none())
            .map(|a| a.source.as_str())
            .collect();
        sources.dedup();
        for source in sources {
            *counts.entry(source.to_owned()).or_insert(0) += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;
    use chrono::TimeDelta;

    fn leaver(employee_id: &str, effective_at: DateTime<Utc>) -> Leaver {
        Leaver {
            leaver_id: uuid::Uuid::from_u128(1),
            employee_id: employee_id.to_owned(),
            termination_event_id: uuid::Uuid::from_u128(1),
            effective_at,
            deadline: effective_at + TimeDelta::hours(24),
            state: LeaverState::Open,
            worker: None,
            opened_at: effective_at,
            deadline_acted_at: None,
            closed_at: None,
            time_to_deprovision_seconds: None,
            ended_by_event_id: None,
        }
    }

    #[test]
    fn overlay_terminates_active_worker() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T17:00:00Z").unwrap().to_utc();
        let mut data = TenantData {
            sources: vec![],
            hr: Some(HrSnapshot { collected_at: None, workers: vec![Worker::new("E1")] }),
        };
        overlay(&mut data, &[leaver("E1", at), leaver("E2", at)]);
        let workers = &data.hr.as_ref().unwrap().workers;
        assert_eq!(workers.len(), 2);
        assert_eq!(workers[0].terminated_at, Some(at));
        assert_eq!(workers[0].status, WorkerStatus::Terminated);
        assert_eq!(workers[1].employee_id, "E2");
        assert!(workers[1].has_left(at));
    }

    #[test]
    fn overlay_keeps_roster_termination() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T17:00:00Z").unwrap().to_utc();
        let mut worker = Worker::new("E1");
        worker.terminated_at = Some(at);
        worker.status = WorkerStatus::Terminated;
        worker.status_raw = "Separated".to_owned();
        let mut data = TenantData {
            sources: vec![],
            hr: Some(HrSnapshot { collected_at: None, workers: vec![worker.clone()] }),
        };
        overlay(&mut data, &[leaver("E1", at)]);
        assert_eq!(data.hr.unwrap().workers, vec![worker]);
    }

    /// Builds a roster with worker E1 and an LDAP snapshot whose account `cn=e1`, linked
    /// to E1, is enabled or disabled.
    fn one_ldap_account(enabled: bool) -> (TenantData, Resolution) {
        use rollcall_core::identity::{Identity, LinkMethod, LinkedAccount};
        use rollcall_core::model::{Account, AccountRef, SourceSnapshot};
        let source: rollcall_core::model::SourceId = "ldap".parse().unwrap();
        let mut account = Account::new("cn=e1");
        if !enabled {
            account.status = AccountStatus::Disabled;
        }
        let mut snapshot = SourceSnapshot::new(source.clone());
        snapshot.accounts.push(account);
        let data = TenantData {
            sources: vec![snapshot],
            hr: Some(HrSnapshot { collected_at: None, workers: vec![Worker::new("E1")] }),
        };
        let resolution = Resolution {
            identities: vec![Identity {
                key: "hr:E1".into(),
                worker: Some(0),
                accounts: vec![LinkedAccount {
                    account: AccountRef { source, id: "cn=e1".into() },
                    method: LinkMethod::EmployeeId,
                    key: "e1".into(),
                }],
            }],
            ..Resolution::default()
        };
        (data, resolution)
    }

    #[test]
    fn closed_leaver_observed_when_reenabled() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T17:00:00Z").unwrap().to_utc();
        let later = at + TimeDelta::hours(30);
        let mut closed = leaver("E1", at);
        closed.state = LeaverState::Closed;
        closed.closed_at = Some(at + TimeDelta::hours(2));
        let stored = |disabled: bool| LeaverAccount {
            leaver_id: closed.leaver_id,
            source: "ldap".into(),
            account_id: "cn=e1".into(),
            first_seen_enabled_at: Some(at),
            disabled_at: disabled.then_some(at + TimeDelta::hours(2)),
            disabled_how: disabled.then(|| "disabled".to_owned()),
        };

        // Closed with the account disabled, still disabled: nothing to record.
        let (data, resolution) = one_ldap_account(false);
        let seen = observations(&[closed.clone()], &[stored(true)], &data, &resolution, later);
        assert!(seen.is_empty(), "{seen:?}");

        // Enabled again, or linked for the first time: observed, so the store opens it.
        let (data, resolution) = one_ldap_account(true);
        let seen = observations(&[closed.clone()], &[stored(true)], &data, &resolution, later);
        assert_eq!(seen.len(), 1);
        assert!(seen[0].accounts[0].can_sign_in);
        let seen = observations(&[closed.clone()], &[], &data, &resolution, later);
        assert_eq!(seen.len(), 1);

        // An earlier closed leaver of a worker with a later one in effect is left alone.
        let mut newer = leaver("E1", at + TimeDelta::hours(5));
        newer.leaver_id = uuid::Uuid::from_u128(3);
        let seen = observations(&[closed, newer.clone()], &[], &data, &resolution, later);
        assert_eq!(seen.iter().map(|o| o.leaver_id).collect::<Vec<_>>(), [newer.leaver_id]);
    }

    #[test]
    fn overlay_skips_cancelled() {
        let at = DateTime::parse_from_rfc3339("2026-11-30T17:00:00Z").unwrap().to_utc();
        let mut cancelled = leaver("E1", at);
        cancelled.state = LeaverState::Cancelled;
        cancelled.ended_by_event_id = Some(uuid::Uuid::from_u128(2));
        let mut data = TenantData {
            sources: vec![],
            hr: Some(HrSnapshot { collected_at: None, workers: vec![Worker::new("E1")] }),
        };
        overlay(&mut data, &[cancelled]);
        assert_eq!(data.hr.unwrap().workers[0].terminated_at, None);
    }
}
