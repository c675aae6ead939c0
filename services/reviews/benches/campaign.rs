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
/// One large practice: 5,000 people with about 30 grants each.
const PARAMS: Params = Params { tenants: 1, people: 5_000, grants: 30, seed: SEED };
/// Timed runs of each side; the table shows the fastest.
const REPS: usize = 3;

fn main() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run())
}

async fn run() -> Result<()> {
    let dir = ensure_data()?;
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

    let mut launch_times = Vec::new();
    let mut last_campaign = None;
    let mut item_count = 0;
    for rep in 0..REPS {
        let period = Period {
            start: reference - TimeDelta::days(i64::try_from(rep)? + 1),
            label: format!("bench-{rep}"),
        };
        let started = Instant::now();
        let outcome = launch(&scope, &tenant, campaign, &period, reference).await?;
        launch_times.push(started.elapsed());
        let ReviewLaunch::Launched { campaign_id, items } = outcome else {
            anyhow::bail!("run {rep} did not launch: {outcome:?}");
        };
        last_campaign = Some(campaign_id);
        item_count = items;
    }

    // The launch's parts, timed one by one, to show where the time goes.
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
    // The way launches built the text before: a `serde_json::Value` first, then its text.
    let started = Instant::now();
    let through_value: Vec<String> = items
        .iter()
        .map(|item| serde_json::to_value(item).map(|value| value.to_string()))
        .collect::<Result<_, _>>()?;
    let json_through_value = started.elapsed();
    println!(
        "\nParts of one launch: load {load:?}, context and items {build:?}, item JSON {json:?} \
         for {} items ({json_through_value:?} through serde_json::Value for {})",
        facts.len(),
        through_value.len()
    );

    let campaign_id = last_campaign.context("no run launched")?;
    let copy_text = copy_text(&scope.review_items(campaign_id).await?, tenant.id.as_str());
    let admin = db.admin_pool().await;
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
        let mut copy = connection
            .copy_in_raw(&format!(
                "COPY {table} (tenant_id, campaign_id, item_id, item_key, reviewee, reviewer, \
                 reviewer_reason, privileged, outside_baseline, recommendation, facts) FROM STDIN"
            ))
            .await?;
        copy.send(copy_text.as_bytes()).await?;
        let rows = copy.finish().await?;
        copy_times.push(started.elapsed());
        anyhow::ensure!(rows == item_count as u64, "COPY stored {rows} rows, not {item_count}");
    }

    let best = |times: &[Duration]| times.iter().min().copied().unwrap_or_default();
    let (launch_best, copy_best) = (best(&launch_times), best(&copy_times));
    println!("| people | grants per person | items | launch | COPY | launch / COPY |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {} | {item_count} | {:.0} ms | {:.0} ms | {:.2} |",
        PARAMS.people,
        PARAMS.grants,
        launch_best.as_secs_f64() * 1e3,
        copy_best.as_secs_f64() * 1e3,
        launch_best.as_secs_f64() / copy_best.as_secs_f64().max(f64::EPSILON),
    );
    println!("\nAll runs: launch {launch_times:?}, COPY {copy_times:?}");
    Ok(())
}

/// Generates the practice into `target/bench-data/` unless it is there already.
fn ensure_data() -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    let dir = root.join(format!("reviews-{}-{}-{}", PARAMS.people, PARAMS.grants, PARAMS.seed));
    if !dir.join("tenant.yaml").exists() {
        let spec = synthetic::tenant(&PARAMS, 0);
        rollcall_datagen::write::tenant(&spec, &dir)?;
    }
    Ok(dir)
}

/// Writes the rows in `COPY` text format: tab-separated, with backslash, tab, newline
/// and carriage return escaped.
fn copy_text(items: &[rollcall_reviews::StoredReviewItem], tenant: &str) -> String {
    fn field(out: &mut String, value: &str) {
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\t' => out.push_str("\\t"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                other => out.push(other),
            }
        }
    }
    let campaign = Uuid::new_v4().to_string();
    let mut out = String::new();
    for item in items {
        let reason = item.reviewer_reason.as_str();
        let recommendation = if item.recommend_revoke { "revoke" } else { "keep" };
        let values = [
            tenant.to_owned(),
            campaign.clone(),
            item.item_id.to_string(),
            item.item_key.clone(),
            item.reviewee.clone(),
            item.reviewer.clone(),
            reason.to_owned(),
            item.privileged.to_string(),
            item.outside_baseline.to_string(),
            recommendation.to_owned(),
            item.facts.to_string(),
        ];
        for (index, value) in values.iter().enumerate() {
            if index > 0 {
                out.push('\t');
            }
            field(&mut out, value);
        }
        out.push('\n');
    }
    out
}
