//! `rollcall-drchrono-connector`: syncs the configured practices' DrChrono accounts and
//! publishes each practice's `ehr:drchrono` snapshot and sync report on NATS.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use prometheus_client::registry::Registry;
use rollcall_bus::{BusMetrics, Namespace, NatsConfig, Publisher, Topology, async_nats};
use rollcall_drchrono_connector::schedule::first_delay;
use rollcall_drchrono_connector::service::{Shared, run_tenant, sync_tenant};
use rollcall_drchrono_connector::{ConnectorConfig, ConnectorMetrics, http_client};
use rollcall_proto::SyncOutcome;
use rollcall_runtime::ops::CheckFailure;
use rollcall_runtime::{ConfigArgs, ConfigLoader, OpsServer, Readiness, Shutdown, Workers};
use rollcall_store::{Store, StoreOptions};

/// How long a readiness check of NATS or PostgreSQL may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting to NATS at start may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(
    name = "rollcall-drchrono-connector",
    about = "Syncs DrChrono practices' accounts through the DrChrono API into Rollcall"
)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Sync every tenant on its interval and publish each sync on NATS until SIGTERM
    /// (the default).
    Run,
    /// Sync and publish every tenant once, print a summary per tenant as JSON lines, and
    /// exit with failure if any sync failed.
    Once,
}

#[tokio::main]
async fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let loaded = ConfigLoader::from_args(&cli.config).load::<ConnectorConfig>()?;
    let telemetry =
        rollcall_runtime::telemetry::init("drchrono-connector", &loaded.config.telemetry)?;
    loaded.log_warnings();
    let config = loaded.config;
    config.check()?;
    if config.tenants.is_empty() {
        anyhow::bail!("`tenants` is empty; add at least one practice to sync");
    }
    let once = matches!(cli.command, Some(Command::Once));
    let status = start(config, once).await;
    telemetry.shutdown().await;
    status
}

async fn connect_nats(nats: &NatsConfig) -> Result<async_nats::Client> {
    if nats.insecure {
        tracing::warn!(url = %nats.display_url(), "nats.insecure is set: bus traffic may travel without TLS");
    }
    nats.connect_options("rollcall-drchrono-connector")?
        .connection_timeout(CONNECT_TIMEOUT)
        // Keep reconnecting: a NATS restart must not end the connector.
        .max_reconnects(None)
        .connect(nats.url.as_str())
        .await
        .with_context(|| {
            format!("cannot connect to NATS at `{}`; check nats.url", nats.display_url())
        })
}

fn readiness(client: &async_nats::Client, store: &Store) -> Readiness {
    let mut readiness = Readiness::new();
    let nats = client.clone();
    readiness.add("nats", PROBE_TIMEOUT, move || {
        let state = nats.connection_state();
        async move {
            match state {
                async_nats::connection::State::Connected => Ok(()),
                other => Err(CheckFailure::new(format!("NATS connection is {other:?}"))),
            }
        }
    });
    let store = store.clone();
    readiness.add("postgres", PROBE_TIMEOUT, move || {
        let store = store.clone();
        async move { store.ping().await.map_err(CheckFailure::from) }
    });
    readiness
}

async fn start(config: ConnectorConfig, once: bool) -> Result<ExitCode> {
    if config.allow_plain_http_loopback {
        tracing::warn!(api_url = %config.api_url, "allow_plain_http_loopback is set: DrChrono calls to loopback may travel without TLS");
    }
    let client = connect_nats(&config.nats).await?;
    let jetstream = async_nats::jetstream::new(client.clone());
    let namespace = Namespace::new(&config.nats.subject_prefix, &config.nats.stream_prefix)?;
    Topology::new(namespace.clone())
        .with_replicas(config.nats.stream_replicas)
        .ensure(&jetstream)
        .await?;
    let url = config.postgres.url.expose_str().context("postgres.url is not UTF-8 text")?;
    let options = StoreOptions {
        max_connections: config.postgres.max_connections,
        ..StoreOptions::default()
    };
    let store = Store::connect(url, &options).await?;

    let bus_metrics = BusMetrics::new();
    let publisher = Publisher::new(jetstream, namespace, bus_metrics.clone());
    let metrics = ConnectorMetrics::new();
    let http = http_client(&config.limits, config.allow_plain_http_loopback)
        .map_err(|error| anyhow::anyhow!("cannot build the HTTP client: {error}"))?;
    let shared = Shared {
        config: std::sync::Arc::new(config),
        http,
        store: store.clone(),
        publisher,
        metrics: metrics.clone(),
    };
    if once {
        return Ok(run_once(&shared).await);
    }

    let mut registry = Registry::default();
    bus_metrics.register(&mut registry);
    metrics.register(&mut registry);
    let shutdown = Shutdown::new();
    shutdown.listen_for_signals()?;
    let listener = OpsServer::bind(&shared.config.ops).await?;
    let ops = OpsServer::new(registry, readiness(&client, &store), &shutdown);
    let mut workers = Workers::new(&shutdown);
    workers.spawn("ops", async move { Ok(ops.serve(listener).await?) });

    let grace = shared.config.shutdown.grace_period();
    let interval = Duration::from_secs(shared.config.interval_minutes.max(1) * 60);
    let start_window = Duration::from_secs(shared.config.start_delay_max_seconds.min(300));
    for tenant in shared.config.tenants.clone() {
        let first_wait = first_delay(interval.min(start_window), &tenant.tenant);
        let stop = shutdown.token();
        let shared = shared.clone();
        workers.spawn(format!("sync {}", tenant.tenant), async move {
            run_tenant(shared, tenant, first_wait, stop).await;
            Ok(())
        });
    }
    tracing::info!(tenants = shared.config.tenants.len(), "drchrono connector started");
    let report = workers.run(grace).await;
    tracing::info!("drchrono connector stopped");
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Runs one published sync of every tenant and prints a JSON line per tenant.
async fn run_once(shared: &Shared) -> ExitCode {
    let mut failed = false;
    for tenant in &shared.config.tenants {
        let Some(attempt) = sync_tenant(shared, tenant).await else {
            failed = true;
            continue;
        };
        let ok = attempt.report.outcome == SyncOutcome::Ok;
        failed |= !ok;
        let summary = serde_json::json!({
            "tenant": tenant.tenant,
            "outcome": if ok { "ok" } else { "failed" },
            "snapshot_id": attempt.report.snapshot_id.map(|id| id.to_string()),
            "accounts": attempt.result.as_ref().map(|r| r.snapshot.accounts.len()),
            "requests": attempt.result.as_ref().map(|r| r.stats.total()),
            "problems": attempt.report.problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>(),
        });
        println!("{summary}");
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
