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
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bus::{TestBus, nats_url};
use rollcall_entra_connector::load_state;
use rollcall_graph_double::{Fault, GraphDouble, Tenant};
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

/// A store, streams and a Graph double for one run of the binary, and its configuration.
struct Setup {
    db: TestDb,
    bus: TestBus,
    double: GraphDouble,
    base: String,
    dir: tempfile::TempDir,
    ops_port: u16,
}

impl Setup {
    async fn new() -> Setup {
        let db = TestDb::create().await;
        let store = db.store().await;
        add_tenant(&store, "harborview").await;
        let bus = TestBus::new().await;
        let (double, base) =
            common::start(Tenant::load_dir(&common::harborview_entra()).unwrap()).await;
        let dir = tempfile::tempdir().unwrap();
        Setup { db, bus, double, base, dir, ops_port: free_port() }
    }

    /// Writes the configuration file with the given grace period after SIGTERM.
    fn write_config(&self, grace_seconds: u64) -> PathBuf {
        let namespace = self.bus.topology.namespace().clone();
        let secret = self.dir.path().join("client-secret");
        std::fs::write(&secret, format!("{}\n", common::SECRET)).unwrap();
        let database_url = self.dir.path().join("database-url");
        let app_url = format!(
            "postgres://rollcall_app@127.0.0.1:{}/{}",
            support::admin_options().get_port(),
            self.db.name
        );
        std::fs::write(&database_url, &app_url).unwrap();
        let config = self.dir.path().join("entra-connector.yaml");
        std::fs::write(
            &config,
            format!(
                "nats:\n  url: {nats}\n  subject_prefix: {subjects}\n  stream_prefix: {streams}\n\
                 postgres:\n  url_file: {database_url}\n\
                 ops:\n  listen: 127.0.0.1:{ops_port}\n\
                 shutdown:\n  grace_period_seconds: {grace_seconds}\n\
                 apps:\n  msp:\n    client_id: {client}\n    client_secret_file: {secret}\n\
                 tenants:\n  - tenant: harborview\n    directory_id: {directory}\n    app: msp\n\
                 authority_url: {base}\ngraph_url: {base}\n\
                 start_delay_max_seconds: 0\n\
                 limits:\n  backoff_base_ms: 5\n",
                nats = nats_url(),
                subjects = namespace.subject_prefix(),
                streams = namespace.stream_prefix(),
                database_url = database_url.display(),
                ops_port = self.ops_port,
                client = common::CLIENT_ID,
                secret = secret.display(),
                directory = common::DIRECTORY,
                base = self.base,
            ),
        )
        .unwrap();
        config
    }

    fn spawn(&self, config: &Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_rollcall-entra-connector"))
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits until the double has responded to a request whose path contains `path` with
    /// `status`, which shows that the binary's sync is in progress.
    async fn wait_for_request(&self, child: &mut Child, path: &str, status: u16) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !self.double.requests().iter().any(|r| r.path.contains(path) && r.status == status) {
            if let Ok(Some(exit)) = child.try_wait() {
                fail_with_output(child, &format!("the connector exited with {exit}"));
            }
            if Instant::now() > deadline {
                fail_with_output(child, &format!("no {status} on {path} within 90 s"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_syncs_publishes_and_is_ready() {
    let setup = Setup::new().await;
    let bus = &setup.bus;
    let ops_port = setup.ops_port;
    let config = setup.write_config(10);
    let mut child = setup.spawn(&config);

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

    sigterm(&child);
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
    setup.bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_running_sync_finish() {
    let setup = Setup::new().await;
    // The groups listing waits two seconds for its Retry-After, so the sync is in
    // progress when SIGTERM arrives, and the grace period covers the rest.
    setup.double.push_fault(
        Some("/groups"),
        Fault::Throttle { status: 429, retry_after: Some("2".into()) },
    );
    let config = setup.write_config(20);
    let mut child = setup.spawn(&config);
    setup.wait_for_request(&mut child, "/groups", 429).await;
    sigterm(&child);
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "exit status {:?}: {logs}", output.status);

    let published = setup.bus.published().await;
    assert_eq!(published.reports.len(), 1, "{logs}");
    assert_eq!(published.reports[0].outcome, v1::SyncOutcome::Ok as i32);
    assert!(!published.chunks.is_empty());
    let store = setup.db.store().await;
    let tenant = rollcall_core::TenantId::new("harborview").unwrap();
    let state = load_state(&store.tenant(&tenant)).await.unwrap();
    assert!(state.is_some(), "the finished sync saved no delta state");
    setup.bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_abandons_sync_past_grace() {
    let setup = Setup::new().await;
    // The Retry-After outlasts the one-second grace period.
    setup.double.push_fault(
        Some("/groups"),
        Fault::Throttle { status: 429, retry_after: Some("30".into()) },
    );
    let config = setup.write_config(1);
    let mut child = setup.spawn(&config);
    setup.wait_for_request(&mut child, "/groups", 429).await;
    sigterm(&child);
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stdout);
    // A worker still running at the end of the grace period makes the exit unclean.
    assert!(!output.status.success(), "{logs}");
    assert!(logs.contains("sync harborview"), "the unfinished worker is not named: {logs}");

    let published = setup.bus.published().await;
    assert!(published.chunks.is_empty(), "an abandoned sync published chunks");
    assert!(published.reports.is_empty(), "an abandoned sync published a report");
    let store = setup.db.store().await;
    let tenant = rollcall_core::TenantId::new("harborview").unwrap();
    let state = load_state(&store.tenant(&tenant)).await.unwrap();
    assert!(state.is_none(), "an abandoned sync saved its delta state");
    setup.bus.delete().await;
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
