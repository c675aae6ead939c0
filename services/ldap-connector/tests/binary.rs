//! The `rollcall-ldap-connector` binary end to end: it loads a configuration file, warns
//! about an insecure directory, syncs on start, serves its metrics and stops on SIGTERM.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_proto::v1;
use support::bus::{TestBus, nats_url};
use support::seed;
use support::slapd::{SERVICE_DN, SERVICE_PASSWORD, SUFFIX, Slapd, SlapdOptions};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn get_metrics(port: u16) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[tokio::test]
async fn binary_syncs_and_serves_metrics() {
    let slapd = Slapd::start(&seed::harborview(), SlapdOptions::default());
    let bus = TestBus::new().await;
    let namespace = bus.topology.namespace().clone();
    let dir = tempfile::tempdir().unwrap();
    let password = dir.path().join("bind-password");
    std::fs::write(&password, format!("{SERVICE_PASSWORD}\n")).unwrap();
    let ops_port = free_port();
    let config = dir.path().join("ldap-connector.yaml");
    std::fs::write(
        &config,
        format!(
            "nats:\n  url: {nats}\n  subject_prefix: {subjects}\n  stream_prefix: {streams}\n\
             ops:\n  listen: 127.0.0.1:{ops_port}\n\
             directories:\n  - tenant: harborview\n    url: {url}\n    tls: insecure\n\
             \x20   bind_dn: {SERVICE_DN}\n    password_file: {password}\n    base_dn: {SUFFIX}\n\
             \x20   jitter_seconds: 0\n",
            nats = nats_url(),
            subjects = namespace.subject_prefix(),
            streams = namespace.stream_prefix(),
            url = slapd.ldap_url,
            password = password.display(),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall-ldap-connector"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    let reports = loop {
        let published = bus.published().await;
        if !published.reports.is_empty() {
            break published.reports;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut stderr = String::new();
            child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
            panic!("the connector exited with {status}: {stderr}");
        }
        assert!(Instant::now() < deadline, "no sync report within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(reports[0].outcome, v1::SyncOutcome::Ok as i32, "{:?}", reports[0].problems);

    let metrics = get_metrics(ops_port);
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(
        metrics.contains(
            "rollcall_ldap_sync_successes_total{tenant=\"harborview\",source=\"ldap\"} 1"
        ),
        "{metrics}"
    );

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "exit status {:?}: {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(logs.contains("tls is `insecure`"), "{logs}");
    assert!(!logs.contains(SERVICE_PASSWORD), "the password reached the log");
    bus.delete().await;
}
