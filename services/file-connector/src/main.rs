//! `rollcall-file-connector`: publishes the exports in a drop folder per tenant as source
//! snapshots on NATS JetStream. `docs/services/file-connector.md` documents it.

use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use prometheus_client::registry::Registry;
use rollcall_bus::async_nats::{self, jetstream};
use rollcall_bus::{BusMetrics, Namespace, Publisher, Topology};
use rollcall_file_connector::{ConnectorConfig, ConnectorMetrics, FileConnector, Settings, State};
use rollcall_proto::DEFAULT_MAX_CHUNK_BYTES;
use rollcall_runtime::ops::CheckFailure;
use rollcall_runtime::{ConfigArgs, ConfigLoader, OpsServer, Readiness, Shutdown, Workers};

/// Publishes the exports in a drop folder per tenant as source snapshots on NATS.
#[derive(Parser)]
#[command(name = "rollcall-file-connector", version)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
}

/// Time a readiness check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let loaded = ConfigLoader::from_args(&cli.config).load::<ConnectorConfig>()?;
    let telemetry = rollcall_runtime::telemetry::init("file-connector", &loaded.config.telemetry)?;
    loaded.log_warnings();
    let config = loaded.config;
    config.validate()?;
    anyhow::ensure!(
        config.drop_root.is_dir(),
        "the drop folder `{}` does not exist or is not a folder; create it or set `drop_root`",
        config.drop_root.display()
    );

    let opened = State::open(&config.state_dir)?;
    if let Some(warning) = &opened.warning {
        tracing::warn!(state_file = %opened.state.path().display(), %warning, "state file not used");
    }

    if config.nats.insecure {
        tracing::warn!(url = %config.nats.display_url(), "nats.insecure is set: bus traffic may travel without TLS");
    }
    let client = config
        .nats
        .connect_options("rollcall-file-connector")?
        .connect(config.nats.url.as_str())
        .await
        .with_context(|| format!("cannot connect to NATS at `{}`", config.nats.display_url()))?;
    let namespace = Namespace::new(&config.nats.subject_prefix, &config.nats.stream_prefix)?;
    let jetstream = jetstream::new(client.clone());
    Topology::new(namespace.clone())
        .with_replicas(config.nats.stream_replicas)
        .ensure(&jetstream)
        .await?;

    let mut registry = Registry::with_prefix("rollcall_file_connector");
    let bus_metrics = BusMetrics::new();
    bus_metrics.register(&mut registry);
    let metrics = ConnectorMetrics::new();
    metrics.register(&mut registry);

    let mut readiness = Readiness::new();
    readiness.add("nats", CHECK_TIMEOUT, move || {
        let state = client.connection_state();
        async move {
            match state {
                async_nats::connection::State::Connected => Ok(()),
                other => Err(CheckFailure::new(format!("NATS connection is {other:?}"))),
            }
        }
    });
    let drop_root = config.drop_root.clone();
    readiness.add("drop_root", CHECK_TIMEOUT, move || {
        let drop_root = drop_root.clone();
        async move {
            match tokio::task::spawn_blocking(move || std::fs::read_dir(&drop_root).map(drop)).await
            {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => {
                    Err(CheckFailure::new(format!("drop folder unreadable: {error}")))
                }
                Err(error) => Err(CheckFailure::new(error.to_string())),
            }
        }
    });

    let shutdown = Shutdown::new();
    shutdown.listen_for_signals()?;
    let listener = OpsServer::bind(&config.ops).await?;
    let ops = OpsServer::new(registry, readiness, &shutdown);

    let settings = Settings {
        drop_root: config.drop_root.clone(),
        settle: config.settle(),
        max_chunk_bytes: DEFAULT_MAX_CHUNK_BYTES,
    };
    let publisher = Publisher::new(jetstream, namespace, bus_metrics);
    let connector = FileConnector::new(settings, publisher, opened.state, metrics);
    tracing::info!(
        drop_root = %config.drop_root.display(),
        state_dir = %config.state_dir.display(),
        poll_interval_seconds = config.poll_interval_seconds,
        settle_seconds = config.settle_seconds,
        "file connector started"
    );

    let mut workers = Workers::new(&shutdown);
    workers.spawn("ops", async move { Ok(ops.serve(listener).await?) });
    let interval = config.poll_interval();
    let stop = shutdown.token();
    workers.spawn("poll", async move {
        connector.run(interval, stop).await;
        Ok(())
    });
    let report = workers.run(config.shutdown.grace_period()).await;
    tracing::info!("file connector stopped");
    telemetry.shutdown().await;
    anyhow::ensure!(report.is_clean(), "some workers did not stop cleanly");
    Ok(())
}
