//! The `rollcall-engine` binary: runs the engine, or applies tenant folders to the store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use rollcall_engine::{EngineConfig, Service, tenant_apply};
use rollcall_runtime::{ConfigArgs, ConfigLoader, Shutdown};
use rollcall_store::{Store, StoreOptions};

/// Rollcall's engine: applies snapshots from NATS JetStream to PostgreSQL, evaluates the
/// rules and publishes finding events.
#[derive(Debug, Parser)]
#[command(name = "rollcall-engine", version)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the engine (the default).
    Run,
    /// Manage tenants' configuration in the store.
    Tenant {
        #[command(subcommand)]
        command: TenantCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TenantCommand {
    /// Check each tenant folder's tenant.yaml and policy as `rollcall scan` does, and
    /// store them for the engine. Uses the postgres section of the configuration.
    Apply {
        /// Tenant folders, each with a tenant.yaml.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rollcall-engine: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rollcall-engine: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let loaded = ConfigLoader::from_args(&cli.config).load::<EngineConfig>()?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => serve(loaded).await,
        Command::Tenant { command: TenantCommand::Apply { dirs } } => {
            for warning in &loaded.warnings {
                eprintln!("rollcall-engine: {warning}");
            }
            apply(&loaded.config, &dirs).await
        }
    }
}

async fn serve(loaded: rollcall_runtime::Loaded<EngineConfig>) -> Result<ExitCode> {
    let telemetry = rollcall_runtime::telemetry::init("engine", &loaded.config.telemetry)?;
    loaded.log_warnings();
    let shutdown = Shutdown::new();
    shutdown.listen_for_signals()?;
    let service = Service::connect(loaded.config).await?;
    let report = service.run(&shutdown).await?;
    telemetry.shutdown().await;
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn apply(config: &EngineConfig, dirs: &[PathBuf]) -> Result<ExitCode> {
    let url = config.postgres.url.expose_str().context("postgres.url is not UTF-8 text")?;
    let store =
        Store::connect(url, &StoreOptions { max_connections: 2, ..StoreOptions::default() })
            .await?;
    let mut failed = false;
    for dir in dirs {
        match tenant_apply::apply(&store, dir).await {
            Ok(applied) if applied.changed => {
                println!("{}: tenant `{}` applied", dir.display(), applied.tenant)
            }
            Ok(applied) => println!("{}: tenant `{}` unchanged", dir.display(), applied.tenant),
            Err(error) => {
                eprintln!("rollcall-engine: {error}");
                failed = true;
            }
        }
    }
    store.close().await;
    // 3, as `rollcall scan` exits for a tenant folder it cannot read.
    Ok(if failed { ExitCode::from(3) } else { ExitCode::SUCCESS })
}
