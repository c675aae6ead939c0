//! The webhook endpoint against real PostgreSQL and NATS: signatures, replays, body
//! checks, limits and what reaches the store and the stream.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use chrono::Utc;
use reqwest::StatusCode;
use rollcall_core::TenantId;
use rollcall_hr_webhook::app::webhook_event_id;
use rollcall_proto::{HrEventSender, HrEventType};
use serde_json::Value;
use support::{
    Harness, KEY_A, KEY_B, OTHER, OTHER_KEY, Options, TENANT, UNSTORED, counter, signed_headers,
    termination,
};

/// `webhook-*` headers as names and values.
type Headers = Vec<(&'static str, String)>;

async fn json(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, serde_json::from_str(&response.text().await.unwrap()).unwrap())
}

#[tokio::test]
async fn webhook_commits_then_publishes() {
    let harness = Harness::start().await;
    let (status, body) =
        json(harness.send_signed(TENANT, KEY_A, "msg_0001", &termination("E1001")).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["new"], true);
    assert_eq!(body["published"], true);
    let event_id = webhook_event_id(&TenantId::new(TENANT).unwrap(), "msg_0001");
    assert_eq!(body["event_id"], event_id.to_string());

    let stored = harness.stored_events(TENANT).await;
    assert_eq!(stored.len(), 1);
    let event = &stored[0];
    assert_eq!(event.event_id, event_id);
    assert_eq!(event.event_type, HrEventType::Termination);
    assert_eq!(event.sender, HrEventSender::Webhook);
    assert_eq!(event.employee_id, "E1001");
    assert_eq!(event.effective_at.to_rfc3339(), "2026-12-04T23:00:00+00:00");
    assert_eq!(event.time_zone, chrono_tz::America::Chicago);
    assert_eq!(event.manager_employee_id.as_deref(), Some("E0001"));

    let messages = harness.bus.hr_messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, event_id.to_string());
    assert_eq!(messages[0].1.event_id, event_id.to_string());
    assert_eq!(messages[0].1.tenant, TENANT);

    let metrics = harness.metrics().await;
    assert_eq!(
        counter(&metrics, "rollcall_hr_webhook_events_committed_total{sender=\"webhook\"}"),
        1
    );
    assert_eq!(
        counter(
            &metrics,
            "rollcall_hr_webhook_requests_total{endpoint=\"webhook\",status=\"200\"}"
        ),
        1
    );
    harness.stop().await;
}

/// Hire and change events are committed and published as terminations are, with the
/// worker record, manager and zone they carry.
#[tokio::test]
async fn webhook_takes_hire_and_change() {
    let harness = Harness::start().await;
    let hire = serde_json::json!({
        "type": "hire",
        "employee_id": "E1101",
        "effective_at": "2026-12-07T08:00:00-07:00",
        "time_zone": "America/Denver",
        "manager_employee_id": "E0001",
        "worker": {"name": "Rowan Ashdown", "job_title": "Medical Assistant", "status": "active"},
    });
    let change = serde_json::json!({
        "type": "change",
        "employee_id": "E1101",
        "effective_at": "2027-01-04T08:00:00-07:00",
        "time_zone": "America/Denver",
        "reason": "promotion",
        "manager_employee_id": "E0002",
        "worker": {"job_title": "Office Manager", "department": "Administration"},
    });
    for (id, body) in [("msg_hire", &hire), ("msg_change", &change)] {
        let (status, reply) =
            json(harness.send_signed(TENANT, KEY_A, id, &body.to_string()).await).await;
        assert_eq!(status, StatusCode::OK, "{id}: {reply}");
        assert_eq!(reply["new"], true, "{id}");
    }

    let stored = harness.stored_events(TENANT).await;
    let kinds: Vec<HrEventType> = stored.iter().map(|event| event.event_type).collect();
    assert_eq!(kinds, [HrEventType::Hire, HrEventType::Change]);
    assert_eq!(stored[0].effective_at.to_rfc3339(), "2026-12-07T15:00:00+00:00");
    assert_eq!(stored[0].time_zone, chrono_tz::America::Denver);
    assert_eq!(stored[0].worker.as_ref().unwrap().job_title.as_deref(), Some("Medical Assistant"));
    assert_eq!(stored[1].reason.as_deref(), Some("promotion"));
    assert_eq!(stored[1].manager_employee_id.as_deref(), Some("E0002"));
    let worker = stored[1].worker.as_ref().unwrap();
    assert_eq!(worker.department.as_deref(), Some("Administration"));
    assert_eq!(worker.employee_id, "E1101");
    assert_eq!(harness.bus.hr_messages().await.len(), 2);
    harness.stop().await;
}

#[tokio::test]
async fn webhook_correction_names_its_event() {
    let harness = Harness::start().await;
    let (status, first) =
        json(harness.send_signed(TENANT, KEY_A, "msg_wrong", &termination("E1005")).await).await;
    assert_eq!(status, StatusCode::OK);
    let correction = serde_json::json!({
        "type": "correction",
        "employee_id": "E1005",
        "effective_at": "2026-12-04T17:00:00-06:00",
        "time_zone": "America/Chicago",
        "reason": "termination entered for the wrong person",
        "corrected_event_id": first["event_id"],
        "worker": {"status": "active"},
    })
    .to_string();
    let (status, body) =
        json(harness.send_signed(TENANT, KEY_A, "msg_fix", &correction).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let stored = harness.stored_events(TENANT).await;
    let fix = stored.iter().find(|event| event.event_type == HrEventType::Correction).unwrap();
    assert_eq!(fix.corrected_event_id.unwrap().to_string(), first["event_id"].as_str().unwrap());
    let worker = fix.worker.as_ref().unwrap();
    assert_eq!(worker.status, rollcall_core::model::WorkerStatus::Active);
    assert_eq!(worker.employee_id, "E1005");
    harness.stop().await;
}

#[tokio::test]
async fn webhook_replay_commits_one_row() {
    let harness = Harness::start().await;
    let body = termination("E1002");
    let (first, first_body) =
        json(harness.send_signed(TENANT, KEY_A, "msg_replay", &body).await).await;
    assert_eq!(first, StatusCode::OK);
    assert_eq!(first_body["new"], true);
    // The same id again, signed anew and even with another body: the first one is kept.
    let (second, second_body) =
        json(harness.send_signed(TENANT, KEY_A, "msg_replay", &termination("E9999")).await).await;
    assert_eq!(second, StatusCode::OK);
    assert_eq!(second_body["new"], false);
    assert_eq!(second_body["event_id"], first_body["event_id"]);

    let stored = harness.stored_events(TENANT).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].employee_id, "E1002");
    assert_eq!(harness.bus.hr_messages().await.len(), 1);
    harness.stop().await;
}

#[tokio::test]
async fn webhook_accepts_both_rotation_keys() {
    let harness = Harness::start().await;
    for (key, id) in [(KEY_A, "msg_new_key"), (KEY_B, "msg_old_key")] {
        let (status, body) =
            json(harness.send_signed(TENANT, key, id, &termination("E1003")).await).await;
        assert_eq!(status, StatusCode::OK, "{id}: {body}");
        assert_eq!(body["new"], true);
    }
    // A header listing a retired signature and a current one is accepted too.
    let body = termination("E1004");
    let now = Utc::now().timestamp();
    let mut headers = signed_headers(KEY_A, "msg_both", now, &body);
    let old = rollcall_hr_webhook::signature::sign(
        b"a retired key, 32 bytes long!!!",
        "msg_both",
        now,
        body.as_bytes(),
    );
    headers[2].1 = format!("{old} {}", headers[2].1);
    assert_eq!(harness.post_webhook(TENANT, &headers, &body).await.status(), StatusCode::OK);
    assert_eq!(harness.stored_events(TENANT).await.len(), 3);
    harness.stop().await;
}

#[tokio::test]
async fn webhook_rejects_bad_signatures() {
    let harness = Harness::start().await;
    let body = termination("E2001");
    let now = Utc::now().timestamp();
    let good = signed_headers(KEY_A, "msg_bad", now, &body);

    let with_signature = |signature: &str| {
        let mut headers = good.clone();
        headers[2].1 = signature.to_owned();
        headers
    };
    let forged_body = termination("E2002");
    let cases: Vec<(&str, Headers, &str, &str)> = vec![
        ("forged body", good.clone(), forged_body.as_str(), "signature_mismatch"),
        (
            "key of another tenant",
            signed_headers(OTHER_KEY, "msg_bad", now, &body),
            &body,
            "signature_mismatch",
        ),
        (
            "unknown key",
            signed_headers(b"nobody's key, also 32 bytes long", "msg_bad", now, &body),
            &body,
            "signature_mismatch",
        ),
        ("expired", signed_headers(KEY_A, "msg_bad", now - 301, &body), &body, "expired_timestamp"),
        (
            "future-dated",
            signed_headers(KEY_A, "msg_bad", now + 301, &body),
            &body,
            "future_timestamp",
        ),
        ("empty v1 entry", with_signature("v1,"), &body, "malformed_signature"),
        (
            "empty v1 beside a good one",
            with_signature(&format!("v1, {}", good[2].1)),
            &body,
            "malformed_signature",
        ),
        ("no version", with_signature("c2lnbmF0dXJl"), &body, "malformed_signature"),
        ("not base64", with_signature("v1,***"), &body, "malformed_signature"),
        ("short mac", with_signature("v1,AAAA"), &body, "malformed_signature"),
        ("only another version", with_signature("v1a,AAAA"), &body, "malformed_signature"),
        ("missing signature", good[..2].to_vec(), &body, "missing_header"),
        ("missing timestamp", vec![good[0].clone(), good[2].clone()], &body, "missing_header"),
        ("missing id", good[1..].to_vec(), &body, "missing_header"),
        (
            "timestamp in milliseconds text",
            {
                let mut headers = good.clone();
                headers[1].1 = format!("{now}.5");
                headers
            },
            &body,
            "malformed_timestamp",
        ),
    ];
    for (name, headers, body, reason) in &cases {
        let (status, problem) = json(harness.post_webhook(TENANT, headers, body).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {problem}");
        assert_eq!(problem["reason"], *reason, "{name}");
        assert_eq!(problem["status"], 401, "{name}");
        assert!(problem["detail"].as_str().is_some_and(|d| !d.is_empty()), "{name}");
    }
    // The other tenant's own key works for the other tenant, and only there.
    let signed = signed_headers(OTHER_KEY, "msg_bad", now, &body);
    assert_eq!(harness.post_webhook(OTHER, &signed, &body).await.status(), StatusCode::OK);

    assert!(harness.stored_events(TENANT).await.is_empty());
    let metrics = harness.metrics().await;
    assert_eq!(
        counter(
            &metrics,
            "rollcall_hr_webhook_signature_rejections_total{reason=\"signature_mismatch\"}"
        ),
        3
    );
    assert_eq!(
        counter(
            &metrics,
            "rollcall_hr_webhook_signature_rejections_total{reason=\"malformed_signature\"}"
        ),
        6
    );
    assert_eq!(
        counter(
            &metrics,
            "rollcall_hr_webhook_signature_rejections_total{reason=\"expired_timestamp\"}"
        ),
        1
    );
    assert_eq!(
        counter(
            &metrics,
            "rollcall_hr_webhook_requests_total{endpoint=\"webhook\",status=\"401\"}"
        ),
        cases.len() as u64
    );
    harness.stop().await;
}

#[tokio::test]
async fn webhook_rejects_unknown_tenants_and_bodies() {
    let harness = Harness::start().await;
    // Not configured at all.
    let response = harness.send_signed("nowhere", KEY_A, "msg_1", &termination("E1")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // Configured, but not in the store.
    let response = harness.send_signed(UNSTORED, KEY_A, "msg_1", &termination("E1")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let (status, problem) =
        json(harness.send_signed(TENANT, KEY_A, "msg_2", r#"{"type":"termination","employee_id":"E1","effective_at":"2026-12-04T17:00:00Z","time_zone":"UTC","salary":100}"#).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "/salary");
    assert!(problem["detail"].as_str().unwrap().contains("salary"));

    let (status, problem) =
        json(harness.send_signed(TENANT, KEY_A, "msg_3", r#"{"type":"hire","employee_id":"E1","effective_at":"2026-12-04T17:00:00","time_zone":"UTC"}"#).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["field"], "/effective_at");

    let response = harness.send_signed(TENANT, KEY_A, "msg_4", "not json").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(harness.stored_events(TENANT).await.is_empty());
    harness.stop().await;
}

#[tokio::test]
async fn webhook_body_limit_gives_413() {
    let harness = Harness::start_with(Options { max_body_bytes: 1024, ..Options::default() }).await;
    let mut event: Value = serde_json::from_str(&termination("E3001")).unwrap();
    event["reason"] = Value::String("x".repeat(900));
    let body = event.to_string();
    assert!(body.len() > 1024);
    let response = harness.send_signed(TENANT, KEY_A, "msg_big", &body).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Just under the limit passes.
    event["reason"] = Value::String("x".repeat(700));
    let response = harness.send_signed(TENANT, KEY_A, "msg_fits", &event.to_string()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(harness.stored_events(TENANT).await.len(), 1);
    harness.stop().await;
}

#[tokio::test]
async fn webhook_rate_limit_gives_429() {
    // One request a minute with a bucket of three: the fourth within the minute is
    // refused, and a token is back in 60 s at most.
    let harness =
        Harness::start_with(Options { per_minute: 1, burst: 3, ..Options::default() }).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for n in 0..4 {
        let response = harness
            .send_signed(TENANT, KEY_A, &format!("msg_rate_{n}"), &termination("E4001"))
            .await;
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after =
                response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_owned());
        }
    }
    assert_eq!(&statuses[..3], [StatusCode::OK; 3]);
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = retry_after.unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Another tenant has its own bucket.
    let response =
        harness.send_signed(OTHER, OTHER_KEY, "msg_rate_other", &termination("E4002")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(harness.stored_events(TENANT).await.len(), 3);
    harness.stop().await;
}
