//! The client against the local vendor double: each vendor's worker read and list, and
//! the faults a vendor API produces (401, 429 with `Retry-After`, 5xx, a worker not
//! found yet, a termination entered late).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use rollcall_hr_vendors::double::{Fault, FixtureWorker, VendorDouble};
use rollcall_hr_vendors::vendors::{VendorSettings, gusto};
use rollcall_hr_vendors::{
    ApiAuth, ClientOptions, EmploymentStatus, LookupError, Vendor, VendorAdapter, VendorClient,
    adapter,
};

fn auth_for(double: &VendorDouble, vendor: Vendor) -> ApiAuth {
    match vendor {
        Vendor::BambooHr | Vendor::HiBob => {
            ApiAuth::Basic { user: "api-key-for-tests".into(), password: "x".into() }
        }
        Vendor::Gusto | Vendor::Rippling => ApiAuth::Bearer("token-for-tests".into()),
        Vendor::Paychex | Vendor::Paylocity | Vendor::AdpWorkforceNow => {
            ApiAuth::ClientCredentials {
                token_url: double.token_url(vendor),
                client_id: "client-for-tests".into(),
                client_secret: "secret-for-tests".into(),
            }
        }
    }
}

fn client(double: &VendorDouble, vendor: Vendor) -> VendorClient {
    let mut options = ClientOptions::new(double.base_url(vendor), auth_for(double, vendor));
    options.allow_plain_http_loopback = true;
    options.first_backoff = Duration::from_millis(10);
    options.max_backoff = Duration::from_millis(50);
    options.max_retry_after = Duration::from_secs(2);
    VendorClient::new(vendor.as_str(), options).unwrap()
}

fn tenant_adapter(vendor: Vendor) -> Box<dyn VendorAdapter> {
    let mut settings = VendorSettings::new(chrono_tz::America::Chicago);
    settings.company_id = Some("company-1".into());
    adapter(vendor, settings)
}

fn instant(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// Returns the effective instant of each vendor's date 2026-11-30 in America/Chicago: the
/// start of the day, or the end for the vendors whose date is the last day worked.
fn expected_effective(vendor: Vendor) -> DateTime<Utc> {
    match vendor {
        Vendor::Gusto | Vendor::Rippling => instant("2026-12-01T06:00:00Z"),
        _ => instant("2026-11-30T06:00:00Z"),
    }
}

#[tokio::test]
async fn every_vendor_reads_terminated_worker() {
    let double = VendorDouble::start().await.unwrap();
    for vendor in Vendor::ALL {
        double.set_worker(vendor, "w-terminated", FixtureWorker::terminated("2026-11-30"));
        double.set_worker(vendor, "w-active", FixtureWorker::active());
        let client = client(&double, vendor);
        let adapter = tenant_adapter(vendor);

        let record = client.fetch_worker(adapter.as_ref(), "w-terminated").await.unwrap();
        let date = "2026-11-30".parse().unwrap();
        let expected =
            EmploymentStatus::Terminated { effective_at: expected_effective(vendor), date };
        assert_eq!(record.status, expected, "{vendor}");
        assert_eq!(record.worker_id, "w-terminated", "{vendor}");

        let record = client.fetch_worker(adapter.as_ref(), "w-active").await.unwrap();
        assert_eq!(record.status, EmploymentStatus::Active, "{vendor}");
    }
}

#[tokio::test]
async fn every_vendor_lists_workers() {
    let double = VendorDouble::start().await.unwrap();
    for vendor in Vendor::ALL {
        double.set_worker(vendor, "w1", FixtureWorker::active());
        double.set_worker(vendor, "w2", FixtureWorker::terminated("2026-11-30"));
        let client = client(&double, vendor);
        let adapter = tenant_adapter(vendor);
        let mut ids = client.list_workers(adapter.as_ref(), Utc::now()).await.unwrap();
        ids.sort();
        assert_eq!(ids, ["w1", "w2"], "{vendor}");
    }
}

#[tokio::test]
async fn rate_limit_waits_for_retry_after() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::HiBob, "w1", FixtureWorker::active());
    double.push_fault(Fault::RateLimited("1".into()));
    let client = client(&double, Vendor::HiBob);
    let record = client.fetch_worker(tenant_adapter(Vendor::HiBob).as_ref(), "w1").await;
    assert_eq!(record.unwrap().status, EmploymentStatus::Active);
    let reads =
        double.requests().iter().filter(|r| r.starts_with("POST /hibob/v1/people/w1")).count();
    assert_eq!(reads, 2);
}

#[tokio::test]
async fn long_retry_after_returned_to_caller() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Rippling, "w1", FixtureWorker::active());
    double.push_fault(Fault::RateLimited("600".into()));
    let client = client(&double, Vendor::Rippling);
    let error =
        client.fetch_worker(tenant_adapter(Vendor::Rippling).as_ref(), "w1").await.unwrap_err();
    assert!(matches!(error, LookupError::RateLimited { retry_after_seconds: 600, .. }), "{error}");
    assert!(error.is_transient());
    assert_eq!(double.requests().len(), 1);
}

#[tokio::test]
async fn repeated_rate_limit_is_bounded() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Gusto, "w1", FixtureWorker::active());
    for _ in 0..10 {
        double.push_fault(Fault::RateLimited("0".into()));
    }
    let client = client(&double, Vendor::Gusto);
    let error =
        client.fetch_worker(tenant_adapter(Vendor::Gusto).as_ref(), "w1").await.unwrap_err();
    assert!(matches!(error, LookupError::RateLimited { .. }), "{error}");
    assert_eq!(double.requests().len(), 4, "the default is 4 attempts");
}

#[tokio::test]
async fn server_error_retried() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::BambooHr, "w1", FixtureWorker::terminated("2026-11-30"));
    double.push_fault(Fault::Status(503));
    double.push_fault(Fault::Status(500));
    let client = client(&double, Vendor::BambooHr);
    let record =
        client.fetch_worker(tenant_adapter(Vendor::BambooHr).as_ref(), "w1").await.unwrap();
    assert!(matches!(record.status, EmploymentStatus::Terminated { .. }));
    assert_eq!(double.requests().len(), 3);
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Rippling, "w1", FixtureWorker::active());
    double.push_fault(Fault::Status(401));
    let client = client(&double, Vendor::Rippling);
    let error =
        client.fetch_worker(tenant_adapter(Vendor::Rippling).as_ref(), "w1").await.unwrap_err();
    assert!(matches!(error, LookupError::Unauthorized { status: 401, .. }), "{error}");
    assert!(!error.is_transient());
    assert_eq!(double.requests().len(), 1);
}

#[tokio::test]
async fn rejected_token_refetched_once() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Paychex, "w1", FixtureWorker::active());
    let client = client(&double, Vendor::Paychex);
    let adapter = tenant_adapter(Vendor::Paychex);
    client.fetch_worker(adapter.as_ref(), "w1").await.unwrap();

    // The cached token is now rejected once: the client fetches a new one and retries.
    double.push_fault(Fault::Status(401));
    client.fetch_worker(adapter.as_ref(), "w1").await.unwrap();
    let tokens = double.requests().iter().filter(|r| r.ends_with("/oauth/token")).count();
    assert_eq!(tokens, 2);
}

#[tokio::test]
async fn missing_credential_gets_unauthorized() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::HiBob, "w1", FixtureWorker::active());
    let mut options = ClientOptions::new(double.base_url(Vendor::HiBob), ApiAuth::None);
    options.allow_plain_http_loopback = true;
    let client = VendorClient::new("hibob", options).unwrap();
    let error =
        client.fetch_worker(tenant_adapter(Vendor::HiBob).as_ref(), "w1").await.unwrap_err();
    assert!(matches!(error, LookupError::Unauthorized { status: 401, .. }), "{error}");
}

#[tokio::test]
async fn worker_not_found_yet_then_found() {
    let double = VendorDouble::start().await.unwrap();
    let client = client(&double, Vendor::AdpWorkforceNow);
    let adapter = tenant_adapter(Vendor::AdpWorkforceNow);
    let error = client.fetch_worker(adapter.as_ref(), "G3K7").await.unwrap_err();
    assert!(matches!(error, LookupError::NotFound { .. }), "{error}");
    assert!(error.is_transient());

    double.set_worker(Vendor::AdpWorkforceNow, "G3K7", FixtureWorker::terminated("2026-11-30"));
    let record = client.fetch_worker(adapter.as_ref(), "G3K7").await.unwrap();
    assert!(matches!(record.status, EmploymentStatus::Terminated { .. }));
}

#[tokio::test]
async fn late_termination_seen_on_next_read() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Paylocity, "2048", FixtureWorker::active());
    let client = client(&double, Vendor::Paylocity);
    let adapter = tenant_adapter(Vendor::Paylocity);
    let first = client.fetch_worker(adapter.as_ref(), "2048").await.unwrap();
    assert_eq!(first.status, EmploymentStatus::Active);

    // Payroll processing makes the future-dated record current days later.
    double.set_worker(Vendor::Paylocity, "2048", FixtureWorker::terminated("2026-11-30"));
    let second = client.fetch_worker(adapter.as_ref(), "2048").await.unwrap();
    assert_eq!(
        second.status,
        EmploymentStatus::Terminated {
            effective_at: instant("2026-11-30T06:00:00Z"),
            date: "2026-11-30".parse().unwrap(),
        }
    );
}

#[tokio::test]
async fn adp_queue_pulled_then_deleted() {
    let double = VendorDouble::start().await.unwrap();
    let body = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/cases/adp-workforce-now/body.json"
    ))
    .unwrap();
    double.push_adp_message("0x_414d51", &body);
    let client = client(&double, Vendor::AdpWorkforceNow);

    let message = client.next_queue_message().await.unwrap().unwrap();
    assert_eq!(message.message_id, "0x_414d51");
    assert_eq!(message.body, body);
    // Until it is deleted, the same message is served again.
    let again = client.next_queue_message().await.unwrap().unwrap();
    assert_eq!(again.message_id, "0x_414d51");

    client.delete_queue_message(&message.message_id).await.unwrap();
    assert_eq!(double.adp_queue_len(), 0);
    assert_eq!(client.next_queue_message().await.unwrap(), None);
}

#[tokio::test]
async fn gusto_handshake_sends_token_back() {
    let double = VendorDouble::start().await.unwrap();
    let client = client(&double, Vendor::Gusto);
    let body = br#"{"verification_token":"made-up-token-1","webhook_subscription_uuid":"sub-7"}"#;
    let handshake = gusto::handshake(body).unwrap();
    let response = client.send(&gusto::verify_subscription_request(&handshake)).await.unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(
        double.verified_subscriptions(),
        [("sub-7".to_owned(), "made-up-token-1".to_owned())]
    );
}

#[tokio::test]
async fn hostile_worker_id_stays_in_segment() {
    let double = VendorDouble::start().await.unwrap();
    let client = client(&double, Vendor::Rippling);
    let error =
        client.fetch_worker(tenant_adapter(Vendor::Rippling).as_ref(), "../companies?x=1").await;
    assert!(matches!(error, Err(LookupError::NotFound { .. })));
    let requests = double.requests();
    assert_eq!(requests, ["GET /rippling/workers/..%2Fcompanies%3Fx%3D1"]);
}
