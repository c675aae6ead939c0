//! The authorisation matrix: every review route tried by another manager, the reviewee,
//! a user of another tenant, an expired session and no session, and every
//! state-changing route with a missing or forged CSRF token. All are rejected and the
//! item stays as it was; the item's own reviewer, with the token, succeeds.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use redis::AsyncCommands as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::*;

/// A state-changing request on item `item` of campaign `campaign`.
#[derive(Debug, Clone, Copy)]
enum Change {
    PageRevoke,
    PageDelegate,
    PageSignOff,
    ApiRevoke,
    ApiDelegate,
    ApiSignOff,
    PageAccept,
    ApiAccept,
}

const CHANGES: [Change; 8] = [
    Change::PageRevoke,
    Change::PageDelegate,
    Change::PageSignOff,
    Change::ApiRevoke,
    Change::ApiDelegate,
    Change::ApiSignOff,
    Change::PageAccept,
    Change::ApiAccept,
];

/// Sends `change` with `csrf` as the token (`None` leaves it out).
async fn send(
    browser: &mut Browser,
    change: Change,
    campaign: &str,
    item: i32,
    csrf: Option<&str>,
) -> Reply {
    let item_text = item.to_string();
    let one = format!("revoke:{item}");
    let mut fields: Vec<(&str, &str)> = Vec::new();
    if let Some(token) = csrf {
        fields.push(("csrf", token));
    }
    match change {
        Change::PageRevoke => {
            fields.push(("one", &one));
            browser.post_form(&format!("/campaigns/{campaign}/decide"), &fields).await
        }
        Change::PageDelegate => {
            fields.extend([("item", item_text.as_str()), ("action", "delegate"), ("to", "E1003")]);
            browser.post_form(&format!("/campaigns/{campaign}/decide"), &fields).await
        }
        Change::PageSignOff => {
            browser.post_form(&format!("/campaigns/{campaign}/signoff"), &fields).await
        }
        Change::ApiRevoke => {
            let body = json!({ "items": [item], "decision": "revoke" });
            browser.post_json(&format!("/api/v1/campaigns/{campaign}/decisions"), csrf, &body).await
        }
        Change::ApiDelegate => {
            let body = json!({ "items": [item], "to": "E1003" });
            browser
                .post_json(&format!("/api/v1/campaigns/{campaign}/delegations"), csrf, &body)
                .await
        }
        Change::ApiSignOff => {
            browser
                .post_json(&format!("/api/v1/campaigns/{campaign}/signoff"), csrf, &json!({}))
                .await
        }
        Change::PageAccept => {
            browser.post_form(&format!("/campaigns/{campaign}/recommendations"), &fields).await
        }
        Change::ApiAccept => {
            let path = format!("/api/v1/campaigns/{campaign}/recommendations");
            browser.post_json(&path, csrf, &json!({})).await
        }
    }
}

/// Returns the read routes of one campaign.
fn reads(campaign: &str) -> [String; 4] {
    [
        format!("/campaigns/{campaign}"),
        format!("/campaigns/{campaign}/overview"),
        format!("/campaigns/{campaign}/evidence.tar"),
        format!("/api/v1/campaigns/{campaign}/items"),
    ]
}

/// Checks that item `item` is still undecided, still with the office manager, and that
/// the office manager has not signed off.
async fn assert_untouched(app: &App, item: i32, context: &str) {
    let tenant = rollcall_core::TenantId::new("harborview").unwrap();
    let scope = app.store.tenant(&tenant);
    let items = scope.review_items(app.campaign).await.unwrap();
    let stored = items.iter().find(|i| i.item_id == item).unwrap();
    assert_eq!(stored.decision, None, "{context}: the decision changed");
    assert_eq!(stored.reviewer, "hr:E1002", "{context}: the reviewer changed");
    let signoffs = scope.review_signoffs(app.campaign).await.unwrap();
    assert!(signoffs.is_empty(), "{context}: a sign-off was recorded: {signoffs:?}");
}

#[tokio::test]
async fn other_people_cannot_change_an_item() {
    let app = App::start().await;
    let campaign = app.campaign.to_string();
    let item = app.items_of("harborview", app.campaign, "hr:E1002").await[0];

    let mut other_manager = app.signed_in("harborview", PRACTICE_MANAGER_E1003).await;
    let mut reviewee = app.signed_in("harborview", PHYSICIAN_E1004).await;
    let mut other_tenant = app
        .signed_in("lakeside", &format!("{OFFICE_MANAGER_E1002};tid={LAKESIDE_DIRECTORY}"))
        .await;
    let mut expired = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let expired_token = expired.csrf().await;
    let key = app.state.sessions.session_key(expired.cookie("rc_session").unwrap());
    let mut redis = app.redis.clone();
    let _: () = redis.del(&key).await.unwrap();
    let mut anonymous = app.browser();

    for change in CHANGES {
        let token = other_manager.csrf().await;
        let reply = send(&mut other_manager, change, &campaign, item, Some(&token)).await;
        // Another manager's own sign-off fails too: their items are undecided. Accepting
        // the recommendations is allowed, and decides only their own items.
        let expected = match change {
            Change::PageSignOff | Change::ApiSignOff => StatusCode::CONFLICT,
            Change::PageAccept | Change::ApiAccept => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        };
        assert_eq!(reply.status, expected, "another manager, {change:?}: {}", reply.body);
        assert_untouched(&app, item, &format!("another manager, {change:?}")).await;

        // The reviewee has no part in the campaign, so it does not exist for them.
        let token = reviewee.csrf().await;
        let reply = send(&mut reviewee, change, &campaign, item, Some(&token)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "the reviewee, {change:?}: {}", reply.body);
        assert_untouched(&app, item, &format!("the reviewee, {change:?}")).await;

        let token = other_tenant.csrf().await;
        let reply = send(&mut other_tenant, change, &campaign, item, Some(&token)).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "another tenant, {change:?}: {}",
            reply.body
        );
        assert_untouched(&app, item, &format!("another tenant, {change:?}")).await;

        let reply = send(&mut expired, change, &campaign, item, Some(&expired_token)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "an expired session, {change:?}");
        assert_untouched(&app, item, &format!("an expired session, {change:?}")).await;

        let reply = send(&mut anonymous, change, &campaign, item, Some("guess")).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "no session, {change:?}");
        assert_untouched(&app, item, &format!("no session, {change:?}")).await;
    }
}

#[tokio::test]
async fn missing_or_forged_csrf_is_rejected() {
    let app = App::start().await;
    let campaign = app.campaign.to_string();
    let item = app.items_of("harborview", app.campaign, "hr:E1002").await[0];
    let mut reviewer = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    // A token of another session is as forged as a made-up one.
    let mut other = app.signed_in("harborview", PRACTICE_MANAGER_E1003).await;
    let other_token = other.csrf().await;

    for change in CHANGES {
        for (label, token) in [
            ("missing", None),
            ("forged", Some("forged-token")),
            ("another session's", Some(other_token.as_str())),
        ] {
            let reply = send(&mut reviewer, change, &campaign, item, token).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{label} token, {change:?}: {}",
                reply.body
            );
            assert!(reply.body.contains("csrf_invalid"), "{label} token, {change:?}");
            assert_untouched(&app, item, &format!("{label} token, {change:?}")).await;
        }
    }

    // The item's reviewer with the session's token succeeds, on the page and the API.
    let token = reviewer.csrf().await;
    let reply = send(&mut reviewer, Change::PageRevoke, &campaign, item, Some(&token)).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(app.decision_of(app.campaign, item).await.as_deref(), Some("revoke"));
    let body = json!({ "items": [item], "decision": "approve", "justification": "covers for the billing lead" });
    let reply = reviewer
        .post_json(&format!("/api/v1/campaigns/{campaign}/decisions"), Some(&token), &body)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.json()["changed"], 1);
    assert_eq!(app.decision_of(app.campaign, item).await.as_deref(), Some("approve"));
}

#[tokio::test]
async fn other_people_cannot_read_an_item() {
    let app = App::start().await;
    let campaign = app.campaign.to_string();
    let item = app.items_of("harborview", app.campaign, "hr:E1002").await[0];
    let checkbox = format!("id=\"item-{item}\"");

    let mut reviewer = app.signed_in("harborview", OFFICE_MANAGER_E1002).await;
    let page = reviewer.get(&format!("/campaigns/{campaign}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&checkbox), "the reviewer sees the item");

    // Another manager reads the campaign with their own items only, and no overview.
    let mut other_manager = app.signed_in("harborview", PRACTICE_MANAGER_E1003).await;
    let page = other_manager.get(&format!("/campaigns/{campaign}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains(&checkbox), "another manager sees the item");
    let items = other_manager.get(&format!("/api/v1/campaigns/{campaign}/items")).await.json();
    let ids: Vec<i64> =
        items["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert!(!ids.is_empty());
    assert!(!ids.contains(&i64::from(item)), "another manager's API lists the item");
    let overview = other_manager.get(&format!("/campaigns/{campaign}/overview")).await;
    assert_eq!(overview.status, StatusCode::FORBIDDEN);
    let evidence = other_manager.get(&format!("/campaigns/{campaign}/evidence.tar")).await;
    assert_eq!(evidence.status, StatusCode::FORBIDDEN, "another manager, the evidence");

    // The reviewee has no part in the campaign, so it does not exist for them.
    let mut reviewee = app.signed_in("harborview", PHYSICIAN_E1004).await;
    for path in reads(&campaign) {
        assert_eq!(reviewee.get(&path).await.status, StatusCode::NOT_FOUND, "the reviewee, {path}");
    }
    let list = reviewee.get("/api/v1/campaigns").await.json();
    assert_eq!(list, Value::Array(Vec::new()));

    // Another tenant's user: the id is unknown in their tenant.
    let mut other_tenant = app
        .signed_in("lakeside", &format!("{OFFICE_MANAGER_E1002};tid={LAKESIDE_DIRECTORY}"))
        .await;
    for path in reads(&campaign) {
        assert_eq!(
            other_tenant.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "another tenant, {path}"
        );
    }
    let own = other_tenant.get("/api/v1/campaigns").await.json();
    assert_eq!(
        own[0]["id"],
        app.lakeside_campaign.to_string(),
        "they see their own tenant's campaign"
    );

    // No session: pages show sign-in, and the API returns 401.
    let mut anonymous = app.browser();
    for path in reads(&campaign) {
        let reply = anonymous.get(&path).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "no session, {path}");
        assert!(!reply.body.contains(&checkbox));
    }

    // The security officer, by role, reads the overview.
    let mut officer = app
        .signed_in("harborview", &format!("{DIRECTOR_E1001};roles=Rollcall.SecurityOfficer"))
        .await;
    let overview = officer.get(&format!("/campaigns/{campaign}/overview")).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains("hr:E1002"), "the overview lists the reviewers");
    assert!(!overview.body.contains("evidence.tar"), "an open campaign offers no evidence");
    // The evidence pack waits for the sign-off, and asking records nothing.
    let evidence = officer.get(&format!("/campaigns/{campaign}/evidence.tar")).await;
    assert_eq!(evidence.status, StatusCode::CONFLICT, "{}", evidence.body);
    assert!(evidence.body.contains("campaign_not_closed"), "{}", evidence.body);
    let tenant = rollcall_core::TenantId::new("harborview").unwrap();
    let audit = app.store.tenant(&tenant).audit_entries(0, 100_000).await.unwrap();
    assert!(!audit.iter().any(|e| e.action == "evidence.exported"), "no export recorded");
}
