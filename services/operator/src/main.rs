//! The `rollcall-operator` binary: prints the CRDs, or runs the Tenant controller.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use kube::runtime::events::Reporter;
use rollcall_operator::reconcile::Context;
use rollcall_operator::{controller, lease};
use rollcall_store::{Store, StoreOptions};

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
        Command::Run { database_url_file, namespace } => {
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
            lease::acquire(&leases, &holder).await;
            tokio::select! {
                () = controller::run(Context { client, store, reporter }, namespace.as_deref()) => {}
                () = lease::keep(&leases, &holder) => {
                    anyhow::bail!("lost the leader lease; exiting so that the replica restarts and waits for it");
                }
            }
            tracing::info!("rollcall-operator stopped");
            Ok(ExitCode::SUCCESS)
        }
    }
}
