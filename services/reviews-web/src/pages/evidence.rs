//! `GET /campaigns/{id}/evidence.tar`: a closed campaign's evidence pack, for the people
//! who see its overview. The pack is the one `rollcall-engine evidence export` writes,
//! with the same audit entry. It goes out as one tar file, so its five files travel
//! together, and `rollcall evidence verify` checks it after `tar -xf`.

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use rollcall_store::CampaignStatus;

use crate::access::PageViewer;
use crate::error::{Failure, PageError};
use crate::review;
use crate::state::AppState;

/// The actor prefix of the export's audit entry; the signed-in identity follows it.
const ACTOR_PREFIX: &str = "reviews-web:";

/// Exports the campaign into a scratch folder and returns the folder as a tar file.
pub async fn download(
    State(state): State<Arc<AppState>>,
    PageViewer(viewer): PageViewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = review::campaign_id(&id)?;
    let campaign = review::check_campaign_visible(&viewer, &state, id).await?;
    if !viewer.sees_overview(&campaign) {
        return Err(PageError(Failure::Forbidden(
            "only the security officer, MSP staff and the campaign's owners download its evidence"
                .into(),
        )));
    }
    if campaign.status != CampaignStatus::Closed {
        return Err(PageError(Failure::NotClosed(
            "the evidence pack is made once the security officer has signed off; sign off first"
                .into(),
        )));
    }

    let scratch = tempfile::tempdir().map_err(|error| {
        tracing::error!(error = %error, "no scratch folder for an evidence export");
        PageError(Failure::Unavailable)
    })?;
    let dir = scratch.path().join("pack");
    let actor = format!("{ACTOR_PREFIX}{}", viewer.identity());
    let summary = rollcall_reviews::evidence::export_campaign(
        &viewer.scope(&state),
        id,
        &dir,
        Utc::now(),
        &actor,
    )
    .await
    .map_err(|error| {
        tracing::error!(tenant = %viewer.tenant, campaign = %id, error = %error, "evidence export failed");
        PageError(Failure::Unavailable)
    })?;

    let folder = format!("rollcall-evidence-{}-{id}", viewer.tenant);
    let names: Vec<String> = summary.files.iter().map(|file| file.name.clone()).collect();
    let archive = tokio::task::spawn_blocking({
        let folder = folder.clone();
        move || archive(&dir, &folder, &names)
    })
    .await
    .map_err(|error| std::io::Error::other(error.to_string()))
    .and_then(|result| result)
    .map_err(|error| {
        tracing::error!(tenant = %viewer.tenant, campaign = %id, error = %error, "evidence archive failed");
        PageError(Failure::Unavailable)
    })?;
    tracing::info!(
        tenant = %viewer.tenant,
        campaign = %id,
        identity = viewer.identity(),
        items = summary.items,
        manifest_sha256 = %summary.manifest_sha256,
        "evidence downloaded"
    );

    let mut response = (StatusCode::OK, archive).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{folder}.tar\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Builds a tar file of `names` in `dir`, under the folder `folder`, in the given order.
fn archive(dir: &FsPath, folder: &str, names: &[String]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    for name in names {
        builder.append_path_with_name(dir.join(name), format!("{folder}/{name}"))?;
    }
    builder.into_inner()
}
