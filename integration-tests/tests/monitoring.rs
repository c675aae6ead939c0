//! Every PromQL expression of the Grafana dashboards and the alert rules refers to series
//! the services really export. The test runs the engine and the file connector through
//! `make dev-up` on the example practice, an LDAP connector whose directory is down, and a
//! real Prometheus scraping the three on loopback. It also makes the events that some
//! series need: an unreadable export (a failed sync), a message that cannot be decoded
//! (a dead letter) and an access-review campaign (the campaign gauges). Then each expression is evaluated by Prometheus, and each series
//! selector in it must match at least one series.
//!
//! Needs `prometheus` (Debian's package, which `scripts/install-chart-tools.sh` installs
//! with promtool) and helm in `.tools/bin` for the rendered alert rules.

mod support;

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::devup::{Instance, bin_dir, free_address};
use support::prometheus::{
    alert_queries, dashboard_queries, grouping_labels, selectors, with_label,
};

/// The tenant the example practice's findings belong to; dashboards select it for `$tenant`.
const TENANT: &str = "harborview";

/// A child process of the test, killed by its pid when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(address: &str, what: &str) {
    let started = Instant::now();
    while TcpStream::connect(address).is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "{what} did not listen on {address}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts the LDAP connector against a loopback port where no directory listens, so each
/// sync fails at the connect stage and reports it.
fn start_failing_ldap_connector(instance: &Instance, dir: &Path, ops: &str) -> Process {
    // A port that was free a moment ago; nothing listens there.
    let closed = free_address();
    std::fs::write(dir.join("ldap-password"), "made-up-test-password\n").unwrap();
    let config = format!(
        "nats:\n  url: nats://127.0.0.1:4222\n  subject_prefix: {subject}\n  stream_prefix: {stream}\n\
         ops:\n  listen: {ops}\n\
         directories:\n  - tenant: {TENANT}\n    source: \"ldap:lab\"\n    url: ldap://{closed}\n    tls: insecure\n\
         \x20   bind_dn: cn=rollcall,dc=lab,dc=example\n    password_file: {password}\n    base_dn: dc=lab,dc=example\n\
         \x20   interval_seconds: 2\n    jitter_seconds: 0\n    connect_timeout_seconds: 1\n",
        subject = instance.setting("DEV_SUBJECT_PREFIX"),
        stream = instance.setting("DEV_STREAM_PREFIX"),
        password = dir.join("ldap-password").display(),
    );
    std::fs::write(dir.join("ldap-connector.yaml"), config).unwrap();
    let child = Command::new(bin_dir().join("rollcall-ldap-connector"))
        .arg("--config")
        .arg(dir.join("ldap-connector.yaml"))
        .env_clear()
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("ldap-connector.log")).unwrap())
        .spawn()
        .expect("rollcall-ldap-connector starts; `cargo test --workspace` builds it");
    Process(child)
}

/// Publishes bytes that are no snapshot chunk on the example tenant's snapshot subject,
/// which the engine dead-letters.
fn publish_poison(instance: &Instance) {
    let subject =
        format!("{}.{TENANT}.source.entra.snapshot", instance.setting("DEV_SUBJECT_PREFIX"));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let client = async_nats::connect("nats://127.0.0.1:4222").await.unwrap();
        let jetstream = async_nats::jetstream::new(client);
        let ack = jetstream.publish(subject, "not a protobuf chunk".into()).await.unwrap();
        ack.await.expect("JetStream stores the poison message");
    });
}

/// Applies the example's `tenant.yaml` with a quarterly campaign added, from a copy of the
/// drop folder so the file connector does not see the change. The engine's campaign pass
/// launches it once the sources are stored.
fn define_campaign(instance: &Instance, dir: &Path) {
    let copy = dir.join("tenant-with-campaign");
    let status = Command::new("cp")
        .arg("-r")
        .arg(instance.dev_dir().join("drop").join(TENANT))
        .arg(&copy)
        .status()
        .unwrap();
    assert!(status.success(), "copying the drop folder failed");
    let mut tenant_yaml = std::fs::read_to_string(copy.join("tenant.yaml")).unwrap();
    tenant_yaml.push_str(
        "\ncampaigns:\n  - id: quarterly-all\n    name: Quarterly access review\n    reviewers:\n      \
         fallback: E1003\n    max_source_age: 30d\n",
    );
    std::fs::write(copy.join("tenant.yaml"), tenant_yaml).unwrap();
    let output = Command::new(bin_dir().join("rollcall-engine"))
        .arg("--config")
        .arg(instance.dev_dir().join("engine.yaml"))
        .arg("tenant")
        .arg("apply")
        .arg(&copy)
        .env_clear()
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tenant apply with a campaign failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn grouping_labels_parse_by_and_without() {
    let found = grouping_labels(
        r#"histogram_quantile(0.99, sum by (le, tenant) (rate(rollcall_x_bucket[5m]))) / sum without(source) (rollcall_y{standby="1"}) + count by(stage)(rollcall_z)"#,
    );
    let expected: BTreeSet<String> =
        ["le", "tenant", "source", "stage"].into_iter().map(str::to_owned).collect();
    assert_eq!(found, expected);
    assert_eq!(with_label("rollcall_y", "tenant"), r#"rollcall_y{tenant!=""}"#);
    assert_eq!(
        with_label(r#"rollcall_y{kind="a"}"#, "tenant"),
        r#"rollcall_y{kind="a",tenant!=""}"#
    );
}

#[test]
fn selectors_parse_names_and_matchers() {
    let found = selectors(
        r#"time() - max by (tenant) (rollcall_engine_last_sync_timestamp_seconds{outcome="ok"}) > 3 and rate(rollcall_engine_evaluation_seconds_bucket[5m])"#,
    );
    let expected: BTreeSet<String> = [
        r#"rollcall_engine_last_sync_timestamp_seconds{outcome="ok"}"#,
        "rollcall_engine_evaluation_seconds_bucket",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(found, expected);
}

#[test]
fn dashboards_and_alerts_query_exported_series() {
    let instance = Instance::new();
    let up = instance.script("dev-up.sh");
    assert!(
        up.status.success(),
        "dev-up failed:\n{}\n{}",
        String::from_utf8_lossy(&up.stdout),
        String::from_utf8_lossy(&up.stderr)
    );
    let work = tempfile::tempdir().unwrap();
    let ldap_ops = free_address();
    let _ldap = start_failing_ldap_connector(&instance, work.path(), &ldap_ops);
    wait_for_port(&ldap_ops, "the LDAP connector's ops server");

    // An export that cannot be read makes a failed sync and a read error.
    let broken = instance.dev_dir().join("drop").join(TENANT).join("entra").join("zz-broken.json");
    std::fs::write(
        &broken,
        b"{\"@odata.context\": \"https://graph.microsoft.com/v1.0/$metadata#users\", \"value\": [",
    )
    .unwrap();
    publish_poison(&instance);
    define_campaign(&instance, work.path());

    let engine_ops = instance.setting("DEV_ENGINE_OPS").to_owned();
    let connector_ops = instance.setting("DEV_CONNECTOR_OPS").to_owned();
    let prometheus = support::prometheus::start(
        work.path(),
        &free_address(),
        &[&engine_ops, &connector_ops, &ldap_ops],
        None,
    );

    let mut queries = dashboard_queries(TENANT);
    queries.extend(alert_queries());
    assert!(queries.len() > 20, "dashboards and rules hold {} queries", queries.len());
    let all: BTreeSet<String> = queries.iter().flat_map(|(_, expr)| selectors(expr)).collect();

    // Wait until every selector has a series, or two minutes pass; then report the ones
    // that still have none.
    let started = Instant::now();
    let mut missing: Vec<String> = all.iter().cloned().collect();
    while !missing.is_empty() && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_secs(2));
        missing.retain(|selector| prometheus.series_count(selector) == 0);
    }
    assert!(
        missing.is_empty(),
        "no series match these selectors of the dashboards or alert rules (a metric or label \
         the services do not export): {missing:#?}"
    );
    for (name, expr) in &queries {
        // Prometheus evaluates each expression without an error.
        prometheus.api("/api/v1/query", &[("query", expr)]);
        assert!(!selectors(expr).is_empty(), "{name} reads no Rollcall metric: {expr}");
        // Every label the expression groups by is on the series of one of its metrics:
        // grouping by a label that no series carries gives one group with an empty value, which
        // a panel shows without complaint.
        for label in grouping_labels(expr) {
            let carried = selectors(expr)
                .iter()
                .any(|selector| prometheus.series_count(&with_label(selector, &label)) > 0);
            assert!(carried, "{name} groups by `{label}`, which none of its series carry: {expr}");
        }
    }
}
