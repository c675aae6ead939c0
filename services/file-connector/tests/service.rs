//! The `rollcall-file-connector` binary as a process: it loads its configuration, serves
//! `/readyz` and `/metrics`, publishes the example practice, records the hashes in its
//! state file and stops cleanly on SIGTERM.
//!
//! It runs against a `nats-server` of its own, so that the streams it creates under the
//! default names touch no shared server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

mod support;

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{OwnServer, add_example_tenant, free_port};

/// Sends `GET path` to the ops server and returns the status line and the body.
fn get(port: u16, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

#[test]
fn binary_publishes_and_stops() {
    let store = tempfile::tempdir().unwrap();
    let nats_port = free_port();
    let _server = OwnServer::start(nats_port, store.path());
    let drop_root = tempfile::tempdir().unwrap();
    let state_dir = tempfile::tempdir().unwrap();
    add_example_tenant(drop_root.path(), "harborview");
    let ops_port = free_port();
    let config = state_dir.path().join("file-connector.yaml");
    std::fs::write(
        &config,
        format!(
            "drop_root: {}\nstate_dir: {}\npoll_interval_seconds: 1\nsettle_seconds: 0\n\
             ops: {{ listen: \"127.0.0.1:{ops_port}\" }}\nnats: {{ url: \"127.0.0.1:{nats_port}\" }}\n",
            drop_root.path().display(),
            state_dir.path().join("state").display(),
        ),
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall-file-connector"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let state_file = state_dir.path().join("state/published.json");
    let started = Instant::now();
    let published = loop {
        let text = std::fs::read_to_string(&state_file).unwrap_or_default();
        if ["\"entra\"", "\"ldap\"", "\"hr\"", "\"ehr:athenahealth\""]
            .iter()
            .all(|s| text.contains(s))
        {
            break text;
        }
        if started.elapsed() > Duration::from_secs(30) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("the connector did not publish the example within 30 s: {text}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let ready = get(ops_port, "/readyz");
    let metrics = get(ops_port, "/metrics");
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let stopped = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the connector did not stop within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(100));
    };

    assert!(published.contains("\"harborview\""), "{published}");
    let (ready_status, ready_body) = ready.unwrap();
    assert!(ready_status.contains("200"), "{ready_status}: {ready_body}");
    let (_, metrics_body) = metrics.unwrap();
    assert!(
        metrics_body.contains(
            "rollcall_file_connector_snapshots_published_total{tenant=\"harborview\",source=\"entra\"} 1"
        ),
        "{metrics_body}"
    );
    assert!(metrics_body.contains("rollcall_file_connector_bus_published_total"), "{metrics_body}");
    assert!(sent.success());
    assert!(status.success(), "exit status {status}");
}
