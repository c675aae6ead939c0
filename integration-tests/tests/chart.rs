//! The Helm chart's rendered configuration files are accepted by the services that read
//! them. `helm template` renders the chart with each values file in `charts/rollcall/ci/`.
//! Every `config.yaml` of a ConfigMap is then loaded with the same loader and types the
//! binaries use, after its Secret mount paths are pointed at files this test writes.
//!
//! Needs helm in `.tools/bin` (`scripts/install-chart-tools.sh`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rollcall_runtime::ConfigLoader;

/// Where the chart mounts Secrets in the pods.
const SECRET_ROOT: &str = "/var/run/secrets/rollcall/";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Renders the chart with one values file into its YAML documents.
fn render(values: &str) -> Vec<serde_yaml_ng::Value> {
    let root = workspace();
    let helm = root.join(".tools/bin/helm");
    assert!(
        helm.is_file(),
        "{} is missing; run scripts/install-chart-tools.sh first",
        helm.display()
    );
    let home = tempfile::tempdir().expect("temp dir");
    let output = Command::new(&helm)
        .args(["template", "rollcall", "charts/rollcall", "--namespace", "rollcall", "-f"])
        .arg(format!("charts/rollcall/ci/{values}"))
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .current_dir(&root)
        .output()
        .expect("helm runs");
    assert!(
        output.status.success(),
        "helm template with {values} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("helm prints UTF-8");
    text.split("\n---")
        .filter_map(|doc| serde_yaml_ng::from_str::<serde_yaml_ng::Value>(doc).ok())
        .filter(|doc| doc.is_mapping())
        .collect()
}

/// Collects the `config.yaml` of every component's ConfigMap, by component label.
fn configs(docs: &[serde_yaml_ng::Value]) -> BTreeMap<String, String> {
    docs.iter()
        .filter(|doc| doc["kind"].as_str() == Some("ConfigMap"))
        .filter_map(|doc| {
            let component =
                doc["metadata"]["labels"]["app.kubernetes.io/component"].as_str()?.to_owned();
            let config = doc["data"]["config.yaml"].as_str()?.to_owned();
            Some((component, config))
        })
        .collect()
}

/// Writes `config` with its Secret paths moved under `dir`, and a file at each path that
/// a `*_file` key or a path under the Secret root names, as the kubelet would mount it.
fn materialise(config: &str, dir: &Path) -> PathBuf {
    let secrets = dir.join("secrets");
    let moved = config.replace(SECRET_ROOT, &format!("{}/", secrets.display()));
    for line in moved.lines() {
        let Some((_, value)) = line.split_once(": ") else { continue };
        let value = value.trim().trim_matches('"');
        if let Some(relative) = value.strip_prefix(&format!("{}/", secrets.display())) {
            let path = secrets.join(relative);
            std::fs::create_dir_all(path.parent().expect("secret path has a parent"))
                .expect("create secret dir");
            std::fs::write(&path, "made-up-test-value\n").expect("write secret file");
        }
    }
    let path = dir.join("config.yaml");
    std::fs::write(&path, moved).expect("write config");
    path
}

fn load<T: serde::de::DeserializeOwned>(config: &str) -> T {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = materialise(config, dir.path());
    let no_env: [(&str, &str); 0] = [];
    match ConfigLoader::new().file(&path).env(no_env).load::<T>() {
        Ok(loaded) => loaded.config,
        Err(error) => panic!("the chart's configuration is rejected: {error}\n{config}"),
    }
}

fn check_values(values: &str, expected: &[&str]) {
    let docs = render(values);
    let configs = configs(&docs);
    let components: Vec<&str> = configs.keys().map(String::as_str).collect();
    assert_eq!(components, expected, "ConfigMaps rendered with {values}");
    for (component, config) in &configs {
        match component.as_str() {
            "engine" => {
                let engine: rollcall_engine::EngineConfig = load(config);
                assert!(engine.nats.url.starts_with("tls://"), "TLS is the default for NATS");
                assert_eq!(
                    engine.postgres.url.expose_str().map(str::trim),
                    Some("made-up-test-value"),
                    "the PostgreSQL URL comes from its Secret file"
                );
            }
            "file-connector" => {
                let connector: rollcall_file_connector::ConnectorConfig = load(config);
                connector.validate().expect("file connector values are in range");
            }
            "ldap-connector" => {
                let connector: rollcall_ldap_connector::config::ConnectorConfig = load(config);
                assert!(!connector.directories.is_empty());
                rollcall_ldap_connector::config::check_all(connector.directories)
                    .expect("every directory passes the connector's checks");
            }
            "entra-connector" => {
                let connector: rollcall_entra_connector::ConnectorConfig = load(config);
                assert!(connector.nats.is_some(), "the connector publishes on NATS");
                assert!(
                    connector.postgres.is_some(),
                    "the connector keeps its state in PostgreSQL"
                );
                assert!(!connector.tenants.is_empty());
            }
            "hr-webhook" => {
                let service: rollcall_hr_webhook::config::HrWebhookConfig = load(config);
                assert!(!service.tenants.is_empty());
            }
            other => panic!("no check for the configuration of component `{other}`"),
        }
    }
}

#[test]
fn connectors_values_configs_load() {
    check_values(
        "connectors-values.yaml",
        &["engine", "entra-connector", "file-connector", "hr-webhook", "ldap-connector"],
    );
}

#[test]
fn large_msp_values_load() {
    check_values("large-msp-values.yaml", &["engine", "ldap-connector"]);
}

#[test]
fn small_msp_values_load() {
    check_values("small-msp-values.yaml", &["engine", "file-connector"]);
}

#[test]
fn rendered_configs_hold_no_secrets() {
    for values in ["connectors-values.yaml", "large-msp-values.yaml", "small-msp-values.yaml"] {
        for (component, config) in configs(&render(values)) {
            for line in config.lines() {
                let key = line.trim_start().split(':').next().unwrap_or_default();
                let credential_url = line.contains("postgres://") || line.contains("redis://");
                let secret_key = matches!(key, "password" | "token" | "client_secret" | "url")
                    && !line.contains("nats://")
                    && !line.contains("tls://")
                    && !line.contains("ldaps://");
                assert!(
                    !credential_url && !secret_key,
                    "{component} with {values} has an inline secret: {line}"
                );
            }
        }
    }
}
