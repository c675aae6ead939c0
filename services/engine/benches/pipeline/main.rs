//! `make bench-pipeline`: snapshot ingest through the whole service pipeline against a
//! raw JetStream publish of the same bytes, on the MSP data set (100 practices of 200
//! people with about 20 grants each).
//!
//! 1. The data set is generated once into `target/bench-data/` (the same folder as the
//!    scan benchmark's) and read with `rollcall-ingest`. Every source and the roster of
//!    every tenant is split into chunks of `DEFAULT_MAX_CHUNK_BYTES`.
//! 2. Raw: the encoded chunks are published with plain `async-nats` JetStream publishes,
//!    each ack awaited before the next, into fresh streams made by the bus's topology.
//! 3. Pipeline: a fresh database and NATS namespace, the tenant configurations applied,
//!    the engine running in this process, then the same chunks published through the
//!    bus's publisher. The clock stops at the last finding event once the store shows
//!    every tenant evaluated and its outbox published.
//!
//! It prints Markdown tables for docs/benchmarks.md and writes nothing outside
//! `target/`. The servers are the local ones; `ROLLCALL_BENCH_NATS_URL`,
//! `ROLLCALL_BENCH_DATABASE_URL` (a superuser) and `ROLLCALL_BENCH_REDIS_URL` point
//! elsewhere.

mod servers;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use async_nats::jetstream::message::PublishMessage;
use futures_util::StreamExt as _;
use prost::Message as _;
use rollcall_bus::{BusMessage as _, Publisher};
use rollcall_datagen::synthetic::{self, Params};
use rollcall_proto::{DEFAULT_MAX_CHUNK_BYTES, v1};

use servers::{BenchDb, BenchNamespace};

/// The scan benchmark's seed, so both benchmarks read the same files.
const SEED: u64 = 20_261_201;
/// The acceptance data set: an MSP's whole book.
const PARAMS: Params = Params { tenants: 100, people: 200, grants: 20, seed: SEED };
/// How long the pipeline may take to settle before the run counts as failed.
const SETTLE_LIMIT: Duration = Duration::from_secs(600);

/// Per tenant, the findings of `rollcall_core::evaluate` on the data as `rollcall scan`
/// reads it, sorted by finding id.
type Expected = BTreeMap<String, Vec<rollcall_core::finding::Finding>>;

/// One snapshot of one tenant's source (or roster), ready to publish.
struct Snapshot {
    tenant: String,
    chunks: Vec<v1::SnapshotChunk>,
    /// Subject, message id and encoded bytes of each chunk, for the raw publish.
    encoded: Vec<(String, String, bytes::Bytes)>,
}

fn main() -> Result<()> {
    let data = data_dir()?;
    let root = ensure(&data, &PARAMS)?;
    let tenant_dirs = rollcall_ingest::layout::find_tenants(std::slice::from_ref(&root))
        .with_context(|| format!("cannot list the tenants of `{}`", root.display()))?;
    let as_of = synthetic::reference();
    let mut snapshots = Vec::new();
    let mut expected = Expected::new();
    for dir in &tenant_dirs {
        let loaded = rollcall_ingest::layout::load_tenant(dir, as_of)
            .with_context(|| format!("cannot load `{}`", dir.display()))?;
        let tenant = loaded.config.tenant.id.clone();
        let mut findings =
            rollcall_core::evaluate(&loaded.config.tenant, &loaded.data, as_of).findings;
        findings.sort_by(|a, b| a.id.cmp(&b.id));
        expected.insert(tenant.to_string(), findings);
        let mut lists = Vec::new();
        for source in &loaded.data.sources {
            lists.push(rollcall_proto::split(
                source,
                &tenant,
                uuid::Uuid::new_v4(),
                DEFAULT_MAX_CHUNK_BYTES,
            )?);
        }
        if let Some(roster) = &loaded.data.hr {
            lists.push(rollcall_proto::split_roster(
                roster,
                &tenant,
                uuid::Uuid::new_v4(),
                DEFAULT_MAX_CHUNK_BYTES,
            )?);
        }
        for chunks in lists {
            snapshots.push(Snapshot { tenant: tenant.to_string(), chunks, encoded: Vec::new() });
        }
    }
    let people = PARAMS.tenants * PARAMS.people;
    let chunk_count: usize = snapshots.iter().map(|s| s.chunks.len()).sum();
    let chunk_bytes: usize =
        snapshots.iter().flat_map(|s| &s.chunks).map(prost::Message::encoded_len).sum();
    eprintln!(
        "{} tenants, {} snapshots, {chunk_count} chunks, {chunk_bytes} bytes",
        tenant_dirs.len(),
        snapshots.len()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let raw = runtime.block_on(raw_publish(&mut snapshots))?;
    let pipeline = runtime.block_on(pipeline(&snapshots, &tenant_dirs, &expected))?;

    print_results(people, snapshots.len(), chunk_count, chunk_bytes, &raw, &pipeline);
    Ok(())
}

/// `target/bench-data`, found from the bench executable (`target/<profile>/deps/…`).
fn data_dir() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the bench executable")?;
    let target = exe
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|n| n == "deps"))
        .and_then(|deps| deps.parent())
        .and_then(Path::parent)
        .context("the bench executable is not under target/<profile>/deps")?;
    Ok(target.join("bench-data"))
}

/// Returns the data set's folder, generating it unless a complete copy exists. The
/// folder name and the `.complete` marker are the scan benchmark's, so either benchmark
/// reuses what the other generated.
fn ensure(data: &Path, p: &Params) -> Result<PathBuf> {
    let root = data.join(format!("t{}-p{}-g{}-s{}", p.tenants, p.people, p.grants, p.seed));
    let done = root.join(".complete");
    if done.is_file() {
        return Ok(root);
    }
    eprintln!("generating the data set into {}", root.display());
    if root.exists() {
        std::fs::remove_dir_all(&root)
            .with_context(|| format!("cannot remove the partial `{}`", root.display()))?;
    }
    synthetic::write_all(p, &root)?;
    std::fs::write(&done, b"")?;
    Ok(root)
}

/// Wall time, CPU time and load of one measured phase.
struct Phase {
    wall: Duration,
    cpu: Duration,
    load: LoadRange,
}

/// The 1-minute load average sampled every second during a phase.
#[derive(Default)]
struct LoadRange {
    min: f64,
    max: f64,
}

async fn raw_publish(snapshots: &mut [Snapshot]) -> Result<Phase> {
    let bus = BenchNamespace::create().await?;
    for snapshot in snapshots.iter_mut() {
        snapshot.encoded = snapshot
            .chunks
            .iter()
            .map(|chunk| {
                Ok((
                    chunk.subject(&bus.namespace)?,
                    chunk.message_id(),
                    bytes::Bytes::from(chunk.encode_to_vec()),
                ))
            })
            .collect::<Result<_>>()?;
    }
    let sampler = LoadSampler::start();
    let cpu = servers::cpu_time();
    let start = Instant::now();
    for snapshot in snapshots.iter() {
        for (subject, id, payload) in &snapshot.encoded {
            let mut headers = async_nats::HeaderMap::new();
            headers.insert(async_nats::header::NATS_MESSAGE_ID, id.as_str());
            let message = PublishMessage::build().payload(payload.clone()).headers(headers);
            bus.jetstream
                .send_publish(subject.clone(), message)
                .await
                .context("raw publish failed")?
                .await
                .context("raw publish not acked")?;
        }
    }
    let wall = start.elapsed();
    let cpu = servers::cpu_time().saturating_sub(cpu);
    let load = sampler.stop().await;
    bus.delete().await;
    Ok(Phase { wall, cpu, load })
}

/// The pipeline phase's measurements.
struct PipelineRun {
    phase: Phase,
    events: usize,
    /// Per snapshot, from its last chunk's ack to its tenant's next finding event.
    latencies: Vec<Duration>,
    /// Snapshots after whose ack no finding event of their tenant came.
    without_event: usize,
    /// Time from the last publish ack to the last finding event.
    drain: Duration,
}

async fn pipeline(
    snapshots: &[Snapshot],
    tenant_dirs: &[PathBuf],
    expected: &Expected,
) -> Result<PipelineRun> {
    let db = BenchDb::create().await?;
    let bus = BenchNamespace::create().await?;
    let store = db.store().await?;
    for dir in tenant_dirs {
        rollcall_engine::tenant_apply::apply(&store, dir)
            .await
            .with_context(|| format!("cannot apply the configuration of `{}`", dir.display()))?;
    }

    // Every finding event as it arrives: tenant and arrival instant.
    let arrivals: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let client = async_nats::connect(servers::nats_url()).await?;
    let mut subscriber =
        client.subscribe(format!("{}.*.finding.>", bus.namespace.subject_prefix())).await?;
    client.flush().await?;
    let sink = Arc::clone(&arrivals);
    let prefix = bus.namespace.clone();
    let listener = tokio::spawn(async move {
        while let Some(message) = subscriber.next().await {
            let now = Instant::now();
            let tenant = prefix.tenant_of(&message.subject).unwrap_or_default().to_owned();
            if let Ok(mut list) = sink.lock() {
                list.push((tenant, now));
            }
        }
    });

    let engine = servers::start_engine(&db, &bus).await?;
    let publisher = Publisher::new(
        bus.jetstream.clone(),
        bus.namespace.clone(),
        rollcall_bus::BusMetrics::new(),
    );
    let sampler = LoadSampler::start();
    let cpu = servers::cpu_time();
    let start = Instant::now();
    let mut acked = Vec::with_capacity(snapshots.len());
    for snapshot in snapshots {
        publisher.publish_chunks(&snapshot.chunks).await?;
        acked.push((snapshot.tenant.as_str(), Instant::now()));
    }
    let published = Instant::now();

    // Settled: every snapshot acked by the engine, so committed, then every tenant
    // evaluated at its latest state, its outbox published, and every published event
    // received. The consumer is read first: a tenant whose snapshots still wait in the
    // stream looks evaluated in PostgreSQL.
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        let unacked = bus.unacked_snapshots().await?;
        let (pending, stored) = db.progress().await?;
        let received = arrivals.lock().map(|list| list.len()).unwrap_or_default();
        if unacked == 0 && pending == 0 && stored > 0 && received as i64 >= stored {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "the pipeline did not settle within {SETTLE_LIMIT:?}: {unacked} snapshot chunks \
                 not acked, {pending} tenants pending, {received} of {stored} events received"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let events: Vec<(String, Instant)> =
        arrivals.lock().map(|list| list.clone()).unwrap_or_default();
    let cpu = servers::cpu_time().saturating_sub(cpu);
    let load = sampler.stop().await;
    let end = events.iter().map(|(_, at)| *at).max().unwrap_or(published);

    let mut by_tenant: BTreeMap<&str, Vec<Instant>> = BTreeMap::new();
    for (tenant, at) in &events {
        by_tenant.entry(tenant.as_str()).or_default().push(*at);
    }
    for list in by_tenant.values_mut() {
        list.sort();
    }
    let mut latencies = Vec::new();
    let mut without_event = 0;
    for (tenant, ack) in &acked {
        let next = by_tenant.get(tenant).and_then(|list| list.iter().find(|at| *at >= ack));
        match next {
            Some(at) => latencies.push(at.duration_since(*ack)),
            None => without_event += 1,
        }
    }
    latencies.sort();

    engine.stop().await?;
    listener.abort();
    let differing = compare_findings(&store, expected).await?;
    if !differing.is_empty() {
        bail!(
            "the open findings in PostgreSQL differ from rollcall_core::evaluate on the folders for {} tenants: {}",
            differing.len(),
            differing.join(", ")
        );
    }
    bus.delete().await;
    drop(store);
    db.drop_database().await;
    Ok(PipelineRun {
        phase: Phase { wall: end.duration_since(start), cpu, load },
        events: events.len(),
        latencies,
        without_event,
        drain: end.saturating_duration_since(published),
    })
}

/// Returns the tenants whose open findings in the store differ from `expected`.
async fn compare_findings(
    store: &rollcall_store::Store,
    expected: &Expected,
) -> Result<Vec<String>> {
    let mut differing = Vec::new();
    for (tenant, findings) in expected {
        let id = rollcall_core::TenantId::new(tenant)?;
        let stored = store.tenant(&id).findings(rollcall_store::FindingStatus::Open).await?;
        let mut stored: Vec<_> = stored.into_iter().map(|stored| stored.finding).collect();
        // By byte order as `expected` is, which PostgreSQL's collation may not follow.
        stored.sort_by(|a, b| a.id.cmp(&b.id));
        if stored != *findings {
            differing.push(tenant.clone());
        }
    }
    Ok(differing)
}

/// Samples `/proc/loadavg` every second until stopped.
struct LoadSampler {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<LoadRange>,
}

impl LoadSampler {
    fn start() -> Self {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut range = LoadRange { min: f64::MAX, max: 0.0 };
            loop {
                if let Some(load) = servers::load_average() {
                    range.min = range.min.min(load);
                    range.max = range.max.max(load);
                }
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
            range
        });
        Self { stop, task }
    }

    async fn stop(self) -> LoadRange {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

/// The value at quantile `q` (0 to 1) of sorted `values`, by the nearest-rank method.
fn quantile(values: &[Duration], q: f64) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    // Nearest rank: the smallest value with at least q of the values at or below it.
    let rank = (q * values.len() as f64).ceil().max(1.0) as usize;
    values.get(rank.min(values.len()) - 1).copied()
}

fn ms(value: Option<Duration>) -> String {
    value.map_or_else(|| "-".to_owned(), |d| format!("{:.0}", d.as_secs_f64() * 1000.0))
}

fn print_results(
    people: usize,
    snapshots: usize,
    chunks: usize,
    bytes: usize,
    raw: &Phase,
    run: &PipelineRun,
) {
    let rate = |wall: Duration| people as f64 / wall.as_secs_f64();
    let raw_rate = rate(raw.wall);
    let pipeline_rate = rate(run.phase.wall);
    let ratio = pipeline_rate / raw_rate;
    let p99 = quantile(&run.latencies, 0.99);
    println!(
        "msp-100x200x20: {people} people, {snapshots} snapshots, {chunks} chunks, {bytes} bytes\n"
    );
    println!("| path | wall (s) | identities / s | process CPU (s) | load average (1 min) |");
    println!("|---|---|---|---|---|");
    for (name, phase) in [("raw JetStream publish", raw), ("whole pipeline", &run.phase)] {
        println!(
            "| {name} | {:.2} | {:.0} | {:.2} | {:.1}–{:.1} |",
            phase.wall.as_secs_f64(),
            rate(phase.wall),
            phase.cpu.as_secs_f64(),
            phase.load.min,
            phase.load.max
        );
    }
    println!();
    println!(
        "| snapshots | with a later event | p50 (ms) | p99 (ms) | max (ms) | finding events | drain after last ack (s) |"
    );
    println!("|---|---|---|---|---|---|---|");
    println!(
        "| {snapshots} | {} | {} | {} | {} | {} | {:.2} |",
        run.latencies.len(),
        ms(quantile(&run.latencies, 0.5)),
        ms(p99),
        ms(run.latencies.last().copied()),
        run.events,
        run.drain.as_secs_f64()
    );
    println!();
    println!("| goal | measured | met |");
    println!("|---|---|---|");
    println!(
        "| pipeline ≥ 0.5 × raw publish rate | {ratio:.2} × | {} |",
        if ratio >= 0.5 { "yes" } else { "no" }
    );
    println!(
        "| p99 latency < 1 s | {} ms | {} |",
        ms(p99),
        if p99.is_some_and(|d| d < Duration::from_secs(1)) && run.without_event == 0 {
            "yes"
        } else {
            "no"
        }
    );
}
