//! Leavers from HR events: each event applied once, later terminations and corrections
//! moving the clock, rehires cancelling it, roster differences as events, and the
//! linked accounts that close a leaver with its time to deprovision.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use chrono::{DateTime, TimeDelta, Utc};
use rollcall_core::TenantId;
use rollcall_core::model::{HrSnapshot, Worker, WorkerStatus};
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use rollcall_store::{
    ApplyOptions, LeaverChange, LeaverObservation, LeaverState, ObservedAccount,
    RecordedObservations, Store,
};
use support::TestDb;
use support::fixtures::{add_tenant, at, meta};
use uuid::Uuid;

const ACTOR: &str = "test";

fn sla() -> TimeDelta {
    TimeDelta::hours(24)
}

fn event(
    tenant: &TenantId,
    event_type: HrEventType,
    employee_id: &str,
    effective_at: DateTime<Utc>,
) -> HrEvent {
    HrEvent {
        event_id: Uuid::new_v4(),
        tenant: tenant.clone(),
        event_type,
        employee_id: employee_id.to_owned(),
        effective_at,
        time_zone: chrono_tz::America::Chicago,
        reason: None,
        manager_employee_id: None,
        received_at: at("2026-12-01T12:00:00Z"),
        sender: HrEventSender::Webhook,
        worker: None,
        corrected_event_id: None,
    }
}

/// Stores `event` and applies every unapplied event, returning the changes in order.
async fn record_and_apply(store: &Store, tenant: &TenantId, event: &HrEvent) -> Vec<LeaverChange> {
    let scope = store.tenant(tenant);
    scope.record_hr_event(event).await.unwrap();
    let mut changes = Vec::new();
    for pending in scope.unapplied_hr_events().await.unwrap() {
        let now = at("2026-12-01T12:00:00Z");
        changes.push(scope.apply_hr_event_to_leavers(&pending, sla(), ACTOR, now).await.unwrap());
    }
    changes
}

#[tokio::test]
async fn termination_applied_once() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let effective = at("2026-11-30T17:00:00Z");
    let termination = event(&tenant, HrEventType::Termination, "E1", effective);

    assert_eq!(record_and_apply(&store, &tenant, &termination).await, [LeaverChange::Opened]);
    let now = at("2026-12-01T12:00:00Z");
    let again = scope.apply_hr_event_to_leavers(&termination, sla(), ACTOR, now).await.unwrap();
    assert_eq!(again, LeaverChange::AlreadyApplied);
    assert!(scope.unapplied_hr_events().await.unwrap().is_empty());
    assert_eq!(scope.unapplied_hr_event_count().await.unwrap(), 0);

    let leavers = scope.leavers(None).await.unwrap();
    assert_eq!(leavers.len(), 1);
    assert_eq!(leavers[0].leaver_id, termination.event_id);
    assert_eq!(leavers[0].state, LeaverState::Open);
    assert_eq!(leavers[0].deadline, effective + sla());

    // The same termination under another id (a roster difference) changes nothing.
    let copy = event(&tenant, HrEventType::Termination, "E1", effective);
    assert_eq!(record_and_apply(&store, &tenant, &copy).await, [LeaverChange::Ignored]);
    assert_eq!(scope.leavers(None).await.unwrap().len(), 1);
}

#[tokio::test]
async fn later_termination_and_correction_move_clock() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let first = event(&tenant, HrEventType::Termination, "E1", at("2026-11-30T17:00:00Z"));
    record_and_apply(&store, &tenant, &first).await;

    let later_at = at("2026-12-03T17:00:00Z");
    let later = event(&tenant, HrEventType::Termination, "E1", later_at);
    assert_eq!(record_and_apply(&store, &tenant, &later).await, [LeaverChange::Updated]);
    let leaver = scope.leavers(Some(LeaverState::Open)).await.unwrap().remove(0);
    assert_eq!(leaver.leaver_id, first.event_id);
    assert_eq!(leaver.termination_event_id, later.event_id);
    assert_eq!(leaver.deadline, later_at + sla());

    // A correction of that termination with a new date moves the clock again.
    let corrected_at = at("2026-12-02T17:00:00Z");
    let mut worker = Worker::new("E1");
    worker.status = WorkerStatus::Terminated;
    worker.terminated_at = Some(corrected_at);
    let mut correction = event(&tenant, HrEventType::Correction, "E1", corrected_at);
    correction.corrected_event_id = Some(later.event_id);
    correction.worker = Some(worker);
    assert_eq!(record_and_apply(&store, &tenant, &correction).await, [LeaverChange::Updated]);
    let leaver = scope.leavers(Some(LeaverState::Open)).await.unwrap().remove(0);
    assert_eq!(leaver.effective_at, corrected_at);

    // A correction whose worker record no longer ends employment cancels it.
    let mut withdrawn = event(&tenant, HrEventType::Correction, "E1", corrected_at);
    withdrawn.corrected_event_id = Some(correction.event_id);
    withdrawn.worker = Some(Worker::new("E1"));
    assert_eq!(record_and_apply(&store, &tenant, &withdrawn).await, [LeaverChange::Cancelled]);
    let leaver = scope.leavers(None).await.unwrap().remove(0);
    assert_eq!(leaver.state, LeaverState::Cancelled);
    assert_eq!(leaver.ended_by_event_id, Some(withdrawn.event_id));
}

#[tokio::test]
async fn rehire_cancels_open_leaver() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let termination = event(&tenant, HrEventType::Termination, "E1", at("2026-11-30T17:00:00Z"));
    record_and_apply(&store, &tenant, &termination).await;
    let rehire = event(&tenant, HrEventType::Rehire, "E1", at("2026-12-01T15:00:00Z"));
    assert_eq!(record_and_apply(&store, &tenant, &rehire).await, [LeaverChange::Cancelled]);
    assert!(scope.leavers(Some(LeaverState::Open)).await.unwrap().is_empty());

    // A new termination after the rehire opens a new leaver.
    let again = event(&tenant, HrEventType::Termination, "E1", at("2026-12-10T17:00:00Z"));
    assert_eq!(record_and_apply(&store, &tenant, &again).await, [LeaverChange::Opened]);
    assert_eq!(scope.leavers(None).await.unwrap().len(), 2);

    let entries = scope.audit_entries(0, 100).await.unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["leaver.opened", "leaver.cancelled", "leaver.opened"]);
}

#[tokio::test]
async fn accounts_close_leaver_per_source() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let effective = at("2026-11-30T17:00:00Z");
    let termination = event(&tenant, HrEventType::Termination, "E1", effective);
    record_and_apply(&store, &tenant, &termination).await;
    let account = |source: &str, id: &str, can_sign_in: bool| ObservedAccount {
        source: source.to_owned(),
        account_id: id.to_owned(),
        can_sign_in,
    };
    let observe = |accounts: Vec<ObservedAccount>| {
        vec![LeaverObservation { leaver_id: termination.event_id, accounts, may_close: true }]
    };

    // Both enabled; then Entra disabled; then the LDAP account is gone from its source.
    let first = at("2026-12-01T12:00:00Z");
    let both = observe(vec![account("entra", "u1", true), account("ldap", "cn=u1", true)]);
    assert_eq!(scope.record_leaver_observations(first, &both, ACTOR).await.unwrap(), nothing());
    let second = at("2026-12-01T20:00:00Z");
    let entra_off = observe(vec![account("entra", "u1", false), account("ldap", "cn=u1", true)]);
    assert_eq!(
        scope.record_leaver_observations(second, &entra_off, ACTOR).await.unwrap(),
        nothing()
    );
    let third = at("2026-12-02T05:00:00Z");
    let ldap_gone = observe(vec![account("entra", "u1", false)]);
    let closed = scope.record_leaver_observations(third, &ldap_gone, ACTOR).await.unwrap().closed;
    assert_eq!(closed.len(), 1);
    let expected = (third - effective).num_seconds();
    assert_eq!(closed[0].time_to_deprovision_seconds, expected);

    let accounts = scope.leaver_accounts().await.unwrap();
    assert_eq!(accounts.len(), 2);
    let entra = accounts.iter().find(|a| a.source == "entra").unwrap();
    assert_eq!(entra.first_seen_enabled_at, Some(first));
    assert_eq!(entra.disabled_at, Some(second));
    assert_eq!(entra.disabled_how.as_deref(), Some("disabled"));
    let ldap = accounts.iter().find(|a| a.source == "ldap").unwrap();
    assert_eq!(ldap.disabled_at, Some(third));
    assert_eq!(ldap.disabled_how.as_deref(), Some("gone"));

    let sla_report = scope.leaver_sla().await.unwrap();
    assert_eq!(sla_report.len(), 1);
    assert_eq!(sla_report[0].leaver.state, LeaverState::Closed);
    assert_eq!(sla_report[0].leaver.time_to_deprovision_seconds, Some(expected));
    let seconds: Vec<(String, Option<i64>)> = sla_report[0]
        .sources
        .iter()
        .map(|s| (s.source.clone(), s.time_to_deprovision_seconds))
        .collect();
    assert_eq!(
        seconds,
        [
            ("entra".to_owned(), Some((second - effective).num_seconds())),
            ("ldap".to_owned(), Some(expected)),
        ]
    );
}

fn nothing() -> RecordedObservations {
    RecordedObservations::default()
}

fn observed(source: &str, id: &str, can_sign_in: bool) -> ObservedAccount {
    ObservedAccount { source: source.to_owned(), account_id: id.to_owned(), can_sign_in }
}

#[tokio::test]
async fn account_found_after_close_reopens_leaver() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let effective = at("2026-11-30T17:00:00Z");
    let termination = event(&tenant, HrEventType::Termination, "E1", effective);
    record_and_apply(&store, &tenant, &termination).await;
    let observe = |accounts: Vec<ObservedAccount>| {
        vec![LeaverObservation { leaver_id: termination.event_id, accounts, may_close: true }]
    };

    // Only the Entra directory is synced, and its account is disabled: the leaver closes.
    let first = at("2026-12-01T12:00:00Z");
    let entra_off = observe(vec![observed("entra", "u1", false)]);
    let recorded = scope.record_leaver_observations(first, &entra_off, ACTOR).await.unwrap();
    assert_eq!(recorded.closed.len(), 1);

    // Seeing the same again changes nothing.
    let second = at("2026-12-01T13:00:00Z");
    assert_eq!(
        scope.record_leaver_observations(second, &entra_off, ACTOR).await.unwrap(),
        nothing()
    );

    // The directory's first sync links an enabled account, so the leaver opens again
    // and tracks it. The Entra account keeps the instant it was first seen disabled.
    let third = at("2026-12-01T14:00:00Z");
    let with_ldap = observe(vec![observed("entra", "u1", false), observed("ldap", "cn=u1", true)]);
    let recorded = scope.record_leaver_observations(third, &with_ldap, ACTOR).await.unwrap();
    assert!(recorded.closed.is_empty(), "{recorded:?}");
    assert_eq!(recorded.reopened.len(), 1);
    assert_eq!(recorded.reopened[0].accounts, ["ldap/cn=u1"]);
    let leaver = scope.leavers(None).await.unwrap().remove(0);
    assert_eq!(leaver.state, LeaverState::Open);
    assert_eq!(leaver.closed_at, None);
    assert_eq!(leaver.time_to_deprovision_seconds, None);
    let accounts = scope.leaver_accounts().await.unwrap();
    let ldap = accounts.iter().find(|a| a.source == "ldap").unwrap();
    assert_eq!((ldap.first_seen_enabled_at, ldap.disabled_at), (Some(third), None));
    let entra = accounts.iter().find(|a| a.source == "entra").unwrap();
    assert_eq!(entra.disabled_at, Some(first));
    let reopened: Vec<_> = scope
        .audit_entries(0, 1_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|entry| entry.action == "leaver.reopened")
        .collect();
    assert_eq!(reopened.len(), 1);
    let detail: serde_json::Value = serde_json::from_str(&reopened[0].detail).unwrap();
    assert_eq!(detail["accounts"][0], "ldap/cn=u1");

    // Once the directory account is disabled, the leaver closes again, timed to it.
    let fourth = at("2026-12-01T18:00:00Z");
    let both_off = observe(vec![observed("entra", "u1", false), observed("ldap", "cn=u1", false)]);
    let recorded = scope.record_leaver_observations(fourth, &both_off, ACTOR).await.unwrap();
    assert_eq!(recorded.closed.len(), 1);
    assert_eq!(recorded.closed[0].time_to_deprovision_seconds, (fourth - effective).num_seconds());

    // An account enabled again after the close opens the leaver again too.
    let fifth = at("2026-12-02T09:00:00Z");
    let entra_on = observe(vec![observed("entra", "u1", true), observed("ldap", "cn=u1", false)]);
    let recorded = scope.record_leaver_observations(fifth, &entra_on, ACTOR).await.unwrap();
    assert_eq!(recorded.reopened.len(), 1);
    assert_eq!(recorded.reopened[0].accounts, ["entra/u1"]);
    assert_eq!(scope.leavers(Some(LeaverState::Open)).await.unwrap().len(), 1);
}

/// A termination date corrected after every account was disabled moves the closed
/// leaver and its time to deprovision. A termination after the close opens a new one.
#[tokio::test]
async fn corrected_date_moves_closed_leaver() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let effective = at("2026-11-30T17:00:00Z");
    let termination = event(&tenant, HrEventType::Termination, "E1", effective);
    record_and_apply(&store, &tenant, &termination).await;
    let disabled = at("2026-12-01T12:00:00Z");
    let entra_off = vec![LeaverObservation {
        leaver_id: termination.event_id,
        accounts: vec![observed("entra", "u1", false)],
        may_close: true,
    }];
    let recorded = scope.record_leaver_observations(disabled, &entra_off, ACTOR).await.unwrap();
    assert_eq!(recorded.closed.len(), 1);

    // HR corrects the last day to one day earlier, as a vendor sends it: a new
    // termination event for the same worker with another instant.
    let earlier = at("2026-11-29T17:00:00Z");
    let correction = event(&tenant, HrEventType::Termination, "E1", earlier);
    assert_eq!(record_and_apply(&store, &tenant, &correction).await, [LeaverChange::Updated]);
    let leavers = scope.leavers(None).await.unwrap();
    assert_eq!(leavers.len(), 1, "{leavers:?}");
    assert_eq!(leavers[0].leaver_id, termination.event_id);
    assert_eq!(leavers[0].state, LeaverState::Closed);
    assert_eq!(leavers[0].effective_at, earlier);
    assert_eq!(leavers[0].deadline, earlier + sla());
    assert_eq!(leavers[0].termination_event_id, correction.event_id);
    assert_eq!(leavers[0].time_to_deprovision_seconds, Some((disabled - earlier).num_seconds()));
    let updated = scope.audit_entries(0, 1_000).await.unwrap();
    let updated: Vec<_> = updated.iter().filter(|e| e.action == "leaver.updated").collect();
    assert_eq!(updated.len(), 1);
    let detail: serde_json::Value = serde_json::from_str(&updated[0].detail).unwrap();
    assert_eq!(
        detail["previous_time_to_deprovision_seconds"],
        (disabled - effective).num_seconds()
    );

    // A correction event that names the termination moves the closed leaver as well.
    let fixed = at("2026-11-30T05:00:00Z");
    let mut named = event(&tenant, HrEventType::Correction, "E1", fixed);
    named.corrected_event_id = Some(correction.event_id);
    let mut worker = rollcall_core::model::Worker::new("E1");
    worker.terminated_at = Some(fixed);
    named.worker = Some(worker);
    assert_eq!(record_and_apply(&store, &tenant, &named).await, [LeaverChange::Updated]);
    let leaver = scope.leavers(None).await.unwrap().remove(0);
    assert_eq!((leaver.state, leaver.effective_at), (LeaverState::Closed, fixed));
    assert_eq!(leaver.time_to_deprovision_seconds, Some((disabled - fixed).num_seconds()));

    // A termination after the close is a later one: it opens a second leaver.
    let later = at("2027-03-01T17:00:00Z");
    let next = event(&tenant, HrEventType::Termination, "E1", later);
    assert_eq!(record_and_apply(&store, &tenant, &next).await, [LeaverChange::Opened]);
    assert_eq!(scope.leavers(Some(LeaverState::Open)).await.unwrap().len(), 1);
    assert_eq!(scope.leavers(None).await.unwrap().len(), 2);
}

#[tokio::test]
async fn deadlines_marked_once() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let effective = at("2026-11-30T17:00:00Z");
    let termination = event(&tenant, HrEventType::Termination, "E1", effective);
    record_and_apply(&store, &tenant, &termination).await;

    let before = effective + sla() - TimeDelta::minutes(1);
    assert_eq!(scope.due_leaver_count(before).await.unwrap(), 0);
    assert!(scope.mark_deadlines_acted(before, ACTOR).await.unwrap().is_empty());
    let after = effective + sla() + TimeDelta::minutes(1);
    assert_eq!(scope.due_leaver_count(after).await.unwrap(), 1);
    assert_eq!(scope.mark_deadlines_acted(after, ACTOR).await.unwrap().len(), 1);
    assert_eq!(scope.due_leaver_count(after).await.unwrap(), 0);
    assert!(scope.mark_deadlines_acted(after, ACTOR).await.unwrap().is_empty());

    // A shorter SLA moves the deadline and makes it due again.
    assert_eq!(scope.align_leaver_deadlines(TimeDelta::hours(1)).await.unwrap(), 1);
    let leaver = scope.leavers(None).await.unwrap().remove(0);
    assert_eq!(leaver.deadline, effective + TimeDelta::hours(1));
    assert_eq!(leaver.deadline_acted_at, None);
}

#[tokio::test]
async fn roster_apply_derives_events() {
    let db = TestDb::create().await;
    let store = db.store().await;
    let tenant = add_tenant(&store, "oakridge").await;
    let scope = store.tenant(&tenant);
    let options = ApplyOptions::default();
    let roster = |workers: Vec<Worker>| HrSnapshot { collected_at: None, workers };
    let mut leaver = Worker::new("E2");
    leaver.status = WorkerStatus::Terminated;
    leaver.terminated_at = Some(at("2026-11-30T06:00:00Z"));

    let first = roster(vec![Worker::new("E1"), leaver.clone()]);
    let meta_first = meta(1, "2026-12-01T00:00:00Z", 1);
    let (_, derived) =
        scope.apply_hr_roster_deriving_events(&first, &meta_first, &options).await.unwrap();
    assert_eq!(derived, 1);

    // The same roster again is a duplicate and derives nothing.
    let (_, derived) =
        scope.apply_hr_roster_deriving_events(&first, &meta_first, &options).await.unwrap();
    assert_eq!(derived, 0);

    let mut gone = Worker::new("E1");
    gone.status = WorkerStatus::Terminated;
    gone.terminated_at = Some(at("2026-12-01T06:00:00Z"));
    let second = roster(vec![gone, leaver, Worker::new("E3")]);
    let meta_second = meta(2, "2026-12-02T00:00:00Z", 2);
    let (_, derived) =
        scope.apply_hr_roster_deriving_events(&second, &meta_second, &options).await.unwrap();
    assert_eq!(derived, 2);

    let events = scope.unapplied_hr_events().await.unwrap();
    assert_eq!(scope.unapplied_hr_event_count().await.unwrap(), 3);
    let kinds: Vec<(HrEventType, &str, HrEventSender)> =
        events.iter().map(|e| (e.event_type, e.employee_id.as_str(), e.sender)).collect();
    assert_eq!(kinds.len(), 3);
    assert!(kinds.contains(&(HrEventType::Termination, "E2", HrEventSender::RosterFile)));
    assert!(kinds.contains(&(HrEventType::Termination, "E1", HrEventSender::RosterFile)));
    assert!(kinds.contains(&(HrEventType::Hire, "E3", HrEventSender::RosterFile)));
    let e1 = events.iter().find(|e| e.employee_id == "E1").unwrap();
    let expected_id = rollcall_store::roster_event_id(
        &tenant,
        "E1",
        HrEventType::Termination,
        at("2026-12-01T06:00:00Z"),
    );
    assert_eq!(e1.event_id, expected_id);
}
