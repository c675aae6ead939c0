//! The `rollcall-ldap-connector` binary end to end: it loads a configuration file, warns
//! about an insecure directory, syncs on start, serves the metrics of a successful and a
//! failed sync, and stops on SIGTERM.

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

/// Returns the value of the sample `series` (name and labels as exposed) in `metrics`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
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
    // A second directory of the tenant whose bind fails, for the error metrics.
    let wrong_password = dir.path().join("wrong-password");
    std::fs::write(&wrong_password, "not-the-password\n").unwrap();
    let ops_port = free_port();
    let config = dir.path().join("ldap-connector.yaml");
    std::fs::write(
        &config,
        format!(
            "nats:\n  url: {nats}\n  subject_prefix: {subjects}\n  stream_prefix: {streams}\n\
             ops:\n  listen: 127.0.0.1:{ops_port}\n\
             directories:\n  - tenant: harborview\n    url: {url}\n    tls: insecure\n\
             \x20   bind_dn: {SERVICE_DN}\n    password_file: {password}\n    base_dn: {SUFFIX}\n\
             \x20   jitter_seconds: 0\n\
             \x20 - tenant: harborview\n    source: ldap:north\n    url: {url}\n    tls: insecure\n\
             \x20   bind_dn: {SERVICE_DN}\n    password_file: {wrong_password}\n    base_dn: {SUFFIX}\n\
             \x20   jitter_seconds: 0\n",
            nats = nats_url(),
            subjects = namespace.subject_prefix(),
            streams = namespace.stream_prefix(),
            url = slapd.ldap_url,
            password = password.display(),
            wrong_password = wrong_password.display(),
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

    let started = chrono::Utc::now().timestamp();
    let deadline = Instant::now() + Duration::from_secs(60);
    // The first attempt of each directory; a failed one is retried only after 30 s.
    let reports = loop {
        let published = bus.published().await;
        if published.reports.len() >= 2 {
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
    let outcome_of = |source: &str| {
        let report = reports.iter().find(|r| r.source == source).unwrap();
        (report.outcome, report.problems.clone())
    };
    let (ok, problems) = outcome_of("ldap");
    assert_eq!(ok, v1::SyncOutcome::Ok as i32, "{problems:?}");
    let (failed, problems) = outcome_of("ldap:north");
    assert_eq!(failed, v1::SyncOutcome::Failed as i32, "{problems:?}");
    assert_eq!(problems[0].location.as_deref(), Some("stage bind"));

    let metrics = get_metrics(ops_port);
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    let ok = "{tenant=\"harborview\",source=\"ldap\"}";
    let failed = "{tenant=\"harborview\",source=\"ldap:north\"}";
    let value = |series: String| {
        sample(&metrics, &series).unwrap_or_else(|| panic!("no sample `{series}` in {metrics}"))
    };
    assert_eq!(value(format!("rollcall_ldap_sync_successes_total{ok}")), 1.0);
    // 51 users and 9 groups in one page of 500.
    assert_eq!(value(format!("rollcall_ldap_sync_entries_read_total{ok}")), 60.0);
    assert_eq!(value(format!("rollcall_ldap_sync_pages_total{ok}")), 1.0);
    assert_eq!(value(format!("rollcall_ldap_sync_range_reads_total{ok}")), 0.0);
    assert_eq!(value(format!("rollcall_ldap_sync_duration_seconds_count{ok}")), 1.0);
    assert!(value(format!("rollcall_ldap_sync_duration_seconds_sum{ok}")) > 0.0);
    let last_success = value(format!("rollcall_ldap_sync_last_success_timestamp_seconds{ok}"));
    let now = chrono::Utc::now().timestamp();
    assert!(
        (started as f64..=now as f64).contains(&last_success),
        "last success {last_success} outside {started}..={now}"
    );

    let bind_errors = "rollcall_ldap_sync_errors_total{tenant=\"harborview\",source=\"ldap:north\",stage=\"bind\"}";
    assert_eq!(value(bind_errors.to_owned()), 1.0);
    assert_eq!(value(format!("rollcall_ldap_sync_duration_seconds_count{failed}")), 1.0);
    for name in [
        "rollcall_ldap_sync_successes_total",
        "rollcall_ldap_sync_entries_read_total",
        "rollcall_ldap_sync_last_success_timestamp_seconds",
    ] {
        assert_eq!(sample(&metrics, &format!("{name}{failed}")), None, "{name} of the failed sync");
    }

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
    assert!(!logs.contains("not-the-password"), "the wrong password reached the log");
    bus.delete().await;
}
