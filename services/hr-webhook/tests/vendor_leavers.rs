//! Each HR vendor's example delivery, from the service's route (or ADP's event queue) to
//! one leaver record, against real PostgreSQL and NATS and the local double of the
//! vendors' APIs. Each vendor also gets the faults of its worker lookup: 401 until the
//! credential is restored, 429 with `Retry-After`, and a termination that the API shows
//! only after the webhook.
//!
//! Every test starts the service with one vendor connection, so the double receives only
//! that vendor's requests. The leaver step calls the store function the engine applies HR
//! events with (`apply_hr_event_to_leavers`), with a 24-hour SLA.

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

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use reqwest::StatusCode;
use rollcall_core::TenantId;
use rollcall_hr_vendors::Vendor;
use rollcall_hr_vendors::double::{Fault, FixtureWorker, VendorDouble};
use rollcall_proto::{HrEvent, HrEventSender, HrEventType};
use rollcall_store::{LeaverChange, LeaverState, TenantScope, VendorDeliverySender};
use rollcall_store::{VendorDelivery, VendorWorkerState};
use serde_json::Value;
use support::{Harness, LIMIT, Options, TENANT};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../hr-vendors/tests/cases");

// The keys and tokens that the cases' READMEs sign and authenticate with.
const BAMBOOHR_KEY: &str = "bhr-test-privkey-7d1c0a9e3f5b4e21a8c6";
const HIBOB_SECRET: &str = "bob-test-secret-9F3kQ2xLw8vT";
const GUSTO_TOKEN: &str = "3f6a2c1e-9b7d-4e5f-a1c2-8d9e0f1a2b3c";
const RIPPLING_TOKEN: &str = "rc-test-bearer-5c2e8f1a9d44";

/// The `adp-msg-msgid` of the case's queue message (`response.http`).
const ADP_MESSAGE_ID: &str = "0x_414d5120515f4144505f4d53470a3c7e";

/// Resolver passes and first retries every second, and ADP's queue read every second.
const FAST_SYNC: &str =
    "  resolve_interval_seconds: 1\n  retry_first_wait_seconds: 1\n  queue_interval_seconds: 1\n";

/// One vendor's example delivery and what the service must make of it.
struct VendorCase {
    vendor: Vendor,
    /// The folder under the cases directory.
    folder: &'static str,
    /// The worker the example delivery names.
    worker: &'static str,
    /// HiBob only: the worker's site, whose zone `site_time_zones` maps.
    site: Option<&'static str>,
    /// The termination date the double's API returns, in the vendor's meaning.
    date: &'static str,
    /// The instant employment ends by the vendor's definition of `date`
    /// (`docs/connectors/hr.md`, "The effective instant").
    effective_at: &'static str,
    /// The zone `date` is read in.
    zone: Tz,
    /// The worker lookup's path on the double.
    lookup_path: &'static str,
    /// Whether a redelivery is the same delivery row: the vendor sends an event id or a
    /// timestamp to deduplicate on.
    redelivery_same_row: bool,
}

impl VendorCase {
    fn worker_with(&self, date: Option<&str>) -> FixtureWorker {
        let mut worker = date.map_or_else(FixtureWorker::active, FixtureWorker::terminated);
        worker.site = self.site.map(str::to_owned);
        worker
    }

    fn terminated(&self) -> FixtureWorker {
        self.worker_with(Some(self.date))
    }

    fn active(&self) -> FixtureWorker {
        self.worker_with(None)
    }

    fn effective_at(&self) -> DateTime<Utc> {
        self.effective_at.parse().unwrap()
    }
}

/// The Employment Status row is current from 00:00 of its date in the company's zone.
const BAMBOOHR: VendorCase = VendorCase {
    vendor: Vendor::BambooHr,
    folder: "bamboohr",
    worker: "1187",
    site: None,
    date: "2026-12-01",
    effective_at: "2026-12-01T06:00:00Z",
    zone: chrono_tz::America::Chicago,
    lookup_path: "/bamboohr/api/v1/employees/1187",
    redelivery_same_row: true,
};

/// The lifecycle entry takes effect at 00:00 at the worker's site, America/New_York
/// here, not in the tenant's America/Chicago.
const HIBOB: VendorCase = VendorCase {
    vendor: Vendor::HiBob,
    folder: "hibob",
    worker: "3417298560115823412",
    site: Some("Lakeside"),
    date: "2026-12-01",
    effective_at: "2026-12-01T05:00:00Z",
    zone: chrono_tz::America::New_York,
    lookup_path: "/hibob/v1/people/3417298560115823412",
    redelivery_same_row: true,
};

/// `effective_date` is the last day worked: employment ends at the next midnight.
const GUSTO: VendorCase = VendorCase {
    vendor: Vendor::Gusto,
    folder: "gusto",
    worker: "e9d8c7b6-a5f4-4e3d-9c2b-1a0f9e8d7c6b",
    site: None,
    date: "2026-11-30",
    effective_at: "2026-12-01T05:00:00Z",
    zone: chrono_tz::America::New_York,
    lookup_path: "/gusto/v1/employees/e9d8c7b6-a5f4-4e3d-9c2b-1a0f9e8d7c6b/terminations",
    redelivery_same_row: true,
};

/// The double sends `2026-11-30T00:00:00Z`, which is read as the calendar date: 00:00 in
/// Denver, not 00:00 UTC.
const PAYCHEX: VendorCase = VendorCase {
    vendor: Vendor::Paychex,
    folder: "paychex",
    worker: "00WK2048ABCD0002XYZ",
    site: None,
    date: "2026-11-30",
    effective_at: "2026-11-30T07:00:00Z",
    zone: chrono_tz::America::Denver,
    lookup_path: "/paychex/workers/00WK2048ABCD0002XYZ",
    redelivery_same_row: false,
};

/// The status record is current from 00:00 of its effective date.
const PAYLOCITY: VendorCase = VendorCase {
    vendor: Vendor::Paylocity,
    folder: "paylocity",
    worker: "2048",
    site: None,
    date: "2026-11-30",
    effective_at: "2026-11-30T06:00:00Z",
    zone: chrono_tz::America::Chicago,
    lookup_path: "/paylocity/apiHub/coreHr/v1/companies/L7731/employees/2048",
    redelivery_same_row: false,
};

/// `end_date` is the last day worked: employment ends at the next midnight.
const RIPPLING: VendorCase = VendorCase {
    vendor: Vendor::Rippling,
    folder: "rippling",
    worker: "66a1f0c2e4b0a1b2c3d4e5f6",
    site: None,
    date: "2026-11-30",
    effective_at: "2026-12-01T08:00:00Z",
    zone: chrono_tz::America::Los_Angeles,
    lookup_path: "/rippling/workers/66a1f0c2e4b0a1b2c3d4e5f6",
    redelivery_same_row: false,
};

/// `workerDates.terminationDate` takes effect at 00:00 of that date.
const ADP: VendorCase = VendorCase {
    vendor: Vendor::AdpWorkforceNow,
    folder: "adp-workforce-now",
    worker: "G3K7T2M9Q1W4E8R5",
    site: None,
    date: "2026-11-30",
    effective_at: "2026-11-30T05:00:00Z",
    zone: chrono_tz::America::New_York,
    lookup_path: "/adp-workforce-now/hr/v2/workers/G3K7T2M9Q1W4E8R5",
    redelivery_same_row: true,
};

fn case_file(path: &str) -> Vec<u8> {
    std::fs::read(format!("{CASES}/{path}")).unwrap()
}

/// Writes the secret files into `dir` and returns [`TENANT`]'s `vendors:` map with the
/// one connection to `vendor`. The delivery credentials are the cases'. The double only
/// checks that an API credential is sent, so every vendor gets the same one.
fn vendor_yaml(dir: &Path, double: &VendorDouble, vendor: Vendor) -> String {
    for (name, value) in [
        ("bamboohr-key", BAMBOOHR_KEY),
        ("hibob-key", HIBOB_SECRET),
        ("gusto-token", GUSTO_TOKEN),
        ("paychex-password", "test-only-pass-2290"),
        ("paylocity-password", "test-only-pass-4471"),
        ("rippling-token", RIPPLING_TOKEN),
        ("api-secret", "api-secret-for-tests"),
    ] {
        std::fs::write(dir.join(name), value).unwrap();
    }
    let d = dir.display();
    let delivery = match vendor {
        Vendor::BambooHr => format!(
            "        time_zone: America/Chicago
        signing_keys:
          - id: bhr-1
            secret_file: {d}/bamboohr-key
"
        ),
        Vendor::HiBob => format!(
            "        time_zone: America/Chicago
        site_time_zones:
          Lakeside: America/New_York
        signing_keys:
          - id: bob-1
            secret_file: {d}/hibob-key
"
        ),
        Vendor::Gusto => format!(
            "        time_zone: America/New_York
        company_id: a4b8c2d6-1e3f-4a5b-8c7d-9e0f1a2b3c4d
        signing_keys:
          - id: subscription-1
            secret_file: {d}/gusto-token
"
        ),
        Vendor::Paychex => format!(
            "        time_zone: America/Denver
        company_id: 00LKF7731ABCD0001XYZ
        basic:
          - id: paychex-hook
            user: rollcall-paychex
            password_file: {d}/paychex-password
"
        ),
        Vendor::Paylocity => format!(
            "        time_zone: America/Chicago
        company_id: L7731
        basic:
          - id: paylocity-hook
            user: rollcall-paylocity
            password_file: {d}/paylocity-password
"
        ),
        Vendor::Rippling => format!(
            "        time_zone: America/Los_Angeles
        bearer_tokens:
          - id: rippling-1
            secret_file: {d}/rippling-token
"
        ),
        Vendor::AdpWorkforceNow => "        time_zone: America/New_York\n".to_owned(),
    };
    let auth = match vendor {
        Vendor::BambooHr | Vendor::HiBob => format!(
            "          auth: basic
          user: api-user
          password_file: {d}/api-secret
"
        ),
        Vendor::Gusto | Vendor::Rippling => format!(
            "          auth: bearer
          token_file: {d}/api-secret
"
        ),
        Vendor::Paychex | Vendor::Paylocity | Vendor::AdpWorkforceNow => format!(
            "          auth: client_credentials
          token_url: \"{}\"
          client_id: rollcall
          client_secret_file: {d}/api-secret
",
            double.token_url(vendor)
        ),
    };
    format!(
        "    vendors:
      {vendor}:
{delivery}        api:
          base_url: \"{base}\"
{auth}          allow_plain_http_loopback: true
",
        base = double.base_url(vendor),
    )
}

/// Starts the service with the one connection to `vendor`; `sync` is the `vendor_sync`
/// section.
async fn start(double: &VendorDouble, secrets: &Path, vendor: Vendor, sync: &str) -> Harness {
    let options = Options {
        tenant_yaml: vendor_yaml(secrets, double, vendor),
        extra_yaml: format!("vendor_sync:\n{sync}"),
        ..Options::default()
    };
    Harness::start_with(options).await
}

/// A vendor's example delivery: a request to the vendor route, or ADP's queue message.
enum Example {
    Request { headers: Vec<(String, String)>, body: Vec<u8> },
    QueueMessage { body: Vec<u8> },
}

/// Builds the example delivery of `case` with the headers of its `request.http`. Headers
/// of the transport (`Host`, `Content-Length`, `User-Agent`, `Expect`, `Connection`) are
/// left to the HTTP client.
fn example(case: &VendorCase) -> Example {
    if case.vendor == Vendor::AdpWorkforceNow {
        return Example::QueueMessage { body: case_file(&format!("{}/body.json", case.folder)) };
    }
    let body_name = if case.vendor == Vendor::Rippling { "body.form" } else { "body.json" };
    let body = case_file(&format!("{}/{body_name}", case.folder));
    let recorded = String::from_utf8(case_file(&format!("{}/request.http", case.folder))).unwrap();
    let (head, recorded_body) = recorded.split_once("\n\n").unwrap();
    assert_eq!(
        recorded_body.as_bytes(),
        body,
        "{}: request.http and the body file differ",
        case.folder
    );
    let mut headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .map(|line| line.split_once(": ").unwrap())
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .filter(|(name, _)| {
            !["host", "content-length", "user-agent", "expect", "connection"]
                .contains(&name.as_str())
        })
        .collect();
    if case.vendor == Vendor::BambooHr {
        // The recorded timestamp is days old, past the 3-hour window, so the body is
        // signed again now with the case's key, in the case's scheme.
        headers.retain(|(name, _)| !name.starts_with("x-bamboohr-"));
        headers.extend(bamboohr_signature(&body, Utc::now().timestamp()));
    }
    Example::Request { headers, body }
}

fn bamboohr_signature(body: &[u8], timestamp: i64) -> [(String, String); 2] {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, BAMBOOHR_KEY.as_bytes());
    let mut message = body.to_vec();
    message.extend_from_slice(timestamp.to_string().as_bytes());
    let tag = ring::hmac::sign(&key, &message);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    [
        ("x-bamboohr-timestamp".to_owned(), timestamp.to_string()),
        ("x-bamboohr-signature".to_owned(), hex),
    ]
}

/// Sends `example` and returns the route's JSON reply after checking it is 200. For ADP,
/// puts the message into the queue and returns `None` once the service has taken it,
/// which it does only after committing its deliveries.
async fn send(
    harness: &Harness,
    double: &VendorDouble,
    case: &VendorCase,
    example: &Example,
) -> Option<Value> {
    match example {
        Example::QueueMessage { body } => {
            double.push_adp_message(ADP_MESSAGE_ID, body);
            wait_for("ADP's queue message taken", || async {
                (double.adp_queue_len() == 0).then_some(())
            })
            .await;
            None
        }
        Example::Request { headers, body } => {
            let mut request = harness
                .client
                .post(format!("{}/v1/tenants/{TENANT}/hr/vendors/{}", harness.base, case.vendor))
                .body(body.clone());
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert_eq!(status, StatusCode::OK, "{}: {text}", case.vendor);
            Some(serde_json::from_str(&text).unwrap())
        }
    }
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

fn scope(harness: &Harness) -> TenantScope<'_> {
    harness.store.tenant(&TenantId::new(TENANT).unwrap())
}

/// Returns the unresolved deliveries, due or not.
async fn pending_deliveries(harness: &Harness) -> Vec<VendorDelivery> {
    let far = Utc::now() + TimeDelta::days(1);
    scope(harness).due_vendor_deliveries(far, 100).await.unwrap()
}

/// Applies the unapplied HR events to the leavers, as the engine does.
async fn apply_to_leavers(harness: &Harness) -> Vec<LeaverChange> {
    let scope = scope(harness);
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

/// Counts the requests to the worker lookup of `case` on the double.
fn lookups(double: &VendorDouble, case: &VendorCase) -> usize {
    double
        .requests()
        .iter()
        .filter_map(|request| request.split_once(' '))
        .map(|(_, target)| target.split_once('?').map_or(target, |(path, _)| path))
        .filter(|path| *path == case.lookup_path)
        .count()
}

/// Returns `vendor_reads_total` of `case`'s vendor and `outcome`.
async fn reads(harness: &Harness, case: &VendorCase, outcome: &str) -> u64 {
    let metrics = harness.metrics().await;
    let line = format!(
        "rollcall_hr_webhook_vendor_reads_total{{vendor=\"{}\",outcome=\"{outcome}\"}}",
        case.vendor
    );
    support::counter(&metrics, &line)
}

fn assert_termination(event: &HrEvent, case: &VendorCase, sender: HrEventSender) {
    let vendor = case.vendor;
    assert_eq!(event.event_type, HrEventType::Termination, "{vendor}");
    assert_eq!(event.sender, sender, "{vendor}");
    assert_eq!(event.employee_id, case.worker, "{vendor}");
    assert_eq!(event.effective_at, case.effective_at(), "{vendor}");
    assert_eq!(event.time_zone, case.zone, "{vendor}");
}

/// Sends the example delivery and checks that it records one termination, which opens
/// one leaver with its deadline 24 hours after the effective instant. Then checks that a
/// redelivery records nothing new.
async fn example_and_redelivery_one_leaver(case: &VendorCase) {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(case.vendor, case.worker, case.terminated());
    let secrets = tempfile::tempdir().unwrap();
    let harness = start(&double, secrets.path(), case.vendor, FAST_SYNC).await;
    let example = example(case);

    let first = send(&harness, &double, case, &example).await;
    if let Some(reply) = &first {
        assert_eq!(reply["new"], 1, "{reply}");
        assert_eq!(reply["deliveries"].as_array().unwrap().len(), 1, "{reply}");
    }
    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events.len(), 1);
    let termination = &events[0];
    assert_termination(termination, case, HrEventSender::Webhook);
    assert_eq!(lookups(&double, case), 1);

    let messages = wait_for("one HR event on NATS", || async {
        let messages = harness.bus.hr_messages().await;
        (!messages.is_empty()).then_some(messages)
    })
    .await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, termination.event_id.to_string());

    assert_eq!(apply_to_leavers(&harness).await, [LeaverChange::Opened]);
    let leavers = scope(&harness).leavers(None).await.unwrap();
    assert_eq!(leavers.len(), 1);
    assert_eq!(leavers[0].employee_id, case.worker);
    assert_eq!(leavers[0].state, LeaverState::Open);
    assert_eq!(leavers[0].effective_at, case.effective_at());
    assert_eq!(leavers[0].deadline, case.effective_at() + TimeDelta::hours(24));

    // The same delivery again: for ADP, the message served again after a failed delete.
    let second = send(&harness, &double, case, &example).await;
    if let (Some(first), Some(second)) = (&first, &second) {
        if case.redelivery_same_row {
            assert_eq!(second["new"], 0, "{second}");
            assert_eq!(second["deliveries"], first["deliveries"]);
        } else {
            // Without an event id the redelivery is a new row, and its read finds the
            // termination already known.
            assert_eq!(second["new"], 1, "{second}");
            assert_ne!(second["deliveries"], first["deliveries"]);
        }
    }
    // The delivery was committed before the response (for ADP, before the message left
    // the queue), so once nothing is unresolved, every read of it has been made.
    wait_for("no unresolved delivery", || async {
        (scope(&harness).unresolved_vendor_delivery_count().await.unwrap() == 0).then_some(())
    })
    .await;
    let expected_lookups = if case.redelivery_same_row { 1 } else { 2 };
    assert_eq!(lookups(&double, case), expected_lookups);
    assert_eq!(harness.stored_events(TENANT).await.len(), 1);
    assert_eq!(apply_to_leavers(&harness).await, []);
    assert_eq!(scope(&harness).leavers(None).await.unwrap().len(), 1);
    assert_eq!(harness.bus.hr_messages().await.len(), 1);
    harness.stop().await;
}

/// Makes the API reject the lookup with 401 and checks that the delivery stays pending
/// with its failed attempts counted and nothing recorded. Then restores the credential
/// and checks that the next read records the termination.
async fn unauthorized_lookup_kept_pending(case: &VendorCase) {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(case.vendor, case.worker, case.terminated());
    double.set_persistent_fault(case.lookup_path, Some(Fault::Status(401)));
    let secrets = tempfile::tempdir().unwrap();
    let harness = start(&double, secrets.path(), case.vendor, FAST_SYNC).await;

    let reply = send(&harness, &double, case, &example(case)).await;
    let pending = wait_for("a failed read stored", || async {
        let pending = pending_deliveries(&harness).await;
        pending.iter().any(|delivery| delivery.attempts > 0).then_some(pending)
    })
    .await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].vendor, case.vendor.as_str());
    assert_eq!(pending[0].worker_id, case.worker);
    assert_eq!(pending[0].sender, VendorDeliverySender::Webhook);
    if let Some(reply) = reply {
        assert_eq!(reply["deliveries"][0], pending[0].delivery_id.to_string());
    }
    assert!(harness.stored_events(TENANT).await.is_empty());
    // The resolver counts the read before it stores the failure, so the count is there.
    assert!(reads(&harness, case, "unauthorized").await >= 1);
    assert_eq!(reads(&harness, case, "ok").await, 0);

    double.set_persistent_fault(case.lookup_path, None);
    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events.len(), 1);
    assert_termination(&events[0], case, HrEventSender::Webhook);
    // The event and the delivery's resolution are one transaction.
    assert_eq!(scope(&harness).unresolved_vendor_delivery_count().await.unwrap(), 0);
    assert_eq!(reads(&harness, case, "ok").await, 1);
    harness.stop().await;
}

/// Rejects the first lookup with 429 and `Retry-After: 1`, within the client's limit, and
/// checks that the client reads again after the wait and the termination is recorded
/// once.
async fn rate_limited_lookup_retried_once(case: &VendorCase) {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(case.vendor, case.worker, case.terminated());
    double.push_fault_at(case.lookup_path, Fault::RateLimited("1".into()));
    let secrets = tempfile::tempdir().unwrap();
    let harness = start(&double, secrets.path(), case.vendor, FAST_SYNC).await;

    send(&harness, &double, case, &example(case)).await;
    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events.len(), 1);
    assert_termination(&events[0], case, HrEventSender::Webhook);
    // The rate-limited read and the one after the wait.
    assert_eq!(lookups(&double, case), 2);
    assert_eq!(reads(&harness, case, "ok").await, 1);
    assert_eq!(reads(&harness, case, "rate_limited").await, 0);
    assert_eq!(scope(&harness).unresolved_vendor_delivery_count().await.unwrap(), 0);
    harness.stop().await;
}

/// Rejects the lookup with 429 and a `Retry-After` of 2 hours, beyond the 120 s the
/// client waits within one call. Checks that the resolver stores the delivery's next read
/// no earlier than the vendor requested, and makes no read before.
async fn long_retry_after_postpones_read(case: &VendorCase) {
    const RETRY_AFTER_SECONDS: i64 = 7200;
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(case.vendor, case.worker, case.terminated());
    double.push_fault_at(case.lookup_path, Fault::RateLimited(RETRY_AFTER_SECONDS.to_string()));
    let secrets = tempfile::tempdir().unwrap();
    let harness = start(&double, secrets.path(), case.vendor, FAST_SYNC).await;

    let sent_at = Utc::now();
    send(&harness, &double, case, &example(case)).await;
    let pending = wait_for("a failed read stored", || async {
        let pending = pending_deliveries(&harness).await;
        pending.iter().any(|delivery| delivery.attempts > 0).then_some(pending)
    })
    .await;
    let stored_at = Utc::now();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].attempts, 1);
    assert_eq!(reads(&harness, case, "rate_limited").await, 1);
    assert_eq!(lookups(&double, case), 1);
    assert!(harness.stored_events(TENANT).await.is_empty());

    // The read failed after `sent_at` and was stored before `stored_at`, so its next
    // attempt lies in [sent_at, stored_at] + Retry-After.
    let scope = scope(&harness);
    let before = sent_at + TimeDelta::seconds(RETRY_AFTER_SECONDS - 1);
    assert_eq!(scope.due_vendor_deliveries(before, 100).await.unwrap(), []);
    let after = stored_at + TimeDelta::seconds(RETRY_AFTER_SECONDS);
    assert_eq!(scope.due_vendor_deliveries(after, 100).await.unwrap(), pending);
    harness.stop().await;
}

/// Sends the webhook while the API still shows the worker active and checks that nothing
/// is recorded. Then shows the termination and checks that the next poll records it once.
async fn late_termination_found_by_poll(case: &VendorCase) {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(case.vendor, case.worker, case.active());
    let secrets = tempfile::tempdir().unwrap();
    // The worker list is polled every second too.
    let sync = format!("{FAST_SYNC}  poll_interval_seconds: 1\n");
    let harness = start(&double, secrets.path(), case.vendor, &sync).await;

    send(&harness, &double, case, &example(case)).await;
    // The delivery is committed; polls may add deliveries of their own meanwhile.
    wait_for("the webhook's delivery resolved", || async {
        let pending = pending_deliveries(&harness).await;
        let webhook = pending.iter().any(|d| d.sender == VendorDeliverySender::Webhook);
        (!webhook).then_some(())
    })
    .await;
    let known = scope(&harness).vendor_worker_state(case.vendor.as_str(), case.worker).await;
    let active = VendorWorkerState { terminated_at: None, termination_event_id: None };
    assert_eq!(known.unwrap(), Some(active));
    assert!(harness.stored_events(TENANT).await.is_empty());

    double.set_worker(case.vendor, case.worker, case.terminated());
    let events = wait_for_events(&harness, 1).await;
    assert_eq!(events.len(), 1);
    assert_termination(&events[0], case, HrEventSender::VendorPoll);

    // Two more polls read the worker and record nothing new.
    let seen = lookups(&double, case);
    wait_for("two more reads of the worker", || async {
        (lookups(&double, case) >= seen + 2).then_some(())
    })
    .await;
    wait_for("no unresolved delivery", || async {
        (scope(&harness).unresolved_vendor_delivery_count().await.unwrap() == 0).then_some(())
    })
    .await;
    assert_eq!(harness.stored_events(TENANT).await.len(), 1);
    harness.stop().await;
}

/// Declares the tests of every scenario above for each vendor, as
/// `<vendor>::<scenario>`.
macro_rules! vendor_tests {
    ($($module:ident => $case:ident),+ $(,)?) => {$(
        mod $module {
            use super::*;

            #[tokio::test]
            async fn example_and_redelivery_one_leaver() {
                super::example_and_redelivery_one_leaver(&$case).await;
            }

            #[tokio::test]
            async fn unauthorized_lookup_kept_pending() {
                super::unauthorized_lookup_kept_pending(&$case).await;
            }

            #[tokio::test]
            async fn rate_limited_lookup_retried_once() {
                super::rate_limited_lookup_retried_once(&$case).await;
            }

            #[tokio::test]
            async fn long_retry_after_postpones_read() {
                super::long_retry_after_postpones_read(&$case).await;
            }

            #[tokio::test]
            async fn late_termination_found_by_poll() {
                super::late_termination_found_by_poll(&$case).await;
            }
        }
    )+};
}

vendor_tests! {
    bamboohr => BAMBOOHR,
    hibob => HIBOB,
    gusto => GUSTO,
    paychex => PAYCHEX,
    paylocity => PAYLOCITY,
    rippling => RIPPLING,
    adp_workforce_now => ADP,
}
