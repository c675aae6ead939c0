//! The review pages in headless Chromium (Debian's `/usr/bin/chromium`, driven by
//! `tests/browser/review.mjs` through playwright-core): sign in, decide with the
//! keyboard, bulk-decide, delegate, accept the recommendations, sign off, and the phone
//! layout. The store is then
//! checked for every decision the browser made.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use rollcall_core::TenantId;
use serde_json::Value;
use support::*;
use tokio::process::Command;

#[tokio::test]
async fn manager_reviews_in_chromium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/playwright-core").is_dir()
            && Path::new("/usr/bin/chromium").exists(),
        "chromium or playwright-core is missing; run scripts/install-test-deps.sh"
    );
    let app = App::start().await;
    let child = Command::new("node")
        .arg("review.mjs")
        .current_dir(&dir)
        .env("BASE_URL", &app.base)
        .env("CAMPAIGN", app.campaign.to_string())
        .env("LOGIN", OFFICE_MANAGER_E1002)
        .env("DELEGATE_TO", "E1003")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let output = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .expect("the browser test did not finish within 5 minutes")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();

    let tenant = TenantId::new("harborview").unwrap();
    let scope = app.store.tenant(&tenant);
    let items = scope.review_items(app.campaign).await.unwrap();
    let item = |id: &Value| {
        let id: i32 = id.as_str().unwrap().parse().unwrap();
        items.iter().find(|i| i.item_id == id).unwrap()
    };
    let keyboard = item(&result["keyboard_item"]);
    assert_eq!(keyboard.decision.as_deref(), Some("revoke"), "the keyboard decision");
    for id in result["bulk_items"].as_array().unwrap() {
        assert_eq!(item(id).decision.as_deref(), Some("revoke"), "bulk item {id}");
    }
    let delegated = item(&result["delegated_item"]);
    assert_eq!(delegated.reviewer, "hr:E1003");
    assert_eq!(delegated.decision, None);
    // Only accepting the recommendations approved anything; the rest was revoked.
    let approved = result["accepted"]["approved"].as_u64().unwrap();
    assert!(approved > 0, "the button approved recommended items: {result}");
    let approved_items = items
        .iter()
        .filter(|i| i.reviewer == "hr:E1002" && i.decision.as_deref() == Some("approve"))
        .collect::<Vec<_>>();
    assert_eq!(approved_items.len() as u64, approved);
    for item in approved_items {
        assert!(!item.recommend_revoke && !item.privileged && !item.outside_baseline);
        assert_eq!(item.justification, None);
    }
    let undecided =
        items.iter().filter(|i| i.reviewer == "hr:E1002" && i.decision.is_none()).count();
    assert_eq!(undecided, 0);
    let signoffs = scope.review_signoffs(app.campaign).await.unwrap();
    assert!(signoffs.iter().any(|s| s.reviewer == "hr:E1002" && s.stage == 1));
}
