//! JSON log lines: their fields, the level filter, trace ids and OTLP export to a loopback
//! collector.

#![allow(clippy::unwrap_used, reason = "a test stops at its first broken expectation")]

mod common;

use common::LogBuffer;
use common::collector::Collector;
use rollcall_runtime::telemetry::{OtlpConfig, TelemetryConfig, TelemetryError, build_subscriber};
use rollcall_runtime::{Secret, work_span};
use serde_json::Value;

fn capture(config: &TelemetryConfig, rust_log: Option<&str>, body: impl FnOnce()) -> LogBuffer {
    let buffer = LogBuffer::default();
    let (subscriber, _guard) =
        build_subscriber("engine", config, rust_log, buffer.clone()).unwrap();
    tracing::subscriber::with_default(subscriber, body);
    buffer
}

#[test]
fn log_line_is_json_with_work_fields() {
    let buffer = capture(&TelemetryConfig::default(), None, || {
        let span = work_span("entra_sync", Some("practice-a"), Some("entra"));
        span.record("work_id", "batch-0042");
        let _entered = span.enter();
        tracing::info!(accounts = 120_u64, partial = false, "sync finished");
    });

    let lines = buffer.json_lines();
    assert_eq!(lines.len(), 1);
    let line = lines.first().unwrap();
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["message"], "sync finished");
    assert_eq!(line["service"], "engine");
    assert_eq!(line["span"], "work");
    assert_eq!(line["work"], "entra_sync");
    assert_eq!(line["work_id"], "batch-0042");
    assert_eq!(line["tenant"], "practice-a");
    assert_eq!(line["source"], "entra");
    assert_eq!(line["accounts"], 120);
    assert_eq!(line["partial"], false);
    assert_eq!(line["target"], "telemetry_logs");
    let timestamp = line["timestamp"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(timestamp).is_ok(), "{timestamp}");
    assert!(timestamp.ends_with('Z'), "{timestamp}");
    assert!(line.get("trace_id").is_none(), "no trace id without OpenTelemetry: {line}");
}

#[test]
fn log_line_outside_span_has_no_work_fields() {
    let buffer = capture(&TelemetryConfig::default(), None, || {
        tracing::warn!("starting without a tenant");
    });
    let lines = buffer.json_lines();
    let line = lines.first().unwrap();
    assert_eq!(line["level"], "WARN");
    assert!(line.get("tenant").is_none(), "{line}");
    assert!(line.get("span").is_none(), "{line}");
}

#[test]
fn inner_span_field_replaces_outer() {
    let buffer = capture(&TelemetryConfig::default(), None, || {
        let outer = work_span("scan", Some("practice-a"), None);
        let _outer = outer.enter();
        let inner = work_span("read_file", None, Some("hr"));
        let _inner = inner.enter();
        tracing::info!("read");
    });
    let lines = buffer.json_lines();
    let line = lines.first().unwrap();
    assert_eq!(line["tenant"], "practice-a");
    assert_eq!(line["source"], "hr");
    assert_eq!(line["work"], "read_file");
}

#[test]
fn event_field_cannot_replace_reserved_keys() {
    let buffer = capture(&TelemetryConfig::default(), None, || {
        tracing::info!(level = "fake", service = "other", "checked");
    });
    let lines = buffer.json_lines();
    let line = lines.first().unwrap();
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["service"], "engine");
}

#[test]
fn level_from_config_filters() {
    let config = TelemetryConfig { level: Some("warn".to_owned()), otlp: None };
    let buffer = capture(&config, None, || {
        tracing::info!("hidden");
        tracing::warn!("shown");
    });
    let messages: Vec<Value> =
        buffer.json_lines().into_iter().map(|line| line["message"].clone()).collect();
    assert_eq!(messages, vec![Value::from("shown")]);
}

#[test]
fn rust_log_replaces_config_level() {
    let config = TelemetryConfig { level: Some("warn".to_owned()), otlp: None };
    let buffer = capture(&config, Some("debug"), || {
        tracing::debug!("shown");
    });
    assert_eq!(buffer.json_lines().len(), 1);
}

#[test]
fn empty_rust_log_is_ignored() {
    let config = TelemetryConfig { level: Some("error".to_owned()), otlp: None };
    let buffer = capture(&config, Some("  "), || {
        tracing::warn!("hidden");
    });
    assert!(buffer.json_lines().is_empty());
}

#[test]
fn invalid_filter_names_origin() {
    let config = TelemetryConfig { level: Some("info,=[".to_owned()), otlp: None };
    let result = build_subscriber("engine", &config, None, LogBuffer::default());
    let Err(error) = result else { panic!("filter accepted") };
    assert!(matches!(error, TelemetryError::InvalidFilter { .. }), "{error:?}");
    assert!(error.to_string().contains("`info,=[`"), "{error}");
    assert!(error.to_string().contains("configuration key `level`"), "{error}");
}

#[test]
fn secret_absent_from_log_line() {
    #[derive(Debug)]
    #[allow(dead_code, reason = "read only through Debug")]
    struct Settings {
        url: &'static str,
        token: Secret,
    }
    let settings =
        Settings { url: "nats://127.0.0.1:4222", token: Secret::new("tok-7f3a9c-synthetic") };
    let buffer = capture(&TelemetryConfig::default(), None, || {
        tracing::info!(settings = ?settings, token = %settings.token, "connecting");
    });
    let text = buffer.text();
    assert!(!text.contains("tok-7f3a9c-synthetic"), "{text}");
    let lines = buffer.json_lines();
    let line = lines.first().unwrap();
    assert_eq!(line["token"], "[redacted]");
    assert!(line["settings"].as_str().unwrap().contains("[redacted]"), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trace_ids_in_log_match_exported_span() {
    let collector = Collector::start().await;
    let config = TelemetryConfig {
        level: None,
        otlp: Some(OtlpConfig::new(format!("127.0.0.1:{}", collector.address.port()))),
    };
    let buffer = LogBuffer::default();
    let (subscriber, guard) = build_subscriber("engine", &config, None, buffer.clone()).unwrap();
    assert!(guard.exports_traces());

    tracing::subscriber::with_default(subscriber, || {
        let span = work_span("ldap_sync", Some("practice-b"), Some("ldap"));
        let _entered = span.enter();
        tracing::info!("synced");
    });
    guard.shutdown().await;

    let lines = buffer.json_lines();
    let line = lines.first().unwrap();
    let trace_id = line["trace_id"].as_str().unwrap();
    let span_id = line["span_id"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32, "{trace_id}");
    assert_eq!(span_id.len(), 16, "{span_id}");

    // `shutdown` returns after the collector has replied to the export call.
    let spans = collector.spans();
    assert_eq!(spans.len(), 1, "{spans:?}");
    let exported = spans.first().unwrap();
    assert_eq!(exported.name, "ldap_sync");
    assert_eq!(hex(&exported.trace_id), trace_id);
    assert_eq!(hex(&exported.span_id), span_id);
    let tenant = exported.attributes.iter().find(|attribute| attribute.key == "tenant");
    let tenant_value =
        tenant.and_then(|attribute| attribute.value.clone()).and_then(|value| value.value);
    assert_eq!(
        tenant_value,
        Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(
            "practice-b".to_owned()
        ))
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}
