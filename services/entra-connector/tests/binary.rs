//! The `rollcall-entra-connector` binary end to end: it starts from a configuration file
//! against the Graph double, reports ready on `/readyz` once NATS and PostgreSQL respond,
//! publishes a sync report, serves its metrics and stops on SIGTERM.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

#[path = "../../ldap-connector/tests/support/bus.rs"]
#[allow(dead_code, reason = "this test reads the streams and publishes nothing itself")]
mod bus;
mod common;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bus::{TestBus, nats_url};
use rollcall_graph_double::Tenant;
use rollcall_proto::v1;
use support::TestDb;
use support::fixtures::add_tenant;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sends a GET to the ops server and returns the whole response, or `None` while it does
/// not accept connections.
fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

fn fail_with_output(child: &mut Child, message: &str) -> ! {
    let _ = Command::new("kill").args(["-KILL", &child.id().to_string()]).status();
    let mut stdout = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut stdout);
    let mut stderr = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut stderr);
    panic!("{message}\nstdout:\n{stdout}\nstderr:\n{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_syncs_publishes_and_is_ready() {
    let db = TestDb::create().await;
    let store = db.store().await;
    add_tenant(&store, "harborview").await;
    let bus = TestBus::new().await;
    let namespace = bus.topology.namespace().clone();
    let (_double, base) =
        common::start(Tenant::load_dir(&common::harborview_entra()).unwrap()).await;

    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("client-secret");
    std::fs::write(&secret, format!("{}\n", common::SECRET)).unwrap();
    let database_url = dir.path().join("database-url");
    let app_url = format!(
        "postgres://rollcall_app@127.0.0.1:{}/{}",
        support::admin_options().get_port(),
        db.name
    );
    std::fs::write(&database_url, &app_url).unwrap();
    let ops_port = free_port();
    let config = dir.path().join("entra-connector.yaml");
    std::fs::write(
        &config,
        format!(
            "nats:\n  url: {nats}\n  subject_prefix: {subjects}\n  stream_prefix: {streams}\n\
             postgres:\n  url_file: {database_url}\n\
             ops:\n  listen: 127.0.0.1:{ops_port}\n\
             shutdown:\n  grace_period_seconds: 10\n\
             apps:\n  msp:\n    client_id: {client}\n    client_secret_file: {secret}\n\
             tenants:\n  - tenant: harborview\n    directory_id: {directory}\n    app: msp\n\
             authority_url: {base}\ngraph_url: {base}\n\
             start_delay_max_seconds: 0\n\
             limits:\n  backoff_base_ms: 5\n",
            nats = nats_url(),
            subjects = namespace.subject_prefix(),
            streams = namespace.stream_prefix(),
            database_url = database_url.display(),
            client = common::CLIENT_ID,
            secret = secret.display(),
            directory = common::DIRECTORY,
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall-entra-connector"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let deadline = Instant::now() + Duration::from_secs(90);
    let reports = loop {
        let published = bus.published().await;
        if !published.reports.is_empty() {
            break published.reports;
        }
        if let Ok(Some(status)) = child.try_wait() {
            fail_with_output(&mut child, &format!("the connector exited with {status}"));
        }
        if Instant::now() > deadline {
            fail_with_output(&mut child, "no sync report within 90 s");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(reports[0].outcome, v1::SyncOutcome::Ok as i32, "{:?}", reports[0].problems);
    assert_eq!(reports[0].connector, "entra-connector");

    let ready = get(ops_port, "/readyz").unwrap_or_default();
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
    assert!(ready.contains(r#"{"name":"nats","status":"ok"}"#), "{ready}");
    assert!(ready.contains(r#"{"name":"postgres","status":"ok"}"#), "{ready}");
    let metrics = get(ops_port, "/metrics").unwrap_or_default();
    assert!(
        metrics.contains(r#"rollcall_entra_syncs_total{tenant="harborview",outcome="ok"} 1"#),
        "{metrics}"
    );

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "exit status {:?}: {logs}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let finished = logs
        .lines()
        .find(|line| line.contains("\"sync finished\""))
        .unwrap_or_else(|| panic!("no `sync finished` line in {logs}"));
    let line: serde_json::Value = serde_json::from_str(finished).unwrap();
    assert_eq!(line["tenant"], "harborview");
    assert_eq!(line["source"], "entra");
    assert!(!logs.contains(common::SECRET), "the client secret reached the log");
    bus.delete().await;
}

#[test]
fn unknown_key_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("entra-connector.yaml");
    std::fs::write(&config, "apps: {}\ntenants: []\ninterval_minuts: 60\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rollcall-entra-connector"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown key `interval_minuts`"), "{stderr}");
}
