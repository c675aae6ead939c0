//! The review operations shared by the pages and the API, each in the viewer's tenant
//! and with the viewer as the actor.

use chrono::Utc;
use chrono_tz::Tz;
use rollcall_runtime::telemetry::work_span;
use rollcall_store::{
    RecommendationOutcome, ReviewAction, ReviewActionKind, StoredReviewCampaign, StoredReviewItem,
    StoredReviewSignOff,
};
use tracing::Instrument as _;
use uuid::Uuid;

use crate::access::Viewer;
use crate::error::Failure;
use crate::state::AppState;

/// A campaign as one viewer sees it.
#[derive(Debug)]
pub struct CampaignView {
    /// The campaign.
    pub campaign: StoredReviewCampaign,
    /// The items of the [`ItemSet`] the view was read with; callers show
    /// [`Viewer::my_items`] of them or, for the overview, all of them.
    pub items: Vec<StoredReviewItem>,
    /// The sign-offs so far.
    pub signoffs: Vec<StoredReviewSignOff>,
    /// The practice's time zone, in which pages show dates and times.
    pub zone: Tz,
}

impl CampaignView {
    /// Returns whether `reviewer` signed off in the campaign's current stage.
    pub fn signed_off(&self, reviewer: &str) -> bool {
        let second_stage_reviewer = self.campaign.second_stage_reviewer.as_deref();
        let stage = match self.campaign.status {
            rollcall_store::CampaignStatus::Open => Some(1),
            rollcall_store::CampaignStatus::SecondStage
                if second_stage_reviewer == Some(reviewer) =>
            {
                Some(2)
            }
            // The first stage is over, so a first-stage reviewer's own sign-off is the one
            // that counts for them.
            rollcall_store::CampaignStatus::SecondStage => Some(1),
            rollcall_store::CampaignStatus::Closed => None,
        };
        self.signoffs
            .iter()
            .any(|s| s.reviewer == reviewer && stage.is_none_or(|stage| s.stage == stage))
    }
}

/// Parses a campaign id from a path; anything else is not found.
pub fn campaign_id(text: &str) -> Result<Uuid, Failure> {
    Uuid::parse_str(text).map_err(|_| Failure::NotFound)
}

/// The items a [`CampaignView`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemSet {
    /// The items the viewer decides now, as [`Viewer::my_items`] selects them.
    Mine,
    /// Every item for a viewer who sees the overview, else the viewer's own.
    Overview,
}

/// Checks that the viewer may see a campaign and returns it: one with items they review
/// now or reviewed before, or one whose overview they may see. Anything else is not
/// found, so ids of campaigns the viewer has no part in reveal nothing. It reads no items.
pub async fn check_campaign_visible(
    viewer: &Viewer,
    state: &AppState,
    id: Uuid,
) -> Result<StoredReviewCampaign, Failure> {
    let found = viewer
        .scope(state)
        .review_campaign_for(id, viewer.identity())
        .await?
        .ok_or(Failure::NotFound)?;
    if !(found.involved || viewer.sees_overview(&found.campaign)) {
        return Err(Failure::NotFound);
    }
    Ok(found.campaign)
}

/// Reads a campaign that the viewer may see ([`check_campaign_visible`]) with the items
/// of `set`, the sign-offs and the practice's time zone.
pub async fn visible_campaign(
    viewer: &Viewer,
    state: &AppState,
    id: Uuid,
    set: ItemSet,
) -> Result<CampaignView, Failure> {
    let campaign = check_campaign_visible(viewer, state, id).await?;
    let scope = viewer.scope(state);
    let every_item = match set {
        ItemSet::Mine => viewer.is_second_stage(&campaign),
        ItemSet::Overview => viewer.sees_overview(&campaign),
    };
    let items = async {
        if every_item {
            scope.review_items(id).await
        } else {
            scope.review_items_of(id, viewer.identity()).await
        }
    };
    // The three reads are independent, so they run at once on separate pool connections:
    // a page waits for the slowest of them instead of their sum.
    let (items, signoffs, profile) =
        tokio::try_join!(items, scope.review_signoffs(id), scope.tenant_profile())?;
    // Every tenant with a campaign has its row, which the tenant file's `time_zone`
    // fills; UTC only guards a row deleted in between.
    let zone = profile.map_or(chrono_tz::UTC, |profile| profile.time_zone);
    Ok(CampaignView { campaign, items, signoffs, zone })
}

/// Lists the campaigns the viewer has a part in, newest first.
pub async fn visible_campaigns(
    viewer: &Viewer,
    state: &AppState,
) -> Result<Vec<CampaignView>, Failure> {
    let scope = viewer.scope(state);
    let mut views = Vec::new();
    // NOTE: this reads every campaign to find those the viewer has a part in. That is
    // fine for a practice's few campaigns a year, not for an MSP-wide list.
    for campaign in scope.review_campaigns().await? {
        match visible_campaign(viewer, state, campaign.campaign_id, ItemSet::Mine).await {
            Ok(view) => views.push(view),
            Err(Failure::NotFound) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(views)
}

/// The action of a decision request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Keep the access.
    Approve,
    /// Remove the access.
    Revoke,
    /// Hand the items to another reviewer.
    Delegate(String),
    /// Move the items to another reviewer, as the campaign's owner.
    Reassign(String),
}

/// Applies `decision` to `item_ids` as the viewer. The store checks every rule: the
/// viewer must be the items' reviewer (or the second-stage reviewer in the second
/// stage), may not decide on their own access, and approving privileged or
/// outside-baseline access needs a justification.
pub async fn decide(
    viewer: &Viewer,
    state: &AppState,
    campaign_id: Uuid,
    item_ids: Vec<i32>,
    decision: Decision,
    justification: Option<String>,
) -> Result<usize, Failure> {
    let action = match &decision {
        Decision::Approve => "approve",
        Decision::Revoke => "revoke",
        Decision::Delegate(_) => "delegate",
        Decision::Reassign(_) => "reassign",
    };
    let span = work_span("review_request", Some(viewer.tenant.as_str()), None);
    span.record("work_id", campaign_id.to_string());
    let result = record_decision(viewer, state, campaign_id, item_ids, decision, justification)
        .instrument(span)
        .await;
    let outcome = result.as_ref().map_or_else(Failure::code, |_| "ok");
    state.metrics.review_request(action, outcome);
    result
}

async fn record_decision(
    viewer: &Viewer,
    state: &AppState,
    campaign_id: Uuid,
    item_ids: Vec<i32>,
    decision: Decision,
    justification: Option<String>,
) -> Result<usize, Failure> {
    // A campaign the viewer has no part in does not exist for them, also here. The store
    // reads only the named items when it checks the decision rules.
    check_campaign_visible(viewer, state, campaign_id).await?;
    let kind = match decision {
        Decision::Approve => ReviewActionKind::Approve,
        Decision::Revoke => ReviewActionKind::Revoke,
        Decision::Delegate(to) => ReviewActionKind::Delegate { to: reviewer_key(&to)? },
        Decision::Reassign(to) => ReviewActionKind::Reassign { to: reviewer_key(&to)? },
    };
    let justification =
        justification.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    let action = ReviewAction {
        actor: viewer.identity().to_owned(),
        at: Utc::now(),
        item_ids,
        kind,
        justification,
    };
    let changed = viewer.scope(state).decide_review_items(campaign_id, &action).await?;
    tracing::info!(reviewer = %viewer.identity(), items = changed, "review decision recorded");
    Ok(changed)
}

/// Applies the recommendation of every undecided item the viewer may decide, or only of
/// those about `person` (an identity key such as `hr:E1004`). The store decides which
/// items those are and leaves approvals that need a justification undecided.
pub async fn accept_recommendations(
    viewer: &Viewer,
    state: &AppState,
    campaign_id: Uuid,
    person: Option<&str>,
) -> Result<RecommendationOutcome, Failure> {
    let span = work_span("review_request", Some(viewer.tenant.as_str()), None);
    span.record("work_id", campaign_id.to_string());
    let result = async {
        // A campaign the viewer has no part in does not exist for them, also here.
        check_campaign_visible(viewer, state, campaign_id).await?;
        let person = person.map(str::trim).filter(|person| !person.is_empty());
        let outcome = viewer
            .scope(state)
            .accept_review_recommendations(campaign_id, viewer.identity(), person, Utc::now())
            .await?;
        tracing::info!(
            reviewer = %viewer.identity(),
            approved = outcome.approved.len(),
            revoked = outcome.revoked.len(),
            skipped = outcome.skipped.len(),
            "review recommendations accepted"
        );
        Ok(outcome)
    }
    .instrument(span)
    .await;
    let outcome = result.as_ref().map_or_else(Failure::code, |_| "ok");
    state.metrics.review_request("accept_recommendations", outcome);
    result
}

/// Signs the viewer off.
pub async fn sign_off(
    viewer: &Viewer,
    state: &AppState,
    campaign_id: Uuid,
) -> Result<&'static str, Failure> {
    let span = work_span("review_request", Some(viewer.tenant.as_str()), None);
    span.record("work_id", campaign_id.to_string());
    let result = async {
        check_campaign_visible(viewer, state, campaign_id).await?;
        let scope = viewer.scope(state);
        let status = scope.sign_off_review(campaign_id, viewer.identity(), Utc::now()).await?;
        tracing::info!(reviewer = %viewer.identity(), status = status.as_str(), "review signed off");
        Ok(status.as_str())
    }
    .instrument(span)
    .await;
    let outcome = result.as_ref().map_or_else(Failure::code, |_| "ok");
    state.metrics.review_request("sign_off", outcome);
    result
}

/// Returns the identity key for a new reviewer given as `hr:E1004` or as the HR employee
/// id `E1004`.
pub fn reviewer_key(text: &str) -> Result<String, Failure> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Failure::BadRequest(
            "give the new reviewer's employee id, such as E1004".into(),
        ));
    }
    if text.contains(':') { Ok(text.to_owned()) } else { Ok(format!("hr:{text}")) }
}

/// Parses item ids, naming the first one that is not a number.
pub fn item_ids<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<i32>, Failure> {
    values
        .into_iter()
        .map(|value| {
            value.trim().parse::<i32>().map_err(|_| {
                Failure::BadRequest(format!("item id `{value}` is not a number; reload the page"))
            })
        })
        .collect()
}
