//! `rollcall-entra-connector`: syncs the configured tenants' Entra ID through Microsoft
//! Graph.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use prometheus_client::registry::Registry;
use rollcall_core::TenantId;
use rollcall_entra_connector::{
    ConnectorConfig, ConnectorMetrics, Credential, GraphClient, HttpTransport, RunningSyncs,
    SyncResult, TenantConfig, delta_sync, first_delay, full_sync, jittered, load_state, save_state,
};
use rollcall_store::{Store, StoreOptions};

/// Sync Entra ID tenants through Microsoft Graph.
#[derive(Parser)]
struct Args {
    /// The YAML configuration file.
    #[arg(long, env = "ROLLCALL_ENTRA_CONFIG")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one full sync of every tenant and print a summary per tenant as JSON lines.
    Once,
    /// Sync every tenant on its interval with jitter until stopped, by delta rounds with
    /// the state in PostgreSQL.
    Run {
        /// The store's PostgreSQL URL, for the runtime role.
        #[arg(long, env = "ROLLCALL_DATABASE_URL")]
        database_url: String,
        /// Address to serve Prometheus metrics on, at `/metrics`.
        #[arg(long, default_value = "127.0.0.1:9464")]
        metrics_listen: SocketAddr,
        /// Hours after which a sync reads the directory in full again, to refresh sign-in
        /// times that delta rounds do not report.
        #[arg(long, default_value_t = 24)]
        full_read_hours: i64,
    },
}

#[tokio::main]
async fn main() -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = ConnectorConfig::load(&args.config)?;
    match args.command {
        Command::Once => once(&config).await,
        Command::Run { database_url, metrics_listen, full_read_hours } => {
            run(config, &database_url, metrics_listen, chrono::Duration::hours(full_read_hours))
                .await
        }
    }
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
                tracing::error!(tenant = %tenant.tenant, %error, "sync failed");
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn run(
    config: ConnectorConfig,
    database_url: &str,
    metrics_listen: SocketAddr,
    max_full_read_age: chrono::Duration,
) -> Result<ExitCode> {
    let store = Arc::new(Store::connect(database_url, &StoreOptions::default()).await?);
    let metrics = ConnectorMetrics::new();
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let registry = Arc::new(registry);
    let listener = tokio::net::TcpListener::bind(metrics_listen)
        .await
        .with_context(|| format!("binding the metrics address {metrics_listen}"))?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let registry = Arc::clone(&registry);
            async move {
                let mut text = String::new();
                match prometheus_client::encoding::text::encode(&mut text, &registry) {
                    Ok(()) => (axum::http::StatusCode::OK, text),
                    Err(error) => {
                        (axum::http::StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
                    }
                }
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "metrics server stopped");
        }
    });

    let config = Arc::new(config);
    let transport = Arc::new(HttpTransport::new(config.limits.request_timeout())?);
    let running = RunningSyncs::new();
    let interval = Duration::from_secs(config.interval_minutes.max(1) * 60);
    let mut tasks = tokio::task::JoinSet::new();
    for tenant in config.tenants.clone() {
        let (config, transport, store, metrics, running) = (
            Arc::clone(&config),
            Arc::clone(&transport),
            Arc::clone(&store),
            metrics.clone(),
            running.clone(),
        );
        tasks.spawn(async move {
            tokio::time::sleep(first_delay(interval, &tenant.tenant)).await;
            let mut round: u64 = 0;
            loop {
                round += 1;
                match running.try_start(&tenant.tenant) {
                    Some(_guard) => {
                        sync_tenant(&config, &transport, &store, &metrics, &tenant, max_full_read_age).await;
                    }
                    None => tracing::warn!(tenant = %tenant.tenant, "previous sync still running, skipping this round"),
                }
                tokio::time::sleep(jittered(interval, &format!("{}-{round}", tenant.tenant))).await;
            }
        });
    }
    tracing::info!(tenants = config.tenants.len(), %metrics_listen, "entra connector started");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    tasks.abort_all();
    tracing::info!("entra connector stopped");
    Ok(ExitCode::SUCCESS)
}

/// Runs one delta sync of one tenant. Errors are logged and counted, and the next round
/// retries.
async fn sync_tenant(
    config: &ConnectorConfig,
    transport: &HttpTransport,
    store: &Store,
    metrics: &ConnectorMetrics,
    tenant: &TenantConfig,
    max_full_read_age: chrono::Duration,
) {
    let name = tenant.tenant.as_str();
    let outcome: Result<()> = async {
        let app =
            config.apps.get(&tenant.app).with_context(|| format!("unknown app {}", tenant.app))?;
        let credential = Credential::load(&tenant.app, app)?;
        let id = TenantId::new(name).with_context(|| format!("invalid tenant id {name}"))?;
        let scope = store.tenant(&id);
        let previous = load_state(&scope).await?;
        let mut client = GraphClient::new(
            transport,
            &config.authority_url,
            &tenant.directory_id,
            &app.client_id,
            &credential,
            config.limits.clone(),
        );
        let synced =
            delta_sync(&mut client, &config.graph_url, name, previous.as_ref(), max_full_read_age)
                .await;
        metrics.record_requests(name, client.stats());
        let (result, state, mode) = synced?;
        // TODO: publish the snapshot and a sync report on NATS before saving the state.
        save_state(&scope, &state).await?;
        metrics.record_success(name, &result, chrono::Utc::now().timestamp());
        tracing::info!(tenant = name, ?mode, summary = %summary(name, &result), "sync finished");
        Ok(())
    }
    .await;
    if let Err(error) = outcome {
        metrics.record_failure(name);
        tracing::error!(tenant = name, error = format!("{error:#}"), "sync failed");
    }
}
