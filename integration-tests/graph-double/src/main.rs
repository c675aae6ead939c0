//! Runs the Graph double on loopback with one tenant, for manual tests and benchmarks.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, Result};
use clap::Parser;
use rollcall_graph_double::{GraphDouble, Tenant};

/// Serve a synthetic Entra ID tenant as Microsoft Graph would.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8765")]
    listen: SocketAddr,
    /// Folder of saved Graph responses to serve (the `entra/` folder of a `rollcall scan`
    /// tenant). Without it, a tenant of `--users` generated users is served.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Number of users to generate when no `--dir` is given.
    #[arg(long, default_value_t = 1000)]
    users: usize,
    /// Directory (tenant) id used in the token URL.
    #[arg(long, default_value = "00000000-0000-4000-8000-00000000d0b1")]
    tenant_id: String,
    /// Client id the token endpoint accepts.
    #[arg(long, default_value = "rollcall-double-client")]
    client_id: String,
    /// Client secret the token endpoint accepts.
    #[arg(long, default_value = "double-secret")]
    client_secret: String,
    /// Delay before every Graph answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let args = Args::parse();
    let tenant = match &args.dir {
        Some(dir) => Tenant::load_dir(dir).with_context(|| format!("loading {}", dir.display()))?,
        None => Tenant::generate(args.users),
    };
    let double = GraphDouble::new();
    double.add_tenant(&args.tenant_id, &args.client_id, &args.client_secret, tenant);
    double.configure(|faults| faults.latency = Duration::from_millis(args.latency_ms));
    let (addr, _) = double.spawn(args.listen).await.context("binding the listen address")?;
    tracing::info!(%addr, tenant = %args.tenant_id, "graph double listening");
    tokio::signal::ctrl_c().await.context("waiting for Ctrl-C")?;
    Ok(())
}
