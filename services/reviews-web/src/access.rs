//! The caller's identity and what they may read.
//!
//! A handler gets a [`Viewer`] only from a live session, so every page and API route
//! that takes one is closed to anyone not signed in. The session fixes the tenant: every
//! store call runs in that tenant's scope, so a campaign id of another tenant is simply
//! not found. The store decides who may decide which item; this module decides what a
//! person may read.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse as _, Response};
use chrono::Utc;
use rollcall_core::TenantId;
use rollcall_store::{CampaignStatus, StoredReviewCampaign, StoredReviewItem, TenantScope};

use crate::cookies;
use crate::error::{Failure, PageError};
use crate::html;
use crate::session::{Role, SessionData};
use crate::state::AppState;

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Viewer {
    /// The session.
    pub session: SessionData,
    /// The session id, for sign-out.
    pub session_id: String,
    /// The tenant of the session.
    pub tenant: TenantId,
}

impl Viewer {
    /// Returns the store scope of the viewer's tenant.
    pub fn scope<'s>(&self, state: &'s AppState) -> TenantScope<'s> {
        state.store.tenant(&self.tenant)
    }

    /// Returns the viewer's identity key.
    pub fn identity(&self) -> &str {
        &self.session.identity
    }

    /// Returns whether the viewer sees every item of `campaign`: the security officer and
    /// MSP staff by role, and the campaign's fallback and second-stage reviewers, who may
    /// reassign.
    pub fn sees_overview(&self, campaign: &StoredReviewCampaign) -> bool {
        self.session.has(Role::SecurityOfficer)
            || self.session.has(Role::MspStaff)
            || self.is_owner(campaign)
    }

    /// Returns whether the viewer is the fallback or second-stage reviewer of `campaign`.
    pub fn is_owner(&self, campaign: &StoredReviewCampaign) -> bool {
        campaign.fallback_reviewer == self.identity()
            || campaign.second_stage_reviewer.as_deref() == Some(self.identity())
    }

    /// Returns whether the viewer acts in the second stage of `campaign` now.
    pub fn is_second_stage(&self, campaign: &StoredReviewCampaign) -> bool {
        campaign.status == CampaignStatus::SecondStage
            && campaign.second_stage_reviewer.as_deref() == Some(self.identity())
    }

    /// Returns the items the viewer decides on in `campaign`: their own in the first
    /// stage, every item for the second-stage reviewer in the second stage.
    pub fn my_items<'i>(
        &self,
        campaign: &StoredReviewCampaign,
        items: &'i [StoredReviewItem],
    ) -> Vec<&'i StoredReviewItem> {
        let all = self.is_second_stage(campaign);
        items.iter().filter(|item| all || item.reviewer == self.identity()).collect()
    }
}

/// Reads the session named by the request's cookie.
pub async fn viewer_of(parts: &Parts, state: &AppState) -> Result<Viewer, Failure> {
    let id = cookies::read(&parts.headers, cookies::SESSION).ok_or(Failure::Unauthenticated)?;
    let session = state.sessions.load(&id, Utc::now()).await?.ok_or(Failure::Unauthenticated)?;
    let tenant = TenantId::new(&session.tenant).map_err(|_| Failure::Unauthenticated)?;
    Ok(Viewer { session, session_id: id, tenant })
}

/// A viewer for a page: a missing session shows the sign-in page.
pub struct PageViewer(pub Viewer);

impl FromRequestParts<Arc<AppState>> for PageViewer {
    type Rejection = Response;

    /// Reads the session. Without one, a GET shows the sign-in form that returns to the
    /// same page afterwards, so a review link from a mail opens its campaign.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match viewer_of(parts, state).await {
            Ok(viewer) => Ok(PageViewer(viewer)),
            Err(Failure::Unauthenticated) => {
                let return_to = (parts.method == Method::GET).then(|| parts.uri.path());
                let body = html::sign_in_body(None, return_to);
                Err(html::page_response(StatusCode::UNAUTHORIZED, "Sign in", None, &body))
            }
            Err(other) => Err(PageError(other).into_response()),
        }
    }
}

/// A viewer for the API: a missing session is a 401 JSON error.
pub struct ApiViewer(pub Viewer);

impl FromRequestParts<Arc<AppState>> for ApiViewer {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        Ok(ApiViewer(viewer_of(parts, state).await?))
    }
}
