//! The `rollcall-hr-webhook` binary.

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use rollcall_hr_webhook::{HrWebhookConfig, Service};
use rollcall_runtime::{ConfigArgs, ConfigLoader, Shutdown};

/// Rollcall's HR intake: signed webhooks and SCIM 2.0 from HR systems, committed to
/// PostgreSQL and published on NATS.
#[derive(Debug, Parser)]
#[command(name = "rollcall-hr-webhook", version)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rollcall-hr-webhook: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rollcall-hr-webhook: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let loaded = ConfigLoader::from_args(&cli.config).load::<HrWebhookConfig>()?;
    let telemetry = rollcall_runtime::telemetry::init("hr-webhook", &loaded.config.telemetry)?;
    loaded.log_warnings();
    let shutdown = Shutdown::new();
    shutdown.listen_for_signals()?;
    let service = Service::start(loaded.config).await?;
    let report = service.run(&shutdown).await;
    telemetry.shutdown().await;
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
