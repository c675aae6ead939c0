//! The JSON API under `/api/v1`, with the pages' authorisation: the session cookie names
//! the caller, and every state-changing call needs the session's CSRF token in the
//! `X-CSRF-Token` header (`GET /api/v1/session` returns it). The wire types here are
//! built from the store's types by explicit conversion.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{MethodRouter, get, post};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::access::{ApiViewer, Viewer};
use crate::csrf;
use crate::error::{ApiError, Failure};
use crate::review::{self, CampaignView, Decision, ItemSet};
use crate::session::Role;
use crate::state::AppState;

/// One API route: its method, its path in the router's syntax, and its handler.
pub struct ApiRoute {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, with `{id}` for the campaign id.
    pub path: &'static str,
    /// The handler.
    pub handler: MethodRouter<Arc<AppState>>,
}

/// Lists every API route. The router is built from this list, and the OpenAPI test compares
/// it with the document.
pub fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            method: "GET",
            path: "/api/v1/openapi.json",
            handler: get(crate::openapi::document),
        },
        ApiRoute { method: "GET", path: "/api/v1/session", handler: get(session) },
        ApiRoute { method: "GET", path: "/api/v1/campaigns", handler: get(campaigns) },
        ApiRoute { method: "GET", path: "/api/v1/campaigns/{id}/items", handler: get(items) },
        ApiRoute {
            method: "POST",
            path: "/api/v1/campaigns/{id}/decisions",
            handler: post(decisions),
        },
        ApiRoute {
            method: "POST",
            path: "/api/v1/campaigns/{id}/delegations",
            handler: post(delegations),
        },
        ApiRoute {
            method: "POST",
            path: "/api/v1/campaigns/{id}/recommendations",
            handler: post(recommendations),
        },
        ApiRoute {
            method: "POST",
            path: "/api/v1/campaigns/{id}/signoff",
            handler: post(sign_off),
        },
    ]
}

/// The signed-in caller.
#[derive(Debug, Serialize)]
pub struct SessionBody {
    /// The tenant.
    pub tenant: String,
    /// The identity key.
    pub identity: String,
    /// The name.
    pub name: String,
    /// `security_officer`, `msp_staff`.
    pub roles: Vec<Role>,
    /// The token for the `X-CSRF-Token` header.
    pub csrf_token: String,
}

async fn session(ApiViewer(viewer): ApiViewer) -> Json<SessionBody> {
    let session = viewer.session;
    Json(SessionBody {
        tenant: session.tenant,
        identity: session.identity,
        name: session.name,
        roles: session.roles,
        csrf_token: session.csrf_token,
    })
}

/// A campaign with the caller's progress.
#[derive(Debug, Serialize)]
pub struct CampaignBody {
    /// The campaign id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The period, such as `2026-Q4`.
    pub period: String,
    /// `open`, `second_stage` or `closed`.
    pub status: &'static str,
    /// RFC 3339 in UTC, for machines; pages show it in the practice's time zone.
    pub deadline: String,
    /// Items the caller decides on now.
    pub my_items: usize,
    /// Of those, decided.
    pub my_decided: usize,
    /// The caller signed off in the current stage.
    pub signed_off: bool,
    /// The caller sees every item.
    pub overview: bool,
}

fn campaign_body(viewer: &Viewer, view: &CampaignView) -> CampaignBody {
    let mine = viewer.my_items(&view.campaign, &view.items);
    CampaignBody {
        id: view.campaign.campaign_id.to_string(),
        name: view.campaign.name.clone(),
        period: view.campaign.period_label.clone(),
        status: view.campaign.status.as_str(),
        deadline: view.campaign.deadline.to_rfc3339(),
        my_items: mine.len(),
        my_decided: mine.iter().filter(|item| item.decision.is_some()).count(),
        signed_off: view.signed_off(viewer.identity()),
        overview: viewer.sees_overview(&view.campaign),
    }
}

async fn campaigns(
    State(state): State<Arc<AppState>>,
    ApiViewer(viewer): ApiViewer,
) -> Result<Json<Vec<CampaignBody>>, ApiError> {
    let views = review::visible_campaigns(&viewer, &state).await?;
    Ok(Json(views.iter().map(|view| campaign_body(&viewer, view)).collect()))
}

/// One review item.
#[derive(Debug, Serialize)]
pub struct ItemBody {
    /// The item id, used in decisions.
    pub id: i32,
    /// The grant's key.
    pub key: String,
    /// The reviewee's identity key.
    pub reviewee: String,
    /// The reviewer's identity key.
    pub reviewer: String,
    /// Privileged.
    pub privileged: bool,
    /// Outside the role baseline.
    pub outside_baseline: bool,
    /// `keep` or `revoke`.
    pub recommendation: &'static str,
    /// `approve`, `revoke`, or null while undecided.
    pub decision: Option<String>,
    /// The justification given.
    pub justification: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When, RFC 3339 in UTC; null while undecided.
    pub decided_at: Option<String>,
    /// The facts frozen at launch, as `docs/services/reviews.md` lists them.
    pub facts: Value,
}

/// A campaign's items as the caller sees them.
#[derive(Debug, Serialize)]
pub struct ItemsBody {
    /// The campaign.
    pub campaign: CampaignBody,
    /// The items the caller decides on now; every item for those who see the overview.
    pub items: Vec<ItemBody>,
}

async fn items(
    State(state): State<Arc<AppState>>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
) -> Result<Json<ItemsBody>, ApiError> {
    let id = review::campaign_id(&id)?;
    let view = review::visible_campaign(&viewer, &state, id, ItemSet::Overview).await?;
    let shown: Vec<_> = if viewer.sees_overview(&view.campaign) {
        view.items.iter().collect()
    } else {
        viewer.my_items(&view.campaign, &view.items)
    };
    let items = shown
        .into_iter()
        .map(|item| ItemBody {
            id: item.item_id,
            key: item.item_key.clone(),
            reviewee: item.reviewee.clone(),
            reviewer: item.reviewer.clone(),
            privileged: item.privileged,
            outside_baseline: item.outside_baseline,
            recommendation: if item.recommend_revoke { "revoke" } else { "keep" },
            decision: item.decision.clone(),
            justification: item.justification.clone(),
            decided_by: item.decided_by.clone(),
            decided_at: item.decided_at.map(|at| at.to_rfc3339()),
            facts: item.facts.clone(),
        })
        .collect();
    Ok(Json(ItemsBody { campaign: campaign_body(&viewer, &view), items }))
}

/// `POST /api/v1/campaigns/{id}/decisions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// Item ids; more than one is a bulk decision, applied to all or none.
    pub items: Vec<i32>,
    /// `approve` or `revoke`.
    pub decision: String,
    /// Required to approve privileged or outside-baseline items.
    #[serde(default)]
    pub justification: Option<String>,
}

/// `POST /api/v1/campaigns/{id}/delegations`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelegationRequest {
    /// Item ids.
    pub items: Vec<i32>,
    /// The new reviewer: `hr:E1004` or the employee id `E1004`.
    pub to: String,
    /// `delegate` (the items' reviewer) or `reassign` (the campaign's owner).
    #[serde(default = "default_kind")]
    pub kind: String,
}

fn default_kind() -> String {
    "delegate".into()
}

/// `POST /api/v1/campaigns/{id}/recommendations`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecommendationsRequest {
    /// Only the items about this person (`hr:E1004`); every item of the caller when absent.
    #[serde(default)]
    pub person: Option<String>,
}

/// An item left undecided by accepting the recommendations.
#[derive(Debug, Serialize)]
pub struct SkippedBody {
    /// The item id.
    pub item: i32,
    /// Why, in words.
    pub reason: String,
}

/// What accepting the recommendations did.
#[derive(Debug, Serialize)]
pub struct RecommendationsBody {
    /// Items approved.
    pub approved: Vec<i32>,
    /// Items revoked.
    pub revoked: Vec<i32>,
    /// Items recommended for approval that need a justification, left undecided.
    pub skipped: Vec<SkippedBody>,
    /// Items that had a decision already and kept it.
    pub already_decided: usize,
}

/// The number of items changed.
#[derive(Debug, Serialize)]
pub struct ChangedBody {
    /// Items changed.
    pub changed: usize,
}

/// The campaign's status after a sign-off.
#[derive(Debug, Serialize)]
pub struct SignOffBody {
    /// `open`, `second_stage` or `closed`.
    pub status: &'static str,
}

/// Checks the CSRF header and parses a JSON body, naming what is wrong.
fn checked_json<T: DeserializeOwned>(
    viewer: &Viewer,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<T, Failure> {
    let token = headers.get(csrf::HEADER).and_then(|value| value.to_str().ok());
    if !csrf::matches(&viewer.session, token) {
        return Err(Failure::Csrf);
    }
    let is_json = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !is_json {
        return Err(Failure::BadRequest("send the body as application/json".into()));
    }
    serde_json::from_slice(body)
        .map_err(|error| Failure::BadRequest(format!("the request body is invalid: {error}")))
}

async fn decisions(
    State(state): State<Arc<AppState>>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ChangedBody>, ApiError> {
    let request: DecisionRequest = checked_json(&viewer, &headers, &body)?;
    let id = review::campaign_id(&id)?;
    let decision = match request.decision.as_str() {
        "approve" => Decision::Approve,
        "revoke" => Decision::Revoke,
        other => {
            return Err(ApiError(Failure::BadRequest(format!(
                "decision `{other}` is invalid; use approve or revoke"
            ))));
        }
    };
    let changed =
        review::decide(&viewer, &state, id, request.items, decision, request.justification).await?;
    Ok(Json(ChangedBody { changed }))
}

async fn delegations(
    State(state): State<Arc<AppState>>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<ChangedBody>, ApiError> {
    let request: DelegationRequest = checked_json(&viewer, &headers, &body)?;
    let id = review::campaign_id(&id)?;
    let decision = match request.kind.as_str() {
        "delegate" => Decision::Delegate(request.to),
        "reassign" => Decision::Reassign(request.to),
        other => {
            return Err(ApiError(Failure::BadRequest(format!(
                "kind `{other}` is invalid; use delegate or reassign"
            ))));
        }
    };
    let changed = review::decide(&viewer, &state, id, request.items, decision, None).await?;
    Ok(Json(ChangedBody { changed }))
}

async fn recommendations(
    State(state): State<Arc<AppState>>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<RecommendationsBody>, ApiError> {
    let request: RecommendationsRequest = checked_json(&viewer, &headers, &body)?;
    let id = review::campaign_id(&id)?;
    let outcome =
        review::accept_recommendations(&viewer, &state, id, request.person.as_deref()).await?;
    Ok(Json(RecommendationsBody {
        approved: outcome.approved,
        revoked: outcome.revoked,
        skipped: outcome
            .skipped
            .into_iter()
            .map(|skipped| SkippedBody { item: skipped.item_id, reason: skipped.reason })
            .collect(),
        already_decided: outcome.already_decided,
    }))
}

async fn sign_off(
    State(state): State<Arc<AppState>>,
    ApiViewer(viewer): ApiViewer,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SignOffBody>, ApiError> {
    let _: Value = checked_json(&viewer, &headers, &body)?;
    let id = review::campaign_id(&id)?;
    let status = review::sign_off(&viewer, &state, id).await?;
    Ok(Json(SignOffBody { status }))
}
