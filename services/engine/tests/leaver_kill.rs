//! Terminations posted to the HR webhook while the webhook and the engine are killed with
//! SIGKILL at random points. The sender retries every delivery that got no 2xx with the
//! same `webhook-id`, as real senders do. After the last restart every termination is
//! stored once, has exactly one leaver, and each terminated worker with an enabled
//! account has an open `deprovision_overdue` finding, because the deadline passed before
//! the engine's clock.
//!
//! The default run is small: 4 tenants, 25 terminations each. The acceptance size,
//! 10,000 terminations across 50 tenants, is
//! `ROLLCALL_TEST_LEAVER_TENANTS=50 ROLLCALL_TEST_LEAVER_TERMINATIONS=200 ROLLCALL_TEST_LEAVER_PACE_MS=0 cargo test -p rollcall-engine --test leaver_kill -- --nocapture`
//! after `cargo build -p rollcall-hr-webhook`, which `cargo test --workspace` also does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use base64::Engine as _;
use chrono::{TimeDelta, Utc};
use rollcall_core::model::{AccountStatus, WorkerStatus};
use rollcall_core::{FindingKind, TenantId};
use rollcall_store::{FindingStatus, Store};
use support::process::{
    Random, ServiceProcess, bin_dir, engine_config_file, env_number, tenant_dir,
};
use support::{TestBus, TestDb, as_of, closed_port, example};

/// The made-up signing key every test tenant shares.
const KEY: &[u8] = b"made-up leaver kill test key, 32";

/// How long the engine may take to settle after the last restart, per 1,000 terminations.
const SETTLE_PER_THOUSAND: Duration = Duration::from_secs(60);

/// Writes the HR webhook's configuration: every tenant with [`KEY`], and a rate limit
/// the sender does not reach.
fn webhook_config(
    root: &Path,
    db: &TestDb,
    bus: &TestBus,
    tenants: &[String],
    http: u16,
) -> PathBuf {
    let key = format!("whsec_{}\n", base64::engine::general_purpose::STANDARD.encode(KEY));
    std::fs::write(root.join("webhook-key"), key).unwrap();
    std::fs::write(root.join("postgres-url"), format!("{}\n", db.app_url())).unwrap();
    let mut yaml = format!(
        "telemetry: {{level: warn}}\n\
         http: {{listen: \"127.0.0.1:{http}\", publish_timeout_seconds: 1}}\n\
         ops: {{listen: \"127.0.0.1:0\"}}\n\
         shutdown: {{grace_period_seconds: 5}}\n\
         nats: {{url: \"{}\", subject_prefix: {}, stream_prefix: {}}}\n\
         postgres: {{url_file: \"{}\"}}\n\
         rate_limit: {{per_minute: 1000000, burst: 100000}}\n\
         tenants:\n",
        bus.url,
        bus.namespace.subject_prefix(),
        bus.namespace.stream_prefix(),
        root.join("postgres-url").display(),
    );
    for tenant in tenants {
        yaml.push_str(&format!(
            "  {tenant}:\n    webhook_keys:\n      - id: kill-key\n        secret_file: \"{}\"\n",
            root.join("webhook-key").display()
        ));
    }
    let path = root.join("hr-webhook.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

fn webhook_binary() -> PathBuf {
    let path = bin_dir().join("rollcall-hr-webhook");
    assert!(
        path.exists(),
        "{} is missing; build it with `cargo build -p rollcall-hr-webhook` \
         (`cargo test --workspace` builds it)",
        path.display()
    );
    path
}

/// Posts one termination until the webhook returns 2xx, and returns the attempts. A
/// refused connection or a 5xx is retried with the same webhook id, and any other
/// status fails the test.
async fn deliver(client: &reqwest::Client, http: u16, tenant: &str, employee: &str) -> usize {
    let id = format!("msg_{tenant}_{employee}");
    let effective = (as_of() - TimeDelta::hours(48)).to_rfc3339();
    let body = serde_json::json!({
        "type": "termination",
        "employee_id": employee,
        "effective_at": effective,
        "time_zone": "America/Chicago",
        "reason": "position eliminated",
    })
    .to_string();
    let url = format!("http://127.0.0.1:{http}/v1/tenants/{tenant}/hr/events");
    let mut attempts = 0;
    loop {
        attempts += 1;
        let timestamp = Utc::now().timestamp();
        let signature = rollcall_hr_webhook::signature::sign(KEY, &id, timestamp, body.as_bytes());
        let sent = client
            .post(&url)
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => return attempts,
            Ok(response) if response.status().is_server_error() => {}
            Ok(response) => {
                let status = response.status();
                panic!(
                    "{tenant}/{employee}: {status} {}",
                    response.text().await.unwrap_or_default()
                );
            }
            // The webhook is down between a kill and its restart.
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminations_survive_kills_of_webhook_and_engine() {
    let tenant_count = env_number("ROLLCALL_TEST_LEAVER_TENANTS", 4);
    let per_tenant = env_number("ROLLCALL_TEST_LEAVER_TERMINATIONS", 25);
    let pace = Duration::from_millis(env_number("ROLLCALL_TEST_LEAVER_PACE_MS", 80) as u64);
    let mut random = Random::new();
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let store = db.store().await;
    let root_dir = tempfile::tempdir().unwrap().keep();
    eprintln!("logs: {}", root_dir.display());
    let root = root_dir.as_path();
    let loaded = example();
    let roster = loaded.data.hr.clone().unwrap();

    // Active workers of the roster first, then made-up ids without accounts in any source.
    let active: Vec<String> = roster
        .workers
        .iter()
        .filter(|w| w.status == WorkerStatus::Active)
        .map(|w| w.employee_id.clone())
        .collect();
    let employees: Vec<String> = (0..per_tenant)
        .map(|i| active.get(i).cloned().unwrap_or_else(|| format!("K{i:05}")))
        .collect();
    // The accounts of each worker of `employees` that the leaver rule reports: every
    // linked account that is not disabled.
    let resolution = rollcall_core::identity::resolve(&loaded.config.tenant, &loaded.data);
    let mut reported: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for identity in &resolution.identities {
        let Some(employee) = identity.key.strip_prefix("hr:") else { continue };
        if !employees.iter().any(|e| e == employee) {
            continue;
        }
        for linked in &identity.accounts {
            let open = loaded.data.sources.iter().any(|source| {
                source.source == linked.account.source
                    && source
                        .accounts
                        .iter()
                        .any(|a| a.id == linked.account.id && a.status != AccountStatus::Disabled)
            });
            if open {
                reported.entry(employee.to_owned()).or_default().insert(linked.account.to_string());
            }
        }
    }
    let with_access: BTreeSet<String> = reported.keys().cloned().collect();
    assert!(!with_access.is_empty(), "the example has terminated workers with access");

    // Every tenant gets the example's configuration and snapshots.
    let tenants: Vec<String> = (0..tenant_count).map(|t| format!("leaver-kill-{t:02}")).collect();
    let engine_config = engine_config_file(root, &db, &bus);
    let engine_log = root.join("engine.log");
    let mut engine = Some(ServiceProcess::engine(&engine_config, &engine_log));
    let publisher = bus.publisher();
    for name in &tenants {
        let dir = tenant_dir(root, name);
        rollcall_engine::tenant_apply::apply(&store, &dir).await.unwrap();
        let tenant = TenantId::new(name).unwrap();
        for snapshot in &loaded.data.sources {
            let chunks = rollcall_proto::split(snapshot, &tenant, uuid::Uuid::new_v4(), 65536);
            publisher.publish_chunks(&chunks.unwrap()).await.unwrap();
        }
        let chunks = rollcall_proto::split_roster(&roster, &tenant, uuid::Uuid::new_v4(), 65536);
        publisher.publish_chunks(&chunks.unwrap()).await.unwrap();
    }
    // The sources are stored before the terminations, so the first evaluation of a leaver
    // reads its accounts.
    wait_for(&store, &tenants, "every source stored", Duration::from_secs(120), |state| {
        state.sources == loaded.data.sources.len() + 1
    })
    .await;

    let http = closed_port();
    let webhook_config = webhook_config(root, &db, &bus, &tenants, http);
    let webhook_log = root.join("hr-webhook.log");
    let binary = webhook_binary();
    let mut webhook =
        Some(ServiceProcess::start("HR webhook", &binary, &webhook_config, &webhook_log));

    // The sender runs beside the kills.
    let done = Arc::new(AtomicBool::new(false));
    let attempts = Arc::new(AtomicUsize::new(0));
    let sender = {
        let (done, attempts, tenants, employees) =
            (done.clone(), attempts.clone(), tenants.clone(), employees.clone());
        tokio::spawn(async move {
            let client =
                reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
            for employee in &employees {
                for tenant in &tenants {
                    let tried = deliver(&client, http, tenant, employee).await;
                    attempts.fetch_add(tried, Ordering::Relaxed);
                    tokio::time::sleep(pace).await;
                }
            }
            done.store(true, Ordering::Relaxed);
        })
    };
    let mut kills = (0, 0);
    while !done.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(300 + random.below(1200))).await;
        if random.below(2) == 0 {
            engine.take().unwrap().kill();
            kills.0 += 1;
            engine = Some(ServiceProcess::engine(&engine_config, &engine_log));
        } else {
            webhook.take().unwrap().kill();
            kills.1 += 1;
            tokio::time::sleep(Duration::from_millis(random.below(500))).await;
            webhook =
                Some(ServiceProcess::start("HR webhook", &binary, &webhook_config, &webhook_log));
        }
    }
    sender.await.unwrap();
    let total = tenants.len() * employees.len();
    eprintln!(
        "{total} terminations in {} requests; {} engine and {} webhook kills",
        attempts.load(Ordering::Relaxed),
        kills.0,
        kills.1
    );
    assert!(kills.0 + kills.1 > 0, "the run ended before the first kill; raise the pace");

    let limit = SETTLE_PER_THOUSAND * u32::try_from(total / 1000 + 1).unwrap();
    let expected_leavers = employees.len();
    wait_for(&store, &tenants, "every termination applied and evaluated", limit, |state| {
        state.unapplied == 0 && state.evaluated && state.leavers_of(&employees) == expected_leavers
    })
    .await;
    engine.as_mut().unwrap().assert_running();
    webhook.as_mut().unwrap().assert_running();

    for name in &tenants {
        let scope = store.tenant(&TenantId::new(name).unwrap());
        // One stored event per termination.
        let events = scope.hr_events_since(chrono::DateTime::UNIX_EPOCH).await.unwrap();
        let mut per_employee: BTreeMap<&str, usize> = BTreeMap::new();
        for event in &events {
            *per_employee.entry(event.employee_id.as_str()).or_default() += 1;
        }
        for employee in &employees {
            assert_eq!(per_employee.get(employee.as_str()), Some(&1), "{name}/{employee}: events");
        }
        // One leaver per terminated worker.
        let leavers = scope.leavers(None).await.unwrap();
        for employee in &employees {
            let count = leavers.iter().filter(|l| &l.employee_id == employee).count();
            assert_eq!(count, 1, "{name}/{employee}: leavers");
        }
        // Past the deadline, exactly the accounts that are not disabled are overdue, one
        // finding each. Workers without such accounts have none, and nothing is still
        // inside its deadline.
        let findings = scope.findings(FindingStatus::Open).await.unwrap();
        let accounts_of = |kind: FindingKind| {
            let mut found: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            let mut count = 0;
            for stored in findings.iter().filter(|s| s.finding.kind == kind) {
                let employee = stored.finding.evidence.iter().find_map(|e| {
                    e.record.strip_prefix("hr:").filter(|id| employees.iter().any(|x| x == id))
                });
                let Some(employee) = employee else { continue };
                let account = stored.finding.subject.account.as_ref().unwrap();
                found.entry(employee.to_owned()).or_default().insert(account.account.to_string());
                count += 1;
            }
            (found, count)
        };
        let (overdue, count) = accounts_of(FindingKind::DeprovisionOverdue);
        assert_eq!(overdue, reported, "{name}: overdue accounts");
        assert_eq!(count, reported.values().map(BTreeSet::len).sum::<usize>(), "{name}: repeats");
        assert_eq!(accounts_of(FindingKind::TerminatedActive).1, 0, "{name}: still inside");
    }
    engine.take().unwrap().terminate_owned();
    webhook.take().unwrap().terminate_owned();
    bus.delete().await;
    std::fs::remove_dir_all(&root_dir).unwrap();
}

/// The progress of one tenant, as [`wait_for`] reads it.
struct TenantState {
    sources: usize,
    unapplied: usize,
    evaluated: bool,
    leavers: Vec<String>,
}

impl TenantState {
    fn leavers_of(&self, employees: &[String]) -> usize {
        self.leavers.iter().filter(|id| employees.contains(id)).count()
    }
}

/// Polls every tenant until `ready` holds for all of them, or fails after `limit`
/// naming the first tenant that is not ready.
async fn wait_for(
    store: &Store,
    tenants: &[String],
    what: &str,
    limit: Duration,
    ready: impl Fn(&TenantState) -> bool,
) {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let mut waiting = None;
        for name in tenants {
            let scope = store.tenant(&TenantId::new(name).unwrap());
            let work = scope.work().await.unwrap();
            let state = TenantState {
                sources: scope.source_states().await.unwrap().len(),
                unapplied: scope.unapplied_hr_events().await.unwrap().len(),
                evaluated: work.is_some_and(|w| w.evaluated_version == w.state_version),
                leavers: scope
                    .leavers(None)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|l| l.employee_id)
                    .collect(),
            };
            if !ready(&state) {
                waiting = Some((name.clone(), state));
                break;
            }
        }
        let Some((name, state)) = waiting else { return };
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: tenant {name} not ready after {limit:?}: {} sources, {} unapplied HR \
             events, evaluated {}, {} leavers",
            state.sources,
            state.unapplied,
            state.evaluated,
            state.leavers.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
