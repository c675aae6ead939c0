//! The `rollcall-reviews` binary.

use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;
use rollcall_reviews_web::{ReviewsWebConfig, Service};
use rollcall_runtime::{ConfigArgs, ConfigLoader, Shutdown};

/// The binary's allocator: see `Cargo.toml` for why.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rollcall's access reviews for managers: the review pages, sign-in with OpenID Connect
/// and the JSON API.
#[derive(Debug, Parser)]
#[command(name = "rollcall-reviews", version)]
struct Cli {
    #[command(flatten)]
    config: ConfigArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("rollcall-reviews: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("rollcall-reviews: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode> {
    let loaded = ConfigLoader::from_args(&cli.config).load::<ReviewsWebConfig>()?;
    let telemetry = rollcall_runtime::telemetry::init("reviews-web", &loaded.config.telemetry)?;
    loaded.log_warnings();
    let shutdown = Shutdown::new();
    shutdown.listen_for_signals()?;
    let service = Service::start(loaded.config).await?;
    let report = service.run(&shutdown).await;
    telemetry.shutdown().await;
    Ok(if report.is_clean() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
