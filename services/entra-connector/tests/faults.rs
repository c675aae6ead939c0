//! Graph's failures, injected by the double: the sync retries what is transient and ends
//! with the same snapshot as a sync without faults, or fails with a clear error.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;

use std::time::Duration;

use rollcall_entra_connector::{GraphError, SyncResult};
use rollcall_graph_double::{Fault, GraphDouble, Tenant};

async fn harborview() -> (GraphDouble, String, SyncResult) {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let (double, base) = common::start(tenant).await;
    let clean = common::sync(&base, common::fast_limits()).await.unwrap();
    double.clear_requests();
    (double, base, clean)
}

fn throttle(retry_after: Option<&str>) -> Fault {
    Fault::Throttle { status: 429, retry_after: retry_after.map(str::to_owned) }
}

/// Syncs again and checks that the snapshot equals the clean one.
async fn assert_recovers(base: &str, clean: &SyncResult) -> SyncResult {
    let synced = common::sync(base, common::fast_limits()).await.unwrap();
    assert_eq!(synced.snapshot, clean.snapshot);
    synced
}

#[tokio::test]
async fn throttle_storm_with_fractional_retry_after() {
    let (double, base, clean) = harborview().await;
    for _ in 0..3 {
        double.push_fault(Some("/users"), throttle(Some("0.2")));
    }
    let synced = assert_recovers(&base, &clean).await;
    assert_eq!(synced.stats.requests.get(&("users".to_owned(), 429)), Some(&3));
    // Three waits of 0.2 s each, as the server asked.
    assert_eq!(synced.stats.throttled, Duration::from_millis(600));
}

#[tokio::test]
async fn throttle_with_whole_second_retry_after() {
    let (double, base, clean) = harborview().await;
    double.push_fault(Some("/groups"), throttle(Some("1")));
    let synced = assert_recovers(&base, &clean).await;
    assert_eq!(synced.stats.throttled, Duration::from_secs(1));
}

#[tokio::test]
async fn throttle_without_retry_after_backs_off() {
    let (double, base, clean) = harborview().await;
    double.push_fault(Some("/roleManagement"), throttle(None));
    double.push_fault(Some("/roleManagement"), throttle(None));
    let synced = assert_recovers(&base, &clean).await;
    assert_eq!(synced.stats.requests.get(&("roleAssignments".to_owned(), 429)), Some(&2));
    // Backoff from a 5 ms base, in whole milliseconds: 2 to 4 ms, then 5 to 10 ms.
    assert!(synced.stats.throttled >= Duration::from_millis(7), "{:?}", synced.stats.throttled);
    assert!(synced.stats.throttled <= Duration::from_millis(15), "{:?}", synced.stats.throttled);
}

#[tokio::test]
async fn service_unavailable_and_server_errors_retry() {
    let (double, base, clean) = harborview().await;
    double.push_fault(
        Some("/users"),
        Fault::Throttle { status: 503, retry_after: Some("0.05".into()) },
    );
    double.push_fault(Some("/groups"), Fault::ServerError(500));
    double.push_fault(Some("/reports"), Fault::ServerError(502));
    let synced = assert_recovers(&base, &clean).await;
    assert_eq!(synced.stats.requests.get(&("users".to_owned(), 503)), Some(&1));
    assert_eq!(synced.stats.requests.get(&("groups".to_owned(), 500)), Some(&1));
}

#[tokio::test]
async fn dropped_connection_and_truncated_page_retry() {
    let (double, base, clean) = harborview().await;
    double.push_fault(Some("/users"), Fault::DropConnection);
    double.push_fault(Some("transitiveMembers"), Fault::TruncatePage);
    let synced = assert_recovers(&base, &clean).await;
    let users_attempts: u64 = synced
        .stats
        .requests
        .iter()
        .filter(|((endpoint, _), _)| endpoint == "users")
        .map(|(_, n)| n)
        .sum();
    // All users fit one page of 999: one dropped attempt, then the good one.
    assert_eq!(users_attempts, 2);
    let member_reads = |result: &SyncResult| -> u64 {
        result
            .stats
            .requests
            .iter()
            .filter(|((endpoint, _), _)| endpoint == "groups/transitiveMembers")
            .map(|(_, n)| n)
            .sum()
    };
    // The truncated page arrives with status 200 and is read again.
    assert_eq!(member_reads(&synced), member_reads(&clean) + 1);
}

#[tokio::test]
async fn token_expiring_mid_sync_is_renewed() {
    let (double, base, clean) = harborview().await;
    double.configure(|faults| faults.token_lifetime_requests = Some(4));
    let synced = assert_recovers(&base, &clean).await;
    let tokens: u64 = synced
        .stats
        .requests
        .iter()
        .filter(|((endpoint, status), _)| endpoint == "token" && *status == 200)
        .map(|(_, n)| n)
        .sum();
    assert!(tokens >= 3, "expected renewed tokens, got {tokens}");
    let rejected = double.requests().iter().filter(|r| r.status == 401).count();
    assert_eq!(rejected as u64, tokens - 1);
}

#[tokio::test]
async fn endless_throttling_gives_up() {
    let (double, base, _) = harborview().await;
    for _ in 0..10 {
        double.push_fault(Some("/users"), throttle(Some("0.01")));
    }
    let error = common::sync(&base, common::fast_limits()).await.unwrap_err();
    assert!(matches!(error, GraphError::RetriesExhausted { attempts: 4, .. }), "{error}");
    assert!(error.to_string().contains("users"), "{error}");
}

#[tokio::test]
async fn request_budget_stops_the_sync() {
    let (_double, base, clean) = harborview().await;
    let mut limits = common::fast_limits();
    limits.request_budget = 5;
    let error = common::sync(&base, limits).await.unwrap_err();
    assert!(matches!(error, GraphError::BudgetExhausted { budget: 5, .. }), "{error}");
    assert!(clean.stats.total() > 5);
}

#[tokio::test]
async fn wrong_secret_fails_with_token_error() {
    let tenant = Tenant::load_dir(&common::harborview_entra()).unwrap();
    let double = GraphDouble::new();
    double.add_tenant(common::DIRECTORY, common::CLIENT_ID, "another-secret", tenant);
    let (_, base) = double.spawn("127.0.0.1:0".parse().unwrap()).await.unwrap();
    let error = common::sync(&base, common::fast_limits()).await.unwrap_err();
    assert!(matches!(error, GraphError::Token { status: 401, .. }), "{error}");
    assert!(error.to_string().contains("admin consent"), "{error}");
    // Bad credentials are not retried.
    assert_eq!(double.requests().len(), 1);
}

#[tokio::test]
async fn privileged_methods_use_one_batch() {
    let (double, base, clean) = harborview().await;
    let _ = assert_recovers(&base, &clean).await;
    let batches: Vec<_> = double.requests().into_iter().filter(|r| r.path == "/$batch").collect();
    assert_eq!(batches.len(), 1);
    let per_user =
        double.requests().iter().filter(|r| r.path.contains("/authentication/methods")).count();
    assert_eq!(per_user, 0, "per-user methods must go through $batch");
}

#[tokio::test]
async fn certificate_credential_gets_token() {
    let (double, base, clean) = harborview().await;
    let app = rollcall_entra_connector::AppConfig {
        client_id: common::CLIENT_ID.into(),
        client_secret_file: None,
        certificate_file: Some(common::repo().join("testdata/credentials/app-certificate.pem")),
    };
    let credential = rollcall_entra_connector::Credential::load("cert-app", &app).unwrap();
    let transport = rollcall_entra_connector::HttpTransport::new(Duration::from_secs(10)).unwrap();
    let mut client = rollcall_entra_connector::GraphClient::new(
        &transport,
        &base,
        common::DIRECTORY,
        common::CLIENT_ID,
        &credential,
        common::fast_limits(),
    );
    let synced =
        rollcall_entra_connector::full_sync(&mut client, &base, "harborview").await.unwrap();
    assert_eq!(synced.snapshot, clean.snapshot);
    let tokens: Vec<_> =
        double.requests().into_iter().filter(|r| r.path == "/oauth2/v2.0/token").collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].status, 200);
}
