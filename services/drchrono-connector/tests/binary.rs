//! The `rollcall-drchrono-connector` binary, started as a child process with a
//! configuration file: `once` syncs and publishes each tenant, prints a JSON line per
//! tenant, exits with failure when a sync failed, and never logs a secret.

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
mod double;
#[path = "../../store/tests/support/mod.rs"]
mod support;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bus::{TestBus, nats_url};
use common::Setup;
use double::{CLIENT_ID, CLIENT_SECRET, DrChronoDouble};

/// Bounds one `once` run on a busy machine; a run that takes longer is killed.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Writes the connector's configuration for the test's database, streams and double.
fn write_config(setup: &Setup, bus: &TestBus) -> PathBuf {
    let dir = setup.dir.path();
    let secret = dir.join("client-secret");
    std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).unwrap();

    let database_url = dir.join("database-url");
    let db = setup.db.as_ref().unwrap();
    let app_url = format!(
        "postgres://rollcall_app@127.0.0.1:{}/{}",
        support::admin_options().get_port(),
        db.name
    );
    std::fs::write(&database_url, app_url).unwrap();

    let namespace = bus.topology.namespace();
    let config = dir.join("drchrono-connector.yaml");
    let text = format!(
        "nats:\n  url: {nats}\n  subject_prefix: {subjects}\n  stream_prefix: {streams}\n\
         postgres:\n  url_file: {database_url}\n\
         api_url: {base}\ntoken_url: {base}/o/token/\nallow_plain_http_loopback: true\n\
         limits:\n  backoff_base_ms: 5\n  page_size: 3\n  min_request_interval_ms: 0\n\
         tenants:\n  - tenant: {tenant}\n    client_id: {CLIENT_ID}\n    client_secret_file: {secret}\n\
         \x20   refresh_token_file: {token}\n    time_zone: {zone}\n",
        nats = nats_url(),
        subjects = namespace.subject_prefix(),
        streams = namespace.stream_prefix(),
        database_url = database_url.display(),
        base = setup.base,
        tenant = common::TENANT,
        secret = secret.display(),
        token = setup.token_file.display(),
        zone = common::ZONE,
    );
    std::fs::write(&config, text).unwrap();
    config
}

/// The exit status, standard output and standard error of one run.
struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

/// Runs `once` and waits for it without blocking the double, which serves from this
/// test's runtime.
async fn run_once(config: &PathBuf) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollcall-drchrono-connector"))
        .arg("--config")
        .arg(config)
        .arg("once")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            child.kill().unwrap();
            panic!("`once` did not exit within {RUN_LIMIT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    Run { success: status.success(), stdout, stderr }
}

/// Returns the summary line of `once` among the JSON log lines on standard output.
fn summary(run: &Run) -> serde_json::Value {
    run.stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line.get("outcome").is_some() && line.get("tenant").is_some())
        .unwrap_or_else(|| panic!("no summary line in:\n{}", run.stdout))
}

fn assert_no_secrets(run: &Run, double: &DrChronoDouble) {
    let current = double.current_refresh_token();
    for secret in
        [CLIENT_SECRET, double::FIRST_REFRESH_TOKEN, current.as_str(), "synthetic-access-"]
    {
        assert!(!run.stdout.contains(secret), "stdout shows `{secret}`");
        assert!(!run.stderr.contains(secret), "the logs show `{secret}`");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_publishes_and_prints_summary() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let bus = TestBus::new().await;
    let config = write_config(&setup, &bus);
    let run = run_once(&config).await;
    assert!(run.success, "stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);

    let summary = summary(&run);
    assert_eq!(summary["tenant"], common::TENANT);
    assert_eq!(summary["outcome"], "ok");
    assert_eq!(summary["accounts"], 6);
    let published = bus.published().await;
    assert_eq!(published.reports.len(), 1);
    assert!(!published.chunks.is_empty());
    assert_eq!(setup.stored_refresh_token().await, Some(setup.double.current_refresh_token()));
    assert_no_secrets(&run, &setup.double);
    bus.delete().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_fails_on_revoked_token() {
    let setup = Setup::new(DrChronoDouble::example()).await;
    let bus = TestBus::new().await;
    setup.double.revoke_refresh_token();
    let config = write_config(&setup, &bus);
    let run = run_once(&config).await;
    assert!(!run.success, "stdout:\n{}", run.stdout);

    let summary = summary(&run);
    assert_eq!(summary["outcome"], "failed");
    let problem = summary["problems"][0].as_str().unwrap();
    assert!(problem.contains("authorize Rollcall again"), "{problem}");
    let published = bus.published().await;
    assert_eq!(published.reports.len(), 1);
    assert!(published.chunks.is_empty());
    assert_no_secrets(&run, &setup.double);
    bus.delete().await;
}
