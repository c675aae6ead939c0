//! The connector's configuration through the runtime's loader: defaults, the token file,
//! and errors that name the key.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test stops at its first broken expectation"
)]

use std::time::Duration;

use rollcall_file_connector::ConnectorConfig;
use rollcall_file_connector::config::ConfigValueError;
use rollcall_runtime::ConfigLoader;

fn load(yaml: &str, sets: &[&str]) -> Result<ConnectorConfig, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file-connector.yaml");
    std::fs::write(&file, yaml).unwrap();
    let mut loader = ConfigLoader::new().file(&file).env(Vec::<(String, String)>::new());
    for set in sets {
        loader = loader.set(*set);
    }
    loader.load::<ConnectorConfig>().map(|loaded| loaded.config).map_err(|e| e.to_string())
}

const MINIMAL: &str =
    "drop_root: /srv/drop\nstate_dir: /srv/state\nnats: { url: 127.0.0.1:4222 }\n";

#[test]
fn minimal_config_takes_defaults() {
    let config = load(MINIMAL, &[]).unwrap();

    assert_eq!(config.poll_interval(), Duration::from_secs(30));
    assert_eq!(config.settle(), Duration::from_secs(60));
    assert_eq!(config.nats.subject_prefix, "rollcall");
    assert_eq!(config.nats.stream_prefix, "ROLLCALL");
    assert!(config.nats.token.is_none());
    assert_eq!(config.validate(), Ok(()));
}

#[test]
fn token_file_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();

    let set = format!("nats.token_file={}", token.display());
    let config = load(MINIMAL, &[&set]).unwrap();

    let token = config.nats.token.unwrap();
    assert_eq!(token.expose_str(), Some("s3cret"));
}

#[test]
fn unknown_key_is_named() {
    let error = load(&format!("{MINIMAL}settle_second: 5\n"), &[]).unwrap_err();

    assert!(error.contains("settle_second"), "{error}");
}

#[test]
fn missing_drop_root_is_named() {
    let error = load("state_dir: /srv/state\nnats: { url: 127.0.0.1:4222 }\n", &[]).unwrap_err();

    assert!(error.contains("drop_root"), "{error}");
}

#[test]
fn zero_poll_interval_is_rejected() {
    let config = load(MINIMAL, &["poll_interval_seconds=0"]).unwrap();

    assert_eq!(config.validate(), Err(ConfigValueError::ZeroPollInterval));
}
