//! `rollcall-entra-connector`: syncs the configured tenants' Entra ID through Microsoft
//! Graph and publishes each tenant's `entra` snapshot and sync report on NATS.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use prometheus_client::registry::Registry;
use rollcall_bus::{BusMetrics, Namespace, Publisher, Topology, async_nats};
use rollcall_entra_connector::config::{NatsConfig, PostgresConfig};
use rollcall_entra_connector::service::{Shared, run_tenant};
use rollcall_entra_connector::{
    ConnectorConfig, ConnectorMetrics, Credential, GraphClient, HttpTransport, RunningSyncs,
    SyncResult, first_delay, full_sync,
};
use rollcall_runtime::ops::CheckFailure;
use rollcall_runtime::{ConfigArgs, ConfigLoader, OpsServer, Readiness, Shutdown, Workers};
use rollcall_store::{Store, StoreOptions};

/// How long a readiness check of NATS or PostgreSQL may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long connecting to NATS at start may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Parser)]
#[command(
    name = "rollcall-entra-connector",
    about = "Syncs Entra ID tenants through Microsoft Graph into Rollcall"
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
    /// Run one full sync of every tenant, publish nothing, and print a summary per
    /// tenant as JSON lines.
    Once,
}

#[tokio::main]
async fn main() -> Result<ExitCode> {
    let cli = Cli::parse();
    let loaded = ConfigLoader::from_args(&cli.config).load::<ConnectorConfig>()?;
    let telemetry = rollcall_runtime::telemetry::init("entra-connector", &loaded.config.telemetry)?;
    loaded.log_warnings();
    let config = loaded.config;
    config.check()?;
    if config.tenants.is_empty() {
        anyhow::bail!("`tenants` is empty; add at least one tenant to sync");
    }
    let status = match cli.command.unwrap_or(Command::Run) {
        Command::Once => once(&config).await,
        Command::Run => run(config).await,
    };
    telemetry.shutdown().await;
    status
}

fn summary(tenant: &str, result: &SyncResult) -> serde_json::Value {
    serde_json::json!({
        "tenant": tenant,
        "accounts": result.snapshot.accounts.len(),
        "entitlements": result.snapshot.entitlements.len(),
        "memberships": result.snapshot.memberships.len(),
        "requests": result.stats.total(),
        "throttled_ms": u64::try_from(result.stats.throttled.as_millis()).unwrap_or(u64::MAX),
        "sign_in_available": result.sign_in_available,
        "problems": result.problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>(),
    })
}

async fn once(config: &ConnectorConfig) -> Result<ExitCode> {
    let transport = HttpTransport::new(config.limits.request_timeout())?;
    let mut failed = false;
    for tenant in &config.tenants {
        let app = config
            .apps
            .get(&tenant.app)
            .with_context(|| format!("tenant {} names an unknown app", tenant.tenant))?;
        let credential = Credential::load(&tenant.app, app)?;
        let mut client = GraphClient::new(
            &transport,
            &config.authority_url,
            &tenant.directory_id,
            &app.client_id,
            &credential,
            config.limits.clone(),
        );
        match full_sync(&mut client, &config.graph_url, &tenant.tenant).await {
            Ok(result) => println!("{}", summary(&tenant.tenant, &result)),
            Err(error) => {
                failed = true;
                tracing::error!(tenant = %tenant.tenant, source = "entra", %error, "sync failed");
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn connect_nats(nats: &NatsConfig) -> Result<async_nats::Client> {
    if nats.insecure {
        tracing::warn!(url = %nats.display_url(), "nats.insecure is set: bus traffic may travel without TLS");
    }
    nats.connect_options("rollcall-entra-connector")?
        .connection_timeout(CONNECT_TIMEOUT)
        // Keep reconnecting: a NATS restart must not end the connector.
        .max_reconnects(None)
        .connect(nats.url.as_str())
        .await
        .with_context(|| {
            format!("cannot connect to NATS at `{}`; check nats.url", nats.display_url())
        })
}

async fn connect_store(postgres: &PostgresConfig) -> Result<Store> {
    let url = postgres.url.expose_str().context("postgres.url is not UTF-8 text")?;
    let options =
        StoreOptions { max_connections: postgres.max_connections, ..StoreOptions::default() };
    Ok(Store::connect(url, &options).await?)
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

async fn run(config: ConnectorConfig) -> Result<ExitCode> {
    let nats = config.nats.as_ref().context(
        "missing key `nats`; `run` publishes on NATS, so set nats.url in the configuration file, as `ROLLCALL_NATS__URL`, or with `--set nats.url=...`",
    )?;
    let postgres = config.postgres.as_ref().context(
        "missing key `postgres`; `run` keeps the delta state in PostgreSQL, so set postgres.url_file or postgres.url",
    )?;
    let client = connect_nats(nats).await?;
    let jetstream = async_nats::jetstream::new(client.clone());
    let namespace = Namespace::new(&nats.subject_prefix, &nats.stream_prefix)?;
    Topology::new(namespace.clone()).with_replicas(nats.stream_replicas).ensure(&jetstream).await?;
    let store = connect_store(postgres).await?;

    let bus_metrics = BusMetrics::new();
    let publisher = Publisher::new(jetstream, namespace, bus_metrics.clone());
    let metrics = ConnectorMetrics::new();
    let mut registry = Registry::default();
    bus_metrics.register(&mut registry);
    metrics.register(&mut registry);

    let shutdown = Shutdown::new();
    shutdown.listen_for_signals()?;
    let listener = OpsServer::bind(&config.ops).await?;
    let ops = OpsServer::new(registry, readiness(&client, &store), &shutdown);
    let mut workers = Workers::new(&shutdown);
    workers.spawn("ops", async move { Ok(ops.serve(listener).await?) });

    let grace = config.shutdown.grace_period();
    let interval = Duration::from_secs(config.interval_minutes.max(1) * 60);
    let start_window = Duration::from_secs(config.start_delay_max_seconds);
    let tenants = config.tenants.clone();
    let shared = Shared {
        transport: Arc::new(HttpTransport::new(config.limits.request_timeout())?),
        config: Arc::new(config),
        store,
        publisher,
        metrics,
        running: RunningSyncs::new(),
    };
    for tenant in tenants {
        let first_wait = first_delay(interval.min(start_window), &tenant.tenant);
        let stop = shutdown.token();
        let shared = shared.clone();
        workers.spawn(format!("sync {}", tenant.tenant), async move {
            run_tenant(shared, tenant, first_wait, stop).await;
            Ok(())
        });
    }
    tracing::info!(tenants = shared.config.tenants.len(), "entra connector started");
    let report = workers.run(grace).await;
    tracing::info!("entra connector stopped");
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
