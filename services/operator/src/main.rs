//! The `rollcall-operator` binary: prints the CRDs, or runs the Tenant controller.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::runtime::events::Reporter;
use rollcall_operator::reconcile::Context;
use rollcall_operator::{controller, lease};
use rollcall_runtime::ops::CheckFailure;
use rollcall_runtime::{OpsConfig, OpsServer, Readiness, Shutdown};
use rollcall_store::{Store, StoreOptions};

/// How long the readiness probe's PostgreSQL check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Rollcall's Kubernetes operator.
#[derive(Parser)]
#[command(name = "rollcall-operator", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the CustomResourceDefinitions as YAML, for `kubectl apply -f -`.
    Crds,
    /// Run the controller with the in-cluster or kubeconfig credentials.
    Run {
        /// A file holding the runtime role's PostgreSQL URL, as the engine's
        /// `postgres.url_file`; a file keeps the password out of the environment.
        #[arg(long, env = "ROLLCALL_DATABASE_URL_FILE")]
        database_url_file: PathBuf,
        /// Watch only this namespace; all namespaces when unset.
        #[arg(long, env = "ROLLCALL_OPERATOR_NAMESPACE")]
        namespace: Option<String>,
        /// The ops server's address: `/healthz` and `/readyz` for the kubelet's probes,
        /// and `/metrics`. All interfaces, because the kubelet probes the pod's address.
        #[arg(long, env = "ROLLCALL_OPERATOR_OPS_LISTEN", default_value = "0.0.0.0:9090")]
        ops_listen: SocketAddr,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rollcall-operator: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Crds => {
            print!("{}", rollcall_operator::crd::all_yaml().context("rendering the CRDs failed")?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { database_url_file, namespace, ops_listen } => {
            tracing_subscriber::fmt()
                .json()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .init();
            let database_url = std::fs::read_to_string(&database_url_file).with_context(|| {
                format!("cannot read the database URL from {}", database_url_file.display())
            })?;
            let store = Store::connect(
                database_url.trim(),
                &StoreOptions { max_connections: 2, ..StoreOptions::default() },
            )
            .await
            .context("connecting to PostgreSQL failed")?;

            // The ops server answers while the replica waits for the lease too: a standby
            // replica is healthy, and ready whenever PostgreSQL answers.
            let shutdown = Shutdown::new();
            shutdown.listen_for_signals().context("cannot listen for stop signals")?;
            let mut readiness = Readiness::new();
            let probe = store.clone();
            readiness.add("postgres", CHECK_TIMEOUT, move || {
                let probe = probe.clone();
                async move { probe.ping().await.map_err(|e| CheckFailure::new(e.to_string())) }
            });
            let registry = prometheus_client::registry::Registry::with_prefix("rollcall_operator");
            let listener = OpsServer::bind(&OpsConfig { listen: ops_listen })
                .await
                .context("set --ops-listen (ROLLCALL_OPERATOR_OPS_LISTEN) to a free address")?;
            let ops = OpsServer::new(registry, readiness, &shutdown);
            let serving = tokio::spawn(ops.serve(listener));

            let client = kube::Client::try_default()
                .await
                .context("no Kubernetes credentials: run in a pod or set KUBECONFIG")?;
            // The Downward API sets POD_NAME in the chart; outside a pod the process id is used.
            let holder = std::env::var("POD_NAME")
                .unwrap_or_else(|_| format!("rollcall-operator-{}", std::process::id()));
            let reporter = Reporter {
                controller: "rollcall-operator".to_owned(),
                instance: Some(holder.clone()),
            };
            // The lease lives in the watched namespace, or in the client's default namespace
            // (the pod's own) when all namespaces are watched.
            let lease_namespace =
                namespace.clone().unwrap_or_else(|| client.default_namespace().to_owned());
            let leases: Api<Lease> = Api::namespaced(client.clone(), &lease_namespace);
            tracing::info!(
                namespace = namespace.as_deref().unwrap_or("(all)"),
                holder,
                "rollcall-operator started; waiting for the leader lease"
            );
            tokio::select! {
                () = lease::acquire(&leases, &holder) => {}
                () = shutdown.triggered() => {
                    tracing::info!("rollcall-operator stopped before it led");
                    return Ok(ExitCode::SUCCESS);
                }
            }
            tokio::select! {
                () = controller::run(Context { client, store, reporter }, namespace.as_deref()) => {}
                () = lease::keep(&leases, &holder) => {
                    anyhow::bail!("lost the leader lease; exiting so that the replica restarts and waits for it");
                }
                () = shutdown.triggered() => {}
            }
            shutdown.trigger();
            if let Ok(Err(error)) = serving.await {
                tracing::warn!(error = %error, "ops server stopped with an error");
            }
            tracing::info!("rollcall-operator stopped");
            Ok(ExitCode::SUCCESS)
        }
    }
}
