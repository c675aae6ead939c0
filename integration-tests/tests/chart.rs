//! The Helm chart's rendered configuration files are accepted by the services that read
//! them. `helm template` renders the chart with each values file in `charts/rollcall/ci/`.
//! Every `config.yaml` of a ConfigMap is then loaded with the same loader and types the
//! binaries use, after its Secret mount paths are pointed at files this test writes.
//!
//! The rendered manifests are checked as well: every Deployment's security context and
//! probes, Secret references in place of secret values, and the ports each NetworkPolicy
//! opens.
//!
//! Needs helm in `.tools/bin` (`scripts/install-chart-tools.sh`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rollcall_runtime::ConfigLoader;
use serde_yaml_ng::Value;

/// Where the chart mounts Secrets in the pods.
const SECRET_ROOT: &str = "/var/run/secrets/rollcall/";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The text `materialise` writes into each mounted Secret file.
const SECRET_FILE_TEXT: &str = "made-up-test-value";

/// Renders the chart with one values file into its YAML documents.
fn render(values: &str) -> Vec<Value> {
    render_with(values, &[])
}

/// Renders the chart with one values file and extra `helm template` arguments.
fn render_with(values: &str, extra: &[&str]) -> Vec<Value> {
    let args = ["template", "rollcall", "charts/rollcall", "--namespace", "rollcall"];
    let text = helm(&args, values, extra);
    text.split("\n---")
        .filter_map(|doc| serde_yaml_ng::from_str::<Value>(doc).ok())
        .filter(|doc| doc.is_mapping())
        .collect()
}

/// Runs helm with `args`, the values file `values` of `charts/rollcall/ci/` and `extra`,
/// with its state in a throwaway folder, and returns what it printed.
fn helm(args: &[&str], values: &str, extra: &[&str]) -> String {
    let root = workspace();
    let helm = root.join(".tools/bin/helm");
    assert!(
        helm.is_file(),
        "{} is missing; run scripts/install-chart-tools.sh first",
        helm.display()
    );
    let home = tempfile::tempdir().expect("temp dir");
    let output = Command::new(&helm)
        .args(args)
        .arg("-f")
        .arg(format!("charts/rollcall/ci/{values}"))
        .args(extra)
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .current_dir(&root)
        .output()
        .expect("helm runs");
    assert!(
        output.status.success(),
        "helm {} with {values} failed: {}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("helm prints UTF-8")
}

/// Collects the `config.yaml` of every component's ConfigMap, by component label.
fn configs(docs: &[Value]) -> BTreeMap<String, String> {
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
/// A `.pem` file gets a made-up certificate and key, because a client identity is parsed
/// when the configuration is checked.
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
            let contents = if relative.ends_with(".pem") {
                let identity = rcgen::generate_simple_self_signed(vec!["rollcall.test".into()])
                    .expect("generate a certificate");
                format!("{}{}", identity.cert.pem(), identity.signing_key.serialize_pem())
            } else {
                format!("{SECRET_FILE_TEXT}\n")
            };
            std::fs::write(&path, contents).expect("write secret file");
        }
    }
    let path = dir.join("config.yaml");
    std::fs::write(&path, moved).expect("write config");
    path
}

fn load<T: serde::de::DeserializeOwned>(config: &str) -> T {
    let dir = tempfile::tempdir().expect("temp dir");
    load_in(config, dir.path())
}

/// Loads `config` with its Secret files written under `dir`, for a service that reads
/// some of them again after start (the HR vendors' API credentials, read on each use).
fn load_in<T: serde::de::DeserializeOwned>(config: &str, dir: &Path) -> T {
    let path = materialise(config, dir);
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
            "drchrono-connector" => {
                let connector: rollcall_drchrono_connector::ConnectorConfig = load(config);
                connector
                    .check()
                    .expect("the DrChrono connector's configuration passes its checks");
                assert!(connector.nats.url.starts_with("tls://"), "TLS is the default for NATS");
                assert!(!connector.allow_plain_http_loopback);
                assert_eq!(connector.tenants.len(), 1);
                assert_eq!(
                    connector.tenants[0].client_secret.expose_str().map(str::trim),
                    Some("made-up-test-value"),
                    "the client secret comes from its Secret file"
                );
            }
            "hr-webhook" => {
                let secrets = tempfile::tempdir().expect("temp dir");
                let service: rollcall_hr_webhook::config::HrWebhookConfig =
                    load_in(config, secrets.path());
                assert!(!service.tenants.is_empty());
                // The checks the service runs on each vendor section at start.
                for (tenant, settings) in &service.tenants {
                    for (vendor, section) in &settings.vendors {
                        if let Err(error) = section.connect(tenant, vendor) {
                            panic!("the chart's vendor section is rejected: {error}");
                        }
                    }
                }
            }
            "reviews-web" => {
                let app: rollcall_reviews_web::ReviewsWebConfig = load(config);
                check_reviews_web(&app);
            }
            other => panic!("no check for the configuration of component `{other}`"),
        }
    }
}

/// Runs the review app's start-up checks that need no connection: the redirect URI, the
/// tenants' sign-in settings and the OIDC client.
fn check_reviews_web(app: &rollcall_reviews_web::ReviewsWebConfig) {
    let redirect = match rollcall_reviews_web::service::redirect_uri(&app.http.public_url) {
        Ok(redirect) => redirect,
        Err(error) => panic!("the chart's http.public_url is rejected: {error}"),
    };
    assert_eq!(redirect, "https://reviews.msp.example/auth/callback");
    match rollcall_reviews_web::state::sign_in_tenants(app) {
        Ok(tenants) => assert!(!tenants.is_empty(), "no tenant may sign in"),
        Err(error) => panic!("the chart's tenants are rejected: {error}"),
    }
    let secret = app.oidc.client_secret.expose_str().map(str::trim);
    assert_eq!(secret, Some(SECRET_FILE_TEXT), "the client secret comes from its Secret file");
    let client = rollcall_reviews_web::auth::oidc::OidcClient::new(
        &app.oidc.client_id,
        secret.unwrap_or_default(),
        &redirect,
        Duration::from_secs(app.oidc.timeout_seconds),
    );
    assert!(client.is_ok(), "the OIDC client settings are rejected");
    assert_eq!(
        app.redis.url.expose_str().map(str::trim),
        Some(SECRET_FILE_TEXT),
        "the Redis URL comes from its Secret file"
    );
    assert_eq!(
        app.postgres.url.expose_str().map(str::trim),
        Some(SECRET_FILE_TEXT),
        "the PostgreSQL URL comes from its Secret file"
    );
    assert!(!app.redis.insecure, "plain-text Redis is off by default");
}

#[test]
fn connectors_values_configs_load() {
    check_values(
        "connectors-values.yaml",
        &[
            "drchrono-connector",
            "engine",
            "entra-connector",
            "file-connector",
            "hr-webhook",
            "ldap-connector",
            "reviews-web",
        ],
    );
}

#[test]
fn large_msp_values_load() {
    check_values(
        "large-msp-values.yaml",
        &[
            "engine",
            "entra-connector",
            "file-connector",
            "hr-webhook",
            "ldap-connector",
            "reviews-web",
        ],
    );
}

/// The engine's pass intervals and delivery attempts, which the runbooks tell MSP
/// engineers to tune, reach the engine's configuration from the chart's values.
#[test]
fn engine_pass_settings_reach_config() {
    let extra = ["--set=engine.campaignScanSeconds=120", "--set=engine.maxDeliver=7"];
    let configs = configs(&render_with("large-msp-values.yaml", &extra));
    let engine: rollcall_engine::EngineConfig = load(&configs["engine"]);
    assert_eq!(engine.engine.campaign_scan_seconds, 120);
    assert_eq!(engine.engine.max_deliver, 7);
}

#[test]
fn small_msp_values_load() {
    check_values(
        "small-msp-values.yaml",
        &["engine", "entra-connector", "file-connector", "reviews-web"],
    );
}

#[test]
fn rendered_configs_hold_no_secrets() {
    for values in ["connectors-values.yaml", "large-msp-values.yaml", "small-msp-values.yaml"] {
        for (component, config) in configs(&render(values)) {
            for line in config.lines() {
                let key = line.trim_start().split(':').next().unwrap_or_default();
                let credential_url = ["postgres://", "postgresql://", "redis://", "rediss://"]
                    .iter()
                    .any(|scheme| line.contains(scheme));
                let secret_key = matches!(
                    key,
                    "password" | "token" | "client_secret" | "url" | "secret" | "client_identity"
                ) && !line.contains("nats://")
                    && !line.contains("tls://")
                    && !line.contains("ldaps://");
                let secret_text = line.contains("whsec_") || line.contains("-----BEGIN");
                assert!(
                    !credential_url && !secret_key && !secret_text,
                    "{component} with {values} has an inline secret: {line}"
                );
            }
        }
    }
}

/// The CI values files that render every component the tests below look at.
const VALUES_FILES: [&str; 3] =
    ["connectors-values.yaml", "large-msp-values.yaml", "small-msp-values.yaml"];

fn component(doc: &Value) -> Option<&str> {
    doc["metadata"]["labels"]["app.kubernetes.io/component"].as_str()
}

/// Returns the one object of `kind` that belongs to component `name`.
fn object<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let found: Vec<&Value> = docs
        .iter()
        .filter(|doc| doc["kind"].as_str() == Some(kind) && component(doc) == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "{kind} objects of component {name}");
    found[0]
}

/// Returns each `(protocol, port)` a list of NetworkPolicy rules opens. A rule without
/// ports opens every port, so it fails the test.
fn rule_ports(rules: &Value, policy: &str) -> BTreeSet<(String, u64)> {
    let mut opened = BTreeSet::new();
    for rule in rules.as_sequence().expect("rules are a list") {
        let ports = rule["ports"].as_sequence().filter(|ports| !ports.is_empty());
        let Some(ports) = ports else {
            panic!("{policy} has a rule that opens every port: {rule:?}");
        };
        let peers = rule.get("to").or_else(|| rule.get("from"));
        let named = peers.and_then(Value::as_sequence).is_some_and(|peers| !peers.is_empty());
        assert!(named, "{policy} has a rule that allows every peer: {rule:?}");
        for port in ports {
            let protocol = port["protocol"].as_str().unwrap_or("TCP").to_owned();
            opened.insert((protocol, port["port"].as_u64().expect("numeric port")));
        }
    }
    opened
}

fn tcp(ports: &[u64]) -> BTreeSet<(String, u64)> {
    ports.iter().map(|port| ("TCP".to_owned(), *port)).collect()
}

/// Collects the peers of the egress rules that open port 443.
fn https_peers(policy: &Value) -> Vec<Value> {
    policy["spec"]["egress"]
        .as_sequence()
        .expect("egress rules")
        .iter()
        .filter(|rule| {
            rule["ports"]
                .as_sequence()
                .is_some_and(|ports| ports.iter().any(|p| p["port"].as_u64() == Some(443)))
        })
        .flat_map(|rule| rule["to"].as_sequence().cloned().unwrap_or_default())
        .collect()
}

#[test]
fn reviews_deployment_locked_down() {
    for values in ["connectors-values.yaml", "small-msp-values.yaml"] {
        let docs = render(values);
        let deployment = object(&docs, "Deployment", "reviews-web");
        let pod = &deployment["spec"]["template"]["spec"];
        assert_eq!(pod["automountServiceAccountToken"].as_bool(), Some(false), "{values}");
        assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true), "{values}");
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"].as_str(),
            Some("RuntimeDefault"),
            "{values}"
        );
        let containers = pod["containers"].as_sequence().expect("containers");
        assert_eq!(containers.len(), 1, "{values}");
        let container = &containers[0];
        let image = container["image"].as_str().unwrap_or_default();
        assert!(image.contains("/rollcall-reviews:"), "{values}: image {image}");
        let security = &container["securityContext"];
        assert_eq!(security["readOnlyRootFilesystem"].as_bool(), Some(true), "{values}");
        assert_eq!(security["allowPrivilegeEscalation"].as_bool(), Some(false), "{values}");
        assert_eq!(security["runAsNonRoot"].as_bool(), Some(true), "{values}");
        let dropped: Vec<&str> = security["capabilities"]["drop"]
            .as_sequence()
            .map(|drop| drop.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert_eq!(dropped, ["ALL"], "{values}");
        assert!(security["capabilities"].get("add").is_none(), "{values}");
        for (probe, path) in [
            ("startupProbe", "/healthz"),
            ("livenessProbe", "/healthz"),
            ("readinessProbe", "/readyz"),
        ] {
            assert_eq!(
                container[probe]["httpGet"]["path"].as_str(),
                Some(path),
                "{values}: {probe}"
            );
            assert_eq!(container[probe]["httpGet"]["port"].as_str(), Some("ops"), "{values}");
        }
        assert!(container["resources"]["limits"]["memory"].is_string(), "{values}");
        assert!(container["resources"]["requests"]["cpu"].is_string(), "{values}");
        let pdb = object(&docs, "PodDisruptionBudget", "reviews-web");
        assert_eq!(pdb["spec"]["minAvailable"].as_u64(), Some(1), "{values}");
    }
}

#[test]
fn secret_files_are_mounted_secrets() {
    for values in VALUES_FILES {
        let docs = render(values);
        for (name, config) in configs(&docs) {
            let pod = &object(&docs, "Deployment", &name)["spec"]["template"]["spec"];
            let secret_volumes: BTreeSet<&str> = pod["volumes"]
                .as_sequence()
                .expect("volumes")
                .iter()
                .filter(|volume| volume.get("secret").is_some())
                .filter_map(|volume| volume["name"].as_str())
                .collect();
            let secret_dirs: Vec<String> = pod["containers"][0]["volumeMounts"]
                .as_sequence()
                .expect("volume mounts")
                .iter()
                .filter(|mount| mount["name"].as_str().is_some_and(|n| secret_volumes.contains(n)))
                .filter_map(|mount| Some(format!("{}/", mount["mountPath"].as_str()?)))
                .collect();
            for line in config.lines() {
                let Some((key, value)) = line.trim_start().split_once(": ") else { continue };
                if !key.ends_with("_file") {
                    continue;
                }
                let path = value.trim().trim_matches(|c| c == '"' || c == '\'');
                assert!(
                    secret_dirs.iter().any(|dir| path.starts_with(dir.as_str())),
                    "{name} with {values}: {key} `{path}` is not in a mounted Secret ({secret_dirs:?})"
                );
            }
        }
    }
}

#[test]
fn reviews_network_policy_opens_listed_ports() {
    for values in ["connectors-values.yaml", "small-msp-values.yaml"] {
        let docs = render(values);
        let policy = object(&docs, "NetworkPolicy", "reviews-web");
        let label = format!("the reviews-web NetworkPolicy with {values}");
        assert_eq!(
            rule_ports(&policy["spec"]["ingress"], &label),
            tcp(&[8080, 9090]),
            "{label}: ingress"
        );
        let mut egress = tcp(&[53, 443, 5432, 6379]);
        egress.insert(("UDP".to_owned(), 53));
        assert_eq!(rule_ports(&policy["spec"]["egress"], &label), egress, "{label}: egress");
    }

    // With issuerEgress.cidrs, port 443 reaches those blocks only.
    let docs = render("connectors-values.yaml");
    let blocks: Vec<String> = https_peers(object(&docs, "NetworkPolicy", "reviews-web"))
        .iter()
        .map(|peer| peer["ipBlock"]["cidr"].as_str().unwrap_or("not an ipBlock").to_owned())
        .collect();
    assert_eq!(blocks, ["20.190.128.0/18", "40.126.0.0/18"]);

    // Without them, every address outside the cluster's ranges.
    let docs = render("small-msp-values.yaml");
    let peers = https_peers(object(&docs, "NetworkPolicy", "reviews-web"));
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0]["ipBlock"]["cidr"].as_str(), Some("0.0.0.0/0"));
    let except = peers[0]["ipBlock"]["except"].as_sequence().map(Vec::len);
    assert_eq!(except, Some(3), "the private ranges are excluded");
}

#[test]
fn hr_webhook_policy_opens_vendor_https() {
    let docs = render("connectors-values.yaml");
    let label = "the hr-webhook NetworkPolicy with vendors";
    let policy = object(&docs, "NetworkPolicy", "hr-webhook");
    assert_eq!(rule_ports(&policy["spec"]["ingress"], label), tcp(&[8080, 9090]), "{label}");
    let mut egress = tcp(&[53, 443, 4222, 5432]);
    egress.insert(("UDP".to_owned(), 53));
    assert_eq!(rule_ports(&policy["spec"]["egress"], label), egress, "{label}");

    // Without vendors, no rule opens port 443.
    let docs = render_with("small-msp-values.yaml", &["--set", "hrWebhook.enabled=true"]);
    let label = "the hr-webhook NetworkPolicy without vendors";
    let policy = object(&docs, "NetworkPolicy", "hr-webhook");
    let mut egress = tcp(&[53, 4222, 5432]);
    egress.insert(("UDP".to_owned(), 53));
    assert_eq!(rule_ports(&policy["spec"]["egress"], label), egress, "{label}");
}

#[test]
fn hr_vendor_values_reach_service() {
    let configs = configs(&render("connectors-values.yaml"));
    let config = configs.get("hr-webhook").expect("the HR webhook's ConfigMap");
    let service: rollcall_hr_webhook::config::HrWebhookConfig = load(config);
    let vendors: Vec<(&str, &str)> = service
        .tenants
        .iter()
        .flat_map(|(tenant, settings)| {
            settings.vendors.keys().map(move |vendor| (tenant.as_str(), vendor.as_str()))
        })
        .collect();
    assert_eq!(
        vendors,
        [
            ("harborview", "hibob"),
            ("lakeside-family-medicine", "adp-workforce-now"),
            ("lakeside-family-medicine", "paylocity"),
        ]
    );
    let hibob = &service.tenants["harborview"].vendors["hibob"];
    assert_eq!(
        hibob.signing_keys[0].secret.expose_str().map(str::trim),
        Some(SECRET_FILE_TEXT),
        "the signing key comes from its Secret file"
    );
    // connectors-values.yaml sets these apart from the defaults.
    assert_eq!(service.vendor_sync.queue_interval_seconds, 120);
    assert_eq!(service.vendor_sync.retry_first_wait_seconds, 60);
    assert_eq!(service.vendor_sync.poll_interval_seconds, 86400);
}

#[test]
fn service_monitor_scrapes_reviews() {
    let docs = render("small-msp-values.yaml");
    let monitor = docs
        .iter()
        .find(|doc| doc["kind"].as_str() == Some("ServiceMonitor"))
        .expect("small-msp-values.yaml enables the ServiceMonitor");
    let endpoints = monitor["spec"]["endpoints"].as_sequence().expect("endpoints");
    assert!(
        endpoints.iter().any(|endpoint| endpoint["port"].as_str() == Some("ops")
            && endpoint["path"].as_str() == Some("/metrics")),
        "the ServiceMonitor scrapes /metrics on the ops port"
    );

    let service = object(&docs, "Service", "reviews-web");
    let selector = monitor["spec"]["selector"]["matchLabels"].as_mapping().expect("matchLabels");
    for (key, value) in selector {
        assert_eq!(
            &service["metadata"]["labels"][key.as_str().expect("label name")],
            value,
            "the reviews-web Service's label {key:?}"
        );
    }
    let ports = service["spec"]["ports"].as_sequence().expect("Service ports");
    let ops = ports.iter().find(|port| port["name"].as_str() == Some("ops"));
    assert_eq!(ops.and_then(|port| port["port"].as_u64()), Some(9090));
}

/// Collects every `image` string of the rendered manifests.
fn images(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                match (key.as_str(), child.as_str()) {
                    (Some("image"), Some(image)) => {
                        out.insert(image.to_owned());
                    }
                    _ => images(child, out),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| images(item, out)),
        _ => {}
    }
}

/// One `target` block of `docker/docker-bake.hcl`: its name, `PACKAGE`, `BINARY` and tags.
#[derive(Debug)]
struct BakeTarget {
    name: String,
    package: String,
    binary: String,
    tags: String,
}

/// Reads the bake file's targets and its default group. The file is plain enough that a
/// line reader does: one `target "name" {` per block, `args` and `tags` on one line each.
fn bake_targets(text: &str) -> (Vec<BakeTarget>, BTreeSet<String>) {
    let quoted = |line: &str, key: &str| -> Option<String> {
        let start = line.find(key)? + key.len();
        let rest = line[start..].trim_start().strip_prefix('=')?.trim_start().strip_prefix('"')?;
        Some(rest[..rest.find('"')?].to_owned())
    };
    let mut targets = Vec::new();
    let mut current: Option<BakeTarget> = None;
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("target \"") {
            let name = rest.split('"').next().unwrap_or_default().to_owned();
            current = Some(BakeTarget {
                name,
                package: String::new(),
                binary: String::new(),
                tags: String::new(),
            });
        } else if let Some(target) = current.as_mut() {
            if line.starts_with("args") {
                target.package = quoted(line, "PACKAGE").unwrap_or_default();
                target.binary = quoted(line, "BINARY").unwrap_or_default();
            } else if line.starts_with("tags") {
                target.tags = line.to_owned();
            } else if line == "}" {
                targets.extend(current.take());
            }
        }
    }
    let group = text
        .split("group \"default\"")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .unwrap_or_default();
    let default = group.split('"').skip(1).step_by(2).map(str::to_owned).collect();
    (targets, default)
}

/// The `(package, binary)` pairs of the workspace, from `cargo metadata`.
fn workspace_binaries() -> BTreeSet<(String, String)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let mut binaries = BTreeSet::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().expect("package name");
        for target in package["targets"].as_array().expect("targets") {
            let is_bin =
                target["kind"].as_array().is_some_and(|kinds| kinds.iter().any(|k| k == "bin"));
            if is_bin {
                binaries
                    .insert((name.to_owned(), target["name"].as_str().expect("name").to_owned()));
            }
        }
    }
    binaries
}

/// No Docker engine runs in CI, so the images are not built there; this test checks the
/// build recipe instead. Every image the chart deploys has a target in the default bake
/// group. That target builds a binary the workspace has and tags it with the name the
/// chart pulls. The Dockerfile's runtime user is the one the pods run as.
#[test]
fn every_deployed_image_has_a_build_target() {
    let mut deployed = BTreeSet::new();
    for values in ["connectors-values.yaml", "small-msp-values.yaml", "large-msp-values.yaml"] {
        for doc in render(values) {
            images(&doc, &mut deployed);
        }
    }
    let binaries_deployed: BTreeSet<String> = deployed
        .iter()
        .map(|image| {
            let name = image.rsplit('/').next().expect("image has a name");
            name.split(':').next().expect("image name").to_owned()
        })
        .collect();
    assert!(binaries_deployed.contains("rollcall-engine"), "{binaries_deployed:?}");
    assert!(binaries_deployed.contains("rollcall-reviews"), "{binaries_deployed:?}");

    let bake = std::fs::read_to_string(workspace().join("docker/docker-bake.hcl")).expect("bake");
    let (targets, default) = bake_targets(&bake);
    let workspace_binaries = workspace_binaries();
    for target in &targets {
        if target.name.starts_with('_') {
            continue;
        }
        assert!(
            workspace_binaries.contains(&(target.package.clone(), target.binary.clone())),
            "bake target {} builds {}/{}, which is not a binary of the workspace",
            target.name,
            target.package,
            target.binary
        );
        let tag = format!("\"${{REGISTRY}}/{}:${{TAG}}\"", target.binary);
        assert!(target.tags.contains(&tag), "bake target {} is not tagged {tag}", target.name);
    }
    for binary in &binaries_deployed {
        let target = targets.iter().find(|target| &target.binary == binary);
        let target = target
            .unwrap_or_else(|| panic!("the chart deploys {binary}, no bake target builds it"));
        assert!(
            default.contains(&target.name),
            "bake target {} is not in the default group",
            target.name
        );
    }

    let dockerfile =
        std::fs::read_to_string(workspace().join("docker/Dockerfile")).expect("Dockerfile");
    let helpers =
        std::fs::read_to_string(workspace().join("charts/rollcall/templates/_helpers.tpl"))
            .expect("helpers");
    assert!(
        dockerfile.lines().any(|line| line.trim() == "USER 65532:65532"),
        "Dockerfile user changed"
    );
    assert!(
        helpers.contains("runAsUser: 65532") && helpers.contains("runAsGroup: 65532"),
        "the chart's pods run as another user than the image's"
    );
}

/// Every dashboard in `charts/rollcall/dashboards/` is one ConfigMap with the label the
/// Grafana sidecar watches, holding the file's JSON unchanged under the file's name.
#[test]
fn dashboards_carry_sidecar_label() {
    let docs = render("small-msp-values.yaml");
    let maps: Vec<&Value> = docs
        .iter()
        .filter(|doc| doc["kind"].as_str() == Some("ConfigMap"))
        .filter(|doc| doc["metadata"]["labels"]["grafana_dashboard"].as_str() == Some("1"))
        .collect();
    let dir = workspace().join("charts/rollcall/dashboards");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the dashboards folder")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dashboard in {}", dir.display());
    assert_eq!(maps.len(), files.len(), "one labelled ConfigMap per dashboard");
    for file in &files {
        let name = file.file_name().and_then(|n| n.to_str()).expect("a UTF-8 file name");
        let holders: Vec<&&Value> =
            maps.iter().filter(|map| map["data"][name].as_str().is_some()).collect();
        assert_eq!(holders.len(), 1, "ConfigMaps holding {name}");
        let rendered: serde_json::Value =
            serde_json::from_str(holders[0]["data"][name].as_str().unwrap_or_default())
                .unwrap_or_else(|error| panic!("{name} in its ConfigMap: {error}"));
        let source: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("the dashboard file"))
                .expect("the dashboard file is JSON");
        assert_eq!(rendered, source, "{name} changed on its way into the ConfigMap");
    }
}

/// Every Deployment of the values files that enable every service, the operator
/// included, runs locked down, probes its ops port, sets its resources and has a
/// PodDisruptionBudget.
#[test]
fn every_deployment_locked_down() {
    for values in ["connectors-values.yaml", "large-msp-values.yaml"] {
        let docs = render(values);
        let deployments: Vec<&Value> =
            docs.iter().filter(|doc| doc["kind"].as_str() == Some("Deployment")).collect();
        let names: Vec<&str> = deployments.iter().filter_map(|doc| component(doc)).collect();
        assert!(names.contains(&"operator"), "{values}: {names:?}");
        for deployment in deployments {
            let name = component(deployment).unwrap_or("?");
            let pod = &deployment["spec"]["template"]["spec"];
            let at = format!("{values}: {name}");
            assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true), "{at}");
            assert_eq!(
                pod["securityContext"]["seccompProfile"]["type"].as_str(),
                Some("RuntimeDefault"),
                "{at}"
            );
            for container in pod["containers"].as_sequence().expect("containers") {
                let security = &container["securityContext"];
                assert_eq!(security["readOnlyRootFilesystem"].as_bool(), Some(true), "{at}");
                assert_eq!(security["allowPrivilegeEscalation"].as_bool(), Some(false), "{at}");
                let dropped: Vec<&str> = security["capabilities"]["drop"]
                    .as_sequence()
                    .map(|drop| drop.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                assert_eq!(dropped, ["ALL"], "{at}");
                let ops = container["ports"].as_sequence().is_some_and(|ports| {
                    ports.iter().any(|port| {
                        port["name"].as_str() == Some("ops")
                            && port["containerPort"].as_u64() == Some(9090)
                    })
                });
                assert!(ops, "{at}: no ops port 9090");
                for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")]
                {
                    assert_eq!(
                        container[probe]["httpGet"]["path"].as_str(),
                        Some(path),
                        "{at}: {probe}"
                    );
                }
                assert!(container["resources"]["limits"]["memory"].is_string(), "{at}");
                assert!(container["resources"]["requests"]["cpu"].is_string(), "{at}");
            }
            let pdbs = docs
                .iter()
                .filter(|doc| doc["kind"].as_str() == Some("PodDisruptionBudget"))
                .filter(|doc| component(doc) == Some(name))
                .count();
            assert_eq!(pdbs, 1, "{at}: PodDisruptionBudgets");
        }
    }
}

/// Ports each component may open to peers outside its pod, and those it must open to
/// work at all. DNS (53) is always allowed. The engine reaches Graph (443) and the
/// directories (636, 389) only with remediation, and SMTP only with mail. The operator
/// reaches the Kubernetes API on 443 or 6443.
fn egress_ports(component: &str) -> Option<(&'static [u64], &'static [u64])> {
    let (allowed, required): (&[u64], &[u64]) = match component {
        "engine" => (&[53, 4222, 5432, 6379, 443, 636, 389, 25, 465, 587], &[53, 4222, 5432]),
        "file-connector" => (&[53, 4222], &[53, 4222]),
        "ldap-connector" => (&[53, 4222, 636, 389], &[53, 4222]),
        "entra-connector" => (&[53, 4222, 5432, 443], &[53, 4222, 443]),
        "drchrono-connector" => (&[53, 4222, 5432, 443], &[53, 4222, 5432, 443]),
        "hr-webhook" => (&[53, 4222, 5432, 443], &[53, 4222, 5432]),
        "reviews-web" => (&[53, 5432, 6379, 443], &[53, 5432, 6379, 443]),
        "operator" => (&[53, 5432, 443, 6443], &[53, 5432, 443]),
        "migrate" | "tenant-apply" => (&[53, 5432], &[53, 5432]),
        _ => return None,
    };
    Some((allowed, required))
}

/// Reports whether `selector`'s `matchLabels` all appear in `labels`.
fn selects(selector: &Value, labels: &Value) -> bool {
    selector["matchLabels"]
        .as_mapping()
        .is_some_and(|wanted| wanted.iter().all(|(key, value)| labels.get(key) == Some(value)))
}

/// Every Deployment and Job is selected by exactly one NetworkPolicy of its own, which
/// opens only the ports its component needs, to named peers, and only the ops port
/// (plus the HTTP port of the two web services) inbound.
#[test]
fn every_workload_has_its_network_policy() {
    let files = [
        "connectors-values.yaml",
        "small-msp-values.yaml",
        "large-msp-values.yaml",
        "remediation-values.yaml",
    ];
    for values in files {
        let docs = render(values);
        let policies: Vec<&Value> =
            docs.iter().filter(|doc| doc["kind"].as_str() == Some("NetworkPolicy")).collect();
        let workloads =
            docs.iter().filter(|doc| matches!(doc["kind"].as_str(), Some("Deployment" | "Job")));
        for workload in workloads {
            let name = component(workload).unwrap_or("?");
            let at = format!("{values}: {name}");
            let labels = &workload["spec"]["template"]["metadata"]["labels"];
            let selecting: Vec<&&Value> =
                policies.iter().filter(|p| selects(&p["spec"]["podSelector"], labels)).collect();
            assert_eq!(selecting.len(), 1, "{at}: NetworkPolicies selecting its pods");
            let policy = selecting[0];
            assert_eq!(component(policy), Some(name), "{at}: the policy of another component");
            let types: Vec<&str> = policy["spec"]["policyTypes"]
                .as_sequence()
                .map(|types| types.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(types, ["Ingress", "Egress"], "{at}: policy types");

            // A policy without ingress rules, as a Job's, lets nothing in.
            let rules = &policy["spec"]["ingress"];
            let ingress: BTreeSet<u64> = match rules {
                Value::Null => BTreeSet::new(),
                rules => rule_ports(rules, &at).into_iter().map(|(_, port)| port).collect(),
            };
            let inbound: BTreeSet<u64> = match (workload["kind"].as_str(), name) {
                (Some("Job"), _) => BTreeSet::new(),
                (_, "hr-webhook" | "reviews-web") => [9090, 8080].into(),
                _ => [9090].into(),
            };
            assert_eq!(ingress, inbound, "{at}: inbound ports");

            let Some((allowed, required)) = egress_ports(name) else {
                panic!("{at}: a component this test does not know; add its ports");
            };
            let egress: BTreeSet<u64> = rule_ports(&policy["spec"]["egress"], &at)
                .into_iter()
                .map(|(_, port)| port)
                .collect();
            for port in &egress {
                assert!(allowed.contains(port), "{at}: opens port {port}");
            }
            for port in required {
                assert!(egress.contains(port), "{at}: does not open port {port}");
            }
        }
    }
}

/// Renders the release notes `helm install` prints, with `--dry-run=client` so no
/// cluster is contacted.
fn notes(values: &str, extra: &[&str]) -> String {
    let text = helm(&["install", "rollcall", "charts/rollcall", "--dry-run=client"], values, extra);
    let notes = text.split_once("\nNOTES:\n").map(|(_, notes)| notes.to_owned());
    notes.unwrap_or_else(|| panic!("{values}: no NOTES in the output"))
}

/// The notes name each enabled connector, and report that none is enabled only when none
/// is.
#[test]
fn notes_name_enabled_connectors() {
    let full = notes("connectors-values.yaml", &[]);
    let connectors = [
        "file connector",
        "LDAP connector",
        "Entra ID connector",
        "DrChrono connector",
        "HR webhook",
    ];
    for connector in connectors {
        assert!(full.contains(&format!("the {connector}")), "connectors-values: {connector}");
    }
    assert!(!full.contains("No connector is enabled"), "{full}");

    let off = [
        "--set=fileConnector.enabled=false",
        "--set=ldapConnector.enabled=false",
        "--set=entraConnector.enabled=false",
        "--set=hrWebhook.enabled=false",
        "--set=drchronoConnector.enabled=false",
    ];
    let none = notes("connectors-values.yaml", &off);
    assert!(none.contains("No connector is enabled"), "{none}");

    // DrChrono alone is a connector too.
    let mut only_drchrono = off.to_vec();
    only_drchrono[4] = "--set=drchronoConnector.enabled=true";
    let drchrono = notes("connectors-values.yaml", &only_drchrono);
    assert!(!drchrono.contains("No connector is enabled"), "{drchrono}");
    assert!(drchrono.contains("the DrChrono connector"), "{drchrono}");

    // The operator's resources are named only where the operator runs.
    assert!(full.contains("get tenants,accesspolicies,reviewcampaigns"), "{full}");
    let without = notes("connectors-values.yaml", &["--set=operator.enabled=false"]);
    assert!(!without.contains("get tenants,accesspolicies"), "{without}");
}
