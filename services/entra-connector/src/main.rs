//! `rollcall-entra-connector`: syncs the configured tenants' Entra ID through Microsoft
//! Graph.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use clap::{Parser, Subcommand};
use rollcall_entra_connector::{
    ConnectorConfig, Credential, GraphClient, HttpTransport, full_sync,
};

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
}

#[tokio::main]
async fn main() -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let config = ConnectorConfig::load(&args.config)?;
    let transport = HttpTransport::new(config.limits.request_timeout())?;
    let mut failed = false;
    match args.command {
        Command::Once => {
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
                    Ok(result) => {
                        let summary = serde_json::json!({
                            "tenant": tenant.tenant,
                            "accounts": result.snapshot.accounts.len(),
                            "entitlements": result.snapshot.entitlements.len(),
                            "memberships": result.snapshot.memberships.len(),
                            "requests": result.stats.total(),
                            "throttled_ms": result.stats.throttled.as_millis() as u64,
                            "sign_in_available": result.sign_in_available,
                            "problems": result.problems.iter().map(|p| p.message.clone()).collect::<Vec<_>>(),
                        });
                        println!("{summary}");
                    }
                    Err(error) => {
                        failed = true;
                        tracing::error!(tenant = %tenant.tenant, %error, "sync failed");
                    }
                }
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
