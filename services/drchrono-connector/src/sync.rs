//! One full read of a practice, and the snapshot built by the reader `rollcall scan`
//! uses for DrChrono API dumps.
//!
//! The sync saves the pages it reads in the dump's JSON form: `source`, `collected_at`,
//! and `responses` keyed by request path. It hands the bytes to
//! [`rollcall_ingest::drchrono::read`], so a sync and a scan of the same responses give
//! the same snapshot by construction.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use rollcall_core::model::SourceSnapshot;
use rollcall_ingest::Diagnostic;
use rollcall_ingest::drchrono::DrChronoError;
use serde_json::{Map, Value, json};

use crate::client::{ApiClient, ApiError, RequestStats};

/// The name diagnostics give the dump a sync builds; the file is never written.
pub const DUMP_NAME: &str = "drchrono-api.json";

/// The endpoints read in full, in this order. The audit log follows with a `since`.
pub const LIST_ENDPOINTS: [&str; 4] =
    ["/api/users", "/api/doctors", "/api/staff", "/api/user_groups"];

/// The staff list. DrChrono's v4 reference shows only `GET /api/staff/{id}`, so a server
/// without the list form (404) leaves staff status unknown instead of failing the sync.
const STAFF: &str = "/api/staff";

/// A sync that could not build a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// A read failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The reader could not read the dump at all; its message names the dump.
    #[error(transparent)]
    Reader(#[from] DrChronoError),
}

impl SyncError {
    /// Returns the endpoint or input that failed, for the sync report.
    pub fn input(&self) -> &str {
        match self {
            Self::Api(error) => error.endpoint(),
            Self::Reader(_) => DUMP_NAME,
        }
    }
}

/// The outcome of a good sync.
#[derive(Debug)]
pub struct SyncResult {
    /// The practice's `ehr:drchrono` snapshot.
    pub snapshot: SourceSnapshot,
    /// The reader's diagnostics, under the file name [`DUMP_NAME`].
    pub diagnostics: Vec<Diagnostic>,
    /// The responses in the dump's JSON form, which `rollcall scan` reads as a file.
    pub dump: Value,
    /// Endpoints that could not be read without failing the sync, with the reason.
    pub skipped: Vec<(String, String)>,
    /// The request cost.
    pub stats: RequestStats,
    /// Wall time of the sync.
    pub duration: Duration,
}

/// Reads every endpoint and builds the snapshot. `zone` is the zone of naive timestamps
/// whose doctor has no `timezone`. The audit log is read for `Login` entries from
/// `login_window_days` days before now.
pub async fn full_sync(
    client: &mut ApiClient<'_>,
    zone: Tz,
    login_window_days: u32,
    page_size: u32,
) -> Result<SyncResult, SyncError> {
    let timer = Instant::now();
    let collected_at = Utc::now();
    let (dump, skipped) = read_dump(client, collected_at, login_window_days, page_size).await?;
    let (snapshot, diagnostics) = build_snapshot(&dump, zone)?;
    Ok(SyncResult {
        snapshot,
        diagnostics,
        dump,
        skipped,
        stats: client.stats().clone(),
        duration: timer.elapsed(),
    })
}

/// Reads every endpoint into the dump's JSON form, and returns it with the endpoints
/// that were skipped and why.
pub async fn read_dump(
    client: &mut ApiClient<'_>,
    collected_at: DateTime<Utc>,
    login_window_days: u32,
    page_size: u32,
) -> Result<(Value, Vec<(String, String)>), ApiError> {
    let mut responses = Map::new();
    let mut skipped = Vec::new();
    let paging = format!("page_size={page_size}");
    for endpoint in LIST_ENDPOINTS {
        match client.get_pages(endpoint, &paging).await {
            Ok(pages) => {
                responses.insert(endpoint.to_owned(), Value::Array(pages));
            }
            Err(ApiError::Status { status: 404, .. }) if endpoint == STAFF => {
                let reason = "DrChrono returned 404 for the staff list, so the status of \
                              staff users is unknown"
                    .to_owned();
                tracing::warn!(endpoint, "{reason}");
                skipped.push((endpoint.to_owned(), reason));
            }
            Err(error) => return Err(error),
        }
    }

    // DrChrono requires `since`, `date` or `date_range` on the audit log. The key keeps
    // `since`, from which the reader learns that older logins are not in the dump.
    let since = (collected_at - chrono::Duration::days(i64::from(login_window_days)))
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let filter = format!("type=Login&since={since}");
    let pages = client.get_pages("/api/audit_log", &format!("{filter}&{paging}")).await?;
    responses.insert(format!("/api/audit_log?{filter}"), Value::Array(pages));

    let dump = json!({
        "source": "drchrono",
        "collected_at": collected_at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "responses": responses,
    });
    Ok((dump, skipped))
}

/// Builds the snapshot from a dump with the `rollcall scan` reader.
pub fn build_snapshot(
    dump: &Value,
    zone: Tz,
) -> Result<(SourceSnapshot, Vec<Diagnostic>), DrChronoError> {
    // serde_json fails to serialize only maps with non-string keys, which a `Value`
    // cannot contain.
    let bytes = serde_json::to_vec(dump).unwrap_or_default();
    rollcall_ingest::drchrono::read(Path::new(DUMP_NAME), &bytes, zone)
}
