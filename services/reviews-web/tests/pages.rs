//! The review pages as a manager and the security officer use them, without JavaScript:
//! the frozen facts, per-item and bulk decisions, the justification rule, delegation,
//! sign-off and the second stage.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use reqwest::StatusCode;
use rollcall_core::TenantId;
use rollcall_store::{CampaignStatus, ReviewAction, ReviewActionKind, StoredReviewItem};
use support::*;

async fn items(app: &App) -> Vec<StoredReviewItem> {
    let tenant = TenantId::new("harborview").unwrap();
    app.store.tenant(&tenant).review_items(app.campaign).await.unwrap()
}

fn needs_reason(item: &StoredReviewItem) -> bool {
    item.privileged || item.outside_baseline
}

#[tokio::test]
async fn review_page_shows_frozen_facts() {
    let app = App::start().await;
    let all = items(&app).await;
    let mine: Vec<_> = all.iter().filter(|i| i.reviewer == "hr:E1002").collect();
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let page = browser.get(&format!("/campaigns/{}", app.campaign)).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = &page.body;
    assert!(body.contains("Deadline"), "the deadline is shown");
    assert!(body.contains(&format!("0 of {} decided", mine.len())), "progress");
    let first = mine[0];
    for pointer in ["/person/name", "/entitlement/name", "/source"] {
        let value = first.facts.pointer(pointer).unwrap().as_str().unwrap();
        assert!(body.contains(&html_escape(value)), "{pointer} `{value}` is shown");
    }
    let reason = first.facts.pointer("/recommendation/reasons/0/text").unwrap().as_str().unwrap();
    assert!(body.contains(&html_escape(reason)), "the recommendation's reason is shown");
    // Accessibility basics: a label per checkbox, the person as a heading, the skip link.
    let id = first.item_id;
    assert!(body.contains(&format!("<label for=\"item-{id}\"")));
    assert!(body.contains("<h2 id=\"person-0-name\">"));
    assert!(body.contains("href=\"#main\""));
    assert!(body.contains("<meta name=\"viewport\""));
    assert!(!body.contains("<script"), "no JavaScript");
    // Each person is one section, and no other reviewer's items are on the page.
    let others = all.iter().filter(|i| i.reviewer != "hr:E1002");
    for item in others {
        assert!(!body.contains(&format!("id=\"item-{}\"", item.item_id)));
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[tokio::test]
async fn bulk_decision_and_justification_rule() {
    let app = App::start().await;
    let all = items(&app).await;
    let mine: Vec<_> = all.iter().filter(|i| i.reviewer == "hr:E1002").collect();
    let plain: Vec<String> =
        mine.iter().filter(|i| !needs_reason(i)).take(2).map(|i| i.item_id.to_string()).collect();
    assert_eq!(plain.len(), 2, "the example has two plain items for the office manager");
    let special =
        mine.iter().find(|i| needs_reason(i)).expect("a privileged or outside-baseline item");
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let csrf = browser.csrf().await;
    let path = format!("/campaigns/{}/decide", app.campaign);

    // Checkboxes and one button: both items revoked in one request.
    let fields =
        [("csrf", csrf.as_str()), ("item", &plain[0]), ("item", &plain[1]), ("action", "revoke")];
    let reply = browser.post_form(&path, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    for id in &plain {
        assert_eq!(
            app.decision_of(app.campaign, id.parse().unwrap()).await.as_deref(),
            Some("revoke")
        );
    }

    // Approving access marked privileged or outside the baseline needs a reason: the page
    // comes back with the error and the item stays undecided.
    let special_id = special.item_id.to_string();
    let one = format!("approve:{special_id}");
    let reply =
        browser.post_form(&path, &[("csrf", &csrf), ("one", &one), ("justification", "  ")]).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("justification_required"), "{}", reply.body);
    assert!(reply.body.contains("role=\"alert\""));
    assert_eq!(app.decision_of(app.campaign, special.item_id).await, None);
    let reply = browser
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("one", &one),
                ("justification", "covers the front desk on Fridays"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(app.decision_of(app.campaign, special.item_id).await.as_deref(), Some("approve"));

    // A bulk request with one item breaking the rule changes none.
    let bulk =
        [("csrf", csrf.as_str()), ("item", &plain[0]), ("item", &special_id), ("action", "revoke")];
    let reply = browser.post_form(&path, &bulk).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let unknown =
        [("csrf", csrf.as_str()), ("item", &plain[0]), ("item", "999999"), ("action", "approve")];
    let reply = browser.post_form(&path, &unknown).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.decision_of(app.campaign, plain[0].parse().unwrap()).await.as_deref(),
        Some("revoke")
    );

    // Input that is not an item id is named in the error.
    let reply = browser
        .post_form(&path, &[("csrf", &csrf), ("item", "twelve"), ("action", "revoke")])
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(reply.body.contains("twelve"));
}

#[tokio::test]
async fn delegation_moves_items() {
    let app = App::start().await;
    let item = app.items_of("harborview", app.campaign, "hr:E1002").await[0].to_string();
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let csrf = browser.csrf().await;
    let path = format!("/campaigns/{}/decide", app.campaign);
    let missing = [("csrf", csrf.as_str()), ("item", &item), ("action", "delegate"), ("to", "")];
    let reply = browser.post_form(&path, &missing).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let fields =
        [("csrf", csrf.as_str()), ("item", &item), ("action", "delegate"), ("to", "E1003")];
    let reply = browser.post_form(&path, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let moved = app.items_of("harborview", app.campaign, "hr:E1003").await;
    assert!(moved.contains(&item.parse().unwrap()));
    let mut other = app.signed_in("harborview", PRACTICE_MANAGER_E1003).await;
    let page = other.get(&format!("/campaigns/{}", app.campaign)).await;
    assert!(page.body.contains(&format!("id=\"item-{item}\"")), "the new reviewer sees it");
}

#[tokio::test]
async fn sign_off_locks_decisions() {
    let app = App::start().await;
    let mine = app.items_of("harborview", app.campaign, "hr:E1002").await;
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let csrf = browser.csrf().await;
    let signoff = format!("/campaigns/{}/signoff", app.campaign);
    let reply = browser.post_form(&signoff, &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "undecided items block the sign-off");
    assert!(reply.body.contains("undecided"));

    let body = serde_json::json!({ "items": mine, "decision": "revoke" });
    let reply = browser
        .post_json(&format!("/api/v1/campaigns/{}/decisions", app.campaign), Some(&csrf), &body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["changed"], mine.len());
    let reply = browser.post_form(&signoff, &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let page = browser.get(&format!("/campaigns/{}", app.campaign)).await;
    assert!(page.body.contains("You signed off"));
    assert!(!page.body.contains("name=\"one\""), "no decision buttons after sign-off");
    let one = format!("approve:{}", mine[0]);
    let reply = browser
        .post_form(
            &format!("/campaigns/{}/decide", app.campaign),
            &[("csrf", &csrf), ("one", &one), ("justification", "x")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert!(reply.body.contains("signed_off"));
}

/// Returns the person section of `body` that contains item `id`'s checkbox.
fn section_of(body: &str, id: i32) -> &str {
    let at = body.find(&format!("id=\"item-{id}\"")).unwrap_or_else(|| panic!("no item {id}"));
    let start = body[..at].rfind("<section").unwrap();
    let end = at + body[at..].find("</section>").unwrap();
    &body[start..end]
}

/// The fallback reviewer's own items reach them when the fallback has access in scope.
/// Their page offers only handing those items on. The other people's sections keep the
/// decision buttons, and the reviewer who takes the items over gets those buttons.
#[tokio::test]
async fn own_items_offer_only_handing_on() {
    let app = App::start().await;
    let all = items(&app).await;
    let own: Vec<i32> = all
        .iter()
        .filter(|i| i.reviewer == "hr:E1001" && i.reviewee == "hr:E1001")
        .map(|i| i.item_id)
        .collect();
    assert!(!own.is_empty(), "the example gives the director items about their own access");
    let path = format!("/campaigns/{}", app.campaign);
    let mut director = app.signed_in("harborview", DIRECTOR_E1001).await;
    let page = director.get(&path).await;
    assert_eq!(page.status, StatusCode::OK);
    let section = section_of(&page.body, own[0]);
    assert!(section.contains("This is your own access"), "{section}");
    for button in ["value=\"approve\"", "value=\"revoke\"", "value=\"approve_all\""] {
        assert!(!section.contains(button), "{button} offered on one's own access: {section}");
    }
    assert!(section.contains("value=\"reassign\""), "the fallback may reassign: {section}");
    if let Some(other) = all.iter().find(|i| i.reviewer == "hr:E1001" && i.reviewee != "hr:E1001") {
        let section = section_of(&page.body, other.item_id);
        assert!(!section.contains("This is your own access"), "{section}");
        assert!(section.contains("value=\"approve\""), "{section}");
    }

    let csrf = director.csrf().await;
    let ids: Vec<String> = own.iter().map(i32::to_string).collect();
    let mut fields = vec![("csrf", csrf.as_str()), ("action", "reassign"), ("to", "E1003")];
    fields.extend(ids.iter().map(|id| ("item", id.as_str())));
    let reply = director.post_form(&format!("{path}/decide"), &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = director.get(&path).await;
    assert!(!page.body.contains("This is your own access"), "{}", page.body);

    let mut manager = app.signed_in("harborview", PRACTICE_MANAGER_E1003).await;
    let page = manager.get(&path).await;
    let section = section_of(&page.body, own[0]);
    assert!(!section.contains("This is your own access"), "{section}");
    assert!(section.contains("value=\"approve\""), "{section}");
}

#[tokio::test]
async fn second_stage_closes_campaign() {
    let app = App::start().await;
    let tenant = TenantId::new("harborview").unwrap();
    let scope = app.store.tenant(&tenant);
    let mut officer = app
        .signed_in("harborview", &format!("{DIRECTOR_E1001};roles=Rollcall.SecurityOfficer"))
        .await;
    let csrf = officer.csrf().await;

    // The director is the fallback, so items about their own access came to them. The
    // store rejects decisions on one's own access, so they reassign those items first.
    let own: Vec<String> = items(&app)
        .await
        .iter()
        .filter(|i| i.reviewer == "hr:E1001" && i.reviewee == "hr:E1001")
        .map(|i| i.item_id.to_string())
        .collect();
    {
        let mut fields = vec![("csrf", csrf.as_str()), ("action", "reassign"), ("to", "E1003")];
        fields.extend(own.iter().map(|id| ("item", id.as_str())));
        let reply =
            officer.post_form(&format!("/campaigns/{}/decide", app.campaign), &fields).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    }
    assert!(!own.is_empty(), "the example gives the director items about their own access");
    let left = items(&app).await;
    assert!(!left.iter().any(|i| i.reviewer == "hr:E1001" && i.reviewee == "hr:E1001"));

    // Every first-stage reviewer decides and signs off through the store.
    let all = items(&app).await;
    let reviewers: std::collections::BTreeSet<String> =
        all.iter().map(|i| i.reviewer.clone()).collect();
    for reviewer in &reviewers {
        let ids: Vec<i32> =
            all.iter().filter(|i| &i.reviewer == reviewer).map(|i| i.item_id).collect();
        let action = ReviewAction {
            actor: reviewer.clone(),
            at: chrono::Utc::now(),
            item_ids: ids,
            kind: ReviewActionKind::Revoke,
            justification: None,
        };
        scope.decide_review_items(app.campaign, &action).await.unwrap();
        scope.sign_off_review(app.campaign, reviewer, chrono::Utc::now()).await.unwrap();
    }
    let campaign = scope.review_campaign(app.campaign).await.unwrap().unwrap();
    assert_eq!(campaign.status, CampaignStatus::SecondStage);

    // A first-stage reviewer who signed off gets the confirmation, not the sign-off form.
    let mut manager = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let page = manager.get(&format!("/campaigns/{}", app.campaign)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("You signed off."), "{}", page.body);
    assert!(!page.body.contains("class=\"signoff\""), "{}", page.body);

    // Accepting the recommendations in the second stage keeps every first-stage decision.
    let before = scope.review_items(app.campaign).await.unwrap();
    let accept = format!("/api/v1/campaigns/{}/recommendations", app.campaign);
    let reply = officer.post_json(&accept, Some(&csrf), &serde_json::json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcome = reply.json();
    assert_eq!(outcome["approved"], serde_json::json!([]));
    assert_eq!(outcome["revoked"], serde_json::json!([]));
    assert!(outcome["already_decided"].as_u64().unwrap() > 0, "{outcome}");
    assert_eq!(scope.review_items(app.campaign).await.unwrap(), before);

    // In the second stage the officer can read and change every item.
    let overview = officer.get(&format!("/campaigns/{}/overview", app.campaign)).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains("Review every item in the second stage"));
    let page = officer.get(&format!("/campaigns/{}", app.campaign)).await;
    let other_item = all.iter().find(|i| i.reviewer == "hr:E1002").unwrap();
    assert!(page.body.contains(&format!("id=\"item-{}\"", other_item.item_id)));
    let one = format!("approve:{}", other_item.item_id);
    let reply = officer
        .post_form(
            &format!("/campaigns/{}/decide", app.campaign),
            &[("csrf", &csrf), ("one", &one), ("justification", "still needed for the audit")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(app.decision_of(app.campaign, other_item.item_id).await.as_deref(), Some("approve"));

    let reply = officer
        .post_form(&format!("/campaigns/{}/signoff", app.campaign), &[("csrf", &csrf)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let campaign = scope.review_campaign(app.campaign).await.unwrap().unwrap();
    assert_eq!(campaign.status, CampaignStatus::Closed);
    let page = officer.get(&format!("/campaigns/{}", app.campaign)).await;
    assert!(page.body.contains("You signed off."), "{}", page.body);

    // A closed campaign takes no more decisions, recommended ones included.
    let reply = officer.post_json(&accept, Some(&csrf), &serde_json::json!({})).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert_eq!(reply.json()["error"], "campaign_closed");
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let app = App::start().await;
    let mut anonymous = app.browser();
    let campaign = app.campaign.to_string();
    for route in rollcall_reviews_web::api::routes() {
        let path = route.path.replace("{id}", &campaign);
        let reply = match route.method {
            "GET" => anonymous.get(&path).await,
            _ => anonymous.post_json(&path, None, &serde_json::json!({})).await,
        };
        assert_ne!(reply.status, StatusCode::NOT_FOUND, "{} {path}", route.method);
        assert_ne!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{} {path}", route.method);
    }
    let undocumented = anonymous.get("/api/v1/nothing-here").await;
    assert_eq!(undocumented.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn person_buttons_decide_all_items() {
    let app = App::start().await;
    let all = items(&app).await;
    let mine: Vec<_> = all.iter().filter(|i| i.reviewer == "hr:E1002").collect();
    // A person whose items need no justification, and one with an item that does.
    let mut people: std::collections::BTreeMap<&str, Vec<&StoredReviewItem>> =
        std::collections::BTreeMap::new();
    for item in &mine {
        people.entry(item.reviewee.as_str()).or_default().push(item);
    }
    let plain = people
        .values()
        .find(|items| items.len() > 1 && !items.iter().any(|i| needs_reason(i)))
        .unwrap();
    let special = people.values().find(|items| items.iter().any(|i| needs_reason(i))).unwrap();
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let csrf = browser.csrf().await;
    let path = format!("/campaigns/{}/decide", app.campaign);

    let ids: Vec<String> = plain.iter().map(|i| i.item_id.to_string()).collect();
    let mut fields = vec![("csrf", csrf.as_str()), ("action", "revoke_all")];
    fields.extend(ids.iter().map(|id| ("person_item", id.as_str())));
    let reply = browser.post_form(&path, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    for item in plain {
        assert_eq!(app.decision_of(app.campaign, item.item_id).await.as_deref(), Some("revoke"));
    }

    // Approving all of a person with privileged or outside-baseline access needs a reason,
    // and without one nothing of theirs is decided.
    let ids: Vec<String> = special.iter().map(|i| i.item_id.to_string()).collect();
    let mut fields = vec![("csrf", csrf.as_str()), ("action", "approve_all")];
    fields.extend(ids.iter().map(|id| ("person_item", id.as_str())));
    let reply = browser.post_form(&path, &fields).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    for item in special {
        assert_eq!(app.decision_of(app.campaign, item.item_id).await, None);
    }
    fields.push(("justification", "reviewed with the practice manager"));
    let reply = browser.post_form(&path, &fields).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    for item in special {
        assert_eq!(app.decision_of(app.campaign, item.item_id).await.as_deref(), Some("approve"));
    }

    // The page offers both buttons for each person, named for screen readers.
    let page = browser.get(&format!("/campaigns/{}", app.campaign)).await;
    assert!(
        page.body.contains("value=\"approve_all\">Approve all<span class=\"visually-hidden\"> of ")
    );
}

/// Returns the `review.decided` audit entries of `campaign` after `after_seq`, as
/// (actor, decision, items) triples.
async fn decided_entries(
    app: &App,
    tenant: &str,
    after_seq: u64,
) -> Vec<(String, String, Vec<i64>)> {
    let tenant = TenantId::new(tenant).unwrap();
    let records = app.store.tenant(&tenant).audit_entries(after_seq, 10_000).await.unwrap();
    records
        .into_iter()
        .filter(|record| record.action == "review.decided")
        .map(|record| {
            let detail: serde_json::Value = serde_json::from_str(&record.detail).unwrap();
            let items = detail["items"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap());
            (record.actor, detail["decision"].as_str().unwrap().to_owned(), items.collect())
        })
        .collect()
}

async fn last_audit_seq(app: &App, tenant: &str) -> u64 {
    let tenant = TenantId::new(tenant).unwrap();
    let records = app.store.tenant(&tenant).audit_entries(0, 100_000).await.unwrap();
    records.last().map_or(0, |record| record.seq)
}

/// What accepting the recommendations must do with `item`, had it no decision:
/// `Some(decision)`, or `None` when it must stay undecided.
fn recommended(item: &StoredReviewItem) -> Option<&'static str> {
    if item.recommend_revoke {
        Some("revoke")
    } else if needs_reason(item) {
        None
    } else {
        Some("approve")
    }
}

#[tokio::test]
async fn accept_recommendations_on_the_page() {
    let app = App::start().await;
    let all = items(&app).await;
    let mine: Vec<&StoredReviewItem> = all.iter().filter(|i| i.reviewer == "hr:E1002").collect();
    assert!(mine.iter().any(|i| i.recommend_revoke), "the example has a recommended revoke");
    assert!(mine.iter().any(|i| recommended(i) == Some("approve")), "and a plain approve");
    assert!(mine.iter().any(|i| recommended(i).is_none()), "and an approve needing a reason");
    let mut browser = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let csrf = browser.csrf().await;
    let page = browser.get(&format!("/campaigns/{}", app.campaign)).await;
    assert!(page.body.contains("Accept all recommendations"), "the page-wide button");
    assert!(
        page.body.contains(&format!("formaction=\"/campaigns/{}/recommendations\"", app.campaign))
    );

    // An earlier decision against the recommendation, which must stay.
    let earlier = mine.iter().find(|i| recommended(i) == Some("approve")).unwrap();
    let one = format!("revoke:{}", earlier.item_id);
    let path = format!("/campaigns/{}/decide", app.campaign);
    let reply = browser.post_form(&path, &[("csrf", &csrf), ("one", &one)]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    // One person's button first: only that person's items change.
    let person = mine.iter().find(|i| i.reviewee != earlier.reviewee).unwrap().reviewee.clone();
    let before = last_audit_seq(&app, "harborview").await;
    let accept = format!("/campaigns/{}/recommendations", app.campaign);
    let reply = browser.post_form(&accept, &[("csrf", &csrf), ("person", &person)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.body.contains("Recommendations accepted"), "{}", reply.body);
    let after_person = items(&app).await;
    for item in after_person.iter().filter(|i| i.reviewer == "hr:E1002") {
        let expected = if item.item_id == earlier.item_id {
            Some("revoke")
        } else if item.reviewee == person {
            recommended(item)
        } else {
            None
        };
        assert_eq!(item.decision.as_deref(), expected, "item {} after one person", item.item_id);
    }

    // The page-wide button: the rest, with the counts and the skipped items listed.
    let reply = browser.post_form(&accept, &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let undecided_before: Vec<&StoredReviewItem> =
        after_person.iter().filter(|i| i.reviewer == "hr:E1002" && i.decision.is_none()).collect();
    let approved = undecided_before.iter().filter(|i| recommended(i) == Some("approve")).count();
    let revoked = undecided_before.iter().filter(|i| recommended(i) == Some("revoke")).count();
    let kept = mine.len() - undecided_before.len();
    assert!(reply.body.contains(&format!("<span id=\"accepted-approved\">{approved}</span>")));
    assert!(reply.body.contains(&format!("<span id=\"accepted-revoked\">{revoked}</span>")));
    assert!(reply.body.contains(&format!("<span id=\"accepted-kept\">{kept}</span>")));
    let final_items = items(&app).await;
    for item in final_items.iter().filter(|i| i.reviewer == "hr:E1002") {
        let expected =
            if item.item_id == earlier.item_id { Some("revoke") } else { recommended(item) };
        assert_eq!(item.decision.as_deref(), expected, "item {}", item.item_id);
        if expected.is_none() {
            assert!(
                reply.body.contains(&format!("<li data-item=\"{}\">", item.item_id)),
                "skipped item {} is listed",
                item.item_id
            );
        } else {
            assert_eq!(item.decided_by.as_deref(), Some("hr:E1002"));
        }
    }
    assert!(reply.body.contains("needs your justification"), "the reason is given");
    // Other reviewers' items are untouched.
    for item in final_items.iter().filter(|i| i.reviewer != "hr:E1002") {
        assert_eq!(item.decision, None, "item {} of {}", item.item_id, item.reviewer);
    }
    // One audit entry per decided item, as a single decision writes.
    let entries = decided_entries(&app, "harborview", before).await;
    let decided_now: Vec<i64> = final_items
        .iter()
        .filter(|i| i.reviewer == "hr:E1002" && i.item_id != earlier.item_id)
        .filter(|i| i.decision.is_some())
        .map(|i| i64::from(i.item_id))
        .collect();
    assert_eq!(entries.len(), decided_now.len(), "{entries:?}");
    for (actor, decision, ids) in &entries {
        assert_eq!(actor, "hr:E1002");
        assert_eq!(ids.len(), 1, "one item per entry");
        let item = final_items.iter().find(|i| i64::from(i.item_id) == ids[0]).unwrap();
        assert_eq!(Some(decision.as_str()), item.decision.as_deref());
    }

    // After sign-off nothing is accepted any more.
    let reply = browser.post_form(&accept, &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, StatusCode::OK, "nothing left is fine: {}", reply.body);
    let tenant = TenantId::new("harborview").unwrap();
    let scope = app.store.tenant(&tenant);
    let skipped: Vec<i32> = final_items
        .iter()
        .filter(|i| i.reviewer == "hr:E1002" && i.decision.is_none())
        .map(|i| i.item_id)
        .collect();
    let action = ReviewAction {
        actor: "hr:E1002".into(),
        at: example_now(),
        item_ids: skipped,
        kind: ReviewActionKind::Revoke,
        justification: None,
    };
    scope.decide_review_items(app.campaign, &action).await.unwrap();
    let reply = browser
        .post_form(&format!("/campaigns/{}/signoff", app.campaign), &[("csrf", &csrf)])
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let page = browser.get(&format!("/campaigns/{}", app.campaign)).await;
    assert!(!page.body.contains("Accept all recommendations"), "no button after sign-off");
    let reply = browser.post_form(&accept, &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains("signed_off"), "{}", reply.body);
}

#[tokio::test]
async fn accept_recommendations_in_the_api() {
    let app = App::start().await;
    let lakeside = TenantId::new("lakeside").unwrap();
    let scope = app.store.tenant(&lakeside);
    let all = scope.review_items(app.lakeside_campaign).await.unwrap();
    let mine: Vec<&StoredReviewItem> = all.iter().filter(|i| i.reviewer == "hr:E1002").collect();
    let login = format!("{OFFICE_MANAGER_E1002};tid={LAKESIDE_DIRECTORY}");
    let mut browser = app.signed_in("lakeside", &login).await;
    let csrf = browser.csrf().await;
    let campaign = app.lakeside_campaign;

    // An earlier decision against the recommendation.
    let earlier = mine.iter().find(|i| i.recommend_revoke).unwrap();
    let body = serde_json::json!({ "items": [earlier.item_id], "decision": "approve", "justification": "still covers the night shift" });
    let reply = browser
        .post_json(&format!("/api/v1/campaigns/{campaign}/decisions"), Some(&csrf), &body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let path = format!("/api/v1/campaigns/{campaign}/recommendations");
    let reply = browser.post_json(&path, None, &serde_json::json!({})).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "missing CSRF: {}", reply.body);
    assert_eq!(reply.json()["error"], "csrf_invalid");
    let reply = browser.post_json(&path, Some(&csrf), &serde_json::json!({ "people": [] })).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "an unknown field is named: {}", reply.body);
    assert!(reply.body.contains("people"), "{}", reply.body);

    let reply = browser.post_json(&path, Some(&csrf), &serde_json::json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcome = reply.json();
    let ids = |key: &str| -> Vec<i32> {
        outcome[key].as_array().unwrap().iter().map(|v| v.as_i64().unwrap() as i32).collect()
    };
    let others: Vec<&&StoredReviewItem> =
        mine.iter().filter(|i| i.item_id != earlier.item_id).collect();
    let expect = |decision: Option<&str>| -> Vec<i32> {
        others.iter().filter(|i| recommended(i) == decision).map(|i| i.item_id).collect()
    };
    assert_eq!(ids("approved"), expect(Some("approve")));
    assert_eq!(ids("revoked"), expect(Some("revoke")));
    let skipped: Vec<i32> = outcome["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert!(s["reason"].as_str().unwrap().contains("justification"), "{s}");
            s["item"].as_i64().unwrap() as i32
        })
        .collect();
    assert_eq!(skipped, expect(None));
    assert_eq!(outcome["already_decided"], 1);
    let stored = scope.review_items(campaign).await.unwrap();
    let earlier_now = stored.iter().find(|i| i.item_id == earlier.item_id).unwrap();
    assert_eq!(earlier_now.decision.as_deref(), Some("approve"), "the earlier decision stays");
    assert_eq!(earlier_now.justification.as_deref(), Some("still covers the night shift"));

    // The items API reports decision times in UTC, RFC 3339.
    let listed = browser.get(&format!("/api/v1/campaigns/{campaign}/items")).await.json();
    let decided_at = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == earlier.item_id)
        .unwrap()["decided_at"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(decided_at.ends_with("+00:00"), "{decided_at}");
    chrono::DateTime::parse_from_rfc3339(&decided_at).unwrap();

    // Another manager of the same campaign accepts only their own items; a person of
    // this tenant without items and another tenant's user do not find the campaign.
    let mut other = app
        .signed_in("lakeside", &format!("{PRACTICE_MANAGER_E1003};tid={LAKESIDE_DIRECTORY}"))
        .await;
    let token = other.csrf().await;
    let reply = other.post_json(&path, Some(&token), &serde_json::json!({})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let touched: Vec<i64> = ["approved", "revoked"]
        .iter()
        .flat_map(|key| reply.json()[*key].as_array().unwrap().clone())
        .map(|v| v.as_i64().unwrap())
        .collect();
    let after = scope.review_items(campaign).await.unwrap();
    for id in touched {
        let item = after.iter().find(|i| i64::from(i.item_id) == id).unwrap();
        assert_eq!(item.reviewer, "hr:E1003", "item {id} is the other manager's");
    }
    let mut reviewee =
        app.signed_in("lakeside", &format!("{PHYSICIAN_E1004};tid={LAKESIDE_DIRECTORY}")).await;
    let token = reviewee.csrf().await;
    let reply = reviewee.post_json(&path, Some(&token), &serde_json::json!({})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let mut harborview = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let token = harborview.csrf().await;
    let reply = harborview.post_json(&path, Some(&token), &serde_json::json!({})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "another tenant: {}", reply.body);
    assert_eq!(scope.review_items(campaign).await.unwrap(), after, "nothing changed");
}

#[tokio::test]
async fn times_show_in_the_practice_zone() {
    let app = App::start().await;
    // The example practice is in Chicago; the second practice moves to Los Angeles.
    let lakeside = TenantId::new("lakeside").unwrap();
    let scope = app.store.tenant(&lakeside);
    let profile = scope.tenant_profile().await.unwrap().unwrap();
    let profile =
        rollcall_store::TenantProfile { time_zone: chrono_tz::America::Los_Angeles, ..profile };
    scope.upsert_tenant(&profile).await.unwrap();

    // Both campaigns launched at the example's instant with 14 days to decide.
    let deadline: chrono::DateTime<chrono::Utc> = "2026-12-15T15:00:00Z".parse().unwrap();
    let harborview_campaign = items(&app).await;
    assert!(!harborview_campaign.is_empty());
    let mut chicago = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let login = format!("{OFFICE_MANAGER_E1002};tid={LAKESIDE_DIRECTORY}");
    let mut los_angeles = app.signed_in("lakeside", &login).await;
    for (browser, campaign, text) in [
        (&mut chicago, app.campaign, "Dec 15, 2026 9:00 AM CST"),
        (&mut los_angeles, app.lakeside_campaign, "Dec 15, 2026 7:00 AM PST"),
    ] {
        let api = browser.get("/api/v1/campaigns").await.json();
        assert_eq!(api[0]["deadline"], deadline.to_rfc3339(), "the API stays in UTC");
        let list = browser.get("/campaigns").await;
        assert!(list.body.contains(&format!("deadline {text}")), "{}", list.body);
        let page = browser.get(&format!("/campaigns/{campaign}")).await;
        assert!(page.body.contains(&format!("Deadline {text}")), "{}", page.body);
        assert!(!page.body.contains("UTC"), "no UTC time on the page");
        assert!(!page.body.contains("+00:00"), "no raw RFC 3339 sign-in time");
    }

    // A last sign-in from the facts, on each practice's clock.
    let item = harborview_campaign
        .iter()
        .find(|i| {
            i.reviewer == "hr:E1002"
                && i.facts["sign_ins"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["last"].as_str().unwrap().contains('T'))
        })
        .expect("an item with a sign-in instant");
    let last = item.facts["sign_ins"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|s| s["last"].as_str().filter(|t| t.contains('T')))
        .unwrap();
    let last: chrono::DateTime<chrono::Utc> = last.parse().unwrap();
    let page = chicago.get(&format!("/campaigns/{}", app.campaign)).await;
    let shown = last.with_timezone(&chrono_tz::America::Chicago).format("%b %-d, %Y %-I:%M %p %Z");
    assert!(page.body.contains(&shown.to_string()), "last sign-in {shown}: {}", page.body);

    // The decision time, on the Chicago clock.
    let csrf = chicago.csrf().await;
    let one = format!("revoke:{}", item.item_id);
    let reply = chicago
        .post_form(
            &format!("/campaigns/{}/decide", app.campaign),
            &[("csrf", &csrf), ("one", &one)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let decided = items(&app).await.into_iter().find(|i| i.item_id == item.item_id).unwrap();
    let at = decided.decided_at.unwrap().with_timezone(&chrono_tz::America::Chicago);
    let page = chicago.get(&format!("/campaigns/{}", app.campaign)).await;
    let shown = format!("on {}", at.format("%b %-d, %Y %-I:%M %p %Z"));
    assert!(page.body.contains(&shown), "{shown}: {}", page.body);

    // Around the end of daylight saving time 1:30 AM happens twice; the abbreviation
    // tells them apart. Around its start 2:30 AM does not exist in Los Angeles.
    let admin = app.db.admin_pool().await;
    for (tenant, campaign, instant, text) in [
        ("harborview", app.campaign, "2026-11-01T06:30:00Z", "Nov 1, 2026 1:30 AM CDT"),
        ("harborview", app.campaign, "2026-11-01T07:30:00Z", "Nov 1, 2026 1:30 AM CST"),
        ("lakeside", app.lakeside_campaign, "2026-03-08T09:30:00Z", "Mar 8, 2026 1:30 AM PST"),
        ("lakeside", app.lakeside_campaign, "2026-03-08T10:30:00Z", "Mar 8, 2026 3:30 AM PDT"),
    ] {
        let at: chrono::DateTime<chrono::Utc> = instant.parse().unwrap();
        sqlx::query(
            "UPDATE rollcall.review_campaigns SET deadline = $3 WHERE tenant_id = $1 AND campaign_id = $2",
        )
        .bind(tenant)
        .bind(campaign)
        .bind(at)
        .execute(&admin)
        .await
        .unwrap();
        let browser = if tenant == "harborview" { &mut chicago } else { &mut los_angeles };
        let page = browser.get(&format!("/campaigns/{campaign}")).await;
        assert!(page.body.contains(&format!("Deadline {text}")), "{instant}: {}", page.body);
    }
}
