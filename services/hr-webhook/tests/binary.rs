//! The `rollcall-hr-webhook` binary starts from a configuration file with secret files,
//! reports ready on `/readyz`, takes a signed event and stops on SIGTERM.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::Utc;
use reqwest::StatusCode;
use support::{
    KEY_A, LIMIT, Options, TENANT, TestBus, TestDb, add_tenants, closed_port, signed_headers,
    termination, write_config,
};

#[tokio::test]
async fn binary_starts_from_config_file() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    add_tenants(&db.store().await).await;
    let dir = tempfile::tempdir().unwrap();
    // Free ports, bound and released; another process taking one in between fails the
    // start, which the test reports.
    let (http, ops) = (closed_port(), closed_port());
    let path = write_config(
        dir.path(),
        &db,
        &bus,
        &Options::default(),
        &format!("127.0.0.1:{http}"),
        &format!("127.0.0.1:{ops}"),
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall-hr-webhook"))
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
        if started.elapsed() > LIMIT || child.try_wait().unwrap().is_some() {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    if !ready {
        let _ = child.kill();
        let output = child.wait_with_output().unwrap();
        panic!("not ready: {}", String::from_utf8_lossy(&output.stderr));
    }

    let body = termination("E1101");
    let mut request = client
        .post(format!("http://127.0.0.1:{http}/v1/tenants/{TENANT}/hr/events"))
        .body(body.clone());
    for (name, value) in signed_headers(KEY_A, "msg_binary", Utc::now().timestamp(), &body) {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), StatusCode::OK);
    let metrics = client.get(format!("http://127.0.0.1:{ops}/metrics")).send().await.unwrap();
    let metrics = metrics.text().await.unwrap();
    assert!(metrics.contains("rollcall_hr_webhook_events_committed_total{sender=\"webhook\"} 1"));

    // SIGTERM to the child this test started, by its pid.
    let status = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let logs = String::from_utf8_lossy(&output.stdout);
    let received = logs.lines().find(|line| line.contains("\"message\":\"HR event received\""));
    let received = received.unwrap_or_else(|| panic!("no received line in {logs}"));
    assert!(received.contains("\"tenant\":\"harborview\""), "{received}");
    assert!(received.contains("\"key_id\":\"key-a\""), "{received}");
    // Neither the body nor a secret reaches the logs.
    assert!(!logs.contains("voluntary resignation"));
    let secret = base64::engine::general_purpose::STANDARD.encode(KEY_A);
    assert!(!logs.contains(&secret));
    assert!(!logs.contains(support::SCIM_TOKEN));
    bus.delete().await;
}

#[tokio::test]
async fn binary_rejects_invalid_webhook_key() {
    let db = TestDb::create().await;
    let bus = TestBus::new().await;
    let dir = tempfile::tempdir().unwrap();
    let path =
        write_config(dir.path(), &db, &bus, &Options::default(), "127.0.0.1:0", "127.0.0.1:0");
    // A raw key without the `whsec_` prefix.
    std::fs::write(dir.path().join("key-b"), "bm90IGEgd2hzZWMgc2VjcmV0IGF0IGFsbA==").unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_rollcall-hr-webhook"))
        .arg("--config")
        .arg(&path)
        .env_remove("ROLLCALL_CONFIG")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tenants.harborview.webhook_keys"), "{stderr}");
    assert!(stderr.contains("`key-b`"), "{stderr}");
    assert!(!stderr.contains("bm90IGEgd2hzZWMgc2VjcmV0IGF0IGFsbA=="), "{stderr}");
    bus.delete().await;
}
