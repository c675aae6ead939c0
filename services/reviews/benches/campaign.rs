//! `make bench-reviews`: launching a campaign for a large synthetic practice against a
//! PostgreSQL `COPY` of the same rows.
//!
//! 1. A synthetic practice (`rollcall-datagen`, the scan benchmark's seed) is generated
//!    once into `target/bench-data/` and stored in a scratch database, with every source
//!    collected an hour before the reference instant.
//! 2. Launch: `rollcall_reviews::launch` with the scope `everyone`, which checks
//!    freshness, loads the snapshots from the store, builds the items and stores them
//!    with one `COPY` as the review loader role (`BENCH_TEMPORARY_TABLE=1`: through a
//!    temporary table, as a store without that role does).
//! 3. COPY: the rows the launch stored, read back and written as `COPY ... FROM STDIN`
//!    text in advance, streamed into a table with the columns and indexes of
//!    `review_items`. Only the `COPY` is timed.
//!
//! It prints a Markdown table for docs/benchmarks.md and writes nothing outside
//! `target/` and the scratch database. The server is the local one, or
//! `ROLLCALL_TEST_DATABASE_URL` (a user that may create roles and databases).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark stops at its first failure"
)]

#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::TimeDelta;
use rollcall_datagen::synthetic::{self, Params};
use rollcall_reviews::{Period, ReviewLaunch, launch};
use rollcall_store::{SnapshotMeta, TenantConfigText, TenantProfile};
use sqlx::AssertSqlSafe;
use uuid::Uuid;

/// The scan benchmark's seed.
const SEED: u64 = 20_261_201;
/// The scan benchmark's `one-100k-x20` practice: 100,000 people with about 20 grants
/// each, about two million items. `BENCH_PEOPLE` and `BENCH_GRANTS` choose another size.
const PARAMS: Params = Params { tenants: 1, people: 100_000, grants: 20, seed: SEED };
/// Timed runs of each side; the table shows the fastest.
const REPS: usize = 3;
/// The columns a launch writes, in the order of both `COPY` statements.
const COPY_COLUMNS: &str = "tenant_id, campaign_id, item_id, item_key, reviewee, reviewer, \
                            reviewer_reason, privileged, outside_baseline, recommendation, facts";

/// Resets the process's peak resident memory to its current size (Linux 4.0 and later),
/// so the peak after the launches is theirs and not that of parsing the practice's files.
/// Where the kernel rejects the reset, the peak keeps counting from the start, and the
/// output prints that.
fn reset_peak_memory() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Returns the process's peak resident memory (`VmHWM` of `/proc/self/status`).
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}

/// Returns the practice's size: [`PARAMS`] unless `BENCH_PEOPLE` or `BENCH_GRANTS` is set.
fn params() -> Result<Params> {
    let number = |name: &str, default: usize| -> Result<usize> {
        match std::env::var(name) {
            Ok(text) => text.parse().with_context(|| format!("{name}=`{text}` is no count")),
            Err(_) => Ok(default),
        }
    };
    Ok(Params {
        people: number("BENCH_PEOPLE", PARAMS.people)?,
        grants: number("BENCH_GRANTS", PARAMS.grants)?,
        ..PARAMS
    })
}

async fn run() -> Result<()> {
    let params = params()?;
    let dir = ensure_data(&params)?;
    let reference = synthetic::reference();
    let loaded = rollcall_ingest::layout::load_tenant(&dir, reference)
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", dir.display()))?;
    let fallback = loaded
        .data
        .hr
        .as_ref()
        .and_then(|hr| hr.workers.first())
        .map(|w| w.employee_id.clone())
        .context("the synthetic practice has no HR roster")?;
    let yaml = std::fs::read_to_string(dir.join("tenant.yaml"))?
        + &format!(
            "campaigns:\n  - id: bench\n    name: Benchmark\n    reviewers: {{ fallback: {fallback} }}\n"
        );
    let config = rollcall_ingest::tenant_file::parse_stored(&yaml, None)?;
    let tenant = config.tenant;
    let campaign = config.campaigns.first().context("no campaign parsed")?;

    // With the review loader role, so the launch stores its items with one COPY;
    // `BENCH_TEMPORARY_TABLE=1` measures the path through a temporary table instead.
    let mut db = support::TestDb::create_with_review_loader().await;
    let store = if std::env::var_os("BENCH_TEMPORARY_TABLE").is_some() {
        db.store().await
    } else {
        db.loader_store().await
    };
    println!("items stored with one COPY: {}", store.copies_review_items());
    let scope = store.tenant(&tenant.id);
    let profile = TenantProfile { name: tenant.name.clone(), time_zone: tenant.time_zone };
    let text = TenantConfigText { tenant_yaml: yaml.clone(), policy_yaml: None };
    scope.apply_tenant_config(&profile, &text, "bench").await?;
    let collected = reference - TimeDelta::hours(1);
    for (index, snapshot) in loaded.data.sources.iter().enumerate() {
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: collected,
            stream_sequence: index as u64 + 1,
        };
        scope.apply_source_snapshot(snapshot, &meta).await?;
    }
    if let Some(roster) = &loaded.data.hr {
        let meta = SnapshotMeta {
            snapshot_id: Uuid::new_v4(),
            collected_at: collected,
            stream_sequence: 1,
        };
        scope.apply_hr_roster(roster, &meta).await?;
    }
    // The files' data is stored now; the launches load their own copy from the store.
    drop(loaded);

    let peak_reset = reset_peak_memory();
    let mut launch_times = Vec::new();
    let mut last_campaign = None;
    let mut item_count = 0;
    for rep in 0..REPS {
        let period = Period {
            start: reference - TimeDelta::days(i64::try_from(rep)? + 1),
            label: format!("bench-{rep}"),
        };
        // The previous launch's rows go first, so that every launch writes into an empty
        // items table, as the COPY below does, and the disk stores one campaign at a time.
        if let Some(previous) = last_campaign {
            let admin = db.admin_pool().await;
            sqlx::query("DELETE FROM rollcall.review_items WHERE campaign_id = $1")
                .bind(previous)
                .execute(&admin)
                .await?;
            sqlx::query("VACUUM rollcall.review_items").execute(&admin).await?;
        }
        let started = Instant::now();
        let outcome = launch(&scope, &tenant, campaign, &period, reference).await?;
        launch_times.push(started.elapsed());
        println!("launch {rep}: {:?}", started.elapsed());
        let ReviewLaunch::Launched { campaign_id, items } = outcome else {
            anyhow::bail!("run {rep} did not launch: {outcome:?}");
        };
        last_campaign = Some(campaign_id);
        item_count = items;
    }

    let since = if peak_reset { "the first launch" } else { "the start, not reset" };
    println!("peak resident memory since {since}: {}", peak_memory());

    // The launch's parts, timed one by one, to show where the time goes. Each result is
    // dropped once measured, so the process keeps one copy of the items at a time.
    let started = Instant::now();
    let data = scope.load_tenant_data().await?;
    let load = started.elapsed();
    let started = Instant::now();
    let ctx = rollcall_core::context::Context::new(&tenant, &data, reference);
    let items = rollcall_reviews::build_items(&ctx, campaign, None);
    let build = started.elapsed();
    let started = Instant::now();
    let facts: Vec<rollcall_store::ReviewFacts> = items
        .iter()
        .map(|item| rollcall_store::ReviewFacts::new(item, "facts"))
        .collect::<Result<_, _>>()?;
    let json = started.elapsed();
    let fact_count = facts.len();
    drop(facts);
    // The way launches built the text before: a `serde_json::Value` first, then its text.
    let started = Instant::now();
    let through_value: Vec<String> = items
        .iter()
        .map(|item| serde_json::to_value(item).map(|value| value.to_string()))
        .collect::<Result<_, _>>()?;
    let json_through_value = started.elapsed();
    let value_count = through_value.len();
    drop((through_value, items));
    drop(ctx);
    drop(data);
    println!(
        "\nParts of one launch: load {load:?}, context and items {build:?}, item JSON {json:?} \
         for {fact_count} items ({json_through_value:?} through serde_json::Value for \
         {value_count})"
    );

    // The rows the last launch stored, as `COPY` text from the server itself.
    let campaign_id = last_campaign.context("no run launched")?;
    let admin = db.admin_pool().await;
    let copy_text = {
        let mut connection = admin.acquire().await?;
        let mut stream = connection
            .copy_out_raw(&format!(
                "COPY (SELECT {COPY_COLUMNS} FROM rollcall.review_items \
                 WHERE campaign_id = '{campaign_id}') TO STDOUT"
            ))
            .await?;
        let mut text = Vec::new();
        while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
            text.extend_from_slice(&chunk?);
        }
        text
    };
    let mut copy_times = Vec::new();
    for rep in 0..REPS {
        let table = format!("bench_copy_{rep}");
        sqlx::query(AssertSqlSafe(format!(
            "CREATE TABLE {table} (LIKE rollcall.review_items INCLUDING ALL)"
        )))
        .execute(&admin)
        .await?;
        let mut connection = admin.acquire().await?;
        let started = Instant::now();
        let mut copy =
            connection.copy_in_raw(&format!("COPY {table} ({COPY_COLUMNS}) FROM STDIN")).await?;
        copy.send(copy_text.as_slice()).await?;
        let rows = copy.finish().await?;
        copy_times.push(started.elapsed());
        anyhow::ensure!(rows == item_count as u64, "COPY stored {rows} rows, not {item_count}");
        sqlx::query(AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&admin).await?;
    }

    let best = |times: &[Duration]| times.iter().min().copied().unwrap_or_default();
    let (launch_best, copy_best) = (best(&launch_times), best(&copy_times));
    println!("| people | grants per person | items | launch | COPY | launch / COPY |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {} | {item_count} | {:.0} ms | {:.0} ms | {:.2} |",
        params.people,
        params.grants,
        launch_best.as_secs_f64() * 1e3,
        copy_best.as_secs_f64() * 1e3,
        launch_best.as_secs_f64() / copy_best.as_secs_f64().max(f64::EPSILON),
    );
    println!("\nAll runs: launch {launch_times:?}, COPY {copy_times:?}");
    Ok(())
}

/// Generates the practice into `target/bench-data/` unless it is there already.
fn ensure_data(params: &Params) -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    let dir = root.join(format!("reviews-{}-{}-{}", params.people, params.grants, params.seed));
    if !dir.join("tenant.yaml").exists() {
        let spec = synthetic::tenant(params, 0);
        rollcall_datagen::write::tenant(&spec, &dir)?;
    }
    Ok(dir)
}
