//! The server-rendered pages: the campaign list, one review page per reviewer and
//! campaign, the overview for the security officer, and the form posts.

pub mod evidence;
mod render;

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rollcall_store::CampaignStatus;

use crate::access::{PageViewer, Viewer};
use crate::csrf;
use crate::error::{Failure, PageError};
use crate::forms::FormFields;
use crate::html::{self, escape};
use crate::review::{self, CampaignView, Decision, ItemSet};
use crate::state::AppState;

pub use render::when;

fn status_words(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Open => "open for review",
        CampaignStatus::SecondStage => "in the security officer's review",
        CampaignStatus::Closed => "closed",
    }
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// `GET /`: the campaign list.
pub async fn root() -> Response {
    see_other("/campaigns")
}

/// `GET /campaigns`: the campaigns the viewer has a part in.
pub async fn campaigns(
    State(state): State<Arc<AppState>>,
    PageViewer(viewer): PageViewer,
) -> Result<Response, PageError> {
    let views = review::visible_campaigns(&viewer, &state).await?;
    let mut body = String::from("<h1>Your access reviews</h1>\n");
    if views.is_empty() {
        body.push_str("<p>You have no access reviews.</p>\n");
    } else {
        body.push_str("<ul class=\"campaigns\">\n");
        for view in &views {
            let mine = viewer.my_items(&view.campaign, &view.items);
            let decided = mine.iter().filter(|item| item.decision.is_some()).count();
            let id = view.campaign.campaign_id;
            let _ = write!(
                body,
                "<li><h2><a href=\"/campaigns/{id}\">{}</a></h2><p>{} · {} · deadline {}</p><p>{decided} of {} of your items decided{}</p>",
                escape(&view.campaign.name),
                escape(&view.campaign.period_label),
                status_words(view.campaign.status),
                render::when(view.campaign.deadline, view.zone),
                mine.len(),
                if view.signed_off(viewer.identity()) { "; you signed off" } else { "" }
            );
            if viewer.sees_overview(&view.campaign) {
                let _ = write!(
                    body,
                    "<p><a href=\"/campaigns/{id}/overview\">Campaign overview</a></p>"
                );
            }
            body.push_str("</li>\n");
        }
        body.push_str("</ul>\n");
    }
    Ok(html::page_response(StatusCode::OK, "Your access reviews", Some(&viewer.session), &body))
}

/// `GET /campaigns/{id}`: the viewer's review page.
pub async fn review_page(
    State(state): State<Arc<AppState>>,
    PageViewer(viewer): PageViewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = review::campaign_id(&id)?;
    let view = review::visible_campaign(&viewer, &state, id, ItemSet::Mine).await?;
    Ok(review_response(&viewer, &view, StatusCode::OK, None, None))
}

fn review_response(
    viewer: &Viewer,
    view: &CampaignView,
    status: StatusCode,
    problem: Option<&Failure>,
    notice: Option<&str>,
) -> Response {
    let campaign = &view.campaign;
    let id = campaign.campaign_id.to_string();
    let mine = viewer.my_items(campaign, &view.items);
    let decided = mine.iter().filter(|item| item.decision.is_some()).count();
    let signed_off = view.signed_off(viewer.identity());
    let locked = signed_off || campaign.status == CampaignStatus::Closed;

    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>{}</h1>\n<p class=\"meta\">{} · {} · <strong>Deadline {}</strong></p>\n<p class=\"progress-line\"><label for=\"progress\">Your progress</label> <progress id=\"progress\" max=\"{total}\" value=\"{decided}\">{decided} of {total}</progress> {decided} of {total} decided</p>",
        escape(&campaign.name),
        escape(&campaign.period_label),
        status_words(campaign.status),
        render::when(campaign.deadline, view.zone),
        total = mine.len(),
    );

    if let Some(problem) = problem {
        let _ = writeln!(
            body,
            "<div class=\"problem\" role=\"alert\"><p><strong>Not saved.</strong> {}</p><p class=\"hint\">Error code: {}</p></div>",
            escape(&problem.to_string()),
            problem.code()
        );
    }
    if let Some(notice) = notice {
        body.push_str(notice);
    }
    if viewer.sees_overview(campaign) {
        let _ = writeln!(body, "<p><a href=\"/campaigns/{id}/overview\">Campaign overview</a></p>");
    }
    if !locked && decided < mine.len() {
        let _ = writeln!(
            body,
            "<form method=\"post\" action=\"/campaigns/{id}/recommendations\" class=\"accept\">{}<p>Decide every undecided item as Rollcall recommends. Approvals of privileged or outside-baseline access stay undecided, because they need your justification; decisions you made already stay as they are.</p><button type=\"submit\">Accept all recommendations</button></form>",
            html::csrf_field(&viewer.session)
        );
    }
    if mine.is_empty() {
        body.push_str("<p>You have no items to decide in this campaign.</p>\n");
    }

    let people = render::by_person(&mine);
    if people.len() > 1 {
        body.push_str(
            "<nav aria-label=\"People\"><h2 class=\"small\">People</h2><ul class=\"people\">",
        );
        for (index, (_, items)) in people.iter().enumerate() {
            let name = items
                .first()
                .and_then(|item| item.facts.pointer("/person/name"))
                .and_then(|name| name.as_str())
                .unwrap_or_default();
            let done = items.iter().filter(|item| item.decision.is_some()).count();
            let _ = write!(
                body,
                "<li><a href=\"#person-{index}\">{}</a> ({done} of {})</li>",
                escape(name),
                items.len()
            );
        }
        body.push_str("</ul></nav>\n");
    }

    let may_reassign = viewer.is_owner(campaign);
    for (index, (_, items)) in people.iter().enumerate() {
        body.push_str(&render::person_section(
            index,
            &id,
            items,
            &viewer.session,
            may_reassign,
            locked,
            view.zone,
        ));
    }

    // The confirmation shows even without items: the second-stage reviewer has none once
    // their sign-off closed the campaign.
    if signed_off {
        body.push_str(
            "<p class=\"done\">You signed off. Your decisions can no longer change.</p>\n",
        );
    } else if !mine.is_empty() && campaign.status != CampaignStatus::Closed {
        let _ = writeln!(
            body,
            "<form method=\"post\" action=\"/campaigns/{id}/signoff\" class=\"signoff\">{}<h2>Sign off</h2><p>Signing off confirms your decisions; after that they cannot change.</p><button type=\"submit\">Sign off this review</button></form>",
            html::csrf_field(&viewer.session)
        );
    }
    html::page_response(status, &campaign.name, Some(&viewer.session), &body)
}

/// Reads a form post's body and checks its CSRF token.
fn checked_form(viewer: &Viewer, body: &Bytes) -> Result<FormFields, Failure> {
    let form = FormFields::parse(body);
    if !csrf::matches(&viewer.session, form.get(csrf::FIELD)) {
        return Err(Failure::Csrf);
    }
    Ok(form)
}

/// Reads the decision of a review form: a per-item button (`one=approve:12`), or the
/// `action` button applied to the checked items.
fn form_decision(form: &FormFields) -> Result<(Vec<i32>, Decision), Failure> {
    if let Some(one) = form.get("one") {
        let (action, item) = one.split_once(':').ok_or_else(|| {
            Failure::BadRequest(format!("`{one}` is not a decision; reload the page"))
        })?;
        let decision = match action {
            "approve" => Decision::Approve,
            "revoke" => Decision::Revoke,
            other => {
                return Err(Failure::BadRequest(format!(
                    "`{other}` is not a decision; reload the page"
                )));
            }
        };
        return Ok((review::item_ids([item])?, decision));
    }
    let to = form.get("to").unwrap_or_default().to_owned();
    // `approve_all` and `revoke_all` decide every item of the person's form at once.
    if let Some(action @ ("approve_all" | "revoke_all")) = form.get("action") {
        let decision = if action == "approve_all" { Decision::Approve } else { Decision::Revoke };
        return Ok((review::item_ids(form.all("person_item"))?, decision));
    }
    let items = review::item_ids(form.all("item"))?;
    let decision = match form.get("action") {
        Some("approve") => Decision::Approve,
        Some("revoke") => Decision::Revoke,
        Some("delegate") => Decision::Delegate(to),
        Some("reassign") => Decision::Reassign(to),
        _ => {
            return Err(Failure::BadRequest("choose approve, revoke, delegate or reassign".into()));
        }
    };
    Ok((items, decision))
}

/// Re-renders the review page with `failure` when the store rejected the request by a
/// campaign rule or the form was incomplete, so the reviewer reads why on the same page.
async fn answer(
    viewer: &Viewer,
    state: &AppState,
    campaign: uuid::Uuid,
    outcome: Result<(), Failure>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(see_other(&format!("/campaigns/{campaign}"))),
        Err(failure @ (Failure::Rejected(_) | Failure::BadRequest(_))) => {
            let view = review::visible_campaign(viewer, state, campaign, ItemSet::Mine).await?;
            Ok(review_response(viewer, &view, failure.status(), Some(&failure), None))
        }
        Err(other) => Err(PageError(other)),
    }
}

/// `POST /campaigns/{id}/decide`: approve, revoke, delegate or reassign items.
pub async fn decide(
    State(state): State<Arc<AppState>>,
    PageViewer(viewer): PageViewer,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = checked_form(&viewer, &body)?;
    let campaign = review::campaign_id(&id)?;
    let outcome = async {
        let (items, decision) = form_decision(&form)?;
        if items.is_empty() {
            return Err(Failure::BadRequest("select at least one item".into()));
        }
        let justification = form.get("justification").map(str::to_owned);
        review::decide(&viewer, &state, campaign, items, decision, justification).await.map(|_| ())
    }
    .await;
    answer(&viewer, &state, campaign, outcome).await
}

/// `POST /campaigns/{id}/recommendations`: accepts the recommendations of every undecided
/// item of the viewer, or of one person's items when the form has `person` (the button
/// in a person's section sends it). The page is shown again with what was decided and
/// which items stayed undecided, and why.
pub async fn accept_recommendations(
    State(state): State<Arc<AppState>>,
    PageViewer(viewer): PageViewer,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    let form = checked_form(&viewer, &body)?;
    let campaign = review::campaign_id(&id)?;
    let outcome =
        review::accept_recommendations(&viewer, &state, campaign, form.get("person")).await;
    match outcome {
        Ok(outcome) => {
            let view = review::visible_campaign(&viewer, &state, campaign, ItemSet::Mine).await?;
            let notice = render::accepted_notice(&outcome, &view.items);
            Ok(review_response(&viewer, &view, StatusCode::OK, None, Some(&notice)))
        }
        Err(failure) => answer(&viewer, &state, campaign, Err(failure)).await,
    }
}

/// `POST /campaigns/{id}/signoff`.
pub async fn sign_off(
    State(state): State<Arc<AppState>>,
    PageViewer(viewer): PageViewer,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, PageError> {
    checked_form(&viewer, &body)?;
    let campaign = review::campaign_id(&id)?;
    let outcome = review::sign_off(&viewer, &state, campaign).await.map(|_| ());
    answer(&viewer, &state, campaign, outcome).await
}

/// `GET /campaigns/{id}/overview`: every reviewer's progress and sign-off, for the
/// security officer, MSP staff and the campaign's fallback and second-stage reviewers.
pub async fn overview(
    State(state): State<Arc<AppState>>,
    PageViewer(viewer): PageViewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = review::campaign_id(&id)?;
    let view = review::visible_campaign(&viewer, &state, id, ItemSet::Overview).await?;
    let campaign = &view.campaign;
    if !viewer.sees_overview(campaign) {
        return Err(PageError(Failure::Forbidden(
            "only the security officer and the campaign's owners see the overview".into(),
        )));
    }

    let mut reviewers: std::collections::BTreeMap<&str, (usize, usize, usize, usize)> =
        std::collections::BTreeMap::new();
    for item in &view.items {
        let entry = reviewers.entry(item.reviewer.as_str()).or_default();
        entry.0 += 1;
        match item.decision.as_deref() {
            Some("approve") => entry.1 += 1,
            Some("revoke") => entry.2 += 1,
            _ => {}
        }
        if item.privileged {
            entry.3 += 1;
        }
    }

    let mut body = String::new();
    let decided = view.items.iter().filter(|item| item.decision.is_some()).count();
    let _ = writeln!(
        body,
        "<h1>{} — overview</h1>\n<p class=\"meta\">{} · {} · <strong>Deadline {}</strong></p>\n<p>{decided} of {} items decided. Second stage: {}.</p>\n<table>\n<caption>Progress by reviewer</caption>\n<thead><tr><th scope=\"col\">Reviewer</th><th scope=\"col\">Items</th><th scope=\"col\">Approved</th><th scope=\"col\">Revoked</th><th scope=\"col\">Privileged</th><th scope=\"col\">Signed off</th></tr></thead>\n<tbody>",
        escape(&campaign.name),
        escape(&campaign.period_label),
        status_words(campaign.status),
        render::when(campaign.deadline, view.zone),
        view.items.len(),
        escape(campaign.second_stage_reviewer.as_deref().unwrap_or("none")),
    );

    for (reviewer, (items, approved, revoked, privileged)) in &reviewers {
        let signed = view.signoffs.iter().find(|s| s.reviewer == *reviewer && s.stage == 1);
        let _ = writeln!(
            body,
            "<tr><th scope=\"row\" data-label=\"Reviewer\">{}</th><td data-label=\"Items\">{items}</td><td data-label=\"Approved\">{approved}</td><td data-label=\"Revoked\">{revoked}</td><td data-label=\"Privileged\">{privileged}</td><td data-label=\"Signed off\">{}</td></tr>",
            escape(reviewer),
            signed.map_or("no".to_owned(), |s| render::when(s.signed_at, view.zone)),
        );
    }
    body.push_str("</tbody>\n</table>\n");

    if viewer.is_second_stage(campaign) {
        let _ = writeln!(
            body,
            "<p><a href=\"/campaigns/{id}\">Review every item in the second stage</a></p>"
        );
    }
    if campaign.status == CampaignStatus::Closed {
        let _ = writeln!(
            body,
            "<p><a href=\"/campaigns/{id}/evidence.tar\" download>Download the evidence pack</a> (a tar file: the items, decisions and audit trail for an auditor; <code>rollcall evidence verify</code> checks it)</p>"
        );
    }
    Ok(html::page_response(StatusCode::OK, &campaign.name, Some(&viewer.session), &body))
}
