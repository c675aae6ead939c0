//! The `rollcall-engine` binary: runs the engine, migrates the database, applies tenant
//! folders to the store, or backs up and restores the bus's streams.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use rollcall_bus::backup::{RestoreOptions, TransferOptions, backup_stream, restore_stream};
use rollcall_bus::{Namespace, Topology};
use rollcall_core::model::SourceId;
use rollcall_engine::{EngineConfig, Service, leaver_report, tenant_apply};
use rollcall_reviews::evidence::export_campaign;
use rollcall_runtime::{ConfigArgs, ConfigLoader, Shutdown};
use rollcall_store::{
    ApprovalOutcome, RemediationMode, RemediationSettings, Store, StoreOptions, TaskKind,
};
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
    /// Export the evidence of access-review campaigns. The export runs here rather than in
    /// the offline `rollcall` CLI because it reads the store; `rollcall evidence verify`
    /// checks the result with no server.
    Evidence {
        #[command(subcommand)]
        command: EvidenceCommand,
    },
    /// Verify a tenant's audit chain in the store: recompute every entry's hash from the
    /// retention anchor to the head and name the first entry that breaks the chain. Exits
    /// with 0 when the chain is intact and 3 when it is broken. Uses the postgres section
    /// of the configuration.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Show or change a tenant's remediation mode. The write credentials stay in the
    /// `remediation` section of the configuration, and this command sets whether and where
    /// they are used. Uses the postgres section of the configuration.
    Remediation {
        #[command(subcommand)]
        command: RemediationCommand,
    },
    /// Back up or restore the bus's JetStream streams, with their messages and the
    /// consumers' ack positions, through the server's snapshot API. Uses the nats section
    /// of the configuration, TLS included.
    Streams {
        #[command(subcommand)]
        command: StreamsCommand,
    },
}

#[derive(Debug, Subcommand)]
enum StreamsCommand {
    /// Back up every stream of nats.stream_prefix (`<prefix>_SOURCE`, `_HR`, `_FINDING` and
    /// `_DEADLETTER`), each into the folder DIR/<stream>. A stream that fails does not
    /// stop the others, and the command then exits with 1.
    Backup {
        /// The folder to write; created when missing. It must not contain a backup of
        /// the same streams already, so use a new folder per backup, such as one per date.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Restore streams from a folder that `streams backup` wrote. Stop the engine first.
    /// JetStream restores only into a missing stream, so an existing stream fails unless
    /// --delete-existing is given. A stream that fails does not stop the others, and the
    /// command then exits with 1.
    Restore {
        /// The folder that `streams backup --out` wrote, with one folder per stream.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Restore only this stream, such as ROLLCALL_HR. Without it, every stream of
        /// nats.stream_prefix is restored.
        #[arg(long, value_name = "NAME")]
        stream: Option<String>,
        /// Delete each stream that exists, with its messages and consumers, before
        /// restoring it. The backup's files are checked before anything is deleted, but
        /// the server checks the data itself only after the deletion.
        #[arg(long)]
        delete_existing: bool,
    },
}

#[derive(Debug, Subcommand)]
enum RemediationCommand {
    /// Print the tenant's mode and the sources remediation may act on.
    Show {
        /// The tenant id.
        #[arg(long, value_name = "TENANT")]
        tenant: String,
    },
    /// Set the tenant's mode and sources, and record the change with the actor in the
    /// tenant's audit chain. Start with `dry_run`: it records what would be done and
    /// changes nothing.
    Set {
        /// The tenant id.
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        /// `off`, `dry_run` or `enforce`.
        #[arg(long, value_name = "MODE")]
        mode: String,
        /// A source remediation may act on, such as `entra`, `ldap` or `ehr:athena`. Repeat
        /// it for several. Accounts of sources not listed are left alone.
        #[arg(long = "source", value_name = "SOURCE")]
        sources: Vec<String>,
        /// The login of the person making the change, recorded in the audit chain.
        #[arg(long, value_name = "LOGIN")]
        actor: String,
    },
    /// List the tenant's remediation tasks with their state: what the engine did, what
    /// it would do (dry_run), and the EHR and EPCS tasks left to the EHR's administrators.
    Tasks {
        /// The tenant id.
        #[arg(long, value_name = "TENANT")]
        tenant: String,
    },
    /// Approve an EPCS task. Disabling a prescriber's EHR account needs two different
    /// people; each approval is recorded with its actor in the audit chain.
    Approve {
        /// The tenant id.
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        /// The task id, as `remediation tasks` prints it.
        #[arg(long, value_name = "TASK")]
        task: String,
        /// The login of the person approving.
        #[arg(long, value_name = "LOGIN")]
        actor: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Walk the tenant's chain and report whether it is intact.
    Verify {
        /// The tenant id.
        #[arg(long, value_name = "TENANT")]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
enum EvidenceCommand {
    /// Write one campaign's evidence pack (campaign.json, items.csv, report.html,
    /// audit.jsonl, manifest.json) into a new or empty folder, and record the export in
    /// the tenant's audit chain. Uses the postgres section of the configuration.
    Export {
        /// The tenant id.
        #[arg(long, value_name = "TENANT")]
        tenant: String,
        /// The campaign id, a UUID.
        #[arg(long, value_name = "UUID")]
        campaign: uuid::Uuid,
        /// The folder to write; created when missing, and it must be empty.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The person exporting, as recorded in the audit chain, such as a login.
        #[arg(long, value_name = "NAME")]
        actor: String,
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
        Command::Evidence { command: EvidenceCommand::Export { tenant, campaign, out, actor } } => {
            for warning in &loaded.warnings {
                eprintln!("rollcall-engine: {warning}");
            }
            export_evidence(&loaded.config, &tenant, campaign, &out, &actor).await
        }
        Command::Audit { command: AuditCommand::Verify { tenant } } => {
            for warning in &loaded.warnings {
                eprintln!("rollcall-engine: {warning}");
            }
            verify_audit(&loaded.config, &tenant).await
        }
        Command::Remediation { command } => {
            for warning in &loaded.warnings {
                eprintln!("rollcall-engine: {warning}");
            }
            remediation(&loaded.config, command).await
        }
        Command::Streams { command } => {
            for warning in &loaded.warnings {
                eprintln!("rollcall-engine: {warning}");
            }
            match command {
                StreamsCommand::Backup { out } => backup_streams(&loaded.config, &out).await,
                StreamsCommand::Restore { dir, stream, delete_existing } => {
                    restore_streams(&loaded.config, &dir, stream.as_deref(), delete_existing).await
                }
            }
        }
    }
}

/// Reports whether the configuration gives the engine write credentials for `source` of
/// `tenant`.
fn has_write_credentials(
    config: &EngineConfig,
    tenant: &rollcall_core::TenantId,
    source: &SourceId,
) -> bool {
    let Some(access) = config.remediation.tenants.get(tenant.as_str()) else { return false };
    let source = source.to_string();
    access.entra.as_ref().is_some_and(|entra| entra.source == source)
        || access.ldap.as_ref().is_some_and(|ldap| ldap.source == source)
}

/// Parses the arguments of `remediation set` into the settings to store.
fn requested_settings(mode: &str, sources: &[String]) -> Result<RemediationSettings> {
    let Some(mode) = RemediationMode::parse(mode) else {
        bail!("--mode `{mode}` is not a remediation mode; use off, dry_run or enforce");
    };
    let mut parsed = BTreeSet::new();
    for source in sources {
        let id: SourceId = source.parse().with_context(|| {
            format!("--source `{source}` is not a source id; use entra, ldap or ehr:VENDOR")
        })?;
        parsed.insert(id);
    }
    if mode != RemediationMode::Off && parsed.is_empty() {
        bail!("--mode {} needs at least one --source to act on", mode.as_str());
    }
    Ok(RemediationSettings { mode, sources: parsed })
}

async fn remediation(config: &EngineConfig, command: RemediationCommand) -> Result<ExitCode> {
    let (tenant, wanted) = match &command {
        RemediationCommand::Tasks { tenant } => return remediation_tasks(config, tenant).await,
        RemediationCommand::Approve { tenant, task, actor } => {
            return approve_task(config, tenant, task, actor).await;
        }
        RemediationCommand::Show { tenant } => (tenant, None),
        RemediationCommand::Set { tenant, mode, sources, actor } => {
            let settings = requested_settings(mode, sources)?;
            if actor.trim().is_empty() {
                bail!("--actor is empty; give the login of the person changing the mode");
            }
            (tenant, Some((settings, actor.trim())))
        }
    };
    let tenant = rollcall_core::TenantId::new(tenant)?;

    let url = config.postgres.url.expose_str().context("postgres.url is not UTF-8 text")?;
    let store =
        Store::connect(url, &StoreOptions { max_connections: 2, ..StoreOptions::default() })
            .await?;
    let scope = store.tenant(&tenant);
    let result = async {
        let current = scope.remediation_settings().await?;
        let Some((settings, actor)) = &wanted else { return Ok(Ok(current)) };
        // Enforce only after a dry run, so the practice reviews what would be disabled first.
        if settings.mode == RemediationMode::Enforce && current.mode == RemediationMode::Off {
            return Ok(Err(current));
        }
        scope.set_remediation_settings(settings, actor, chrono::Utc::now()).await?;
        scope.remediation_settings().await.map(Ok)
    }
    .await;
    store.close().await;
    let settings = result.with_context(|| {
        format!("failed to read or store the remediation settings of tenant `{tenant}`")
    })?;
    let Ok(settings) = settings else {
        bail!(
            "tenant `{tenant}` has remediation off, so it cannot go to enforce directly; set \
             --mode dry_run first, check what it would do with `remediation tasks --tenant \
             {tenant}`, then set --mode enforce"
        );
    };

    let sources: Vec<String> = settings.sources.iter().map(SourceId::to_string).collect();
    println!(
        "tenant `{tenant}`: remediation {} for sources [{}]",
        settings.mode.as_str(),
        sources.join(", ")
    );
    if settings.mode != RemediationMode::Off {
        for source in &settings.sources {
            if !has_write_credentials(config, &tenant, source) {
                eprintln!(
                    "rollcall-engine: warning: no write credentials for source `{source}` of tenant `{tenant}`; set remediation.tenants.{tenant} in the engine configuration"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Connects to the store with the engine's configuration, for one command.
async fn command_store(config: &EngineConfig) -> Result<Store> {
    let url = config.postgres.url.expose_str().context("postgres.url is not UTF-8 text")?;
    let options = StoreOptions { max_connections: 2, ..StoreOptions::default() };
    Ok(Store::connect(url, &options).await?)
}

/// Prints one line per remediation task of `tenant`, oldest first.
async fn remediation_tasks(config: &EngineConfig, tenant: &str) -> Result<ExitCode> {
    let tenant = rollcall_core::TenantId::new(tenant)?;
    let store = command_store(config).await?;
    let tasks = store.tenant(&tenant).remediation_tasks().await;
    store.close().await;
    let tasks =
        tasks.with_context(|| format!("failed to read the remediation tasks of `{tenant}`"))?;
    if tasks.is_empty() {
        println!("tenant `{tenant}`: no remediation tasks");
    }
    for task in &tasks {
        let login = task.login.as_deref().unwrap_or(&task.account_id);
        let approvers: Vec<&str> = [&task.first_approver, &task.second_approver]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let approvals = if task.kind == TaskKind::EpcsTask {
            format!(" approvals {}/2 [{}]", approvers.len(), approvers.join(", "))
        } else {
            String::new()
        };
        let error =
            task.last_error.as_deref().map(|e| format!(" last error: {e}")).unwrap_or_default();
        println!(
            "{} {} {} {}/{} employee {}{approvals}{error}",
            task.task_id,
            task.kind.as_str(),
            task.state.as_str(),
            task.source,
            login,
            task.employee_id
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Records `actor`'s approval of an EPCS task and prints how many approvals it has.
async fn approve_task(
    config: &EngineConfig,
    tenant: &str,
    task: &str,
    actor: &str,
) -> Result<ExitCode> {
    let tenant = rollcall_core::TenantId::new(tenant)?;
    let actor = actor.trim();
    if actor.is_empty() {
        bail!("--actor is empty; give the login of the person approving");
    }
    let store = command_store(config).await?;
    let outcome =
        store.tenant(&tenant).approve_remediation_task(task, actor, chrono::Utc::now()).await;
    store.close().await;
    let outcome =
        outcome.with_context(|| format!("failed to record the approval of task `{task}`"))?;
    match outcome {
        ApprovalOutcome::Recorded(1) => {
            println!("task `{task}`: approved by {actor}; a second person must approve it too");
            Ok(ExitCode::SUCCESS)
        }
        ApprovalOutcome::Recorded(_) => {
            println!(
                "task `{task}`: approved by {actor}, the second approver; the engine hands it to the EHR's administrators at its next pass"
            );
            Ok(ExitCode::SUCCESS)
        }
        ApprovalOutcome::SameApprover => bail!(
            "task `{task}`: {actor} already approved it; the second approval must come from another person"
        ),
        ApprovalOutcome::AlreadyApproved => {
            println!("task `{task}`: already approved by two people; nothing changed");
            Ok(ExitCode::SUCCESS)
        }
        ApprovalOutcome::NotRequired => {
            bail!("task `{task}` is not an EPCS task; only EPCS tasks need approval")
        }
        ApprovalOutcome::NotFound => bail!(
            "tenant `{tenant}` has no task `{task}`; list them with `remediation tasks --tenant {tenant}`"
        ),
    }
}

/// How long connecting to NATS may take for a `streams` command.
const NATS_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to NATS as the engine does, with the token and TLS settings of the `nats`
/// section, for one command.
async fn nats_client(config: &EngineConfig) -> Result<async_nats::Client> {
    let url = config.nats.display_url();
    if config.nats.insecure {
        eprintln!(
            "rollcall-engine: warning: nats.insecure is set, so the stream data may travel to {url} without TLS"
        );
    }
    let options =
        config.nats.connect_options("rollcall-engine")?.connection_timeout(NATS_CONNECT_TIMEOUT);
    options.connect(config.nats.url.as_str()).await.with_context(|| {
        format!("cannot connect to NATS at `{url}`; check nats.url and that the server runs")
    })
}

/// Returns the names of the bus's streams under the configured prefixes.
fn stream_names(config: &EngineConfig) -> Result<Vec<String>> {
    let namespace = Namespace::new(&config.nats.subject_prefix, &config.nats.stream_prefix)
        .context("nats.subject_prefix or nats.stream_prefix is invalid")?;
    Ok(Topology::new(namespace).streams().iter().map(|spec| spec.name.clone()).collect())
}

async fn backup_streams(config: &EngineConfig, out: &Path) -> Result<ExitCode> {
    let streams = stream_names(config)?;
    let client = nats_client(config).await?;
    let options = TransferOptions::default();
    let mut failed = false;
    for stream in &streams {
        match backup_stream(&client, stream, out, &options).await {
            Ok(backup) => println!(
                "{}: stream `{stream}` backed up: messages {}, last sequence {}, consumers {}, {} bytes",
                backup.folder.display(),
                backup.counts.messages,
                backup.counts.last_sequence,
                backup.counts.consumers,
                backup.data_bytes
            ),
            Err(error) => {
                eprintln!("rollcall-engine: {error}");
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

async fn restore_streams(
    config: &EngineConfig,
    dir: &Path,
    stream: Option<&str>,
    delete_existing: bool,
) -> Result<ExitCode> {
    if !dir.is_dir() {
        bail!(
            "{} is not a folder; give the folder that `streams backup --out` wrote",
            dir.display()
        );
    }
    let streams = match stream {
        Some(stream) => vec![stream.to_owned()],
        None => stream_names(config)?,
    };
    let client = nats_client(config).await?;
    let options = RestoreOptions { delete_existing, transfer: TransferOptions::default() };
    let mut failed = false;
    for stream in &streams {
        match restore_stream(&client, stream, dir, &options).await {
            Ok(restore) => {
                let replaced =
                    if restore.deleted_existing { " (existing stream replaced)" } else { "" };
                println!(
                    "stream `{stream}` restored{replaced}: messages {}, last sequence {}, consumers {}",
                    restore.restored.messages,
                    restore.restored.last_sequence,
                    restore.restored.consumers
                );
                if restore.restored.messages < restore.backed_up.messages {
                    println!(
                        "stream `{stream}`: the backup held {} messages; the server removed the {} older than the stream's max age",
                        restore.backed_up.messages,
                        restore.backed_up.messages - restore.restored.messages
                    );
                }
            }
            Err(error) => {
                eprintln!("rollcall-engine: {error}");
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
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

/// The exit code of `audit verify` for a broken chain, apart from 1 (the command could
/// not run) so that a scheduled check can tell the two apart.
const CHAIN_BROKEN: u8 = 3;

async fn verify_audit(config: &EngineConfig, tenant: &str) -> Result<ExitCode> {
    let tenant = rollcall_core::TenantId::new(tenant)?;
    let url = config.postgres.url.expose_str().context("postgres.url is not UTF-8 text")?;
    let store =
        Store::connect(url, &StoreOptions { max_connections: 2, ..StoreOptions::default() })
            .await?;
    let verification = store.tenant(&tenant).verify_audit_chain().await;
    store.close().await;
    let verification = verification
        .with_context(|| format!("cannot read the audit chain of tenant `{tenant}`"))?;
    match verification {
        rollcall_store::ChainVerification::Intact { anchor_seq, head_seq } => {
            let retained = if anchor_seq == 0 {
                String::new()
            } else {
                format!("; entries up to {anchor_seq} were removed by retention")
            };
            println!(
                "audit chain of tenant `{tenant}` is intact: {} entries checked, newest {head_seq}{retained}",
                head_seq.saturating_sub(anchor_seq)
            );
            Ok(ExitCode::SUCCESS)
        }
        rollcall_store::ChainVerification::Broken(chain_break) => {
            eprintln!(
                "rollcall-engine: the audit chain of tenant `{tenant}` is broken: {chain_break}. Keep the database as it is, restore the last backup whose chain verifies into a separate database to compare, and treat the change as a security incident."
            );
            Ok(ExitCode::from(CHAIN_BROKEN))
        }
    }
}

async fn export_evidence(
    config: &EngineConfig,
    tenant: &str,
    campaign: uuid::Uuid,
    out: &Path,
    actor: &str,
) -> Result<ExitCode> {
    let tenant = rollcall_core::TenantId::new(tenant)?;
    if actor.trim().is_empty() {
        bail!("--actor is empty; give the login of the person exporting the evidence");
    }
    let url = config.postgres.url.expose_str().context("postgres.url is not UTF-8 text")?;
    let store =
        Store::connect(url, &StoreOptions { max_connections: 2, ..StoreOptions::default() })
            .await?;
    let scope = store.tenant(&tenant);
    let result = export_campaign(&scope, campaign, out, chrono::Utc::now(), actor.trim()).await;
    store.close().await;
    let summary = result.with_context(|| {
        format!("cannot export the evidence of campaign `{campaign}` of tenant `{tenant}`")
    })?;
    println!(
        "{}: campaign `{campaign}` of tenant `{tenant}` exported: {} items, {} audit entries, manifest SHA-256 {}",
        out.display(),
        summary.items,
        summary.entries,
        summary.manifest_sha256
    );
    Ok(ExitCode::SUCCESS)
}
