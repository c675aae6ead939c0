//! `make bench-reviews-web`: latency of the review page and the decision API under load,
//! measured by `wrk` in a second process against the app on loopback.
//!
//! 1. The example practice is stored in a scratch database and its campaign launched,
//!    as in the tests. The bench prints how many items the office manager's page lists.
//! 2. The app is served from this process with sessions in the local Redis. A session
//!    for the office manager is stored directly, because sign-in is not what is timed.
//! 3. `wrk --latency` runs for `DURATION` with 16 connections (`BENCH_CONNECTIONS`) against
//!    `GET /campaigns/{id}`, then against `POST /api/v1/campaigns/{id}/decisions`
//!    revoking one item again and again (each request checks the campaign in one
//!    transaction, then records the decision and its audit entry in another).
//!
//! It prints a Markdown table for docs/benchmarks.md. The servers are the local
//! PostgreSQL (or `ROLLCALL_TEST_DATABASE_URL`) and Redis on 127.0.0.1:6379.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark stops at its first failure"
)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};
use chrono::Utc;
use rollcall_reviews_web::ReviewsWebConfig;
use rollcall_reviews_web::routes::router;
use rollcall_reviews_web::service::{app_state, connect_redis};
use rollcall_reviews_web::session::SessionData;
use serde_json::json;
use support::store_support::TestDb;
use uuid::Uuid;

/// The allocator of the `rollcall-reviews-web` binary, so the app here runs as it ships.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Seconds each run lasts.
const DURATION: &str = "15s";
/// Open connections; two wrk threads share them. `BENCH_CONNECTIONS` sets another count,
/// such as 2 for latency without queueing.
fn connections() -> String {
    std::env::var("BENCH_CONNECTIONS").unwrap_or_else(|_| "16".into())
}

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}

async fn run() -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is missing; run scripts/install-bench-tools.sh");
    }
    let db = TestDb::create().await;
    let store = db.store().await;
    let campaign = support::launched_practice(&store, "harborview").await;
    let tenant = rollcall_core::TenantId::new("harborview")?;
    let items = store.tenant(&tenant).review_items(campaign).await?;
    let mine: Vec<_> = items.iter().filter(|i| i.reviewer == "hr:E1002").collect();
    let people: std::collections::BTreeSet<_> = mine.iter().map(|i| &i.reviewee).collect();
    let item = mine.first().context("the office manager has no items")?.item_id;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let prefix = format!("rollcall:bench:{}:", Uuid::new_v4().simple());
    let config: ReviewsWebConfig = serde_json::from_value(json!({
        "http": { "public_url": base },
        "postgres": { "url": "postgres://unused@127.0.0.1/unused" },
        "redis": { "url": "redis://127.0.0.1:6379/0", "key_prefix": prefix },
        "oidc": { "client_id": "rollcall-reviews", "client_secret": "unused" },
        "tenants": { "harborview": { "issuer": "http://127.0.0.1:1" } }
    }))?;
    let redis = connect_redis(&config.redis).await?;
    // The app's own pool has the size of its configuration's default, as the chart
    // deploys it, not the tests' pool of four: a review page runs three reads at once.
    let app_pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(config.postgres.max_connections)
        .connect_with(db.options_as(support::store_support::APP))
        .await?;
    let app_store = rollcall_store::Store::from_pool(app_pool).await?;
    let state = Arc::new(app_state(&config, app_store, redis)?);
    let session = SessionData {
        tenant: "harborview".into(),
        identity: "hr:E1002".into(),
        name: "Bench reviewer".into(),
        subject: "bench".into(),
        roles: Vec::new(),
        signed_in_at: Utc::now(),
        csrf_token: state.sessions.random_token()?,
    };
    let session_id = state.sessions.create(&session).await?;
    let app = router(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let cookie = format!("Cookie: rc_session={session_id}");
    let page = wrk(&[&cookie], None, &format!("{base}/campaigns/{campaign}")).await?;
    let script =
        std::env::temp_dir().join(format!("rollcall-bench-{}.lua", Uuid::new_v4().simple()));
    let body = json!({ "items": [item], "decision": "revoke" }).to_string().replace('"', "\\\"");
    std::fs::write(
        &script,
        format!(
            "wrk.method = \"POST\"\nwrk.body = \"{body}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"X-CSRF-Token\"] = \"{}\"\n",
            session.csrf_token
        ),
    )?;
    let decide =
        wrk(&[&cookie], Some(&script), &format!("{base}/api/v1/campaigns/{campaign}/decisions"))
            .await;
    let _ = std::fs::remove_file(&script);
    let decide = decide?;
    state.sessions.delete(&session_id).await?;

    println!(
        "The office manager's page: {} items of {} people, of {} items in the campaign. wrk: 2 threads, {} connections, {DURATION} per row. The app's PostgreSQL pool: {} connections.\n",
        mine.len(),
        people.len(),
        items.len(),
        connections(),
        config.postgres.max_connections
    );
    println!("| request | requests/s | p50 | p90 | p99 | non-2xx/3xx |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, result) in
        [("`GET /campaigns/{id}`", page), ("`POST /api/v1/campaigns/{id}/decisions`", decide)]
    {
        println!(
            "| {name} | {} | {} | {} | {} | {} |",
            result.rate, result.p50, result.p90, result.p99, result.errors
        );
    }
    drop(db);
    Ok(())
}

/// One `wrk` run's figures, as wrk prints them.
struct WrkResult {
    rate: String,
    p50: String,
    p90: String,
    p99: String,
    errors: String,
}

/// Runs wrk against `url` with `headers` and an optional Lua `script`, and reads the
/// latency distribution from its output.
async fn wrk(headers: &[&str], script: Option<&std::path::Path>, url: &str) -> Result<WrkResult> {
    let mut command = tokio::process::Command::new("wrk");
    command.args(["-t2", "-c", &connections(), "-d", DURATION, "--latency"]);
    for header in headers {
        command.args(["-H", header]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().await.context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!("wrk failed: {text}{}", String::from_utf8_lossy(&output.stderr));
    }
    let field = |prefix: &str| -> String {
        text.lines()
            .map(str::trim)
            .find(|line| line.starts_with(prefix))
            .and_then(|line| line.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let errors = text
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("Non-2xx or 3xx responses:"))
        .and_then(|line| line.rsplit(' ').next())
        .unwrap_or("0")
        .to_owned();
    Ok(WrkResult {
        rate: field("Requests/sec:"),
        p50: field("50%"),
        p90: field("90%"),
        p99: field("99%"),
        errors,
    })
}
