//! The documented example configuration loads with the runtime's loader, and the checks
//! reject what the types accept but the connector cannot use.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::path::Path;

use rollcall_drchrono_connector::ConnectorConfig;
use rollcall_runtime::ConfigLoader;

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/drchrono-connector.yaml")
}

/// Loads the example with its secret files replaced by a temporary one, the text edits
/// `(from, to)` applied, and `--set` assignments on top, then checks it.
fn load(edits: &[(&str, &str)], sets: &[&str]) -> Result<ConnectorConfig, String> {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "synthetic\n").unwrap();
    let mut text = std::fs::read_to_string(example()).unwrap();
    for file in [
        "/var/run/secrets/rollcall/postgres-url",
        "/var/run/secrets/drchrono/harborlight/client-secret",
        "/var/run/secrets/drchrono/lakeside/client-secret",
    ] {
        text = text.replace(file, &secret.display().to_string());
    }
    for (from, to) in edits {
        assert!(text.contains(from), "the example has no `{from}`");
        text = text.replace(from, to);
    }
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, text).unwrap();
    let mut loader = ConfigLoader::new().file(&path);
    for assignment in sets {
        loader = loader.set(*assignment);
    }
    let loaded = loader.load::<ConnectorConfig>().map_err(|error| error.to_string())?;
    loaded.config.check().map_err(|error| error.to_string())?;
    Ok(loaded.config)
}

#[test]
fn example_loads_and_checks() {
    let config = load(&[], &[]).unwrap();
    assert_eq!(config.tenants.len(), 2);
    assert_eq!(config.api_url, "https://app.drchrono.com");
    assert_eq!(config.token_url, "https://drchrono.com/o/token/");
    assert!(!config.allow_plain_http_loopback);
    assert_eq!(config.limits.request_budget, 400);
    assert_eq!(config.tenants[0].client_secret.expose_str(), Some("synthetic"));
    assert_eq!(format!("{:?}", config.tenants[0].client_secret), "[redacted]");
}

#[test]
fn unknown_key_is_rejected() {
    let edit = (
        "    time_zone: America/Chicago",
        "    time_zone: America/Chicago\n    refresh_token: inline",
    );
    let error = load(&[edit], &[]).unwrap_err();
    assert!(error.contains("refresh_token"), "{error}");
}

#[test]
fn plain_http_api_is_rejected() {
    let error = load(&[], &["api_url=http://127.0.0.1:8080"]).unwrap_err();
    assert!(error.contains("allow_plain_http_loopback"), "{error}");
    load(&[], &["api_url=http://127.0.0.1:8080", "allow_plain_http_loopback=true"]).unwrap();
}

#[test]
fn unknown_time_zone_is_rejected() {
    let error = load(&[("America/Chicago", "Central")], &[]).unwrap_err();
    assert!(error.contains("`Central` is not an IANA time zone"), "{error}");
}

#[test]
fn duplicate_tenant_is_rejected() {
    let error = load(&[("tenant: lakeside", "tenant: harborlight")], &[]).unwrap_err();
    assert!(error.contains("listed twice"), "{error}");
}
