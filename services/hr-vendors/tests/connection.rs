//! What one client shares across its calls, against the local vendor double: the pause
//! after a 429, and an API secret read from a file that is rotated while the client runs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use rollcall_hr_vendors::double::{Fault, FixtureWorker, VendorDouble};
use rollcall_hr_vendors::vendors::VendorSettings;
use rollcall_hr_vendors::{
    ApiAuth, ApiSecret, ClientOptions, EmploymentStatus, LookupError, Vendor, VendorAdapter,
    VendorClient, adapter,
};

fn options(double: &VendorDouble, vendor: Vendor, auth: ApiAuth) -> ClientOptions {
    let mut options = ClientOptions::new(double.base_url(vendor), auth);
    options.allow_plain_http_loopback = true;
    options.first_backoff = Duration::from_millis(10);
    options.max_backoff = Duration::from_millis(50);
    options.max_retry_after = Duration::from_secs(2);
    options
}

/// Builds a HiBob client with a fixed credential that counts the 429s it receives.
fn counting_client(double: &VendorDouble) -> (VendorClient, Arc<AtomicUsize>) {
    let auth = ApiAuth::Basic { user: "service-user".into(), password: "x".into() };
    let mut client = VendorClient::new("hibob", options(double, Vendor::HiBob, auth)).unwrap();
    let throttled = Arc::new(AtomicUsize::new(0));
    let counter = throttled.clone();
    client.on_throttled(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    (client, throttled)
}

fn tenant_adapter(vendor: Vendor) -> Box<dyn VendorAdapter> {
    let mut settings = VendorSettings::new(chrono_tz::America::Chicago);
    settings.company_id = Some("company-1".into());
    adapter(vendor, settings)
}

fn count(double: &VendorDouble, prefix: &str) -> usize {
    double.requests().iter().filter(|request| request.starts_with(prefix)).count()
}

/// Creates an empty folder for one test under the system's temporary folder.
fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("rollcall-hr-vendors-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Replaces `path` with `content` in one rename, as the kubelet swaps a Secret volume's
/// files, so no reader sees a half-written file.
fn rotate(path: &Path, content: &str) {
    let staged = path.with_extension("staged");
    std::fs::write(&staged, content).unwrap();
    std::fs::rename(&staged, path).unwrap();
}

#[tokio::test]
async fn long_pause_stops_every_call() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::HiBob, "w1", FixtureWorker::active());
    double.set_worker(Vendor::HiBob, "w2", FixtureWorker::active());
    double.push_fault_at("/hibob/v1/people/w1", Fault::RateLimited("600".into()));
    let (client, throttled) = counting_client(&double);
    let adapter = tenant_adapter(Vendor::HiBob);

    let first = client.fetch_worker(adapter.as_ref(), "w1").await.unwrap_err();
    assert!(matches!(first, LookupError::RateLimited { retry_after_seconds: 600, .. }), "{first}");
    let left = client.paused_for().unwrap();
    assert!(left > Duration::from_secs(590), "{left:?}");
    assert!(left <= Duration::from_secs(600), "{left:?}");

    // Another worker's read and the worker list send nothing until the pause ends.
    let second = client.fetch_worker(adapter.as_ref(), "w2").await.unwrap_err();
    assert!(
        matches!(second, LookupError::Paused { retry_after_seconds: 591..=600, .. }),
        "{second}"
    );
    assert!(second.is_transient());
    let list = client.list_workers(adapter.as_ref(), Utc::now()).await.unwrap_err();
    assert!(matches!(list, LookupError::Paused { .. }), "{list}");
    assert_eq!(double.requests().len(), 1);
    assert_eq!(throttled.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn waited_out_pause_stops_concurrent_call() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::HiBob, "w1", FixtureWorker::terminated("2026-11-30"));
    double.push_fault_at("/hibob/v1/people/w1", Fault::RateLimited("1".into()));
    let (client, throttled) = counting_client(&double);
    let adapter = tenant_adapter(Vendor::HiBob);

    // The first call waits out its 1 s pause within the call. A list started during the
    // wait sends nothing.
    let read = client.fetch_worker(adapter.as_ref(), "w1");
    let list = async {
        for _ in 0..500 {
            if client.paused_for().is_some() {
                return client.list_workers(adapter.as_ref(), Utc::now()).await;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        panic!("the connection was never paused");
    };
    let (read, list) = tokio::join!(read, list);
    assert!(matches!(read.unwrap().status, EmploymentStatus::Terminated { .. }));
    assert!(matches!(list, Err(LookupError::Paused { retry_after_seconds: 1, .. })), "{list:?}");
    assert_eq!(count(&double, "POST /hibob/v1/people/w1"), 2);
    assert_eq!(count(&double, "POST /hibob/v1/people/search"), 0);
    assert_eq!(double.early_requests(), Vec::<String>::new());
    assert_eq!(throttled.load(Ordering::SeqCst), 1, "a waited-out 429 is still counted");
    assert_eq!(client.paused_for(), None);
}

#[tokio::test]
async fn rate_limit_without_retry_after_backs_off() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::HiBob, "w1", FixtureWorker::active());
    // An empty `Retry-After` is no wait the client can use.
    double.push_fault(Fault::RateLimited(String::new()));
    double.push_fault(Fault::RateLimited(String::new()));
    let (client, throttled) = counting_client(&double);

    let record = client.fetch_worker(tenant_adapter(Vendor::HiBob).as_ref(), "w1").await;
    assert_eq!(record.unwrap().status, EmploymentStatus::Active);
    assert_eq!(count(&double, "POST /hibob/v1/people/w1"), 3);
    assert_eq!(throttled.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn token_endpoint_rate_limit_pauses() {
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Paychex, "w1", FixtureWorker::active());
    double.push_fault_at("/paychex/oauth/token", Fault::RateLimited("300".into()));
    let auth = ApiAuth::ClientCredentials {
        token_url: double.token_url(Vendor::Paychex),
        client_id: "client".into(),
        client_secret: "secret".into(),
    };
    let client = VendorClient::new("paychex", options(&double, Vendor::Paychex, auth)).unwrap();
    let adapter = tenant_adapter(Vendor::Paychex);

    let error = client.fetch_worker(adapter.as_ref(), "w1").await.unwrap_err();
    assert!(matches!(error, LookupError::RateLimited { retry_after_seconds: 300, .. }), "{error}");
    let again = client.fetch_worker(adapter.as_ref(), "w1").await.unwrap_err();
    assert!(matches!(again, LookupError::Paused { .. }), "{again}");
    assert_eq!(double.requests(), ["POST /paychex/oauth/token"]);
}

#[tokio::test]
async fn rotated_password_file_used_next_request() {
    let dir = scratch("password");
    let path = dir.join("api-password");
    rotate(&path, "old-password\n");
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::HiBob, "w1", FixtureWorker::active());
    double.require_secret(Vendor::HiBob, Some("old-password"));
    let auth =
        ApiAuth::Basic { user: "service-user".into(), password: ApiSecret::File(path.clone()) };
    let client = VendorClient::new("hibob", options(&double, Vendor::HiBob, auth)).unwrap();
    let adapter = tenant_adapter(Vendor::HiBob);
    client.fetch_worker(adapter.as_ref(), "w1").await.unwrap();

    double.require_secret(Vendor::HiBob, Some("new-password"));
    rotate(&path, "new-password\n");
    client.fetch_worker(adapter.as_ref(), "w1").await.unwrap();
    assert_eq!(count(&double, "POST /hibob/v1/people/w1"), 2, "no request was rejected");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn rotation_during_request_retried_once() {
    let dir = scratch("bearer");
    let path = dir.join("api-token");
    rotate(&path, "old-token");
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Rippling, "w1", FixtureWorker::active());
    // The vendor switches to the new token, and the file changes while the request with
    // the old one is in flight.
    double.require_secret(Vendor::Rippling, Some("new-token"));
    let rotated = path.clone();
    double.on_request(move |request| {
        if request == "GET /rippling/workers/w1" {
            rotate(&rotated, "new-token");
        }
    });
    let auth = ApiAuth::Bearer(ApiSecret::File(path.clone()));
    let client = VendorClient::new("rippling", options(&double, Vendor::Rippling, auth)).unwrap();

    let record = client.fetch_worker(tenant_adapter(Vendor::Rippling).as_ref(), "w1").await;
    assert_eq!(record.unwrap().status, EmploymentStatus::Active);
    assert_eq!(count(&double, "GET /rippling/workers/w1"), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn unchanged_file_after_401_not_retried() {
    let dir = scratch("unchanged");
    let path = dir.join("api-token");
    rotate(&path, "revoked-token");
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Rippling, "w1", FixtureWorker::active());
    double.require_secret(Vendor::Rippling, Some("another-token"));
    let auth = ApiAuth::Bearer(ApiSecret::File(path.clone()));
    let client = VendorClient::new("rippling", options(&double, Vendor::Rippling, auth)).unwrap();

    let error =
        client.fetch_worker(tenant_adapter(Vendor::Rippling).as_ref(), "w1").await.unwrap_err();
    assert!(matches!(error, LookupError::Unauthorized { status: 401, .. }), "{error}");
    assert_eq!(double.requests().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn rotated_client_secret_fetches_new_token() {
    let dir = scratch("client-secret");
    let path = dir.join("client-secret");
    rotate(&path, "old-secret");
    let double = VendorDouble::start().await.unwrap();
    double.set_worker(Vendor::Paychex, "w1", FixtureWorker::active());
    double.require_secret(Vendor::Paychex, Some("old-secret"));
    let auth = ApiAuth::ClientCredentials {
        token_url: double.token_url(Vendor::Paychex),
        client_id: "client".into(),
        client_secret: ApiSecret::File(path.clone()),
    };
    let client = VendorClient::new("paychex", options(&double, Vendor::Paychex, auth)).unwrap();
    let adapter = tenant_adapter(Vendor::Paychex);
    client.fetch_worker(adapter.as_ref(), "w1").await.unwrap();

    // The rotation revokes the cached token: the lookup gets 401, and the client fetches
    // a token with the secret read again.
    double.require_secret(Vendor::Paychex, Some("new-secret"));
    rotate(&path, "new-secret");
    client.fetch_worker(adapter.as_ref(), "w1").await.unwrap();
    assert_eq!(count(&double, "POST /paychex/oauth/token"), 2);
    assert_eq!(count(&double, "GET /paychex/workers/w1"), 3);

    // A rotation that lands while the token request is in flight: the token endpoint
    // rejects the old secret, and the client asks once more with the new one.
    double.require_secret(Vendor::Paychex, Some("third-secret"));
    let rotated = path.clone();
    double.on_request(move |request| {
        if request == "POST /paychex/oauth/token" {
            rotate(&rotated, "third-secret");
        }
    });
    client.fetch_worker(adapter.as_ref(), "w1").await.unwrap();
    assert_eq!(count(&double, "POST /paychex/oauth/token"), 4);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn missing_secret_file_sends_nothing() {
    let dir = scratch("missing");
    let double = VendorDouble::start().await.unwrap();
    let auth = ApiAuth::Bearer(ApiSecret::File(dir.join("absent")));
    let client = VendorClient::new("rippling", options(&double, Vendor::Rippling, auth)).unwrap();
    let error =
        client.fetch_worker(tenant_adapter(Vendor::Rippling).as_ref(), "w1").await.unwrap_err();
    assert!(matches!(error, LookupError::Credential { .. }), "{error}");
    assert!(error.to_string().contains("absent"), "{error}");
    assert!(!error.is_transient());
    assert!(double.requests().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
