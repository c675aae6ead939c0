//! Trace export over OTLP/gRPC, and the rule that decides when it uses TLS.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::Uri;
use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig};
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithTonicConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider};

use super::{OtlpConfig, TelemetryError};

/// The exporter's connection to the collector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transport {
    /// gRPC over TLS, verified against the Mozilla roots and `ca_file`.
    Tls,
    /// gRPC in plain text: a loopback collector, or `insecure: true`.
    Plaintext,
}

/// The endpoint to dial and how, after the TLS rule is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResolvedEndpoint {
    /// The URL with its scheme, which tonic uses to pick TLS or plain text.
    pub(crate) url: String,
    pub(crate) transport: Transport,
}

/// Applies the TLS rule to a configured endpoint.
///
/// `https://` is TLS and `http://` is plain text. Without a scheme, a loopback host
/// (`localhost`, `127.0.0.0/8`, `::1`) gets plain text and any other host gets TLS. Plain
/// text to a host that is not loopback is rejected unless `insecure` is set, because
/// spans carry tenant names and ids.
pub(crate) fn resolve_endpoint(
    endpoint: &str,
    insecure: bool,
) -> Result<ResolvedEndpoint, TelemetryError> {
    let invalid = |reason: &str| TelemetryError::InvalidEndpoint {
        endpoint: endpoint.to_owned(),
        reason: reason.to_owned(),
    };
    let uri: Uri = endpoint.parse().map_err(|_| invalid("it is not a URL or `host:port`"))?;
    let host = uri.host().ok_or_else(|| invalid("it has no host"))?;
    let loopback = is_loopback(host);

    let (url, transport) = match uri.scheme_str() {
        Some("https") => (endpoint.to_owned(), Transport::Tls),
        Some("http") => (endpoint.to_owned(), Transport::Plaintext),
        Some(_) => return Err(invalid("its scheme is neither `https` nor `http`")),
        None if loopback || insecure => (format!("http://{endpoint}"), Transport::Plaintext),
        None => (format!("https://{endpoint}"), Transport::Tls),
    };
    if transport == Transport::Plaintext && !loopback && !insecure {
        return Err(TelemetryError::InsecureEndpoint { endpoint: endpoint.to_owned() });
    }
    Ok(ResolvedEndpoint { url, transport })
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Builds the tracer provider that batches spans and sends them to the collector.
///
/// The gRPC channel connects lazily, on the first export, so this succeeds while the
/// collector is down. The OpenTelemetry SDK handles failed exports, not this function.
/// It must run inside a tokio runtime, because the channel's background task runs there.
pub(crate) fn build_provider(
    service: &str,
    config: &OtlpConfig,
) -> Result<SdkTracerProvider, TelemetryError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(TelemetryError::NoRuntime);
    }
    if !(0.0..=1.0).contains(&config.sample_ratio) {
        return Err(TelemetryError::SampleRatio { ratio: config.sample_ratio });
    }
    let endpoint = resolve_endpoint(&config.endpoint, config.insecure)?;

    let mut builder = SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint.url.clone())
        .with_timeout(Duration::from_secs(config.timeout_seconds));
    if endpoint.transport == Transport::Tls {
        let mut tls = ClientTlsConfig::new().with_webpki_roots();
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path)
                .map_err(|error| TelemetryError::CaFile { path: path.clone(), error })?;
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        builder = builder.with_tls_config(tls);
    }
    let exporter = builder.build().map_err(|error| TelemetryError::Exporter {
        endpoint: config.endpoint.clone(),
        reason: error.to_string(),
    })?;

    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(config.sample_ratio)));
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(sampler)
        .with_resource(Resource::builder().with_service_name(service.to_owned()).build())
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_without_scheme_is_plaintext() {
        for endpoint in ["127.0.0.1:4317", "localhost:4317", "[::1]:4317", "127.8.9.10:4317"] {
            let resolved = resolve_endpoint(endpoint, false).unwrap();
            assert_eq!(resolved.transport, Transport::Plaintext, "{endpoint}");
            assert_eq!(resolved.url, format!("http://{endpoint}"));
        }
    }

    #[test]
    fn remote_without_scheme_is_tls() {
        let resolved = resolve_endpoint("otel-collector.monitoring:4317", false).unwrap();
        assert_eq!(resolved.transport, Transport::Tls);
        assert_eq!(resolved.url, "https://otel-collector.monitoring:4317");
    }

    #[test]
    fn remote_plain_http_rejected() {
        let error = resolve_endpoint("http://otel-collector.monitoring:4317", false).unwrap_err();
        assert!(matches!(error, TelemetryError::InsecureEndpoint { .. }), "{error:?}");
        assert!(error.to_string().contains("insecure"), "{error}");
    }

    #[test]
    fn remote_plain_http_allowed_when_insecure() {
        let resolved = resolve_endpoint("http://otel-collector.monitoring:4317", true).unwrap();
        assert_eq!(resolved.transport, Transport::Plaintext);
        let resolved = resolve_endpoint("otel-collector.monitoring:4317", true).unwrap();
        assert_eq!(resolved.url, "http://otel-collector.monitoring:4317");
    }

    #[test]
    fn https_loopback_stays_tls() {
        let resolved = resolve_endpoint("https://127.0.0.1:4317", false).unwrap();
        assert_eq!(resolved.transport, Transport::Tls);
    }

    #[test]
    fn loopback_lookalike_host_is_remote() {
        let error = resolve_endpoint("http://localhost.example.test:4317", false).unwrap_err();
        assert!(matches!(error, TelemetryError::InsecureEndpoint { .. }), "{error:?}");
    }

    #[test]
    fn other_scheme_rejected() {
        let error = resolve_endpoint("ftp://collector:4317", false).unwrap_err();
        assert!(matches!(error, TelemetryError::InvalidEndpoint { .. }), "{error:?}");
    }

    #[test]
    fn provider_needs_runtime() {
        let config = OtlpConfig::new("127.0.0.1:4317");
        let error = build_provider("engine", &config).unwrap_err();
        assert!(matches!(error, TelemetryError::NoRuntime), "{error:?}");
    }

    #[tokio::test]
    async fn tls_provider_builds_without_connecting() {
        let config = OtlpConfig::new("otel-collector.monitoring.svc:4317");
        let provider = build_provider("engine", &config).unwrap();
        drop(provider);
    }

    #[tokio::test]
    async fn missing_ca_file_names_path() {
        let mut config = OtlpConfig::new("otel-collector.monitoring.svc:4317");
        config.ca_file = Some("/nonexistent/ca.pem".into());
        let error = build_provider("engine", &config).unwrap_err();
        assert!(matches!(error, TelemetryError::CaFile { .. }), "{error:?}");
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }
}
