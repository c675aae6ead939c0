//! Every PromQL expression of the Grafana dashboards and the alert rules refers to series
//! the services really export. The test runs the engine and the file connector through
//! `make dev-up` on the example practice, an LDAP connector whose directory is down, and a
//! real Prometheus scraping the three on loopback. It also makes the events that some
//! series need: an unreadable export (a failed sync) and a message that cannot be decoded
//! (a dead letter). Then each expression is evaluated by Prometheus, and each series
//! selector in it must match at least one series.
//!
//! Needs `prometheus` (Debian's package, which `scripts/install-chart-tools.sh` installs
//! with promtool) and helm in `.tools/bin` for the rendered alert rules.

mod support;

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_integration_tests::repo;
use support::devup::{Instance, bin_dir, free_address};

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

fn start_prometheus(dir: &Path, listen: &str, targets: &[&str]) -> Process {
    let targets = targets.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: rollcall\n    static_configs:\n      - targets: [{targets}]\n"
    );
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
        .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
        .arg(format!("--web.listen-address={listen}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("prometheus.log")).unwrap())
        .spawn()
        .expect("prometheus starts; run scripts/install-chart-tools.sh to install it");
    wait_for_port(listen, "prometheus");
    Process(child)
}

/// Calls a Prometheus API path and returns the `data` of the response.
fn api(prometheus: &str, path: &str, params: &[(&str, &str)]) -> serde_json::Value {
    let url =
        reqwest::Url::parse_with_params(&format!("http://{prometheus}{path}"), params).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let body = runtime.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() });
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["status"], "success", "Prometheus rejected {path} {params:?}: {body}");
    answer["data"].clone()
}

fn series_count(prometheus: &str, selector: &str) -> usize {
    api(prometheus, "/api/v1/series", &[("match[]", selector)]).as_array().map_or(0, Vec::len)
}

/// Collects the queries of every dashboard panel, with `$tenant` set to the example tenant.
fn dashboard_queries() -> Vec<(String, String)> {
    let mut queries = Vec::new();
    let folder = repo().join("charts/rollcall/dashboards");
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let board: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap().replace("$tenant", TENANT);
                let name = format!("{} / {}", file_name(&path), panel["title"].as_str().unwrap());
                queries.push((name, expr));
            }
        }
    }
    queries
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Renders the chart's alert rules with helm and collects their expressions.
fn alert_queries() -> Vec<(String, String)> {
    let helm: PathBuf = repo().join(".tools/bin/helm");
    assert!(helm.is_file(), "{} is missing; run scripts/install-chart-tools.sh", helm.display());
    let home = tempfile::tempdir().unwrap();
    let output = Command::new(helm)
        .args([
            "template",
            "rollcall",
            "charts/rollcall",
            "--set",
            "monitoring.prometheusRule.enabled=true",
        ])
        .args(["--show-only", "templates/prometheusrule.yaml"])
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rule: serde_yaml_ng::Value = serde_yaml_ng::from_slice(&output.stdout).unwrap();
    let mut queries = Vec::new();
    for group in rule["spec"]["groups"].as_sequence().unwrap() {
        for alert in group["rules"].as_sequence().unwrap() {
            let name = alert["alert"].as_str().unwrap().to_owned();
            queries.push((name, alert["expr"].as_str().unwrap().to_owned()));
        }
    }
    queries
}

/// Extracts the series selectors of an expression: each `rollcall_*` metric name with its label
/// matchers, if any. Range brackets and functions around them are left out.
fn selectors(expr: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = expr;
    while let Some(start) = rest.find("rollcall_") {
        let tail = &rest[start..];
        let name_len =
            tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(tail.len());
        let (name, after) = tail.split_at(name_len);
        let matchers = if after.starts_with('{') {
            after.find('}').map_or("", |end| &after[..=end])
        } else {
            ""
        };
        found.insert(format!("{name}{matchers}"));
        rest = &after[matchers.len()..];
    }
    found
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

    let prometheus = free_address();
    let engine_ops = instance.setting("DEV_ENGINE_OPS").to_owned();
    let connector_ops = instance.setting("DEV_CONNECTOR_OPS").to_owned();
    let _prometheus =
        start_prometheus(work.path(), &prometheus, &[&engine_ops, &connector_ops, &ldap_ops]);

    let mut queries = dashboard_queries();
    queries.extend(alert_queries());
    assert!(queries.len() > 20, "dashboards and rules hold {} queries", queries.len());
    let all: BTreeSet<String> = queries.iter().flat_map(|(_, expr)| selectors(expr)).collect();

    // Wait until every selector has a series, or two minutes pass; then report the ones
    // that still have none.
    let started = Instant::now();
    let mut missing: Vec<String> = all.iter().cloned().collect();
    while !missing.is_empty() && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_secs(2));
        missing.retain(|selector| series_count(&prometheus, selector) == 0);
    }
    assert!(
        missing.is_empty(),
        "no series match these selectors of the dashboards or alert rules (a metric or label \
         the services do not export): {missing:#?}"
    );
    for (name, expr) in &queries {
        // Prometheus evaluates each expression without an error.
        api(&prometheus, "/api/v1/query", &[("query", expr)]);
        assert!(!selectors(expr).is_empty(), "{name} reads no Rollcall metric: {expr}");
    }
}
