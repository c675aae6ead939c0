//! A Prometheus of the test's own on loopback, the chart's dashboards and alert rules, and
//! the queries the tests evaluate with them.

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rollcall_integration_tests::repo;

/// Prometheus, killed by its pid when dropped.
pub struct Prometheus {
    pub address: String,
    child: Child,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Prometheus scraping `targets` every second, with `rules` (a rules file's text)
/// evaluated every second when given.
pub fn start(dir: &Path, listen: &str, targets: &[&str], rules: Option<&str>) -> Prometheus {
    let targets = targets.iter().map(|t| format!("'{t}'")).collect::<Vec<_>>().join(", ");
    let rule_files = match rules {
        Some(text) => {
            std::fs::write(dir.join("rules.yml"), text).unwrap();
            format!("rule_files: ['{}']\n", dir.join("rules.yml").display())
        }
        None => String::new(),
    };
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n{rule_files}\
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
    let started = Instant::now();
    while TcpStream::connect(listen).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "prometheus did not listen on {listen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Prometheus { address: listen.to_owned(), child }
}

impl Prometheus {
    /// Calls an API path and returns the `data` of the response.
    pub fn api(&self, path: &str, params: &[(&str, &str)]) -> serde_json::Value {
        let url =
            reqwest::Url::parse_with_params(&format!("http://{}{path}", self.address), params)
                .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let body =
            runtime.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() });
        let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["status"], "success", "Prometheus rejected {path} {params:?}: {body}");
        answer["data"].clone()
    }

    pub fn series_count(&self, selector: &str) -> usize {
        self.api("/api/v1/series", &[("match[]", selector)]).as_array().map_or(0, Vec::len)
    }

    /// Evaluates an instant query and returns its result vector.
    pub fn query(&self, expr: &str) -> Vec<serde_json::Value> {
        self.api("/api/v1/query", &[("query", expr)])["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// Collects the queries of every dashboard panel, with `$tenant` set to `tenant`, named
/// `<file> / <panel title>`.
pub fn dashboard_queries(tenant: &str) -> Vec<(String, String)> {
    let mut queries = Vec::new();
    let folder = repo().join("charts/rollcall/dashboards");
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let board: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for panel in board["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                let expr = target["expr"].as_str().unwrap().replace("$tenant", tenant);
                let name = format!("{file} / {}", panel["title"].as_str().unwrap());
                queries.push((name, expr));
            }
        }
    }
    queries
}

/// Renders the chart's PrometheusRule with helm and returns its `spec`: the rule groups
/// in the form of a Prometheus rules file.
pub fn rendered_rules() -> serde_yaml_ng::Value {
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
    rule["spec"].clone()
}

/// The alert rules' names and expressions.
pub fn alert_queries() -> Vec<(String, String)> {
    let spec = rendered_rules();
    let mut queries = Vec::new();
    for group in spec["groups"].as_sequence().unwrap() {
        for alert in group["rules"].as_sequence().unwrap() {
            let name = alert["alert"].as_str().unwrap().to_owned();
            queries.push((name, alert["expr"].as_str().unwrap().to_owned()));
        }
    }
    queries
}

/// Extracts the series selectors of an expression: each `rollcall_*` metric name with its label
/// matchers, if any. Range brackets and functions around them are left out.
pub fn selectors(expr: &str) -> BTreeSet<String> {
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

/// Extracts the labels an expression groups by: the names inside every `by (...)` and
/// `without (...)` clause.
pub fn grouping_labels(expr: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for keyword in ["by", "without"] {
        let mut rest = expr;
        while let Some(start) = rest.find(keyword) {
            let before = rest[..start].chars().next_back();
            let after = rest[start + keyword.len()..].trim_start();
            rest = &rest[start + keyword.len()..];
            // A whole word followed by a list, not part of a name such as `standby`.
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let Some(list) = after.strip_prefix('(') else { continue };
            let Some(end) = list.find(')') else { continue };
            found.extend(
                list[..end].split(',').map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned),
            );
        }
    }
    found
}

/// Returns `selector` narrowed to series that carry `label`.
pub fn with_label(selector: &str, label: &str) -> String {
    match selector.strip_suffix('}') {
        Some(open) if open.ends_with('{') => format!("{open}{label}!=\"\"}}"),
        Some(open) => format!("{open},{label}!=\"\"}}"),
        None => format!("{selector}{{{label}!=\"\"}}"),
    }
}
