//! The contract with the engine when a dependency is down: PostgreSQL unreachable means
//! 503 and nothing published; NATS unreachable means the event is still committed and
//! acknowledged with 200.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::{Cutter, Harness, KEY_A, Options, TENANT, TestDb, closed_port, counter, termination};

#[tokio::test]
async fn postgres_down_gives_503() {
    let db = TestDb::create().await;
    let cutter = Cutter::start(format!("{}:{}", db.host(), db.port())).await;
    let harness =
        Harness::start_on(db, Options { postgres_port: Some(cutter.port), ..Options::default() })
            .await;
    let response = harness.send_signed(TENANT, KEY_A, "msg_before", &termination("E9001")).await;
    assert_eq!(response.status(), StatusCode::OK);

    cutter.cut();
    let response = harness.send_signed(TENANT, KEY_A, "msg_during", &termination("E9002")).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let (status, _) = harness
        .scim(
            reqwest::Method::POST,
            "Users",
            Some(serde_json::json!({"userName": "a@b.test", "externalId": "E9003"})),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let ready = harness.client.get(format!("{}/readyz", harness.ops)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);

    // Only the event from before the cut is stored and published.
    let stored = harness.stored_events(TENANT).await;
    assert_eq!(stored.iter().map(|e| e.employee_id.as_str()).collect::<Vec<_>>(), ["E9001"]);
    let messages = harness.bus.hr_messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].1.employee_id, "E9001");
    harness.stop().await;
}

#[tokio::test]
async fn nats_down_still_commits() {
    let harness = Harness::start_with(Options {
        nats_url: Some(format!("127.0.0.1:{}", closed_port())),
        ..Options::default()
    })
    .await;
    let response = harness.send_signed(TENANT, KEY_A, "msg_no_nats", &termination("E9101")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["new"], true);
    assert_eq!(body["published"], false);
    let stored = harness.stored_events(TENANT).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].employee_id, "E9101");

    // Readiness follows PostgreSQL only, so the service keeps taking events.
    let ready = harness.client.get(format!("{}/readyz", harness.ops)).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let metrics = harness.metrics().await;
    assert_eq!(
        counter(&metrics, "rollcall_hr_webhook_publish_failures_total{sender=\"webhook\"}"),
        1
    );
    assert!(harness.bus.hr_messages().await.is_empty());
    harness.stop().await;
}
