//! One tenant's connection to an HR vendor, through the running service and the local
//! double of the vendors' APIs: the vendor's rate limit, a rotated API credential and the
//! networks deliveries may come from.

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
use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use rollcall_core::TenantId;
use rollcall_hr_vendors::Vendor;
use rollcall_hr_vendors::double::{Fault, FixtureWorker, VendorDouble};
use rollcall_proto::{HrEvent, HrEventType};
use rollcall_store::{TenantScope, VendorDelivery};
use serde_json::Value;
use sqlx::{Connection as _, PgConnection, Row as _};
use support::{Harness, LIMIT, Options, TENANT};

const HIBOB_SECRET: &str = "bob-test-secret-9F3kQ2xLw8vT";
const HIBOB_WORKER: &str = "3417298560115823412";
const HIBOB_OTHER_WORKER: &str = "3417298560115823413";
const RIPPLING_TOKEN: &str = "rc-test-bearer-5c2e8f1a9d44";
const PAYCHEX_PASSWORD: &str = "test-only-pass-2290";
const PAYLOCITY_PASSWORD: &str = "test-only-pass-4471";

/// Resolver passes and first retries every second.
const FAST_SYNC: &str = "  resolve_interval_seconds: 1\n  retry_first_wait_seconds: 1\n";

/// The `Retry-After` of the rate-limit tests, in seconds: long enough for the service to
/// take a second delivery while the pause lasts.
const RETRY_AFTER_SECONDS: u64 = 5;

/// Returns the lookup path of a HiBob worker on the double.
fn hibob_lookup(worker: &str) -> String {
    format!("/hibob/v1/people/{worker}")
}

/// Returns one entry of a `vendors:` map. `delivery` contains the delivery settings and
/// `api` the `api:` lines after `base_url`, each indented as in the map.
fn vendor_entry(double: &VendorDouble, vendor: Vendor, delivery: &str, api: &str) -> String {
    format!(
        "      {vendor}:
{delivery}        api:
          base_url: \"{base}\"
          allow_plain_http_loopback: true
{api}",
        base = double.base_url(vendor),
    )
}

/// Writes HiBob's delivery key and API password (`api_password`) into `dir` and returns
/// its `vendors:` entry, with the more `api:` lines in `api_extra`.
fn hibob_yaml(dir: &Path, double: &VendorDouble, api_password: &str, api_extra: &str) -> String {
    std::fs::write(dir.join("hibob-key"), HIBOB_SECRET).unwrap();
    rotate(&dir.join("hibob-api"), api_password);
    let d = dir.display();
    let delivery = format!(
        "        time_zone: America/Chicago
        signing_keys:
          - id: bob-1
            secret_file: {d}/hibob-key
"
    );
    let api = format!(
        "          auth: basic
          user: service-user
          password_file: {d}/hibob-api
{api_extra}"
    );
    vendor_entry(double, Vendor::HiBob, &delivery, &api)
}

/// Replaces `path` with `content` in one rename, as the kubelet swaps the files of a
/// mounted Secret, so the service never reads a half-written file.
fn rotate(path: &Path, content: &str) {
    let staged = path.with_extension("staged");
    std::fs::write(&staged, format!("{content}\n")).unwrap();
    std::fs::rename(&staged, path).unwrap();
}

/// Starts the service with `vendors` as [`TENANT`]'s `vendors:` entries and `sync` as
/// the `vendor_sync` section.
async fn start(vendors: &str, sync: &str) -> Harness {
    let options = Options {
        tenant_yaml: format!("    vendors:\n{vendors}"),
        extra_yaml: format!("vendor_sync:\n{sync}"),
        ..Options::default()
    };
    Harness::start_with(options).await
}

/// Builds a signed HiBob `employee.left` delivery for `worker`.
fn hibob_delivery(worker: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = format!(
        "{{\"companyId\":618204,\"type\":\"employee.left\",\"triggeredBy\":\"system\",\"triggeredAt\":\"2026-12-01T05:00:00.412871\",\"version\":\"v2\",\"data\":{{\"employeeId\":\"{worker}\"}}}}"
    );
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA512, HIBOB_SECRET.as_bytes());
    let signature = STANDARD.encode(ring::hmac::sign(&key, body.as_bytes()));
    (vec![("bob-signature", signature)], body.into_bytes())
}

/// Builds the `Authorization` value of a Basic credential.
fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

async fn post(
    harness: &Harness,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (StatusCode, Value) {
    let mut request = harness
        .client
        .post(format!("{}/v1/tenants/{TENANT}/hr/vendors/{path}", harness.base))
        .body(body.to_vec());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Posts a delivery and checks that it is committed as one new row.
async fn deliver(harness: &Harness, path: &str, headers: &[(&str, String)], body: &[u8]) {
    let (status, reply) = post(harness, path, headers, body).await;
    assert_eq!(status, StatusCode::OK, "{path}: {reply}");
    assert_eq!(reply["new"], 1, "{path}: {reply}");
}

async fn deliver_hibob(harness: &Harness, worker: &str) {
    let (headers, body) = hibob_delivery(worker);
    deliver(harness, "hibob", &headers, &body).await;
}

/// Polls `check` every 100 ms until it returns `Some`, and fails with `description` after
/// [`LIMIT`].
async fn wait_for<T, F, Fut>(description: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not reached after {LIMIT:?}: {description}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the tenant has `count` HR events and returns them, oldest first.
async fn wait_for_events(harness: &Harness, count: usize) -> Vec<HrEvent> {
    wait_for(&format!("{count} HR events"), || async {
        let events = harness.stored_events(TENANT).await;
        (events.len() >= count).then_some(events)
    })
    .await
}

/// Waits until no delivery is unresolved.
async fn wait_for_all_resolved(harness: &Harness) {
    wait_for("no unresolved delivery", || async {
        (scope(harness).unresolved_vendor_delivery_count().await.unwrap() == 0).then_some(())
    })
    .await;
}

fn scope(harness: &Harness) -> TenantScope<'_> {
    harness.store.tenant(&TenantId::new(TENANT).unwrap())
}

/// Returns the unresolved deliveries, due or not.
async fn pending_deliveries(harness: &Harness) -> Vec<VendorDelivery> {
    let far = Utc::now() + TimeDelta::days(400);
    scope(harness).due_vendor_deliveries(far, 100).await.unwrap()
}

/// One stored delivery row, resolved or not.
#[derive(Debug)]
struct StoredDelivery {
    worker_id: String,
    sender: String,
    attempts: i32,
    resolved: bool,
}

/// Reads every delivery row of `vendor`, oldest first, as PostgreSQL stores it.
async fn stored_deliveries(harness: &Harness, vendor: Vendor) -> Vec<StoredDelivery> {
    let mut connection = PgConnection::connect_with(&harness.db.admin_options()).await.unwrap();
    let rows = sqlx::query(
        "SELECT worker_id, sender, attempts, resolved_at IS NOT NULL AS resolved \
         FROM rollcall.hr_vendor_deliveries WHERE vendor = $1 ORDER BY received_at",
    )
    .bind(vendor.as_str())
    .fetch_all(&mut connection)
    .await
    .unwrap();
    let _ = connection.close().await;
    rows.iter()
        .map(|row| StoredDelivery {
            worker_id: row.get("worker_id"),
            sender: row.get("sender"),
            attempts: row.get("attempts"),
            resolved: row.get("resolved"),
        })
        .collect()
}

/// Counts the requests to `path` on the double, whatever their query.
fn requests_to(double: &VendorDouble, path: &str) -> usize {
    double
        .requests()
        .iter()
        .filter_map(|request| request.split_once(' '))
        .map(|(_, target)| target.split_once('?').map_or(target, |(path, _)| path))
        .filter(|requested| *requested == path)
        .count()
}

/// Returns `rollcall_hr_webhook_vendor_throttled_total` of `vendor`.
async fn throttled(harness: &Harness, vendor: Vendor) -> u64 {
    let line = format!("rollcall_hr_webhook_vendor_throttled_total{{vendor=\"{vendor}\"}}");
    support::counter(&harness.metrics().await, &line)
}

/// Returns `rollcall_hr_webhook_vendor_reads_total` of `vendor` and `outcome`.
async fn reads(harness: &Harness, vendor: Vendor, outcome: &str) -> u64 {
    let line = format!(
        "rollcall_hr_webhook_vendor_reads_total{{vendor=\"{vendor}\",outcome=\"{outcome}\"}}"
    );
    support::counter(&harness.metrics().await, &line)
}

/// Returns the employee ids of `events`, sorted.
fn employees(events: &[HrEvent]) -> Vec<&str> {
    let mut ids: Vec<&str> = events.iter().map(|event| event.employee_id.as_str()).collect();
    ids.sort_unstable();
    ids
}

/// Two deliveries for one vendor: the first lookup gets 429 with a `Retry-After` longer
/// than the call waits out (`max_retry_after_seconds: 0`), so the resolver postpones it.
/// The second delivery's lookup must wait for the same pause, and both are recorded once
/// after it.
#[tokio::test]
async fn rate_limit_pauses_other_lookups() {
    let double = VendorDouble::start().await.unwrap();
    for worker in [HIBOB_WORKER, HIBOB_OTHER_WORKER] {
        double.set_worker(Vendor::HiBob, worker, FixtureWorker::terminated("2026-12-01"));
    }
    let retry_after = Fault::RateLimited(RETRY_AFTER_SECONDS.to_string());
    double.push_fault_at(&hibob_lookup(HIBOB_WORKER), retry_after);
    let secrets = tempfile::tempdir().unwrap();
    let api_extra = "          max_retry_after_seconds: 0\n";
    let vendors = hibob_yaml(secrets.path(), &double, "service-user-password", api_extra);
    let harness = start(&vendors, FAST_SYNC).await;

    deliver_hibob(&harness, HIBOB_WORKER).await;
    deliver_hibob(&harness, HIBOB_OTHER_WORKER).await;
    let events = wait_for_events(&harness, 2).await;
    wait_for_all_resolved(&harness).await;

    // The double responds with 429 to, and records, any request within its `Retry-After`.
    assert_eq!(double.early_requests(), Vec::<String>::new());
    assert_eq!(requests_to(&double, &hibob_lookup(HIBOB_WORKER)), 2);
    assert_eq!(requests_to(&double, &hibob_lookup(HIBOB_OTHER_WORKER)), 1);
    assert_eq!(employees(&events), [HIBOB_WORKER, HIBOB_OTHER_WORKER]);
    assert!(events.iter().all(|event| event.event_type == HrEventType::Termination));
    assert_eq!(harness.stored_events(TENANT).await.len(), 2);

    // The first delivery failed once, on the 429. The pause postponed the second
    // without a request, which counts as no attempt.
    let stored = stored_deliveries(&harness, Vendor::HiBob).await;
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(stored[0].worker_id, HIBOB_WORKER);
    assert_eq!(stored[0].attempts, 1, "{stored:?}");
    assert_eq!(stored[1].worker_id, HIBOB_OTHER_WORKER);
    assert_eq!(stored[1].attempts, 0, "{stored:?}");
    assert!(stored.iter().all(|delivery| delivery.resolved), "{stored:?}");

    assert_eq!(throttled(&harness, Vendor::HiBob).await, 1);
    assert_eq!(reads(&harness, Vendor::HiBob, "rate_limited").await, 1);
    assert_eq!(reads(&harness, Vendor::HiBob, "ok").await, 2);
    harness.stop().await;
}

/// The daily poll's list gets 429, which its call waits out (the default 120 s allows
/// it). A webhook delivery that arrives during the wait is not looked up until the pause
/// ends, and the 429 is counted although no read failed.
#[tokio::test]
async fn poll_rate_limit_pauses_webhook_lookup() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::HiBob, HIBOB_WORKER, FixtureWorker::terminated("2026-12-01"));
    let retry_after = Fault::RateLimited(RETRY_AFTER_SECONDS.to_string());
    double.push_fault_at("/hibob/v1/people/search", retry_after);
    let secrets = tempfile::tempdir().unwrap();
    let vendors = hibob_yaml(secrets.path(), &double, "service-user-password", "");
    let harness = start(&vendors, &format!("{FAST_SYNC}  poll_interval_seconds: 1\n")).await;

    // The counter moves when the client pauses the connection, so the delivery below
    // arrives while the pause lasts.
    wait_for("the poll's 429 counted", || async {
        (throttled(&harness, Vendor::HiBob).await == 1).then_some(())
    })
    .await;
    deliver_hibob(&harness, HIBOB_WORKER).await;
    let events = wait_for_events(&harness, 1).await;
    wait_for_all_resolved(&harness).await;

    assert_eq!(double.early_requests(), Vec::<String>::new());
    assert_eq!(employees(&events), [HIBOB_WORKER]);
    assert_eq!(harness.stored_events(TENANT).await.len(), 1);
    let stored = stored_deliveries(&harness, Vendor::HiBob).await;
    let webhook: Vec<&StoredDelivery> =
        stored.iter().filter(|delivery| delivery.sender == "webhook").collect();
    // Postponed by the poll's pause without a request, so no attempt is counted.
    assert_eq!(webhook.len(), 1, "{stored:?}");
    assert_eq!(webhook[0].attempts, 0, "{stored:?}");
    assert!(webhook[0].resolved, "{stored:?}");
    assert_eq!(throttled(&harness, Vendor::HiBob).await, 1);
    assert_eq!(reads(&harness, Vendor::HiBob, "rate_limited").await, 0);
    harness.stop().await;
}

/// A `Retry-After` far beyond any real rate limit (about 3 million years) must not stop
/// the resolver: the delivery is postponed by at most a day.
#[tokio::test]
async fn huge_retry_after_postpones_by_a_day() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::HiBob, HIBOB_WORKER, FixtureWorker::terminated("2026-12-01"));
    double.push_fault_at(&hibob_lookup(HIBOB_WORKER), Fault::RateLimited("99999999999999".into()));
    let secrets = tempfile::tempdir().unwrap();
    let vendors = hibob_yaml(secrets.path(), &double, "service-user-password", "");
    let harness = start(&vendors, FAST_SYNC).await;

    let sent_at = Utc::now();
    deliver_hibob(&harness, HIBOB_WORKER).await;
    let pending = wait_for("a failed read stored", || async {
        let pending = pending_deliveries(&harness).await;
        pending.iter().any(|delivery| delivery.attempts > 0).then_some(pending)
    })
    .await;
    let stored_at = Utc::now();
    assert_eq!(pending.len(), 1);
    assert_eq!(requests_to(&double, &hibob_lookup(HIBOB_WORKER)), 1);

    let scope = scope(&harness);
    let before = sent_at + TimeDelta::days(1) - TimeDelta::seconds(1);
    assert_eq!(scope.due_vendor_deliveries(before, 100).await.unwrap(), []);
    // The end of the pause is rounded up to the next millisecond.
    let after = stored_at + TimeDelta::days(1) + TimeDelta::seconds(1);
    assert_eq!(scope.due_vendor_deliveries(after, 100).await.unwrap(), pending);
    // The resolver is still running, so the service stops cleanly.
    harness.stop().await;
}

/// Writes Rippling's delivery token and its API token (`api_token`) into `dir` and
/// returns its `vendors:` entry.
fn rippling_yaml(dir: &Path, double: &VendorDouble, api_token: &str) -> String {
    std::fs::write(dir.join("rippling-token"), RIPPLING_TOKEN).unwrap();
    rotate(&dir.join("rippling-api"), api_token);
    let d = dir.display();
    let delivery = format!(
        "        time_zone: America/Los_Angeles
        bearer_tokens:
          - id: rippling-1
            secret_file: {d}/rippling-token
"
    );
    let api = format!(
        "          auth: bearer
          token_file: {d}/rippling-api
"
    );
    vendor_entry(double, Vendor::Rippling, &delivery, &api)
}

/// Writes the Basic delivery password and the OAuth client secret (`client_secret`) of
/// Paychex or Paylocity into `dir` and returns the vendor's `vendors:` entry, with
/// `allowed_networks` when given.
fn basic_vendor_yaml(
    dir: &Path,
    double: &VendorDouble,
    vendor: Vendor,
    client_secret: &str,
    allowed_networks: &[&str],
) -> String {
    let (zone, company, password) = match vendor {
        Vendor::Paychex => ("America/Denver", "00LKF7731ABCD0001XYZ", PAYCHEX_PASSWORD),
        _ => ("America/Chicago", "L7731", PAYLOCITY_PASSWORD),
    };
    std::fs::write(dir.join(format!("{vendor}-password")), password).unwrap();
    rotate(&dir.join(format!("{vendor}-api")), client_secret);
    let d = dir.display();
    let mut delivery = format!(
        "        time_zone: {zone}
        company_id: {company}
        basic:
          - id: {vendor}-hook
            user: rollcall-{vendor}
            password_file: {d}/{vendor}-password
"
    );
    if !allowed_networks.is_empty() {
        delivery.push_str("        allowed_networks:\n");
        for network in allowed_networks {
            delivery.push_str(&format!("          - {network}\n"));
        }
    }
    let api = format!(
        "          auth: client_credentials
          token_url: \"{token_url}\"
          client_id: rollcall
          client_secret_file: {d}/{vendor}-api
",
        token_url = double.token_url(vendor),
    );
    vendor_entry(double, vendor, &delivery, &api)
}

/// Builds a Rippling `employee.terminated` delivery for `worker`, with its bearer token.
fn rippling_delivery(worker: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body =
        format!("event_name=employee.terminated&id={worker}&company_id=65f0aa11bb22cc33dd44ee55");
    let headers = vec![
        ("authorization", format!("Bearer {RIPPLING_TOKEN}")),
        ("content-type", "application/x-www-form-urlencoded".to_owned()),
    ];
    (headers, body.into_bytes())
}

/// Builds a Paychex worker delivery for `worker`, with its Basic credential.
fn paychex_delivery(worker: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = format!(
        "{{\"domain\":\"WRKR_EMPL\",\"companyId\":\"00LKF7731ABCD0001XYZ\",\"workerId\":\"{worker}\",\"changedFields\":[\"currentStatus\"]}}"
    );
    let headers = vec![
        ("authorization", basic("rollcall-paychex", PAYCHEX_PASSWORD)),
        ("content-type", "application/json".to_owned()),
    ];
    (headers, body.into_bytes())
}

/// Builds a Paylocity termination delivery for `worker`, with its Basic credential.
fn paylocity_delivery(worker: &str) -> (Vec<(&'static str, String)>, Vec<u8>) {
    let body = format!("{{\"companyId\":\"L7731\",\"employeeId\":\"{worker}\"}}");
    let headers = vec![
        ("authorization", basic("rollcall-paylocity", PAYLOCITY_PASSWORD)),
        ("content-type", "application/json".to_owned()),
    ];
    (headers, body.into_bytes())
}

/// Each kind of API credential file is rotated while the service runs: the double then
/// accepts only the new secret, the file is replaced, and the next lookup succeeds with
/// no restart and no rejected read. A rotation that lands while a lookup is in flight
/// also succeeds, because the service reads the file again after the 401.
#[tokio::test]
async fn api_credential_files_rotate_without_restart() {
    let double = VendorDouble::start().await.unwrap();
    let workers: [(Vendor, [&str; 3]); 3] = [
        (Vendor::HiBob, ["3417298560115823501", "3417298560115823502", "3417298560115823503"]),
        (Vendor::Rippling, ["66a1f0c2e4b0a1b2c3d4e501", "66a1f0c2e4b0a1b2c3d4e502", ""]),
        (Vendor::Paychex, ["00WK2048ABCD0501XYZ", "00WK2048ABCD0502XYZ", ""]),
    ];
    for (vendor, ids) in &workers {
        for id in ids.iter().filter(|id| !id.is_empty()) {
            double.set_worker(*vendor, id, FixtureWorker::terminated("2026-11-30"));
        }
    }
    double.require_secret(Vendor::HiBob, Some("hibob-password-1"));
    double.require_secret(Vendor::Rippling, Some("rippling-token-1"));
    double.require_secret(Vendor::Paychex, Some("paychex-secret-1"));
    let secrets = tempfile::tempdir().unwrap();
    let dir = secrets.path();
    let vendors = [
        hibob_yaml(dir, &double, "hibob-password-1", ""),
        rippling_yaml(dir, &double, "rippling-token-1"),
        basic_vendor_yaml(dir, &double, Vendor::Paychex, "paychex-secret-1", &[]),
    ]
    .concat();
    let harness = start(&vendors, FAST_SYNC).await;
    let [(_, hibob), (_, rippling), (_, paychex)] = workers;

    let deliver_all = |round: usize| {
        let harness = &harness;
        async move {
            let (headers, body) = hibob_delivery(hibob[round]);
            deliver(harness, "hibob", &headers, &body).await;
            let (headers, body) = rippling_delivery(rippling[round]);
            deliver(harness, "rippling", &headers, &body).await;
            let (headers, body) = paychex_delivery(paychex[round]);
            deliver(harness, "paychex", &headers, &body).await;
        }
    };
    deliver_all(0).await;
    wait_for_events(&harness, 3).await;
    assert_eq!(requests_to(&double, "/paychex/oauth/token"), 1);

    // The vendor accepts only the new secrets; then the mounted files change.
    double.require_secret(Vendor::HiBob, Some("hibob-password-2"));
    double.require_secret(Vendor::Rippling, Some("rippling-token-2"));
    double.require_secret(Vendor::Paychex, Some("paychex-secret-2"));
    rotate(&dir.join("hibob-api"), "hibob-password-2");
    rotate(&dir.join("rippling-api"), "rippling-token-2");
    rotate(&dir.join("paychex-api"), "paychex-secret-2");
    deliver_all(1).await;
    let events = wait_for_events(&harness, 6).await;
    wait_for_all_resolved(&harness).await;
    let mut expected: Vec<&str> =
        [hibob, rippling, paychex].iter().flat_map(|ids| ids[..2].iter().copied()).collect();
    expected.sort_unstable();
    assert_eq!(employees(&events), expected);
    // HiBob and Rippling read the new file before the request. Paychex's cached token
    // was issued for the old secret: its lookup got 401, and a new token was fetched.
    assert_eq!(requests_to(&double, &hibob_lookup(hibob[1])), 1);
    assert_eq!(requests_to(&double, &format!("/rippling/workers/{}", rippling[1])), 1);
    assert_eq!(requests_to(&double, &format!("/paychex/workers/{}", paychex[1])), 2);
    assert_eq!(requests_to(&double, "/paychex/oauth/token"), 2);

    // The vendor switches first, and the file changes while the lookup is in flight.
    double.require_secret(Vendor::HiBob, Some("hibob-password-3"));
    let file = dir.join("hibob-api");
    let racing_lookup = format!("POST {}", hibob_lookup(hibob[2]));
    double.on_request(move |request| {
        if request == racing_lookup {
            rotate(&file, "hibob-password-3");
        }
    });
    let (headers, body) = hibob_delivery(hibob[2]);
    deliver(&harness, "hibob", &headers, &body).await;
    let events = wait_for_events(&harness, 7).await;
    assert_eq!(events.len(), 7);
    assert_eq!(requests_to(&double, &hibob_lookup(hibob[2])), 2);

    for vendor in [Vendor::HiBob, Vendor::Rippling, Vendor::Paychex] {
        assert_eq!(reads(&harness, vendor, "unauthorized").await, 0, "{vendor}");
        assert_eq!(reads(&harness, vendor, "failed").await, 0, "{vendor}");
    }
    assert_eq!(reads(&harness, Vendor::HiBob, "ok").await, 3);
    assert_eq!(reads(&harness, Vendor::Rippling, "ok").await, 2);
    assert_eq!(reads(&harness, Vendor::Paychex, "ok").await, 2);
    harness.stop().await;
}

/// Two vendors that sign nothing, each with `allowed_networks`: the service checks the
/// TCP peer (127.0.0.1 here) and ignores forwarding headers, which any sender can set.
/// A delivery from outside the list is rejected with nothing committed or read.
#[tokio::test]
async fn allowed_networks_check_tcp_peer() {
    const PAYCHEX_WORKER: &str = "00WK2048ABCD0002XYZ";
    const PAYLOCITY_WORKER: &str = "2048";
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Paychex, PAYCHEX_WORKER, FixtureWorker::terminated("2026-11-30"));
    double.set_worker(Vendor::Paylocity, PAYLOCITY_WORKER, FixtureWorker::terminated("2026-11-30"));
    let secrets = tempfile::tempdir().unwrap();
    let dir = secrets.path();
    let vendors = [
        basic_vendor_yaml(dir, &double, Vendor::Paychex, "paychex-secret", &["127.0.0.0/8"]),
        basic_vendor_yaml(dir, &double, Vendor::Paylocity, "paylocity-secret", &["10.0.0.0/8"]),
    ]
    .concat();
    let harness = start(&vendors, FAST_SYNC).await;

    // Outside the list, with a valid credential, with and without a forwarding header
    // that names an allowed address.
    let (headers, body) = paylocity_delivery(PAYLOCITY_WORKER);
    let forwarded = [
        vec![],
        vec![("x-forwarded-for", "10.1.2.3".to_owned())],
        vec![("forwarded", "for=10.1.2.3".to_owned()), ("x-real-ip", "10.1.2.3".to_owned())],
    ];
    for extra in &forwarded {
        let sent: Vec<(&str, String)> = headers.iter().cloned().chain(extra.clone()).collect();
        let (status, reply) = post(&harness, "paylocity", &sent, &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{extra:?}: {reply}");
        assert_eq!(reply["reason"], "source_not_allowed", "{extra:?}");
    }

    // Inside the list, also when a forwarding header names an address outside it.
    let (headers, body) = paychex_delivery(PAYCHEX_WORKER);
    deliver(&harness, "paychex", &headers, &body).await;
    let mut sent = headers.clone();
    sent.push(("x-forwarded-for", "198.51.100.7".to_owned()));
    deliver(&harness, "paychex", &sent, &body).await;

    let events = wait_for_events(&harness, 1).await;
    wait_for_all_resolved(&harness).await;
    assert_eq!(employees(&events), [PAYCHEX_WORKER]);
    assert_eq!(harness.stored_events(TENANT).await.len(), 1);
    assert_eq!(stored_deliveries(&harness, Vendor::Paylocity).await.len(), 0);
    assert_eq!(stored_deliveries(&harness, Vendor::Paychex).await.len(), 2);
    let paylocity: Vec<String> =
        double.requests().into_iter().filter(|r| r.contains("/paylocity/")).collect();
    assert!(paylocity.is_empty(), "{paylocity:?}");
    let metrics = harness.metrics().await;
    let rejected = "rollcall_hr_webhook_signature_rejections_total{reason=\"source_not_allowed\"}";
    assert_eq!(support::counter(&metrics, rejected), 3, "{metrics}");
    harness.stop().await;
}
