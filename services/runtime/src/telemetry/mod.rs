//! Logging and tracing: JSON log lines on stdout through `tracing`, and OpenTelemetry
//! traces exported over OTLP/gRPC when an endpoint is configured.

mod json;
mod otlp;
mod span;

use std::path::PathBuf;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde::Deserialize;
use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::JsonFields;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub use span::work_span;

/// The level used when neither `RUST_LOG` nor the configuration sets one.
pub const DEFAULT_LEVEL: &str = "info";

/// Logging and tracing settings, usually the `telemetry` section of a service's
/// configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// Log filter in `RUST_LOG` syntax: a level (`info`) or directives
    /// (`info,rollcall_engine=debug`). `RUST_LOG`, when set, replaces it; without either
    /// the level is [`DEFAULT_LEVEL`].
    #[serde(default)]
    pub level: Option<String>,
    /// Trace export; traces are not exported when this is absent.
    #[serde(default)]
    pub otlp: Option<OtlpConfig>,
}

/// The trace export settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtlpConfig {
    /// The collector's OTLP/gRPC endpoint: `https://host:4317`, `http://host:4317`, or
    /// `host:4317`, which means TLS unless the host is loopback.
    pub endpoint: String,
    /// Allows plain-text gRPC to a host that is not loopback.
    #[serde(default)]
    pub insecure: bool,
    /// PEM file of a CA that signed the collector's certificate, trusted in addition to
    /// the Mozilla root store.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Seconds before an export request is abandoned.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// The fraction of new traces that are recorded, from 0.0 to 1.0; a trace continued
    /// from a caller follows the caller's decision.
    #[serde(default = "default_sample_ratio")]
    pub sample_ratio: f64,
}

fn default_timeout_seconds() -> u64 {
    10
}

fn default_sample_ratio() -> f64 {
    1.0
}

impl OtlpConfig {
    /// Creates the settings for an endpoint, with the defaults for the rest.
    pub fn new(endpoint: impl Into<String>) -> OtlpConfig {
        OtlpConfig {
            endpoint: endpoint.into(),
            insecure: false,
            ca_file: None,
            timeout_seconds: default_timeout_seconds(),
            sample_ratio: default_sample_ratio(),
        }
    }
}

/// Logging or tracing that cannot be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// The log filter is not valid `RUST_LOG` syntax.
    #[error(
        "invalid log filter `{filter}` from {origin}: {reason}; write a level such as `info` or directives such as `info,rollcall_engine=debug`"
    )]
    InvalidFilter {
        /// The filter as written.
        filter: String,
        /// `RUST_LOG` or the configuration key.
        origin: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// The OTLP endpoint is not a usable URL.
    #[error(
        "invalid OTLP endpoint `{endpoint}`: {reason}; write `https://host:4317` or `host:4317`"
    )]
    InvalidEndpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// The problem found.
        reason: String,
    },
    /// A plain-text endpoint on another host, without `insecure: true`.
    #[error(
        "OTLP endpoint `{endpoint}` is plain text to another host; use `https://`, or set `otlp.insecure: true` to send traces unencrypted"
    )]
    InsecureEndpoint {
        /// The endpoint as configured.
        endpoint: String,
    },
    /// The sample ratio is outside 0.0 to 1.0.
    #[error(
        "OTLP sample ratio `{ratio}` is outside 0.0 to 1.0; set `otlp.sample_ratio` within that range"
    )]
    SampleRatio {
        /// The ratio as configured.
        ratio: f64,
    },
    /// The CA file cannot be read.
    #[error("cannot read OTLP CA file `{path}`: {error}; check `otlp.ca_file`", path = path.display())]
    CaFile {
        /// The path as configured.
        path: PathBuf,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// The OTLP exporter rejected its settings.
    #[error("cannot set up OTLP export to `{endpoint}`: {reason}")]
    Exporter {
        /// The endpoint as configured.
        endpoint: String,
        /// The exporter's message.
        reason: String,
    },
    /// OTLP export was configured outside a tokio runtime.
    #[error(
        "OTLP export needs a tokio runtime; start telemetry from inside the service's async main"
    )]
    NoRuntime,
    /// Another global `tracing` subscriber is already installed.
    #[error(
        "a global log subscriber is already installed; start telemetry once, before anything logs"
    )]
    AlreadyInstalled,
}

/// Keeps trace export running; call [`TelemetryGuard::shutdown`] before the process exits
/// so that the last spans are sent.
#[must_use = "dropping the guard without `shutdown` may lose the last spans"]
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Tells whether traces are exported.
    pub fn exports_traces(&self) -> bool {
        self.provider.is_some()
    }

    /// Sends the spans still buffered and stops trace export.
    ///
    /// The SDK blocks while it flushes, so this runs on tokio's blocking pool to leave the
    /// runtime free to drive the gRPC connection.
    pub async fn shutdown(mut self) {
        let Some(provider) = self.provider.take() else {
            return;
        };
        let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        match flushed {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(error = %error, "trace export did not shut down cleanly")
            }
            Err(error) => tracing::warn!(error = %error, "trace export shutdown task failed"),
        }
    }
}

/// Builds the log and trace subscriber, writing JSON lines to `writer`.
///
/// [`init`] installs it globally with stdout as the writer; tests pass a buffer and use
/// `tracing::subscriber::with_default`. `rust_log` is the value of `RUST_LOG`, if any.
///
/// # Errors
///
/// Returns an error for an invalid filter, or an OTLP setting that cannot be used.
pub fn build_subscriber<W>(
    service: &str,
    config: &TelemetryConfig,
    rust_log: Option<&str>,
    writer: W,
) -> Result<(impl Subscriber + Send + Sync + 'static, TelemetryGuard), TelemetryError>
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let filter = build_filter(config, rust_log)?;
    let provider =
        config.otlp.as_ref().map(|otlp| otlp::build_provider(service, otlp)).transpose()?;
    let otel_layer = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer("rollcall-runtime"))
    });
    let (format, dispatch_capture) = json::JsonFormat::new(service);
    let json_layer = tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(format)
        .with_writer(writer);

    let subscriber = tracing_subscriber::registry()
        .with(filter)
        .with(otel_layer)
        .with(json_layer)
        .with(dispatch_capture);
    Ok((subscriber, TelemetryGuard { provider }))
}

/// Installs JSON logging on stdout, and trace export when `config.otlp` is set, for the
/// whole process. Reads `RUST_LOG`.
///
/// # Errors
///
/// Returns an error for an invalid filter, an unusable OTLP setting, or when a global
/// subscriber is already installed.
pub fn init(service: &str, config: &TelemetryConfig) -> Result<TelemetryGuard, TelemetryError> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let (subscriber, guard) =
        build_subscriber(service, config, rust_log.as_deref(), std::io::stdout)?;
    subscriber.try_init().map_err(|_| TelemetryError::AlreadyInstalled)?;
    if guard.exports_traces() {
        // Continues traces from W3C `traceparent` headers of incoming requests.
        opentelemetry::global::set_text_map_propagator(
            opentelemetry_sdk::propagation::TraceContextPropagator::new(),
        );
    }
    Ok(guard)
}

fn build_filter(
    config: &TelemetryConfig,
    rust_log: Option<&str>,
) -> Result<EnvFilter, TelemetryError> {
    let (filter, origin) = match (rust_log.filter(|value| !value.trim().is_empty()), &config.level)
    {
        (Some(value), _) => (value, "RUST_LOG"),
        (None, Some(level)) => (level.as_str(), "configuration key `level`"),
        (None, None) => (DEFAULT_LEVEL, "the default"),
    };
    EnvFilter::builder().parse(filter).map_err(|error| TelemetryError::InvalidFilter {
        filter: filter.to_owned(),
        origin,
        reason: error.to_string(),
    })
}
