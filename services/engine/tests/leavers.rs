//! The deprovisioning clock end to end: HR termination events and roster files open
//! leavers, the rules see the worker terminated, the deadline fires after a restart,
//! and disabled accounts close the leaver with its time to deprovision per source.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rollcall_core::model::{AccountRef, AccountStatus, Worker};
use rollcall_core::{FindingKind, TenantId};
use rollcall_file_connector::connector::Settings;
use rollcall_file_connector::{ConnectorMetrics, FileConnector, FolderStatus, State};
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use rollcall_store::{ChainVerification, FindingStatus, LeaverState, Store};
use support::{
    RedisMode, RunningEngine, TestBus, TestDb, add_tenant, config, eventually, exposition,
};
use uuid::Uuid;

/// A worker of the example practice who is active in the roster and has accounts.
const WORKER: &str = "E1004";

fn event(
    tenant: &TenantId,
    event_type: HrEventType,
    effective_at: DateTime<Utc>,
    worker: Option<Worker>,
) -> HrEvent {
    HrEvent {
        event_id: Uuid::new_v4(),
        tenant: tenant.clone(),
        event_type,
        employee_id: WORKER.to_owned(),
        effective_at,
        time_zone: chrono_tz::America::Chicago,
        reason: Some("voluntary resignation".to_owned()),
        manager_employee_id: None,
        received_at: Utc::now(),
        sender: HrEventSender::Webhook,
        worker,
        corrected_event_id: None,
    }
}

/// Returns the accounts identity resolution links to [`WORKER`] in the example.
fn worker_accounts(loaded: &rollcall_ingest::layout::LoadedTenant) -> Vec<AccountRef> {
    let resolution = rollcall_core::identity::resolve(&loaded.config.tenant, &loaded.data);
    let key = format!("hr:{WORKER}");
    let identity = resolution.identities.iter().find(|i| i.key == key).unwrap();
    identity.accounts.iter().map(|linked| linked.account.clone()).collect()
}

/// Counts the accounts linked to [`WORKER`] that the leaver rule reports: those not
/// disabled in their source.
fn enabled_worker_accounts(loaded: &rollcall_ingest::layout::LoadedTenant) -> usize {
    worker_accounts(loaded)
        .iter()
        .filter(|linked| {
            loaded.data.sources.iter().any(|source| {
                source.source == linked.source
                    && source.accounts.iter().any(|account| {
                        account.id == linked.id && account.status != AccountStatus::Disabled
                    })
            })
        })
        .count()
}

/// Open findings of `kind` that name the worker's HR record in their evidence.
async fn worker_findings(store: &Store, tenant: &TenantId, kind: FindingKind) -> usize {
    let record = format!("hr:{WORKER}");
    store
        .tenant(tenant)
        .findings(FindingStatus::Open)
        .await
        .unwrap()
        .iter()
        .filter(|s| s.finding.kind == kind && s.finding.evidence.iter().any(|e| e.record == record))
        .count()
}

/// Starts the example practice on a fresh engine at `as_of` and waits for its first
/// evaluation.
async fn start_example(db: &TestDb, bus: &TestBus) -> (Store, TenantId, RunningEngine) {
    let store = db.store().await;
    let loaded = support::example();
    let tenant = add_tenant(&store, &loaded).await;
    rollcall_engine::tenant_apply::apply(&store, &support::example_dir()).await.unwrap();
    let engine = RunningEngine::start(config(db, bus, &RedisMode::Local, 5)).await;
    support::publish_example(bus, &loaded, 64 * 1024).await;
    eventually("the example evaluated", || async {
        let work = store.tenant(&tenant).work().await.unwrap()?;
        let states = store.tenant(&tenant).source_states().await.unwrap();
        (states.len() == 4 && work.evaluated_version == work.state_version).then_some(())
    })
    .await;
    (store, tenant, engine)
}

/// Waits until the engine's HR event consumer has nothing pending or unacked.
async fn hr_events_settled(bus: &TestBus) {
    let stream = bus.namespace.stream_name(rollcall_bus::StreamFamily::Hr);
    eventually("the HR event consumer settled", || async {
        let stream = bus.jetstream.get_stream(&stream).await.ok()?;
        let mut consumer = stream
            .get_consumer::<async_nats::jetstream::consumer::pull::Config>("engine-hr-events")
            .await
            .ok()?;
        let info = consumer.info().await.ok()?;
        (info.num_pending == 0 && info.num_ack_pending == 0).then_some(())
    })
    .await;
}

/// Runs `rollcall-engine leavers --tenant` with `format` and returns its standard output.
fn leavers_cli(config: &Path, tenant: &TenantId, format: &str) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rollcall-engine"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("ROLLCALL_") {
            command.env_remove(name);
        }
    }
    let output = command
        .arg("--config")
        .arg(config)
        .args(["leavers", "--tenant", tenant.as_str(), "--format", format])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// Returns the value of the series `name` whose labels include every one of `labels`
/// (`key="value"` pairs), or 0 when the engine exports no such series.
fn sample(text: &str, name: &str, labels: &[String]) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(name))
        .filter(|line| {
            let rest = &line[name.len()..];
            rest.starts_with(' ') || rest.starts_with('{')
        })
        .find(|line| labels.iter().all(|label| line.contains(label.as_str())))
        .and_then(|line| line.rsplit(' ').next())
        .map_or(0.0, |value| value.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn termination_event_runs_the_clock() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let (store, tenant, engine) = start_example(&db, &bus).await;
    let as_of = support::as_of();
    let loaded = support::example();
    let accounts = worker_accounts(&loaded);
    assert!(!accounts.is_empty(), "{WORKER} has no linked accounts in the example");
    assert_eq!(worker_findings(&store, &tenant, FindingKind::TerminatedActive).await, 0);

    // The termination, delivered twice: once as published, once under another message
    // id, so JetStream's duplicate window does not drop it.
    let effective = as_of - TimeDelta::hours(2);
    let termination = event(&tenant, HrEventType::Termination, effective, None);
    let message = rollcall_proto::hr_event_to_proto(&termination);
    bus.publisher().publish(&message).await.unwrap();
    let subject = format!("{}.{tenant}.hr.event", bus.namespace.subject_prefix());
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", Uuid::new_v4().to_string().as_str());
    let payload = prost::Message::encode_to_vec(&message);
    bus.jetstream
        .publish_with_headers(subject, headers, payload.into())
        .await
        .unwrap()
        .await
        .unwrap();

    // Before the deadline: terminated_active for each linked account that is not
    // disabled, with the 22 hours left in its summary.
    let reported = enabled_worker_accounts(&loaded);
    assert!(reported > 0, "{WORKER} has no enabled account in the example");
    let active = eventually("terminated_active for the worker", || async {
        let count = worker_findings(&store, &tenant, FindingKind::TerminatedActive).await;
        (count > 0).then_some(count)
    })
    .await;
    assert_eq!(active, reported);
    let findings = store.tenant(&tenant).findings(FindingStatus::Open).await.unwrap();
    let inside: Vec<&str> = findings
        .iter()
        .filter(|s| s.finding.kind == FindingKind::TerminatedActive)
        .filter(|s| s.finding.evidence.iter().any(|e| e.record == format!("hr:{WORKER}")))
        .map(|s| s.finding.summary.as_str())
        .collect();
    for summary in &inside {
        assert!(summary.ends_with("22 h 0 min remain before the deadline."), "{summary}");
    }
    hr_events_settled(&bus).await;
    let leavers = store.tenant(&tenant).leavers(None).await.unwrap();
    let own: Vec<_> = leavers.iter().filter(|l| l.employee_id == WORKER).collect();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_eq!(own[0].state, LeaverState::Open);
    assert_eq!(own[0].leaver_id, termination.event_id);
    assert_eq!(own[0].effective_at, effective);
    assert_eq!(own[0].deadline, effective + TimeDelta::hours(24));
    assert_eq!(own[0].deadline_acted_at, None);
    assert!(!store.tenant(&tenant).record_hr_event(&termination).await.unwrap());
    engine.stop().await;

    // The deadline passes while the engine is stopped; the due-scan at start fires it.
    let later = as_of + TimeDelta::hours(30);
    let mut later_config = config(&db, &bus, &RedisMode::Local, 5);
    later_config.engine.fixed_as_of = Some(later);
    let engine = RunningEngine::start(later_config).await;
    let overdue = eventually("deprovision_overdue after the restart", || async {
        let count = worker_findings(&store, &tenant, FindingKind::DeprovisionOverdue).await;
        (count > 0).then_some(count)
    })
    .await;
    assert_eq!(overdue, active);
    assert_eq!(worker_findings(&store, &tenant, FindingKind::TerminatedActive).await, 0);
    let acted = eventually("the deadline marked as acted on", || async {
        let leavers = store.tenant(&tenant).leavers(Some(LeaverState::Open)).await.unwrap();
        leavers.into_iter().find(|l| l.employee_id == WORKER && l.deadline_acted_at.is_some())
    })
    .await;
    assert_eq!(acted.deadline_acted_at, Some(later));

    // The overdue gauge counts the leaver in each source where it still has an enabled
    // account; other leavers of the example may be counted too.
    let overdue_sources: BTreeSet<String> = accounts.iter().map(|a| a.source.to_string()).collect();
    let gauge_labels =
        |source: &str| [format!("tenant=\"{tenant}\""), format!("source=\"{source}\"")];
    let overdue_gauge = |text: &str, source: &str| {
        sample(text, "rollcall_engine_leavers_overdue", &gauge_labels(source))
    };
    let before_close = eventually("the overdue gauge set", || async {
        let text = exposition(&engine.engine);
        overdue_sources.iter().all(|source| overdue_gauge(&text, source) >= 1.0).then_some(text)
    })
    .await;
    let histogram = "rollcall_engine_leaver_time_to_deprovision_seconds";
    let closes_before = sample(&before_close, &format!("{histogram}_count"), &[]);
    let seconds_before = sample(&before_close, &format!("{histogram}_sum"), &[]);

    // Each source's next snapshot has the worker's accounts disabled: the first one
    // records that source's time, the last one closes the leaver.
    let mut sources: Vec<_> = loaded
        .data
        .sources
        .iter()
        .filter(|s| accounts.iter().any(|a| a.source == s.source))
        .cloned()
        .collect();
    assert!(!sources.is_empty());
    for snapshot in &mut sources {
        snapshot.collected_at = Some(Utc::now());
        for account in &mut snapshot.accounts {
            if accounts.iter().any(|a| a.source == snapshot.source && a.id == account.id) {
                account.status = AccountStatus::Disabled;
            }
        }
    }
    let publisher = bus.publisher();
    let (first, rest) = sources.split_first().unwrap();
    publisher.publish_snapshot(first, &tenant, Uuid::new_v4()).await.unwrap();
    let first_source = first.source.to_string();
    eventually("the first source's accounts recorded disabled", || async {
        let accounts = store.tenant(&tenant).leaver_accounts().await.unwrap();
        let own: Vec<_> = accounts
            .iter()
            .filter(|a| a.leaver_id == termination.event_id && a.source == first_source)
            .collect();
        (!own.is_empty() && own.iter().all(|a| a.disabled_at == Some(later))).then_some(())
    })
    .await;
    let still = store.tenant(&tenant).leavers(None).await.unwrap();
    let own = still.iter().find(|l| l.leaver_id == termination.event_id).unwrap();
    if rest.is_empty() {
        assert_eq!(own.state, LeaverState::Closed);
    } else {
        assert_eq!(own.state, LeaverState::Open);
    }
    for snapshot in rest {
        publisher.publish_snapshot(snapshot, &tenant, Uuid::new_v4()).await.unwrap();
    }
    let closed = eventually("the leaver closed", || async {
        let leavers = store.tenant(&tenant).leavers(Some(LeaverState::Closed)).await.unwrap();
        leavers.into_iter().find(|l| l.leaver_id == termination.event_id)
    })
    .await;
    let expected = (later - effective).num_seconds();
    assert_eq!(closed.closed_at, Some(later));
    assert_eq!(closed.time_to_deprovision_seconds, Some(expected));
    eventually("deprovision_overdue resolved", || async {
        let count = worker_findings(&store, &tenant, FindingKind::DeprovisionOverdue).await;
        (count == 0).then_some(())
    })
    .await;

    // The leaver SLA per source.
    let sla = store.tenant(&tenant).leaver_sla().await.unwrap();
    let own = sla.iter().find(|s| s.leaver.leaver_id == termination.event_id).unwrap();
    let expected_sources: BTreeSet<String> =
        accounts.iter().map(|a| a.source.to_string()).collect();
    let found_sources: BTreeSet<String> = own.sources.iter().map(|s| s.source.clone()).collect();
    assert_eq!(found_sources, expected_sources);
    for source in &own.sources {
        assert_eq!(source.still_enabled, 0, "{source:?}");
        assert_eq!(source.time_to_deprovision_seconds, Some(expected), "{source:?}");
        assert_eq!(source.deprovisioned_at, Some(later), "{source:?}");
    }

    // The same SLA through `rollcall-engine leavers`, as CSV and as JSON.
    let root = tempfile::tempdir().unwrap();
    let config_file = root.path().join("engine.yaml");
    std::fs::write(
        &config_file,
        format!("nats: {{url: \"127.0.0.1:4222\"}}\npostgres: {{url: \"{}\"}}\n", db.app_url()),
    )
    .unwrap();
    let csv = leavers_cli(&config_file, &tenant, "csv");
    assert!(csv.starts_with(rollcall_engine::leaver_report::CSV_HEADER), "{csv}");
    let prefix = format!("{WORKER},{},closed,", termination.event_id);
    let lines: Vec<&str> = csv.lines().filter(|line| line.starts_with(&prefix)).collect();
    assert_eq!(lines.len(), expected_sources.len(), "{csv}");
    for line in &lines {
        assert!(line.ends_with(&format!(",{expected}")), "{line}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&leavers_cli(&config_file, &tenant, "json")).unwrap();
    let own_json = json
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["leaver_id"] == termination.event_id.to_string())
        .unwrap();
    assert_eq!(own_json["state"], "closed");
    assert_eq!(own_json["time_to_deprovision_seconds"], expected);
    assert_eq!(own_json["sources"].as_array().unwrap().len(), expected_sources.len());

    // The audit chain contains the leaver's history and is intact.
    let entries = store.tenant(&tenant).audit_entries(0, 1000).await.unwrap();
    let own_id = termination.event_id.hyphenated().to_string();
    let actions: Vec<&str> =
        entries.iter().filter(|e| e.detail.contains(&own_id)).map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["leaver.opened", "leaver.deadline_passed", "leaver.closed"]);
    let verification = store.tenant(&tenant).verify_audit_chain().await.unwrap();
    assert!(matches!(verification, ChainVerification::Intact { .. }), "{verification:?}");

    // The metrics: the close is observed once with its time to deprovision, and the
    // leaver no longer counts as overdue in any of its sources.
    let text = eventually("the close observed", || async {
        let text = exposition(&engine.engine);
        let closes = sample(&text, &format!("{histogram}_count"), &[]);
        (closes > closes_before).then_some(text)
    })
    .await;
    assert_eq!(sample(&text, &format!("{histogram}_count"), &[]), closes_before + 1.0, "{text}");
    assert_eq!(
        sample(&text, &format!("{histogram}_sum"), &[]),
        seconds_before + expected as f64,
        "{text}"
    );
    for source in &overdue_sources {
        assert_eq!(
            overdue_gauge(&text, source),
            overdue_gauge(&before_close, source) - 1.0,
            "{source}: {text}"
        );
    }
    // The open-leavers gauge counts the tenant's open leavers, one fewer after the close.
    let open_gauge = |text: &str| {
        sample(text, "rollcall_engine_leavers_open", &[format!("tenant=\"{tenant}\"")])
    };
    let still_open = store.tenant(&tenant).leavers(Some(LeaverState::Open)).await.unwrap().len();
    assert_eq!(open_gauge(&text), still_open as f64, "{text}");
    assert_eq!(open_gauge(&before_close), open_gauge(&text) + 1.0, "{before_close}");
    engine.stop().await;
    bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hr_events_row_reconciled_and_rehire_cancels() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let (store, tenant, engine) = start_example(&db, &bus).await;
    let as_of = support::as_of();

    // A row committed to hr_events whose NATS message was lost: inserted with SQL as
    // another writer of the table would, without raising the state version.
    let effective = as_of - TimeDelta::hours(2);
    let termination = event(&tenant, HrEventType::Termination, effective, None);
    let mut connection =
        <sqlx::PgConnection as sqlx::Connection>::connect(&db.app_url()).await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut connection).await.unwrap();
    sqlx::query("SELECT set_config('rollcall.tenant_id', $1, true)")
        .bind(tenant.as_str())
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO rollcall.hr_events (tenant_id, event_id, event_type, employee_id, \
           effective_at, time_zone, received_at, sender) \
         VALUES ($1, $2, 'termination', $3, $4, 'America/Chicago', now(), 'webhook')",
    )
    .bind(tenant.as_str())
    .bind(termination.event_id)
    .bind(WORKER)
    .bind(effective)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let leaver = eventually("the reconcile opened the leaver", || async {
        let leavers = store.tenant(&tenant).leavers(Some(LeaverState::Open)).await.unwrap();
        leavers.into_iter().find(|l| l.employee_id == WORKER)
    })
    .await;
    assert_eq!(leaver.leaver_id, termination.event_id);
    eventually("terminated_active for the worker", || async {
        let count = worker_findings(&store, &tenant, FindingKind::TerminatedActive).await;
        (count > 0).then_some(())
    })
    .await;

    // A rehire cancels the open leaver, and the findings go away.
    let rehire = event(&tenant, HrEventType::Rehire, as_of - TimeDelta::hours(1), None);
    bus.publisher().publish(&rollcall_proto::hr_event_to_proto(&rehire)).await.unwrap();
    let cancelled = eventually("the leaver cancelled", || async {
        let leavers = store.tenant(&tenant).leavers(Some(LeaverState::Cancelled)).await.unwrap();
        leavers.into_iter().find(|l| l.leaver_id == termination.event_id)
    })
    .await;
    assert_eq!(cancelled.ended_by_event_id, Some(rehire.event_id));
    eventually("terminated_active resolved", || async {
        let count = worker_findings(&store, &tenant, FindingKind::TerminatedActive).await;
        (count == 0).then_some(())
    })
    .await;
    let open = store.tenant(&tenant).leavers(Some(LeaverState::Open)).await.unwrap();
    assert!(open.iter().all(|l| l.employee_id != WORKER), "{open:?}");
    let entries = store.tenant(&tenant).audit_entries(0, 1000).await.unwrap();
    let own_id = termination.event_id.hyphenated().to_string();
    let actions: Vec<&str> =
        entries.iter().filter(|e| e.detail.contains(&own_id)).map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["leaver.opened", "leaver.cancelled"]);
    engine.stop().await;
    bus.delete().await;
}

/// A deadline that passes while the engine runs on the wall clock, with no sync and no
/// event after the termination, opens `deprovision_overdue` at the next due-scan. The
/// tenant uses the one-hour preset of the 2025 HIPAA Security Rule proposal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadline_passing_while_running_fires() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let loaded = support::example();
    let tenant = add_tenant(&store, &loaded).await;
    let folder = tempfile::tempdir().unwrap();
    copy_dir(&support::example_dir(), folder.path());
    let tenant_yaml = folder.path().join("tenant.yaml");
    let text = std::fs::read_to_string(&tenant_yaml).unwrap();
    assert!(text.contains("  deprovision: 24h\n"), "the example's SLA changed");
    let text = text.replace("  deprovision: 24h\n", "  deprovision: hipaa-2025-proposal\n");
    std::fs::write(&tenant_yaml, text).unwrap();
    rollcall_engine::tenant_apply::apply(&store, folder.path()).await.unwrap();
    let mut live = config(&db, &bus, &RedisMode::Local, 5);
    live.engine.fixed_as_of = None;
    let engine = RunningEngine::start(live).await;
    support::publish_example(&bus, &loaded, 64 * 1024).await;
    eventually("the example evaluated", || async {
        let work = store.tenant(&tenant).work().await.unwrap()?;
        let states = store.tenant(&tenant).source_states().await.unwrap();
        (states.len() == 4 && work.evaluated_version == work.state_version).then_some(())
    })
    .await;

    // The one-hour deadline falls 20 seconds after the termination is sent.
    let lead = TimeDelta::seconds(20);
    let effective = Utc::now() - TimeDelta::hours(1) + lead;
    let termination = event(&tenant, HrEventType::Termination, effective, None);
    bus.publisher().publish(&rollcall_proto::hr_event_to_proto(&termination)).await.unwrap();
    let active = eventually("terminated_active for the worker", || async {
        let count = worker_findings(&store, &tenant, FindingKind::TerminatedActive).await;
        (count > 0).then_some(count)
    })
    .await;
    let deadline = effective + TimeDelta::hours(1);
    assert!(
        Utc::now() < deadline,
        "the termination took more than {lead} to evaluate, so the deadline passed before \
         the due-scan could be seen firing; run the test on a less loaded machine"
    );
    let leavers = store.tenant(&tenant).leavers(None).await.unwrap();
    let leaver = leavers.iter().find(|l| l.employee_id == WORKER).unwrap();
    assert_eq!(leaver.deadline_acted_at, None);
    assert_eq!(leaver.deadline - leaver.effective_at, TimeDelta::hours(1));

    let overdue = eventually("deprovision_overdue once the deadline passed", || async {
        let count = worker_findings(&store, &tenant, FindingKind::DeprovisionOverdue).await;
        (count > 0).then_some(count)
    })
    .await;
    assert!(Utc::now() >= deadline);
    assert_eq!(overdue, active);
    assert_eq!(worker_findings(&store, &tenant, FindingKind::TerminatedActive).await, 0);
    // The engine marks the deadline acted on after it records the evaluation.
    let acted = eventually("the deadline marked acted on", || async {
        let leavers = store.tenant(&tenant).leavers(None).await.unwrap();
        leavers.iter().find(|l| l.employee_id == WORKER).unwrap().deadline_acted_at
    })
    .await;
    assert!(acted >= deadline, "acted on at {acted}, before the deadline {deadline}");
    engine.stop().await;
    bus.delete().await;
}

/// A test clock that cannot be used stops the start before any connection: both test
/// clocks set, or a clock file that is missing.
#[tokio::test]
async fn unusable_test_clock_stops_start() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clock");
    std::fs::write(&path, "2026-12-01T15:00:00Z\n").unwrap();

    let mut both = config(&db, &bus, &RedisMode::Local, 5);
    both.engine.clock_file = Some(path.clone());
    let error = rollcall_engine::service::Service::connect(both).await.err().unwrap();
    assert!(error.to_string().contains("not both"), "{error}");

    let mut missing = config(&db, &bus, &RedisMode::Local, 5);
    missing.engine.fixed_as_of = None;
    missing.engine.clock_file = Some(dir.path().join("absent"));
    let error = rollcall_engine::service::Service::connect(missing).await.err().unwrap();
    assert!(error.to_string().contains("engine.clock_file"), "{error}");
    assert!(error.to_string().contains("absent"), "{error}");

    // The file that is there starts the engine at its instant.
    let mut good = config(&db, &bus, &RedisMode::Local, 5);
    good.engine.fixed_as_of = None;
    good.engine.clock_file = Some(path);
    let service = rollcall_engine::service::Service::connect(good).await.unwrap();
    let at: chrono::DateTime<Utc> = "2026-12-01T15:00:00Z".parse().unwrap();
    assert_eq!(service.engine().clock().now(), at);
    bus.delete().await;
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Polls the file connector until it has read and published every folder.
async fn read_folder(connector: &mut FileConnector) {
    for _ in 0..50 {
        let reports = connector.poll().await;
        if reports.iter().all(|r| matches!(r.status, FolderStatus::Read { .. })) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the connector did not read the folder within 50 polls");
}

/// A copy of a tenant folder read by the real file connector into a fresh engine and
/// store. The folders and the database live as long as the value.
struct FolderRun {
    _db: TestDb,
    bus: TestBus,
    store: Store,
    tenant: TenantId,
    engine: RunningEngine,
    connector: FileConnector,
    /// The tenant's folder in the connector's drop root.
    dir: std::path::PathBuf,
    _drop_root: tempfile::TempDir,
    _state_dir: tempfile::TempDir,
}

impl FolderRun {
    /// Copies `folder` into a drop root, starts the engine and the connector, and waits
    /// until the connector has read it and every source is stored.
    async fn start(folder: &Path) -> Self {
        let db = TestDb::create().await;
        let bus = TestBus::new().await;
        let drop_root = tempfile::tempdir().unwrap();
        let state_dir = tempfile::tempdir().unwrap();
        let dir = drop_root.path().join("harborview");
        copy_dir(folder, &dir);
        let store = db.store().await;
        let loaded = rollcall_ingest::layout::load_tenant(&dir, support::as_of()).unwrap();
        let tenant = add_tenant(&store, &loaded).await;
        rollcall_engine::tenant_apply::apply(&store, &dir).await.unwrap();
        let engine = RunningEngine::start(config(&db, &bus, &RedisMode::Local, 5)).await;

        let settings = Settings {
            drop_root: drop_root.path().to_path_buf(),
            settle: Duration::ZERO,
            max_chunk_bytes: 64 * 1024,
        };
        let opened = State::open(state_dir.path()).unwrap();
        let mut connector =
            FileConnector::new(settings, bus.publisher(), opened.state, ConnectorMetrics::new());
        read_folder(&mut connector).await;
        let sources = loaded.data.sources.len() + 1;
        eventually("every source stored", || async {
            let states = store.tenant(&tenant).source_states().await.unwrap();
            (states.len() == sources).then_some(())
        })
        .await;

        Self {
            _db: db,
            bus,
            store,
            tenant,
            engine,
            connector,
            dir,
            _drop_root: drop_root,
            _state_dir: state_dir,
        }
    }
}

/// Reads `folder` with the real file connector into a fresh engine and store, sends
/// `events` on NATS, and returns the open findings and the leavers once the tenant is
/// evaluated with the worker's leaver.
async fn run_folder(
    folder: &Path,
    events: &[HrEvent],
) -> (
    std::collections::BTreeMap<String, (String, String, String)>,
    Vec<(String, DateTime<Utc>, DateTime<Utc>, LeaverState)>,
) {
    let run = FolderRun::start(folder).await;
    let (bus, store, tenant) = (&run.bus, &run.store, &run.tenant);
    for event in events {
        bus.publisher().publish(&rollcall_proto::hr_event_to_proto(event)).await.unwrap();
    }
    hr_events_settled(bus).await;
    eventually("the tenant evaluated with the worker's leaver", || async {
        let work = store.tenant(tenant).work().await.unwrap()?;
        let leavers = store.tenant(tenant).leavers(None).await.unwrap();
        let has_worker = leavers.iter().any(|l| l.employee_id == WORKER);
        (has_worker && work.evaluated_version == work.state_version).then_some(())
    })
    .await;
    // Stopping lets a running evaluation finish its leaver tracking before the reads.
    run.engine.stop().await;
    let findings = support::stored_findings(store, tenant).await;
    let leavers = store
        .tenant(tenant)
        .leavers(None)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.employee_id, l.effective_at, l.deadline, l.state))
        .collect();
    bus.delete().await;
    (findings, leavers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roster_file_matches_webhook_termination() {
    // The roster records 30 November as the worker's last day.
    let roster_dir = tempfile::tempdir().unwrap();
    copy_dir(&support::example_dir(), roster_dir.path());
    let roster_path = roster_dir.path().join("hr/roster.csv");
    let text = std::fs::read_to_string(&roster_path).unwrap();
    let line = text.lines().find(|l| l.starts_with(&format!("{WORKER},"))).unwrap().to_owned();
    assert!(line.contains(",Active,2024-09-22,,"), "{line}");
    let terminated = line.replace(",Active,2024-09-22,,", ",Terminated,2024-09-22,2026-11-30,");
    std::fs::write(&roster_path, text.replace(&line, &terminated)).unwrap();

    // The same termination as a webhook event on the unchanged roster, with the worker
    // record the roster file gives.
    let read = rollcall_ingest::layout::load_tenant(roster_dir.path(), support::as_of()).unwrap();
    let worker = read.data.hr.as_ref().unwrap().workers.iter().find(|w| w.employee_id == WORKER);
    let worker = worker.unwrap().clone();
    let effective = worker.terminated_at.unwrap();
    let tenant = read.config.tenant.id.clone();
    let webhook = event(&tenant, HrEventType::Termination, effective, Some(worker));

    let (roster_findings, roster_leavers) = run_folder(roster_dir.path(), &[]).await;
    let (webhook_findings, webhook_leavers) = run_folder(&support::example_dir(), &[webhook]).await;

    let own = |leavers: &[(String, DateTime<Utc>, DateTime<Utc>, LeaverState)]| {
        leavers.iter().filter(|l| l.0 == WORKER).cloned().collect::<Vec<_>>()
    };
    assert_eq!(own(&roster_leavers).len(), 1, "{roster_leavers:?}");
    assert_eq!(own(&roster_leavers)[0].1, effective);
    assert_eq!(own(&roster_leavers), own(&webhook_leavers));
    assert_eq!(roster_leavers, webhook_leavers);
    let terminated_active = roster_findings.values().filter(|f| f.0 == "terminated_active").count();
    assert!(terminated_active > 0, "{roster_findings:?}");
    assert_eq!(roster_findings, webhook_findings);
}

/// A roster file dropped again gives the events a webhook would have sent for its
/// difference: a hire, a change of position and a termination, each once, from the
/// roster file as sender.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roster_difference_gives_hire_change_and_termination() {
    let mut run = FolderRun::start(&support::example_dir()).await;
    let (store, tenant, dir) = (run.store.clone(), run.tenant.clone(), run.dir.clone());
    let first = store.tenant(&tenant).hr_events_since(DateTime::UNIX_EPOCH).await.unwrap();

    // The next export: E1003 moves to another clinic, WORKER leaves on 30 November and
    // a medical assistant starts on 1 December.
    let roster_path = dir.join("hr/roster.csv");
    let text = std::fs::read_to_string(&roster_path).unwrap();
    let line_of = |id: &str| text.lines().find(|l| l.starts_with(&format!("{id},"))).unwrap();
    let moved = line_of("E1003").replace(",Northgate Clinic", ",Harborview Main");
    let leaving =
        line_of(WORKER).replace(",Active,2024-09-22,,", ",Terminated,2024-09-22,2026-11-30,");
    assert_ne!(leaving, line_of(WORKER), "the worker's row changed shape");
    let next = text.replace(line_of("E1003"), &moved).replace(line_of(WORKER), &leaving)
        + "E1999,Rowan,Ashdown,rowan.ashdown@harborview.example,Active,2026-12-01,,E1002,\
           Medical Assistant,Clinical,Harborview Main\n";
    std::fs::write(&roster_path, next).unwrap();
    read_folder(&mut run.connector).await;

    let events = eventually("the roster's three events stored", || async {
        let all = store.tenant(&tenant).hr_events_since(DateTime::UNIX_EPOCH).await.unwrap();
        let new: Vec<HrEvent> =
            all.into_iter().filter(|e| !first.iter().any(|f| f.event_id == e.event_id)).collect();
        (new.len() >= 3).then_some(new)
    })
    .await;
    run.engine.stop().await;
    let mut seen: Vec<(HrEventType, String, HrEventSender)> =
        events.iter().map(|e| (e.event_type, e.employee_id.clone(), e.sender)).collect();
    seen.sort_by_key(|(kind, id, _)| (id.clone(), format!("{kind:?}")));
    assert_eq!(
        seen,
        [
            (HrEventType::Change, "E1003".to_owned(), HrEventSender::RosterFile),
            (HrEventType::Termination, WORKER.to_owned(), HrEventSender::RosterFile),
            (HrEventType::Hire, "E1999".to_owned(), HrEventSender::RosterFile),
        ]
    );
    // The termination takes the instant `rollcall scan` reads from the same roster.
    let scanned = rollcall_ingest::layout::load_tenant(&dir, support::as_of()).unwrap();
    let workers = &scanned.data.hr.as_ref().unwrap().workers;
    let end = workers.iter().find(|w| w.employee_id == WORKER).unwrap().terminated_at;
    let termination = events.iter().find(|e| e.event_type == HrEventType::Termination).unwrap();
    assert_eq!(Some(termination.effective_at), end);
    let moved = events.iter().find(|e| e.event_type == HrEventType::Change).unwrap();
    let worker = moved.worker.as_ref().unwrap();
    assert_eq!(worker.location.as_deref(), Some("Harborview Main"));
    run.bus.delete().await;
}
