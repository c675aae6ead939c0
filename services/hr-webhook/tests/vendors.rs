//! HR vendor deliveries from webhook to leaver record, against real PostgreSQL and NATS
//! and the local double of the vendors' APIs. The tests cover verification per vendor,
//! the read-back, and the poll that finds a termination whose webhook was dropped. They
//! also cover ADP's queue and a rescinded termination that cancels its leaver.
//!
//! The leaver step calls the store function the engine applies HR events with
//! (`apply_hr_event_to_leavers`), with a 24-hour SLA.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use rollcall_core::TenantId;
use rollcall_hr_vendors::Vendor;
use rollcall_hr_vendors::double::{FixtureWorker, VendorDouble};
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use rollcall_store::{LeaverChange, LeaverState};
use serde_json::Value;
use support::{Harness, LIMIT, Options, TENANT};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../hr-vendors/tests/cases");
const HIBOB_SECRET: &str = "bob-test-secret-9F3kQ2xLw8vT";
const BAMBOOHR_KEY: &str = "bhr-test-privkey-7d1c0a9e3f5b4e21a8c6";
const RIPPLING_TOKEN: &str = "rc-test-bearer-5c2e8f1a9d44";
const RIPPLING_URL_TOKEN: &str = "Xk2v9Qm4Tz7Lp1Rw";
const HIBOB_WORKER: &str = "3417298560115823412";
const RIPPLING_WORKER: &str = "66a1f0c2e4b0a1b2c3d4e5f6";
const ADP_WORKER: &str = "G3K7T2M9Q1W4E8R5";
const GUSTO_TOKEN: &str = "3f6a2c1e-9b7d-4e5f-a1c2-8d9e0f1a2b3c";
const GUSTO_SUBSCRIPTION: &str = "0c9e1a52-7f3d-4b86-a2e4-5d8f6b1c3e70";
const GUSTO_WORKER: &str = "e9d8c7b6-a5f4-4e3d-9c2b-1a0f9e8d7c6b";

fn case(path: &str) -> Vec<u8> {
    std::fs::read(format!("{CASES}/{path}")).unwrap()
}

/// Writes the vendors' secret files into `dir` and returns [`TENANT`]'s `vendors:` map.
fn vendor_yaml(dir: &Path, double: &VendorDouble) -> String {
    for (name, value) in [
        ("hibob-key", HIBOB_SECRET),
        ("hibob-api", "service-user-password"),
        ("bamboohr-key", BAMBOOHR_KEY),
        ("bamboohr-api", "api-key-for-tests"),
        ("rippling-token", RIPPLING_TOKEN),
        ("rippling-url-token", RIPPLING_URL_TOKEN),
        ("rippling-api", "rippling-api-token"),
        ("adp-secret", "adp-client-secret"),
        ("gusto-token", GUSTO_TOKEN),
        ("gusto-api", "gusto-api-token"),
    ] {
        std::fs::write(dir.join(name), value).unwrap();
    }
    let d = dir.display();
    let hibob = double.base_url(Vendor::HiBob);
    let bamboohr = double.base_url(Vendor::BambooHr);
    let rippling = double.base_url(Vendor::Rippling);
    let adp = double.base_url(Vendor::AdpWorkforceNow);
    let adp_token = double.token_url(Vendor::AdpWorkforceNow);
    let gusto = double.base_url(Vendor::Gusto);
    format!(
        "    vendors:
      hibob:
        time_zone: America/Chicago
        site_time_zones:
          Lakeside: America/New_York
        signing_keys:
          - id: bob-old
            secret_file: {d}/bamboohr-key
          - id: bob-2026
            secret_file: {d}/hibob-key
        api:
          base_url: \"{hibob}\"
          auth: basic
          user: service-user
          password_file: {d}/hibob-api
          allow_plain_http_loopback: true
      bamboohr:
        time_zone: America/Chicago
        signing_keys:
          - id: bhr-1
            secret_file: {d}/bamboohr-key
        api:
          base_url: \"{bamboohr}\"
          auth: basic
          user: api-key
          password_file: {d}/bamboohr-api
          allow_plain_http_loopback: true
      rippling:
        time_zone: America/Chicago
        bearer_tokens:
          - id: rippling-1
            secret_file: {d}/rippling-token
        url_tokens:
          - id: rippling-path
            secret_file: {d}/rippling-url-token
        api:
          base_url: \"{rippling}\"
          auth: bearer
          token_file: {d}/rippling-api
          allow_plain_http_loopback: true
      adp-workforce-now:
        time_zone: America/New_York
        api:
          base_url: \"{adp}\"
          auth: client_credentials
          token_url: \"{adp_token}\"
          client_id: rollcall
          client_secret_file: {d}/adp-secret
          allow_plain_http_loopback: true
      gusto:
        time_zone: America/New_York
        company_id: a4b8c2d6-1e3f-4a5b-8c7d-9e0f1a2b3c4d
        gusto_subscription_uuid: {GUSTO_SUBSCRIPTION}
        signing_keys:
          - id: subscription-1
            secret_file: {d}/gusto-token
        api:
          base_url: \"{gusto}\"
          auth: bearer
          token_file: {d}/gusto-api
          allow_plain_http_loopback: true
"
    )
}

/// Starts the service with the vendors configured; `sync` is the `vendor_sync` section.
async fn start(double: &VendorDouble, secrets: &Path, sync: &str) -> Harness {
    let options = Options {
        tenant_yaml: vendor_yaml(secrets, double),
        extra_yaml: format!("vendor_sync:\n{sync}"),
        ..Options::default()
    };
    Harness::start_with(options).await
}

async fn post(
    harness: &Harness,
    tenant: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, Value) {
    let mut request = harness
        .client
        .post(format!("{}/v1/tenants/{tenant}/hr/vendors/{path}", harness.base))
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn hibob_signature(body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA512, HIBOB_SECRET.as_bytes());
    STANDARD.encode(ring::hmac::sign(&key, body))
}

fn bamboohr_headers(body: &[u8], timestamp: i64) -> Vec<(&'static str, String)> {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, BAMBOOHR_KEY.as_bytes());
    let mut message = body.to_vec();
    message.extend_from_slice(timestamp.to_string().as_bytes());
    let tag = ring::hmac::sign(&key, &message);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    vec![
        ("content-type", "application/json".to_owned()),
        ("x-bamboohr-timestamp", timestamp.to_string()),
        ("x-bamboohr-signature", hex),
    ]
}

/// Waits until the tenant has `count` HR events and returns them, oldest first.
async fn wait_for_events(harness: &Harness, count: usize) -> Vec<HrEvent> {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let events = harness.stored_events(TENANT).await;
        if events.len() >= count {
            return events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} of {count} HR events after {LIMIT:?}",
            events.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Applies the unapplied HR events to the leavers, as the engine does.
async fn apply_to_leavers(harness: &Harness) -> Vec<LeaverChange> {
    let scope = harness.store.tenant(&TenantId::new(TENANT).unwrap());
    let mut changes = Vec::new();
    for event in scope.unapplied_hr_events().await.unwrap() {
        let change = scope
            .apply_hr_event_to_leavers(&event, TimeDelta::hours(24), "engine", Utc::now())
            .await
            .unwrap();
        changes.push(change);
    }
    changes
}

fn instant(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[tokio::test]
async fn hibob_webhook_to_leaver_and_rescind() {
    let double = VendorDouble::start().await.unwrap();
    let mut worker = FixtureWorker::terminated("2026-12-01");
    worker.site = Some("Lakeside".into());
    double.set_worker(Vendor::HiBob, HIBOB_WORKER, worker);
    let secrets = tempfile::tempdir().unwrap();
    let harness = start(&double, secrets.path(), "  resolve_interval_seconds: 1\n").await;

    // The example delivery, with the signature it was sent with; the second of the two
    // configured keys verifies it.
    let body = case("hibob/body.json");
    let signature =
        "skrJ47hquu9BmmU0k9i4MTMy0gXE77YAUY3YNEV1CU5yzNdjoe82fDFa3m/VZY0us0yOD4rbkY72Y8tuxf96EQ==";
    let headers = [("bob-signature", signature.to_owned())];
    let (status, reply) = post(&harness, TENANT, "hibob", &headers, &body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    assert_eq!(reply["new"], 1);
    // A redelivery of the same event is one row.
    let (status, replay) = post(&harness, TENANT, "hibob", &headers, &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replay["new"], 0);
    assert_eq!(replay["deliveries"], reply["deliveries"]);

    let events = wait_for_events(&harness, 1).await;
    let termination = &events[0];
    assert_eq!(termination.event_type, HrEventType::Termination);
    assert_eq!(termination.sender, HrEventSender::Webhook);
    assert_eq!(termination.employee_id, HIBOB_WORKER);
    // 00:00 on the effective date at the site, America/New_York, not the tenant's zone.
    assert_eq!(termination.effective_at, instant("2026-12-01T05:00:00Z"));
    assert_eq!(termination.time_zone, chrono_tz::America::New_York);

    let messages = harness.bus.hr_messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, termination.event_id.to_string());

    assert_eq!(apply_to_leavers(&harness).await, [LeaverChange::Opened]);
    let scope = harness.store.tenant(&TenantId::new(TENANT).unwrap());
    let leavers = scope.leavers(None).await.unwrap();
    assert_eq!(leavers.len(), 1);
    assert_eq!(leavers[0].deadline, instant("2026-12-02T05:00:00Z"));

    // HR rescinds the termination; Bob sends another event for the worker.
    double.set_worker(Vendor::HiBob, HIBOB_WORKER, FixtureWorker::active());
    let rescind = format!(
        "{{\"companyId\":618204,\"type\":\"employee.updated\",\"triggeredBy\":\"4711\",\"triggeredAt\":\"2026-12-01T14:12:09.118204\",\"version\":\"v2\",\"data\":{{\"employeeId\":\"{HIBOB_WORKER}\"}}}}"
    );
    let headers = [("bob-signature", hibob_signature(rescind.as_bytes()))];
    let (status, reply) = post(&harness, TENANT, "hibob", &headers, rescind.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    let events = wait_for_events(&harness, 2).await;
    let correction = &events[1];
    assert_eq!(correction.event_type, HrEventType::Correction);
    assert_eq!(correction.corrected_event_id, Some(termination.event_id));
    assert_eq!(apply_to_leavers(&harness).await, [LeaverChange::Cancelled]);
    let leavers = scope.leavers(None).await.unwrap();
    assert_eq!(leavers[0].state, LeaverState::Cancelled);

    let audit = scope.audit_entries(0, 100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|entry| entry.action.as_str()).collect();
    assert!(actions.contains(&"leaver.opened"), "{actions:?}");
    assert!(actions.contains(&"leaver.cancelled"), "{actions:?}");
    harness.stop().await;
}

/// Tenant, vendor, headers, body, expected status and expected problem `reason`.
type RejectionCase<'a> = (&'a str, &'a str, Vec<(&'a str, String)>, Vec<u8>, StatusCode, &'a str);

#[tokio::test]
async fn unverified_deliveries_commit_nothing() {
    let double = VendorDouble::start().await.unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let harness = start(&double, secrets.path(), "  resolve_interval_seconds: 1\n").await;
    let body = case("hibob/body.json");
    let signature = hibob_signature(&body);

    let mut changed = body.clone();
    changed[10] ^= 0x01;
    let cases: Vec<RejectionCase> = vec![
        (
            TENANT,
            "hibob",
            vec![("bob-signature", signature.clone())],
            changed,
            StatusCode::UNAUTHORIZED,
            "signature_mismatch",
        ),
        (TENANT, "hibob", vec![], body.clone(), StatusCode::UNAUTHORIZED, "missing_header"),
        (
            TENANT,
            "hibob",
            vec![("bob-signature", "AAAA".into())],
            body.clone(),
            StatusCode::UNAUTHORIZED,
            "malformed_signature",
        ),
        (
            TENANT,
            "rippling",
            vec![("authorization", "Bearer rc-test-bearer-5c2e8f1a9d45".into())],
            case("rippling/body.form"),
            StatusCode::UNAUTHORIZED,
            "credential_mismatch",
        ),
        (
            TENANT,
            "adp-workforce-now",
            vec![],
            case("adp-workforce-now/body.json"),
            StatusCode::UNAUTHORIZED,
            "not_pushed",
        ),
        (TENANT, "workday", vec![], body.clone(), StatusCode::NOT_FOUND, ""),
        (
            support::OTHER,
            "hibob",
            vec![("bob-signature", signature.clone())],
            body.clone(),
            StatusCode::NOT_FOUND,
            "",
        ),
    ];
    for (tenant, vendor, headers, body, status, reason) in cases {
        let (got, reply) = post(&harness, tenant, vendor, &headers, &body).await;
        assert_eq!(got, status, "{tenant}/{vendor}: {reply}");
        if !reason.is_empty() {
            assert_eq!(reply["reason"], reason, "{tenant}/{vendor}");
        }
    }

    // A signed body that is not a HiBob event: verified, then rejected with the member.
    let signed_junk = br#"{"companyId":618204}"#;
    let headers = [("bob-signature", hibob_signature(signed_junk))];
    let (status, reply) = post(&harness, TENANT, "hibob", &headers, signed_junk).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{reply}");
    assert!(reply["detail"].as_str().unwrap().contains("/type"), "{reply}");

    let scope = harness.store.tenant(&TenantId::new(TENANT).unwrap());
    assert_eq!(scope.unresolved_vendor_delivery_count().await.unwrap(), 0);
    // No worker was read; the only vendor calls are the poll loop's reads of ADP's queue.
    let reads: Vec<String> =
        double.requests().into_iter().filter(|r| !r.contains("/adp-workforce-now/")).collect();
    assert!(reads.is_empty(), "{reads:?}");
    let metrics = harness.metrics().await;
    assert!(metrics.contains("reason=\"signature_mismatch\""), "{metrics}");
    harness.stop().await;
}

#[tokio::test]
async fn poll_finds_dropped_termination() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Rippling, RIPPLING_WORKER, FixtureWorker::terminated("2026-11-30"));
    double.set_worker(Vendor::Rippling, "66a1f0c2e4b0a1b2c3d4e5f7", FixtureWorker::active());
    let secrets = tempfile::tempdir().unwrap();
    // No webhook is sent: the poll, every second here, is the only way in.
    let sync = "  resolve_interval_seconds: 1\n  poll_interval_seconds: 1\n";
    let harness = start(&double, secrets.path(), sync).await;

    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events[0].event_type, HrEventType::Termination);
    assert_eq!(events[0].sender, HrEventSender::VendorPoll);
    assert_eq!(events[0].employee_id, RIPPLING_WORKER);
    // `end_date` is the last day worked: employment ends at the next midnight in Chicago.
    assert_eq!(events[0].effective_at, instant("2026-12-01T06:00:00Z"));
    assert_eq!(apply_to_leavers(&harness).await, [LeaverChange::Opened]);

    // Wait for a later poll to be resolved too: it records nothing new.
    let reads_before = double.requests().len();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while double.requests().len() < reads_before + 6 {
        assert!(tokio::time::Instant::now() < deadline, "no further poll");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let scope = harness.store.tenant(&TenantId::new(TENANT).unwrap());
    let deadline = tokio::time::Instant::now() + LIMIT;
    while scope.unresolved_vendor_delivery_count().await.unwrap() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "poll deliveries not resolved");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(harness.stored_events(TENANT).await.len(), 1);
    harness.stop().await;
}

#[tokio::test]
async fn worker_not_found_retried_until_found() {
    let double = VendorDouble::start().await.unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let sync = "  resolve_interval_seconds: 1\n  retry_first_wait_seconds: 1\n";
    let harness = start(&double, secrets.path(), sync).await;

    let body = case("bamboohr/body.json");
    let headers = bamboohr_headers(&body, Utc::now().timestamp());
    let (status, reply) = post(&harness, TENANT, "bamboohr", &headers, &body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    // The API does not show the worker yet: the read gets 404 and is retried.
    let deadline = tokio::time::Instant::now() + LIMIT;
    while !double.requests().iter().any(|r| r.starts_with("GET /bamboohr/api/v1/employees/1187?")) {
        assert!(tokio::time::Instant::now() < deadline, "no read of the worker");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let scope = harness.store.tenant(&TenantId::new(TENANT).unwrap());
    assert_eq!(scope.unresolved_vendor_delivery_count().await.unwrap(), 1);
    assert!(harness.stored_events(TENANT).await.is_empty());

    double.set_worker(Vendor::BambooHr, "1187", FixtureWorker::terminated("2026-12-01"));
    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events[0].sender, HrEventSender::Webhook);
    // The new Employment Status row is current from 00:00 in the company's zone.
    assert_eq!(events[0].effective_at, instant("2026-12-01T06:00:00Z"));
    assert_eq!(scope.unresolved_vendor_delivery_count().await.unwrap(), 0);
    let metrics = harness.metrics().await;
    let not_found =
        "rollcall_hr_webhook_vendor_reads_total{vendor=\"bamboohr\",outcome=\"not_found\"}";
    assert!(support::counter(&metrics, not_found) >= 1, "{metrics}");
    let ok = "rollcall_hr_webhook_vendor_reads_total{vendor=\"bamboohr\",outcome=\"ok\"}";
    assert_eq!(support::counter(&metrics, ok), 1, "{metrics}");
    harness.stop().await;
}

#[tokio::test]
async fn adp_queue_message_recorded_then_deleted() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::AdpWorkforceNow, ADP_WORKER, FixtureWorker::terminated("2026-11-30"));
    double.push_adp_message(
        "0x_414d5120515f4144505f4d53470a3c7e",
        &case("adp-workforce-now/body.json"),
    );
    let secrets = tempfile::tempdir().unwrap();
    let sync = "  resolve_interval_seconds: 1\n  queue_interval_seconds: 1\n";
    let harness = start(&double, secrets.path(), sync).await;

    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events[0].employee_id, ADP_WORKER);
    assert_eq!(events[0].event_type, HrEventType::Termination);
    assert_eq!(events[0].effective_at, instant("2026-11-30T05:00:00Z"));
    assert_eq!(double.adp_queue_len(), 0);
    harness.stop().await;
}

#[tokio::test]
async fn gusto_handshake_then_delivery() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Gusto, GUSTO_WORKER, FixtureWorker::terminated("2026-11-30"));
    let secrets = tempfile::tempdir().unwrap();
    let harness = start(&double, secrets.path(), "  resolve_interval_seconds: 1\n").await;

    // The subscription's first request carries the token, unsigned.
    let handshake = format!(
        "{{\"verification_token\":\"{GUSTO_TOKEN}\",\"webhook_subscription_uuid\":\"{GUSTO_SUBSCRIPTION}\"}}"
    );
    let (status, reply) = post(&harness, TENANT, "gusto", &[], handshake.as_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let expected = [(GUSTO_SUBSCRIPTION.to_owned(), GUSTO_TOKEN.to_owned())];
    assert_eq!(double.verified_subscriptions(), expected);

    // A handshake for another subscription is not passed on to Gusto.
    let other = br#"{"verification_token":"x","webhook_subscription_uuid":"5e2f0000-0000-4000-8000-000000000000"}"#;
    let (status, reply) = post(&harness, TENANT, "gusto", &[], other).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(reply["reason"], "unknown_subscription");
    assert_eq!(double.verified_subscriptions().len(), 1);

    // The example delivery, signed with the token.
    let body = case("gusto/body.json");
    let signature = "7d7846501ea765451f57c9a1e3e55e00cbd78233a3ded49ecd7477e088b0f955";
    let headers = [("x-gusto-signature", signature.to_owned())];
    let (status, reply) = post(&harness, TENANT, "gusto", &headers, &body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");

    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events[0].employee_id, GUSTO_WORKER);
    // The last day worked is 2026-11-30, so employment ends at the next midnight in New York.
    assert_eq!(events[0].effective_at, instant("2026-12-01T05:00:00Z"));
    harness.stop().await;
}

#[tokio::test]
async fn url_token_route_verifies() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Rippling, RIPPLING_WORKER, FixtureWorker::terminated("2026-11-30"));
    let secrets = tempfile::tempdir().unwrap();
    let harness = start(&double, secrets.path(), "  resolve_interval_seconds: 1\n").await;
    let body = case("rippling/body.form");

    let wrong = format!("rippling/{}", RIPPLING_URL_TOKEN.to_lowercase());
    let (status, reply) = post(&harness, TENANT, &wrong, &[], &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(reply["reason"], "credential_mismatch");

    let (status, reply) = post(&harness, TENANT, "rippling", &[], &body).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{reply}");
    assert_eq!(reply["reason"], "missing_credential");

    let path = format!("rippling/{RIPPLING_URL_TOKEN}");
    let (status, reply) = post(&harness, TENANT, &path, &[], &body).await;
    assert_eq!(status, StatusCode::OK, "{reply}");
    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events[0].employee_id, RIPPLING_WORKER);
    assert_eq!(events[0].sender, HrEventSender::Webhook);
    harness.stop().await;
}
