//! Layering of file, environment and flags, and the errors that name key and layer.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

use std::io::Write;

use rollcall_runtime::config::{ConfigError, ConfigLoader, Origin};
use serde::Deserialize;

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct ServiceConfig {
    nats: Nats,
    #[serde(default)]
    log: Log,
    #[serde(default)]
    hosts: Vec<String>,
    #[serde(default)]
    mode: Mode,
    #[serde(default)]
    metrics_port: Option<u16>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Nats {
    url: String,
    #[serde(default = "default_reconnects")]
    max_reconnects: u32,
}

fn default_reconnects() -> u32 {
    5
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Log {
    level: Option<String>,
    json: Option<bool>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum Mode {
    #[default]
    Active,
    DryRun,
}

fn write_file(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

fn no_env() -> Vec<(String, String)> {
    Vec::new()
}

const BASE: &str =
    "nats:\n  url: nats://127.0.0.1:4222\n  max_reconnects: 3\nlog:\n  level: info\n";

#[test]
fn file_sets_values_and_defaults_fill_rest() {
    let file = write_file("nats:\n  url: nats://127.0.0.1:4222\n");
    let loaded =
        ConfigLoader::new().file(file.path()).env(no_env()).load::<ServiceConfig>().unwrap();
    assert_eq!(loaded.config.nats.url, "nats://127.0.0.1:4222");
    assert_eq!(loaded.config.nats.max_reconnects, 5);
    assert_eq!(loaded.config.log, Log::default());
    assert_eq!(loaded.config.mode, Mode::Active);
    assert!(loaded.warnings.is_empty());
}

#[test]
fn env_overrides_file() {
    let file = write_file(BASE);
    let env = [("ROLLCALL_NATS__MAX_RECONNECTS", "9"), ("ROLLCALL_LOG__JSON", "false")];
    let config: ServiceConfig =
        ConfigLoader::new().file(file.path()).env(env).load().unwrap().config;
    assert_eq!(config.nats.max_reconnects, 9);
    assert_eq!(config.nats.url, "nats://127.0.0.1:4222");
    assert_eq!(config.log.level.as_deref(), Some("info"));
    assert_eq!(config.log.json, Some(false));
}

#[test]
fn flag_overrides_env_and_file() {
    let file = write_file(BASE);
    let env = [("ROLLCALL_NATS__MAX_RECONNECTS", "9")];
    let config: ServiceConfig = ConfigLoader::new()
        .file(file.path())
        .env(env)
        .set("nats.max_reconnects=11")
        .set("log.level=debug")
        .load()
        .unwrap()
        .config;
    assert_eq!(config.nats.max_reconnects, 11);
    assert_eq!(config.log.level.as_deref(), Some("debug"));
}

#[test]
fn later_flag_for_same_key_wins() {
    let config: ServiceConfig = ConfigLoader::new()
        .env(no_env())
        .set("nats.url=nats://first")
        .set("nats.url=nats://second")
        .load()
        .unwrap()
        .config;
    assert_eq!(config.nats.url, "nats://second");
}

#[test]
fn config_path_from_env_var() {
    let file = write_file(BASE);
    let env = [("ROLLCALL_CONFIG", file.path().to_str().unwrap())];
    let config: ServiceConfig = ConfigLoader::new().env(env).load().unwrap().config;
    assert_eq!(config.nats.max_reconnects, 3);
}

#[test]
fn env_list_and_enum_values() {
    let env = [
        ("ROLLCALL_NATS__URL", "nats://127.0.0.1:4222"),
        ("ROLLCALL_HOSTS", "[ldap-1.example.test, ldap-2.example.test]"),
        ("ROLLCALL_MODE", "dry_run"),
    ];
    let config: ServiceConfig = ConfigLoader::new().env(env).load().unwrap().config;
    assert_eq!(config.hosts, vec!["ldap-1.example.test", "ldap-2.example.test"]);
    assert_eq!(config.mode, Mode::DryRun);
}

#[test]
fn empty_env_var_unsets_optional_key() {
    let file = write_file(BASE);
    let env = [("ROLLCALL_LOG__LEVEL", "")];
    let config: ServiceConfig =
        ConfigLoader::new().file(file.path()).env(env).load().unwrap().config;
    assert_eq!(config.log.level, None);
}

#[test]
fn unknown_key_in_file_names_key_and_line() {
    let file = write_file("nats:\n  url: nats://127.0.0.1:4222\n  max_reconects: 3\n");
    let error =
        ConfigLoader::new().file(file.path()).env(no_env()).load::<ServiceConfig>().unwrap_err();
    let ConfigError::UnknownKey { key, origin } = &error else { panic!("{error:?}") };
    assert_eq!(key, "nats.max_reconects");
    assert_eq!(*origin, Origin::File { path: file.path().to_owned(), line: 3 });
    let message = error.to_string();
    assert!(message.contains("`nats.max_reconects`"), "{message}");
    assert!(message.contains("line 3"), "{message}");
}

#[test]
fn unknown_key_in_env_names_variable() {
    let env = [("ROLLCALL_NATS__URL", "nats://x"), ("ROLLCALL_NATS__URI", "nats://y")];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    let ConfigError::UnknownKey { key, origin } = &error else { panic!("{error:?}") };
    assert_eq!(key, "nats.uri");
    assert_eq!(*origin, Origin::Env { var: "ROLLCALL_NATS__URI".to_owned() });
    assert!(error.to_string().contains("environment variable `ROLLCALL_NATS__URI`"), "{error}");
}

#[test]
fn unknown_key_in_flag_names_flag() {
    let error = ConfigLoader::new()
        .env(no_env())
        .set("nats.url=nats://x")
        .set("logs.level=debug")
        .load::<ServiceConfig>()
        .unwrap_err();
    let ConfigError::UnknownKey { key, origin } = &error else { panic!("{error:?}") };
    assert_eq!(key, "logs");
    assert_eq!(*origin, Origin::Flag { key: "logs.level".to_owned() });
    assert!(error.to_string().contains("flag `--set logs.level=...`"), "{error}");
}

#[test]
fn unknown_key_in_nested_flow_value() {
    let env = [("ROLLCALL_NATS", "{url: nats://x, tls: true}")];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    let ConfigError::UnknownKey { key, origin } = &error else { panic!("{error:?}") };
    assert_eq!(key, "nats.tls");
    assert_eq!(*origin, Origin::Env { var: "ROLLCALL_NATS".to_owned() });
}

#[test]
fn missing_key_names_every_way_to_set_it() {
    let error = ConfigLoader::new().env(no_env()).load::<ServiceConfig>().unwrap_err();
    assert!(matches!(&error, ConfigError::MissingKey { key, .. } if key == "nats"), "{error:?}");

    let env = [("ROLLCALL_LOG__LEVEL", "info"), ("ROLLCALL_NATS__MAX_RECONNECTS", "2")];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(&error, ConfigError::MissingKey { key, .. } if key == "nats.url"),
        "{error:?}"
    );
    assert!(message.contains("`ROLLCALL_NATS__URL`"), "{message}");
    assert!(message.contains("`--set nats.url=...`"), "{message}");
}

#[test]
fn wrong_type_names_key_origin_and_range() {
    let env = [("ROLLCALL_NATS__URL", "nats://x"), ("ROLLCALL_METRICS_PORT", "70000")];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    let ConfigError::InvalidValue { key, origin, reason } = &error else { panic!("{error:?}") };
    assert_eq!(key, "metrics_port");
    assert_eq!(*origin, Origin::Env { var: "ROLLCALL_METRICS_PORT".to_owned() });
    assert_eq!(reason, "expected an integer from 0 to 65535, found `70000`");
}

#[test]
fn wrong_type_in_file_names_line() {
    let file = write_file("nats:\n  url: nats://x\nlog:\n  json: maybe\n");
    let error =
        ConfigLoader::new().file(file.path()).env(no_env()).load::<ServiceConfig>().unwrap_err();
    let ConfigError::InvalidValue { key, origin, reason } = &error else { panic!("{error:?}") };
    assert_eq!(key, "log.json");
    assert_eq!(*origin, Origin::File { path: file.path().to_owned(), line: 4 });
    assert_eq!(reason, "expected `true` or `false`, found `maybe`");
}

#[test]
fn unknown_enum_variant_is_invalid_value() {
    let env = [("ROLLCALL_NATS__URL", "nats://x"), ("ROLLCALL_MODE", "paused")];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    let ConfigError::InvalidValue { key, reason, .. } = &error else { panic!("{error:?}") };
    assert_eq!(key, "mode");
    assert!(reason.contains("`paused`"), "{reason}");
}

#[test]
fn kubernetes_service_variables_are_ignored() {
    let env = [
        ("ROLLCALL_NATS__URL", "nats://x"),
        ("ROLLCALL_ENGINE_SERVICE_HOST", "10.0.0.7"),
        ("ROLLCALL_ENGINE_PORT_9090_TCP", "tcp://10.0.0.7:9090"),
    ];
    let config: ServiceConfig = ConfigLoader::new().env(env).load().unwrap().config;
    assert_eq!(config.nats.url, "nats://x");
}

#[test]
fn service_variable_shape_still_sets_a_real_key() {
    let env = [("ROLLCALL_NATS__URL", "nats://x"), ("ROLLCALL_METRICS_PORT", "9100")];
    let config: ServiceConfig = ConfigLoader::new().env(env).load().unwrap().config;
    assert_eq!(config.metrics_port, Some(9100));
}

#[test]
fn malformed_env_name_is_rejected() {
    let env = [("ROLLCALL_NATS___URL", "nats://x")];
    let error = ConfigLoader::new().env(env).load::<ServiceConfig>().unwrap_err();
    assert!(
        matches!(&error, ConfigError::EnvVar { var, .. } if var == "ROLLCALL_NATS___URL"),
        "{error:?}"
    );
}

#[test]
fn flag_without_equals_is_rejected() {
    let error =
        ConfigLoader::new().env(no_env()).set("nats.url").load::<ServiceConfig>().unwrap_err();
    assert!(matches!(&error, ConfigError::Flag { key, .. } if key == "nats.url"), "{error:?}");
    assert!(error.to_string().contains("--set KEY.PATH=VALUE"), "{error}");
}

#[test]
fn missing_config_file_names_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.yaml");
    let error = ConfigLoader::new().file(&path).env(no_env()).load::<ServiceConfig>().unwrap_err();
    assert!(
        matches!(&error, ConfigError::ReadFile { path: reported, .. } if *reported == path),
        "{error:?}"
    );
    assert!(error.to_string().contains("absent.yaml"), "{error}");
}

#[test]
fn malformed_yaml_names_line() {
    let file = write_file("nats:\n  url: [unclosed\n");
    let error =
        ConfigLoader::new().file(file.path()).env(no_env()).load::<ServiceConfig>().unwrap_err();
    let ConfigError::Yaml { line, .. } = &error else { panic!("{error:?}") };
    assert!(*line >= 2, "{error}");
}

#[test]
fn quoted_number_reads_as_text_field() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Versioned {
        version: String,
        port: u16,
    }
    let file = write_file("version: 1.10\nport: '8080'\n");
    let config: Versioned =
        ConfigLoader::new().file(file.path()).env(no_env()).load().unwrap().config;
    assert_eq!(config.version, "1.10");
    assert_eq!(config.port, 8080);
}

#[test]
fn unknown_key_rejected_without_deny_attribute() {
    #[derive(Debug, Deserialize)]
    struct Lenient {
        #[serde(default)]
        #[allow(dead_code, reason = "present so that the struct has one known key")]
        name: String,
    }
    let file = write_file("name: a\nnmae: b\n");
    let error = ConfigLoader::new().file(file.path()).env(no_env()).load::<Lenient>().unwrap_err();
    assert!(matches!(&error, ConfigError::UnknownKey { key, .. } if key == "nmae"), "{error:?}");
}

#[test]
fn env_matches_renamed_field_case_insensitively() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Camel {
        listen_addr: String,
    }
    let env = [("ROLLCALL_LISTENADDR", "127.0.0.1:1")];
    let config: Camel = ConfigLoader::new().env(env).load().unwrap().config;
    assert_eq!(config.listen_addr, "127.0.0.1:1");
}

#[test]
fn map_fields_accept_any_key() {
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Tenants {
        limits: std::collections::BTreeMap<String, u32>,
    }
    let file = write_file("limits:\n  practice-a: 10\n  practice-b: 20\n");
    let env = [("ROLLCALL_LIMITS__PRACTICE_C", "30")];
    let config: Tenants = ConfigLoader::new().file(file.path()).env(env).load().unwrap().config;
    let expected: Vec<(&str, u32)> =
        vec![("practice-a", 10), ("practice-b", 20), ("practice_c", 30)];
    let actual: Vec<(&str, u32)> = config.limits.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(actual, expected);
}

#[test]
fn shared_sections_load_from_env() {
    use rollcall_runtime::{OpsConfig, ShutdownConfig, TelemetryConfig};

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Shared {
        #[serde(default)]
        telemetry: TelemetryConfig,
        #[serde(default)]
        ops: OpsConfig,
        #[serde(default)]
        shutdown: ShutdownConfig,
    }
    let env = [
        ("ROLLCALL_TELEMETRY__LEVEL", "debug"),
        ("ROLLCALL_TELEMETRY__OTLP__ENDPOINT", "otel-collector.monitoring:4317"),
        ("ROLLCALL_TELEMETRY__OTLP__SAMPLE_RATIO", "0.25"),
        ("ROLLCALL_OPS__LISTEN", "127.0.0.1:9191"),
        ("ROLLCALL_SHUTDOWN__GRACE_PERIOD_SECONDS", "10"),
    ];
    let config: Shared = ConfigLoader::new().env(env).load().unwrap().config;
    assert_eq!(config.telemetry.level.as_deref(), Some("debug"));
    let otlp = config.telemetry.otlp.unwrap();
    assert_eq!(otlp.endpoint, "otel-collector.monitoring:4317");
    assert_eq!(otlp.sample_ratio, 0.25);
    assert_eq!(otlp.timeout_seconds, 10);
    assert!(!otlp.insecure);
    assert_eq!(config.ops.listen, "127.0.0.1:9191".parse().unwrap());
    assert_eq!(config.shutdown.grace_period_seconds, 10);
}

#[test]
fn config_args_parse_and_load() {
    use clap::Parser;
    use rollcall_runtime::ConfigArgs;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: ConfigArgs,
    }
    let file = write_file(BASE);
    let path = file.path().to_str().unwrap();
    let cli = Cli::try_parse_from([
        "engine",
        "--config",
        path,
        "--set",
        "nats.max_reconnects=7",
        "--set",
        "log.level=warn",
    ])
    .unwrap();

    let config: ServiceConfig =
        ConfigLoader::from_args(&cli.config).env(no_env()).load().unwrap().config;

    assert_eq!(config.nats.max_reconnects, 7);
    assert_eq!(config.log.level.as_deref(), Some("warn"));
    let debug = format!("{:?}", cli.config);
    assert!(debug.contains("nats.max_reconnects"), "{debug}");
    assert!(!debug.contains("=7"), "{debug}");
}
