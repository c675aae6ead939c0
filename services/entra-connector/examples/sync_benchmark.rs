//! Benchmark: a full sync of a generated 10,000-user tenant from the Graph double,
//! against a plain page fetcher that sends the same requests with no retries, no budget
//! and no snapshot building.
//!
//! Run: `cargo run --release -p rollcall-entra-connector --example sync_benchmark -- [users]
//! [latency-ms] [runs]` (defaults 10000, 20, 3). It prints one Markdown table row per run.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rollcall_entra_connector::{
    AppConfig, Credential, GraphClient, HttpTransport, Limits, full_sync,
};
use rollcall_graph_double::{GraphDouble, RequestRecord, Tenant};
use serde_json::{Value, json};

const DIRECTORY: &str = "0c0ffee0-0000-4000-8000-00000000be01";
const CLIENT_ID: &str = "11111111-2222-4333-8444-5555555be001";
const SECRET: &str = "synthetic-benchmark-secret";

/// The resource units Graph grants one app in one tenant of more than 500 users per
/// 10 seconds (identity and access service limits, size L).
const PAIR_QUOTA_PER_10S: f64 = 8_000.0;

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: u64| -> Result<u64> {
        match args.get(index) {
            Some(text) => text.parse().with_context(|| {
                format!("argument {} must be a whole number, got {text}", index + 1)
            }),
            None => Ok(default),
        }
    };
    let users = number(0, 10_000)? as usize;
    let latency = Duration::from_millis(number(1, 20)?);
    let runs = number(2, 3)?;

    let tenant = Tenant::generate(users);
    let privileged = tenant.privileged_user_ids();
    let double = GraphDouble::new();
    double.add_tenant(DIRECTORY, CLIENT_ID, SECRET, tenant);
    double.configure(|faults| faults.latency = latency);
    let addr: SocketAddr = "127.0.0.1:0".parse()?;
    let (_, base) = double.spawn(addr).await?;

    let dir = tempfile::tempdir()?;
    let secret_file = dir.path().join("secret");
    std::fs::write(&secret_file, SECRET)?;
    let app = AppConfig {
        client_id: CLIENT_ID.into(),
        client_secret_file: Some(secret_file),
        certificate_file: None,
    };
    let credential = Credential::load("benchmark", &app)?;
    let transport = HttpTransport::new(Duration::from_secs(60))?;

    println!(
        "| run | users | latency | requests | per 1,000 users | resource units | sync | plain fetcher | ratio | share of 10 s pair quota |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for run in 1..=runs {
        double.clear_requests();
        let mut client = GraphClient::new(
            &transport,
            &base,
            DIRECTORY,
            CLIENT_ID,
            &credential,
            Limits::default(),
        );
        let started = Instant::now();
        let result = full_sync(&mut client, &base, "benchmark").await?;
        let sync_time = started.elapsed();
        if result.snapshot.accounts.len() != users {
            bail!("the sync read {} accounts, expected {users}", result.snapshot.accounts.len());
        }
        let log = double.requests();
        let plain_time = plain_fetch(&base, &log, &privileged).await?;

        let requests = result.stats.graph_requests();
        let units = result.stats.resource_units();
        println!(
            "| {run} | {users} | {} ms | {requests} | {:.1} | {units} | {:.2} s | {:.2} s | {:.2} | {:.0} % |",
            latency.as_millis(),
            requests as f64 * 1000.0 / users as f64,
            sync_time.as_secs_f64(),
            plain_time.as_secs_f64(),
            sync_time.as_secs_f64() / plain_time.as_secs_f64(),
            100.0 * units as f64 / PAIR_QUOTA_PER_10S,
        );
    }
    Ok(())
}

/// Replays the sync's Graph requests one after another with a bare reqwest client and
/// only reads the bodies.
async fn plain_fetch(base: &str, log: &[RequestRecord], privileged: &[String]) -> Result<Duration> {
    let http = reqwest::Client::new();
    let token_body = http
        .post(format!("{base}/{DIRECTORY}/oauth2/v2.0/token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}&scope=x"
        ))
        .send()
        .await?
        .bytes()
        .await?;
    let token: Value = serde_json::from_slice(&token_body)?;
    let mut batches = privileged
        .chunks(20)
        .map(|chunk| {
            let requests: Vec<Value> = chunk
                .iter()
                .enumerate()
                .map(|(n, id)| json!({ "id": n.to_string(), "method": "GET", "url": format!("/users/{id}/authentication/methods") }))
                .collect();
            serde_json::to_vec(&json!({ "requests": requests }))
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter();
    let bearer =
        format!("Bearer {}", token.get("access_token").and_then(Value::as_str).unwrap_or_default());
    let started = Instant::now();
    for record in log.iter().filter(|r| r.path != "/oauth2/v2.0/token") {
        let prefix = if record.path.starts_with("/roleManagement/directory/roleDefinitions") {
            "/beta"
        } else {
            "/v1.0"
        };
        let url = format!("{base}{prefix}{}?{}", record.path, record.query);
        let request = if record.method == "POST" {
            http.post(url)
                .header("Content-Type", "application/json")
                .body(batches.next().unwrap_or_default())
        } else {
            http.get(url)
        };
        let body = request.header("Authorization", &bearer).send().await?.bytes().await?;
        std::hint::black_box(body);
    }
    Ok(started.elapsed())
}
