//! `make bench-leavers`: HR terminations through the HR webhook and the engine, both
//! running in this process against the local NATS, PostgreSQL and Redis, on ten copies
//! of the example practice.
//!
//! 1. Intake: signed terminations of workers without accounts, posted by concurrent
//!    senders. It reports accepted webhooks per second and the request latency; each 2xx
//!    means the event is committed in PostgreSQL and published.
//! 2. End to end: one termination at a time of a worker with an enabled account, whose
//!    effective instant is two days before the engine's clock, so the deadline has
//!    passed. The clock runs from the request's start to the NATS finding event that
//!    opens `deprovision_overdue` for that worker.
//!
//! It prints Markdown tables for docs/benchmarks.md and writes nothing outside
//! temporary folders.

#[path = "../pipeline/servers.rs"]
#[allow(dead_code, reason = "the CPU and load readings serve the pipeline benchmark only")]
mod servers;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use chrono::TimeDelta;
use futures_util::StreamExt as _;
use prost::Message as _;
use rollcall_core::TenantId;
use rollcall_core::model::{AccountStatus, WorkerStatus};
use rollcall_hr_webhook::{HrWebhookConfig, Service};
use rollcall_proto::v1;
use rollcall_runtime::{ConfigLoader, Shutdown};
use servers::{BenchDb, BenchNamespace, nats_url, start_engine};

/// Tenants, each a copy of the example practice.
const TENANTS: usize = 10;
/// Terminations posted in the intake phase, and the number of senders.
const INTAKE: usize = 2_000;
const SENDERS: usize = 16;
/// The maximum wait for one finding event before the run counts as failed.
const EVENT_LIMIT: Duration = Duration::from_secs(30);
/// The made-up signing key of every bench tenant.
const KEY: &[u8] = b"made-up leaver bench signing key";

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run())
}

async fn run() -> Result<()> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let example = repo.join("examples/harborview");
    let as_of = rollcall_datagen::synthetic::reference();
    let loaded = rollcall_ingest::layout::load_tenant(&example, as_of)
        .with_context(|| format!("cannot load `{}`", example.display()))?;
    let with_access = workers_with_access(&loaded);
    let work = tempfile::tempdir()?;

    let db = BenchDb::create().await?;
    let bus = BenchNamespace::create().await?;
    let store = db.store().await?;
    let engine = start_engine(&db, &bus).await?;
    let tenants: Vec<String> = (0..TENANTS).map(tenant_name).collect();
    let publisher = rollcall_bus::Publisher::new(
        bus.jetstream.clone(),
        bus.namespace.clone(),
        rollcall_bus::BusMetrics::new(),
    );
    let yaml = std::fs::read_to_string(example.join("tenant.yaml"))?;
    for name in &tenants {
        let dir = work.path().join(name);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("tenant.yaml"),
            yaml.replace("id: harborview", &format!("id: {name}")),
        )?;
        rollcall_engine::tenant_apply::apply(&store, &dir).await?;
        let tenant = TenantId::new(name)?;
        for snapshot in &loaded.data.sources {
            let chunks = rollcall_proto::split(snapshot, &tenant, uuid::Uuid::new_v4(), 65536)?;
            publisher.publish_chunks(&chunks).await?;
        }
        if let Some(roster) = &loaded.data.hr {
            let chunks =
                rollcall_proto::split_roster(roster, &tenant, uuid::Uuid::new_v4(), 65536)?;
            publisher.publish_chunks(&chunks).await?;
        }
    }
    let settle = Instant::now();
    loop {
        let (pending, _) = db.progress().await?;
        let mut stored = 0;
        for name in &tenants {
            stored += store.tenant(&TenantId::new(name)?).source_states().await?.len();
        }
        if pending == 0 && stored == TENANTS * (loaded.data.sources.len() + 1) {
            break;
        }
        if settle.elapsed() > Duration::from_secs(300) {
            bail!("the tenants were not evaluated within 300 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let config = webhook_config(work.path(), &db, &bus, &tenants)?;
    let webhook = Service::start(config).await?;
    let base = format!("http://{}", webhook.http_addr().context("no HTTP address")?);
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    let webhook_task = tokio::spawn(async move { webhook.run(&stop).await });
    let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
    let effective = (as_of - TimeDelta::hours(48)).to_rfc3339();

    // Intake.
    let jobs: Vec<(String, String)> =
        (0..INTAKE).map(|i| (tenant_name(i % TENANTS), format!("K{i:05}"))).collect();
    let jobs = Arc::new(std::sync::Mutex::new(jobs));
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (jobs, client, base, effective) =
            (jobs.clone(), client.clone(), base.clone(), effective.clone());
        senders.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let job = jobs.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.pop();
                let Some((tenant, employee)) = job else { break };
                let sent = Instant::now();
                post(&client, &base, &tenant, &employee, &effective).await?;
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        }));
    }
    let mut intake_latencies = Vec::new();
    for sender in senders {
        intake_latencies.extend(sender.await??);
    }
    let intake_wall = started.elapsed();

    // The engine applies and evaluates the intake's terminations before the end-to-end
    // phase, so its first request does not wait behind 2,000 queued events.
    let settle = Instant::now();
    loop {
        let (pending, _) = db.progress().await?;
        let mut unapplied = 0;
        for name in &tenants {
            unapplied += store.tenant(&TenantId::new(name)?).unapplied_hr_events().await?.len();
        }
        if pending == 0 && unapplied == 0 {
            break;
        }
        if settle.elapsed() > Duration::from_secs(300) {
            bail!("the intake's terminations were not applied within 300 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!(
        "intake applied and evaluated {:.1} s after the last request",
        settle.elapsed().as_secs_f64()
    );

    // End to end.
    let subject = format!("{}.*.finding.*", bus.namespace.subject_prefix());
    let nats = async_nats::connect(nats_url()).await?;
    let mut events = nats.subscribe(subject).await?;
    let mut end_to_end = Vec::new();
    for name in &tenants {
        for employee in &with_access {
            let sent = Instant::now();
            post(&client, &base, name, employee, &effective).await?;
            let record = format!("hr:{employee}");
            let wait = tokio::time::timeout(EVENT_LIMIT, async {
                while let Some(message) = events.next().await {
                    let Ok(event) = v1::FindingEvent::decode(message.payload.as_ref()) else {
                        continue;
                    };
                    let opened = event.r#type == v1::FindingEventType::Opened as i32;
                    let Some(finding) = event.finding else { continue };
                    if opened
                        && event.tenant == *name
                        && finding.kind == "deprovision_overdue"
                        && finding.evidence.iter().any(|e| e.record == record)
                    {
                        return true;
                    }
                }
                false
            })
            .await;
            if wait != Ok(true) {
                bail!("no deprovision_overdue event for {name}/{employee} within {EVENT_LIMIT:?}");
            }
            end_to_end.push(sent.elapsed());
        }
    }
    if let Some((index, slowest)) = end_to_end.iter().enumerate().max_by_key(|(_, d)| **d) {
        eprintln!(
            "slowest end-to-end request: number {} of {}, {slowest:?}",
            index + 1,
            end_to_end.len()
        );
    }

    shutdown.trigger();
    let _ = webhook_task.await;
    engine.stop().await?;
    bus.delete().await;
    db.drop_database().await;

    println!("| phase | requests | wall | per second | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let rate = INTAKE as f64 / intake_wall.as_secs_f64();
    row("intake, 16 senders", &mut intake_latencies, Some((intake_wall, rate)));
    row("termination to `deprovision_overdue`, one at a time", &mut end_to_end, None);
    Ok(())
}

fn tenant_name(index: usize) -> String {
    format!("leaver-bench-{index:02}")
}

fn row(name: &str, samples: &mut [Duration], rate: Option<(Duration, f64)>) {
    samples.sort();
    let at = |q: f64| {
        let index = ((samples.len() as f64 * q).ceil() as usize).saturating_sub(1);
        samples.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let (wall, per_second) = rate.map_or((String::from("-"), String::from("-")), |(w, r)| {
        (format!("{:.1} s", w.as_secs_f64()), format!("{r:.0}"))
    });
    println!(
        "| {name} | {} | {wall} | {per_second} | {:.1} ms | {:.1} ms | {:.1} ms |",
        samples.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}

/// Posts one signed termination and requires a 2xx.
async fn post(
    client: &reqwest::Client,
    base: &str,
    tenant: &str,
    employee: &str,
    effective: &str,
) -> Result<()> {
    let id = format!("msg_{tenant}_{employee}");
    let body = serde_json::json!({
        "type": "termination",
        "employee_id": employee,
        "effective_at": effective,
        "time_zone": "America/Chicago",
        "reason": "position eliminated",
    })
    .to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let signature = rollcall_hr_webhook::signature::sign(KEY, &id, timestamp, body.as_bytes());
    let response = client
        .post(format!("{base}/v1/tenants/{tenant}/hr/events"))
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        bail!("{tenant}/{employee}: {status} {}", response.text().await.unwrap_or_default());
    }
    Ok(())
}

/// Returns the active workers of the roster with at least one enabled account.
fn workers_with_access(loaded: &rollcall_ingest::layout::LoadedTenant) -> Vec<String> {
    let active: BTreeSet<&str> = loaded
        .data
        .hr
        .iter()
        .flat_map(|roster| &roster.workers)
        .filter(|w| w.status == WorkerStatus::Active)
        .map(|w| w.employee_id.as_str())
        .collect();
    let resolution = rollcall_core::identity::resolve(&loaded.config.tenant, &loaded.data);
    resolution
        .identities
        .iter()
        .filter(|identity| {
            identity.accounts.iter().any(|linked| {
                loaded.data.sources.iter().any(|source| {
                    source.source == linked.account.source
                        && source.accounts.iter().any(|a| {
                            a.id == linked.account.id && a.status == AccountStatus::Enabled
                        })
                })
            })
        })
        .filter_map(|identity| identity.key.strip_prefix("hr:"))
        .filter(|id| active.contains(id))
        .map(str::to_owned)
        .collect()
}

/// Writes and loads the HR webhook's configuration: every tenant with [`KEY`], and a
/// rate limit the senders do not reach.
fn webhook_config(
    dir: &Path,
    db: &BenchDb,
    bus: &BenchNamespace,
    tenants: &[String],
) -> Result<HrWebhookConfig> {
    let key = format!("whsec_{}\n", base64::engine::general_purpose::STANDARD.encode(KEY));
    std::fs::write(dir.join("webhook-key"), key)?;
    std::fs::write(dir.join("postgres-url"), format!("{}\n", db.app_url()))?;
    let mut yaml = format!(
        "telemetry: {{level: warn}}\n\
         http: {{listen: \"127.0.0.1:0\"}}\n\
         ops: {{listen: \"127.0.0.1:0\"}}\n\
         nats: {{url: \"{}\", subject_prefix: {}, stream_prefix: {}}}\n\
         postgres: {{url_file: \"{}\"}}\n\
         rate_limit: {{per_minute: 1000000, burst: 100000}}\n\
         tenants:\n",
        nats_url(),
        bus.namespace.subject_prefix(),
        bus.namespace.stream_prefix(),
        dir.join("postgres-url").display(),
    );
    for tenant in tenants {
        yaml.push_str(&format!(
            "  {tenant}:\n    webhook_keys:\n      - id: bench-key\n        secret_file: \"{}\"\n",
            dir.join("webhook-key").display()
        ));
    }
    let path = dir.join("hr-webhook.yaml");
    std::fs::write(&path, yaml)?;
    Ok(ConfigLoader::new().file(&path).load::<HrWebhookConfig>()?.config)
}
