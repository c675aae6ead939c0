//! The `rollcall-reviews` binary starts from a configuration file with secret files,
//! reports ready on `/readyz`, serves the sign-in page with its security headers, stops
//! on SIGTERM, and does not start with a multi-tenant issuer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use support::store_support::{APP, TestDb};

/// Returns a free loopback port, bound and released; another process taking it in
/// between makes the start fail, which the test reports.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn write_config(dir: &Path, db: &TestDb, http: u16, ops: u16, issuer: &str) -> std::path::PathBuf {
    let options = db.options_as(APP);
    let url = format!("postgres://{APP}@{}:{}/{}", options.get_host(), options.get_port(), db.name);
    std::fs::write(dir.join("postgres-url"), url).unwrap();
    std::fs::write(dir.join("client-secret"), "binary-test-secret\n").unwrap();
    let config = format!(
        "ops:\n  listen: 127.0.0.1:{ops}\nhttp:\n  listen: 127.0.0.1:{http}\n  public_url: http://127.0.0.1:{http}\npostgres:\n  url_file: {dir}/postgres-url\nredis:\n  url: redis://127.0.0.1:6379/0\n  key_prefix: \"rollcall:test-binary:\"\noidc:\n  client_id: rollcall-reviews\n  client_secret_file: {dir}/client-secret\ntenants:\n  harborview:\n    issuer: {issuer}\n    directory_id: 11111111-1111-4111-8111-111111111111\n",
        dir = dir.display()
    );
    let path = dir.join("reviews.yaml");
    std::fs::write(&path, config).unwrap();
    path
}

#[tokio::test]
async fn binary_serves_and_stops_on_sigterm() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let (http, ops) = (free_port(), free_port());
    let issuer = "https://login.microsoftonline.com/11111111-1111-4111-8111-111111111111/v2.0";
    let path = write_config(dir.path(), &db, http, ops, issuer);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall-reviews"))
        .arg("--config")
        .arg(&path)
        .env_remove("ROLLCALL_CONFIG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let started = Instant::now();
    let ready = loop {
        if let Ok(response) = client.get(format!("http://127.0.0.1:{ops}/readyz")).send().await
            && response.status() == StatusCode::OK
        {
            break true;
        }
        if started.elapsed() > Duration::from_secs(60) || child.try_wait().unwrap().is_some() {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    if !ready {
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        panic!("not ready: {}", String::from_utf8_lossy(&output.stderr));
    }

    let page = client.get(format!("http://127.0.0.1:{http}/signin")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-security-policy"].to_str().unwrap().contains("default-src 'none'")
    );
    let metrics = client.get(format!("http://127.0.0.1:{ops}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), StatusCode::OK);

    // SIGTERM to the child this test started, by its pid.
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(logs.contains("\"message\":\"reviews web started\""), "{logs}");
    assert!(!logs.contains("binary-test-secret"), "the client secret reached the logs");
}

#[tokio::test]
async fn binary_rejects_multi_tenant_issuer() {
    let db = TestDb::create().await;
    let dir = tempfile::tempdir().unwrap();
    let issuer = "https://login.microsoftonline.com/organizations/v2.0";
    let path = write_config(dir.path(), &db, free_port(), free_port(), issuer);
    let output = Command::new(env!("CARGO_BIN_EXE_rollcall-reviews"))
        .arg("--config")
        .arg(&path)
        .env_remove("ROLLCALL_CONFIG")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tenants.harborview.issuer"), "{stderr}");
    assert!(stderr.contains("<directory GUID>"), "{stderr}");
}
