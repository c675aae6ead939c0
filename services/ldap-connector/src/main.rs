//! `rollcall-ldap-connector`: syncs the configured directories into snapshots on NATS.

use anyhow::Context;
use clap::Parser;
use prometheus_client::registry::Registry;
use rollcall_bus::{BusMetrics, Namespace, Publisher, Topology, async_nats};
use rollcall_ldap_connector::config::{ConnectorConfig, check_all};
use rollcall_ldap_connector::schedule::{TenantLocks, run_directory};
use rollcall_ldap_connector::{SyncMetrics, TlsMode};
use rollcall_runtime::{ConfigArgs, ConfigLoader, OpsServer, Readiness, Shutdown, Workers};

#[derive(Parser)]
#[command(
    name = "rollcall-ldap-connector",
    about = "Syncs LDAP and Active Directory directories into Rollcall"
)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let loaded = ConfigLoader::from_args(&cli.config).load::<ConnectorConfig>()?;
    let telemetry = rollcall_runtime::telemetry::init("ldap-connector", &loaded.config.telemetry)?;
    loaded.log_warnings();
    let config = loaded.config;
    let directories = check_all(config.directories)?;
    if directories.is_empty() {
        anyhow::bail!("`directories` is empty; add at least one directory to sync");
    }
    for directory in &directories {
        if directory.tls == TlsMode::Insecure {
            tracing::warn!(
                tenant = %directory.tenant,
                source = %directory.source,
                url = %directory.url,
                "tls is `insecure`: the bind password and the directory travel unencrypted; use `ldaps` or `starttls` outside a lab"
            );
        }
    }

    if config.nats.insecure {
        tracing::warn!(url = %config.nats.display_url(), "nats.insecure is set: bus traffic may travel without TLS");
    }
    let client = config
        .nats
        .connect_options("rollcall-ldap-connector")?
        .connect(config.nats.url.as_str())
        .await
        .with_context(|| format!("cannot connect to NATS at `{}`", config.nats.display_url()))?;
    let jetstream = async_nats::jetstream::new(client);
    let namespace = Namespace::new(&config.nats.subject_prefix, &config.nats.stream_prefix)?;
    Topology::new(namespace.clone())
        .with_replicas(config.nats.stream_replicas)
        .ensure(&jetstream)
        .await?;
    let bus_metrics = BusMetrics::new();
    let publisher = Publisher::new(jetstream, namespace, bus_metrics.clone());
    let metrics = SyncMetrics::new();
    // Every Rollcall metric starts with `rollcall_`, so dashboards can tell them apart.
    let mut registry = Registry::with_prefix("rollcall");
    bus_metrics.register(&mut registry);
    metrics.register(&mut registry);

    let shutdown = Shutdown::new();
    shutdown.listen_for_signals()?;
    let listener = OpsServer::bind(&config.ops).await?;
    let ops = OpsServer::new(registry, Readiness::new(), &shutdown);
    let mut workers = Workers::new(&shutdown);
    workers.spawn("ops", async move { Ok(ops.serve(listener).await?) });
    let locks = TenantLocks::new(&directories);
    for directory in directories {
        let name = format!("sync {} {}", directory.tenant, directory.source);
        let lock = locks.get(&directory.tenant);
        let publisher = publisher.clone();
        let metrics = metrics.clone();
        let stop = shutdown.token();
        workers.spawn(name, async move {
            run_directory(directory, publisher, metrics, lock, stop).await;
            Ok(())
        });
    }
    let report = workers.run(config.shutdown.grace_period()).await;
    telemetry.shutdown().await;
    if report.is_clean() { Ok(()) } else { anyhow::bail!("some workers did not stop cleanly") }
}
