//! The `rollcall-engine` binary: runs the engine, migrates the database, or applies
//! tenant folders to the store.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use rollcall_engine::{EngineConfig, Service, leaver_report, tenant_apply};
use rollcall_runtime::{ConfigArgs, ConfigLoader, Shutdown};
use rollcall_store::{Store, StoreOptions};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

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
    /// Apply the store's database migrations as the schema owner, then exit. The owner is
    /// not the runtime role in `postgres.url`, so its URL is given here; no configuration
    /// file is read.
    Migrate {
        /// File that contains the schema owner's URL, such as
        /// `postgres://rollcall_migrator:PASSWORD@db/rollcall`. Preferred over
        /// `--owner-url`, whose value other users of the host can see in the process list.
        #[arg(long, value_name = "PATH", conflicts_with = "owner_url")]
        owner_url_file: Option<PathBuf>,
        /// The schema owner's URL, for servers that need no password.
        #[arg(long, value_name = "URL", required_unless_present = "owner_url_file")]
        owner_url: Option<String>,
    },
    /// Print the leaver SLA of a tenant: per leaver and source, the linked accounts and
    /// the time from the termination's effective instant to the last account disabled.
    /// Uses the postgres section of the configuration.
    Leavers {
        /// The tenant id.
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = leaver_report::Format::Csv)]
        format: leaver_report::Format,
    },
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
    if let Some(Command::Migrate { owner_url_file, owner_url }) = &cli.command {
        return migrate(owner_url_file.as_deref(), owner_url.as_deref()).await;
    }
    let loaded = ConfigLoader::from_args(&cli.config).load::<EngineConfig>()?;
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => serve(loaded).await,
        // Handled before the configuration is loaded.
        Command::Migrate { .. } => Ok(ExitCode::SUCCESS),
        Command::Leavers { tenant, format } => {
            for warning in &loaded.warnings {
                eprintln!("rollcall-engine: {warning}");
            }
            leavers(&loaded.config, &tenant, format).await
        }
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

async fn migrate(url_file: Option<&Path>, url: Option<&str>) -> Result<ExitCode> {
    let url = match (url_file, url) {
        (Some(path), _) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the owner URL file {}", path.display()))?
            .trim()
            .to_owned(),
        (None, Some(url)) => url.to_owned(),
        (None, None) => bail!("give the schema owner's URL with --owner-url-file or --owner-url"),
    };
    let options: PgConnectOptions = url.parse().context(
        "the schema owner's URL is not a PostgreSQL URL: use postgres://ROLE[:PASSWORD]@HOST[:PORT]/DATABASE",
    )?;
    // The URL may hold a password, so only its parts without secrets are named.
    let target = format!(
        "database `{}` on {}:{} as `{}`",
        options.get_database().unwrap_or("(default)"),
        options.get_host(),
        options.get_port(),
        options.get_username()
    );
    let owner = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to {target}"))?;
    let result = rollcall_store::migrate_as_owner(&owner).await;
    owner.close().await;
    result.with_context(|| format!("migrating {target} failed"))?;
    println!("rollcall-engine: {target} is migrated");
    Ok(ExitCode::SUCCESS)
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

async fn leavers(
    config: &EngineConfig,
    tenant: &str,
    format: leaver_report::Format,
) -> Result<ExitCode> {
    let tenant = rollcall_core::TenantId::new(tenant)?;
    let url = config.postgres.url.expose_str().context("postgres.url is not UTF-8 text")?;
    let store =
        Store::connect(url, &StoreOptions { max_connections: 2, ..StoreOptions::default() })
            .await?;
    let report = store.tenant(&tenant).leaver_sla().await;
    store.close().await;
    let report = report.with_context(|| format!("cannot read the leavers of tenant `{tenant}`"))?;
    let mut out = std::io::stdout().lock();
    leaver_report::write(&mut out, &report, format)?;
    Ok(ExitCode::SUCCESS)
}
