//! The ops server on loopback: `/healthz`, `/readyz` as checks flip, `/metrics`, and
//! stopping on shutdown.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::LogBuffer;
use common::http::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;
use rollcall_runtime::ops::{CheckFailure, METRICS_CONTENT_TYPE, OpsConfig, OpsServer, Readiness};
use rollcall_runtime::shutdown::Shutdown;
use rollcall_runtime::telemetry::{TelemetryConfig, build_subscriber};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tower::ServiceExt;

const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds a readiness check that passes while `flag` is set.
fn flag_check(
    flag: &Arc<AtomicBool>,
) -> impl Fn() -> std::future::Ready<Result<(), CheckFailure>> + Send + Sync + 'static {
    let flag = Arc::clone(flag);
    move || {
        let result = if flag.load(Ordering::SeqCst) {
            Ok(())
        } else {
            Err(CheckFailure::new("connection refused by 127.0.0.1:4222"))
        };
        std::future::ready(result)
    }
}

async fn start(
    server: OpsServer,
) -> (SocketAddr, JoinHandle<Result<(), rollcall_runtime::ops::OpsError>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    (address, tokio::spawn(server.serve(listener)))
}

#[tokio::test]
async fn healthz_answers_ok() {
    let shutdown = Shutdown::new();
    let (address, _server) =
        start(OpsServer::new(Registry::default(), Readiness::new(), &shutdown)).await;
    let response = get(address, "/healthz").await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, "ok\n");
}

#[tokio::test]
async fn readyz_follows_checks() {
    let shutdown = Shutdown::new();
    let nats_up = Arc::new(AtomicBool::new(true));
    let db_up = Arc::new(AtomicBool::new(true));
    let mut readiness = Readiness::new();
    readiness.add("nats", CHECK_TIMEOUT, flag_check(&nats_up));
    readiness.add("postgres", CHECK_TIMEOUT, flag_check(&db_up));
    let (address, _server) = start(OpsServer::new(Registry::default(), readiness, &shutdown)).await;

    let ready = get(address, "/readyz").await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.content_type.as_deref(), Some("application/json"));
    let body: Value = serde_json::from_str(&ready.body).unwrap();
    let expected = json!({"status": "ready", "checks": [
        {"name": "nats", "status": "ok"},
        {"name": "postgres", "status": "ok"},
    ]});
    assert_eq!(body, expected);

    nats_up.store(false, Ordering::SeqCst);
    let not_ready = get(address, "/readyz").await;
    assert_eq!(not_ready.status, 503);
    let body: Value = serde_json::from_str(&not_ready.body).unwrap();
    let expected = json!({"status": "not_ready", "checks": [
        {"name": "nats", "status": "failed"},
        {"name": "postgres", "status": "ok"},
    ]});
    assert_eq!(body, expected);
    assert!(!not_ready.body.contains("connection refused"), "{}", not_ready.body);

    nats_up.store(true, Ordering::SeqCst);
    assert_eq!(get(address, "/readyz").await.status, 200);
}

#[tokio::test]
async fn readyz_reports_timed_out_check() {
    let shutdown = Shutdown::new();
    let mut readiness = Readiness::new();
    readiness.add("ldap", Duration::from_millis(20), || {
        std::future::pending::<Result<(), CheckFailure>>()
    });
    let (address, _server) = start(OpsServer::new(Registry::default(), readiness, &shutdown)).await;

    let response = get(address, "/readyz").await;

    assert_eq!(response.status, 503);
    let body: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["checks"], json!([{"name": "ldap", "status": "timed_out"}]));
}

#[tokio::test]
async fn readyz_with_no_checks_is_ready() {
    let shutdown = Shutdown::new();
    let (address, _server) =
        start(OpsServer::new(Registry::default(), Readiness::new(), &shutdown)).await;
    let response = get(address, "/readyz").await;
    assert_eq!(response.status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&response.body).unwrap(),
        json!({"status": "ready", "checks": []})
    );
}

#[tokio::test]
async fn metrics_serves_registry_and_check_failures() {
    let shutdown = Shutdown::new();
    let mut registry = Registry::with_prefix("rollcall_engine");
    let syncs = Counter::<u64>::default();
    registry.register("syncs", "Completed syncs", syncs.clone());
    let up = Arc::new(AtomicBool::new(false));
    let mut readiness = Readiness::new();
    readiness.add("nats", CHECK_TIMEOUT, flag_check(&up));
    let (address, _server) = start(OpsServer::new(registry, readiness, &shutdown)).await;

    syncs.inc_by(3);
    assert_eq!(get(address, "/readyz").await.status, 503);
    assert_eq!(get(address, "/readyz").await.status, 503);
    let response = get(address, "/metrics").await;

    assert_eq!(response.status, 200);
    assert_eq!(response.content_type.as_deref(), Some(METRICS_CONTENT_TYPE));
    let lines: Vec<&str> = response.body.lines().collect();
    assert!(lines.contains(&"# TYPE rollcall_engine_syncs counter"), "{}", response.body);
    assert!(lines.contains(&"rollcall_engine_syncs_total 3"), "{}", response.body);
    assert!(
        lines.contains(&"rollcall_engine_readiness_check_failures_total{check=\"nats\"} 2"),
        "{}",
        response.body
    );
    assert_eq!(lines.last(), Some(&"# EOF"));
}

#[tokio::test]
async fn unknown_path_is_not_found() {
    let shutdown = Shutdown::new();
    let (address, _server) =
        start(OpsServer::new(Registry::default(), Readiness::new(), &shutdown)).await;
    assert_eq!(get(address, "/admin").await.status, 404);
}

#[tokio::test]
async fn server_stops_on_shutdown() {
    let shutdown = Shutdown::new();
    let (address, server) =
        start(OpsServer::new(Registry::default(), Readiness::new(), &shutdown)).await;
    assert_eq!(get(address, "/healthz").await.status, 200);

    shutdown.trigger();
    server.await.unwrap().unwrap();

    let connection = tokio::net::TcpStream::connect(address).await;
    assert!(connection.is_err(), "the listener is still open");
}

#[tokio::test]
async fn readyz_fails_once_shutting_down() {
    let shutdown = Shutdown::new();
    let server = OpsServer::new(Registry::default(), Readiness::new(), &shutdown);
    let router = server.router();
    shutdown.trigger();

    let request = axum::http::Request::get("/readyz").body(axum::body::Body::empty()).unwrap();
    let response = router.oneshot(request).await.unwrap();

    assert_eq!(response.status(), 503);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    let body: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(body, json!({"status": "shutting_down", "checks": []}));
}

#[tokio::test]
async fn bind_error_names_address() {
    let occupied = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = OpsConfig { listen: occupied.local_addr().unwrap() };
    let error = OpsServer::bind(&config).await.unwrap_err();
    assert!(error.to_string().contains(&occupied.local_addr().unwrap().to_string()), "{error}");
}

#[test]
fn default_listen_is_all_interfaces() {
    assert_eq!(OpsConfig::default().listen, SocketAddr::from(([0, 0, 0, 0], 9090)));
}

#[tokio::test]
async fn check_failure_logged_once_per_change() {
    let buffer = LogBuffer::default();
    let (subscriber, _guard) =
        build_subscriber("engine", &TelemetryConfig::default(), None, buffer.clone()).unwrap();
    let _default = tracing::subscriber::set_default(subscriber);
    let shutdown = Shutdown::new();
    let up = Arc::new(AtomicBool::new(false));
    let mut readiness = Readiness::new();
    readiness.add("nats", CHECK_TIMEOUT, flag_check(&up));
    let (address, _server) = start(OpsServer::new(Registry::default(), readiness, &shutdown)).await;

    for _ in 0..3 {
        assert_eq!(get(address, "/readyz").await.status, 503);
    }
    up.store(true, Ordering::SeqCst);
    assert_eq!(get(address, "/readyz").await.status, 200);

    let lines = buffer.json_lines();
    let failed: Vec<&Value> =
        lines.iter().filter(|line| line["message"] == "readiness check failed").collect();
    assert_eq!(failed.len(), 1, "{lines:?}");
    let failure = failed.first().unwrap();
    assert_eq!(failure["level"], "WARN");
    assert_eq!(failure["check"], "nats");
    assert_eq!(failure["reason"], "connection refused by 127.0.0.1:4222");
    let recovered =
        lines.iter().filter(|line| line["message"] == "readiness check passes again").count();
    assert_eq!(recovered, 1, "{lines:?}");
}
