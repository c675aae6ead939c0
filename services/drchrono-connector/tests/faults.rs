//! A sync against the DrChrono double: paging, token rotation, and each fault the API
//! can show (expired access token, revoked refresh token, 429, 5xx, a dropped connection
//! and a body that is not JSON).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod common;
mod double;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use common::Setup;
use double::{DrChronoDouble, Fault};
use rollcall_drchrono_connector::{ApiError, AuthError, SyncError};

fn api_error(result: Result<rollcall_drchrono_connector::SyncResult, SyncError>) -> ApiError {
    match result {
        Err(SyncError::Api(error)) => error,
        Err(other) => panic!("expected an API error, got {other}"),
        Ok(_) => panic!("the sync succeeded"),
    }
}

#[tokio::test]
async fn sync_follows_next_links() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let result = setup.sync().await.unwrap();

    let ids: Vec<&str> = result.snapshot.accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["70112", "70140", "70153", "70161", "70178", "70199"]);
    assert_eq!(result.snapshot.source.to_string(), "ehr:drchrono");
    let requests = setup.double.requests();
    assert!(requests.iter().any(|r| r.starts_with("GET /api/users?") && r.contains("cursor=3")));
    // Three records per page: users 2 pages, doctors 1, staff 2, user groups 1, logins 2.
    assert_eq!(result.stats.pages, 8);
    assert_eq!(result.stats.token_refreshes, 1);
}

#[tokio::test]
async fn audit_log_request_has_since() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let result = setup.sync().await.unwrap();
    let audit = setup
        .double
        .requests()
        .into_iter()
        .find(|r| r.starts_with("GET /api/audit_log"))
        .expect("the audit log was read");
    assert!(audit.contains("type=Login"), "{audit}");
    assert!(audit.contains("since="), "{audit}");
    let last_login = result.snapshot.accounts.iter().find(|a| a.id == "70112").unwrap();
    assert!(
        matches!(last_login.last_sign_in, rollcall_core::model::LastSignIn::At(_)),
        "{:?}",
        last_login.last_sign_in
    );
}

#[tokio::test]
async fn rotated_refresh_token_is_stored() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.sync().await.unwrap();
    let stored = setup.stored_refresh_token().await;
    assert_eq!(stored.as_deref(), Some("synthetic-refresh-1"));
    assert_eq!(setup.double.current_refresh_token(), "synthetic-refresh-1");

    // The next sync starts from the stored token, not the spent one in the file.
    setup.sync().await.unwrap();
    assert_eq!(setup.stored_refresh_token().await.as_deref(), Some("synthetic-refresh-2"));
}

#[tokio::test]
async fn expired_access_token_refreshes_once() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.double.push_fault("/api/staff", None, Fault::ExpireAccessTokens);
    let result = setup.sync().await.unwrap();

    assert_eq!(result.stats.token_refreshes, 2);
    assert_eq!(result.stats.count_of("/api/staff", 401), 1);
    assert_eq!(result.snapshot.accounts.len(), 6);
    // The second rotation is stored as well.
    assert_eq!(setup.stored_refresh_token().await.as_deref(), Some("synthetic-refresh-2"));
}

#[tokio::test]
async fn revoked_refresh_token_names_the_fix() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.double.revoke_refresh_token();
    let error = api_error(setup.sync().await);

    let ApiError::Auth(AuthError::RefreshRejected { code, file, .. }) = &error else {
        panic!("expected a rejected refresh token, got {error}");
    };
    assert_eq!(code, "invalid_grant");
    assert_eq!(file, &setup.token_file);
    let message = error.to_string();
    assert!(message.contains("authorize Rollcall again"), "{message}");
    assert!(message.contains(&setup.token_file.display().to_string()), "{message}");
    assert!(!setup.double.requests().iter().any(|r| r.starts_with("GET ")), "no API call");
}

#[tokio::test]
async fn new_consent_replaces_stored_token() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.sync().await.unwrap();
    setup.double.revoke_refresh_token();
    assert!(setup.sync().await.is_err());

    // The administrator authorizes again and writes the new token to the file.
    setup.double.set_refresh_token("synthetic-reconsent");
    std::fs::write(&setup.token_file, "synthetic-reconsent\n").unwrap();
    let result = setup.sync().await.unwrap();
    assert_eq!(result.snapshot.accounts.len(), 6);
    let stored = setup.stored_refresh_token().await.unwrap();
    assert_eq!(stored, setup.double.current_refresh_token());
    assert_ne!(stored, "synthetic-reconsent", "the consumed token was replaced");
}

#[tokio::test]
async fn rejected_client_secret_names_the_setting() {
    let mut setup = Setup::new(DrChronoDouble::example()).await;
    setup.secret = rollcall_runtime::Secret::new("wrong-secret");
    let error = api_error(setup.sync().await);
    assert!(
        matches!(error, ApiError::Auth(AuthError::ClientRejected { status: 401, .. })),
        "{error}"
    );
    assert!(error.to_string().contains("client_secret"), "{error}");
}

#[tokio::test]
async fn throttled_request_honors_retry_after() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let throttle = Fault::Status { status: 429, retry_after: Some("0.05".into()) };
    setup.double.push_fault("/api/users", Some(1), throttle);
    let result = setup.sync().await.unwrap();

    assert_eq!(result.stats.count_of("/api/users", 429), 1);
    assert_eq!(result.stats.count_of("/api/users", 200), 2);
    assert!(result.stats.throttled >= Duration::from_millis(50), "{:?}", result.stats.throttled);
    assert_eq!(result.snapshot.accounts.len(), 6);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    for status in [503, 502] {
        setup.double.push_fault("/api/doctors", None, Fault::Status { status, retry_after: None });
    }
    let result = setup.sync().await.unwrap();
    assert_eq!(result.stats.count_of("/api/doctors", 503), 1);
    assert_eq!(result.stats.count_of("/api/doctors", 502), 1);
    let doctor = result.snapshot.accounts.iter().find(|a| a.id == "70112").unwrap();
    assert_eq!(doctor.npi.as_deref(), Some("9999900886"));
}

#[tokio::test]
async fn persistent_server_error_gives_up() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    for _ in 0..4 {
        setup.double.push_fault(
            "/api/staff",
            None,
            Fault::Status { status: 500, retry_after: None },
        );
    }
    let error = api_error(setup.sync().await);
    let ApiError::RetriesExhausted { endpoint, attempts, last } = &error else {
        panic!("expected retries to run out, got {error}");
    };
    assert_eq!(endpoint, "/api/staff");
    assert_eq!(*attempts, 4);
    assert!(last.contains("status 500"), "{last}");
}

#[tokio::test]
async fn forbidden_names_the_scopes() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.double.push_fault(
        "/api/audit_log",
        None,
        Fault::Status { status: 403, retry_after: None },
    );
    let error = api_error(setup.sync().await);
    assert!(matches!(error, ApiError::Status { status: 403, .. }), "{error}");
    assert!(error.to_string().contains("billing:read"), "{error}");
}

#[tokio::test]
async fn dropped_connection_once_is_retried() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.double.push_fault("/api/users", Some(1), Fault::DropConnection);
    let result = setup.sync().await.unwrap();
    assert_eq!(result.stats.count_of("/api/users", 0), 1);
    assert_eq!(result.snapshot.accounts.len(), 6);
}

#[tokio::test]
async fn dropped_connection_every_time_fails() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    for _ in 0..4 {
        setup.double.push_fault("/api/users", Some(1), Fault::DropConnection);
    }
    let error = api_error(setup.sync().await);
    let ApiError::RetriesExhausted { endpoint, last, .. } = &error else {
        panic!("expected retries to run out, got {error}");
    };
    assert_eq!(endpoint, "/api/users");
    // hyper reports the close while reading the headers or the body, depending on when
    // the first half of the page reached the client.
    assert!(last.contains("cut off") || last.contains("connection closed"), "{last}");
}

#[tokio::test]
async fn malformed_json_is_retried_then_fails() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.double.push_fault("/api/user_groups", None, Fault::MalformedJson);
    let result = setup.sync().await.unwrap();
    assert_eq!(result.stats.count_of("/api/user_groups", 200), 2);

    for _ in 0..4 {
        setup.double.push_fault("/api/user_groups", None, Fault::MalformedJson);
    }
    let error = api_error(setup.sync().await);
    let ApiError::RetriesExhausted { last, .. } = &error else {
        panic!("expected retries to run out, got {error}");
    };
    assert!(last.contains("not valid JSON"), "{last}");
}

#[tokio::test]
async fn request_budget_stops_the_sync() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let limits = rollcall_drchrono_connector::Limits { request_budget: 3, ..common::fast_limits() };
    let mut client = setup.client_with(limits);
    let result =
        rollcall_drchrono_connector::full_sync(&mut client, chrono_tz::Tz::UTC, 90, 3).await;
    let error = api_error(result);
    assert!(matches!(error, ApiError::BudgetExhausted { budget: 3, .. }), "{error}");
    assert!(error.to_string().contains("limits.request_budget"), "{error}");
}

/// `min_request_interval_ms` spaces every API request, pages and endpoints alike, so a
/// sync stays under DrChrono's rate limit instead of relying on 429 replies.
#[tokio::test]
async fn requests_spaced_by_min_interval() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let interval = Duration::from_millis(100);
    let limits = rollcall_drchrono_connector::Limits {
        min_request_interval_ms: 100,
        ..common::fast_limits()
    };
    let mut client = setup.client_with(limits);
    rollcall_drchrono_connector::full_sync(&mut client, chrono_tz::Tz::UTC, 90, 3).await.unwrap();

    let arrivals = setup.double.api_arrivals();
    assert!(arrivals.len() >= 8, "{} requests", arrivals.len());
    for (index, pair) in arrivals.windows(2).enumerate() {
        let gap = pair[1].duration_since(pair[0]);
        // The client spaces the sends; the arrivals may differ by the loopback delay of
        // each, hence the slack. Without spacing the gaps are a few milliseconds.
        assert!(
            gap + Duration::from_millis(40) >= interval,
            "request {} came {gap:?} after the previous",
            index + 1
        );
    }
}

#[tokio::test]
async fn missing_staff_list_is_skipped() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.double.push_fault("/api/staff", None, Fault::Status { status: 404, retry_after: None });
    let result = setup.sync().await.unwrap();

    assert_eq!(result.skipped.len(), 1);
    assert_eq!(result.skipped[0].0, "/api/staff");
    let staff_user = result.snapshot.accounts.iter().find(|a| a.id == "70140").unwrap();
    assert_eq!(staff_user.status, rollcall_core::model::AccountStatus::Unknown);
    // Without the staff list the inactive member is not seen at all.
    assert!(result.snapshot.accounts.iter().all(|a| a.id != "70199"));
    assert!(result.dump["responses"].get("/api/staff").is_none());
}

#[tokio::test]
async fn stalled_response_times_out_and_retries() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let stall = Fault::Stall(Duration::from_secs(5));
    setup.double.push_fault("/api/doctors", None, stall);
    let limits =
        rollcall_drchrono_connector::Limits { request_timeout_seconds: 1, ..common::fast_limits() };
    // The client is built with the timeout, as the service builds it from the limits.
    let http = rollcall_drchrono_connector::http_client(&limits, true).unwrap();
    let tokens = rollcall_drchrono_connector::TokenSource {
        tenant: common::TENANT.to_owned(),
        token_url: format!("{}/o/token/", setup.base),
        client_id: double::CLIENT_ID.to_owned(),
        client_secret: &setup.secret,
        refresh_token_file: setup.token_file.clone(),
        scope: setup.store.tenant(&setup.tenant),
    };
    let mut client =
        rollcall_drchrono_connector::ApiClient::new(&http, &setup.base, tokens, limits);
    let result = rollcall_drchrono_connector::full_sync(&mut client, chrono_tz::Tz::UTC, 90, 3)
        .await
        .unwrap();

    assert_eq!(result.stats.count_of("/api/doctors", 0), 1, "the stalled request timed out");
    assert_eq!(result.stats.count_of("/api/doctors", 200), 1);
    assert_eq!(result.snapshot.accounts.len(), 6);
}

#[tokio::test]
async fn foreign_next_link_is_rejected() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    setup.double.set_link_base("https://api.elsewhere.example");
    let error = api_error(setup.sync().await);

    let ApiError::ForeignLink { endpoint, link, .. } = &error else {
        panic!("expected a foreign link error, got {error}");
    };
    assert_eq!(endpoint, "/api/users");
    assert!(link.starts_with("https://api.elsewhere.example/api/users"), "{link}");
    let users_requests =
        setup.double.requests().iter().filter(|r| r.starts_with("GET /api/users")).count();
    assert_eq!(users_requests, 1, "only the first page was requested");
}
