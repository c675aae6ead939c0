//! The ops HTTP server every service runs beside its work: `/metrics` for Prometheus,
//! `/healthz` for the liveness probe and `/readyz` for the readiness probe.

mod readiness;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;

pub use readiness::{CheckFailure, CheckResult, CheckStatus, Readiness, ReadinessCheck};

use crate::shutdown::Shutdown;
use readiness::CheckLabel;

/// The content type of `/metrics`: OpenMetrics 1.0 text, which `prometheus-client`
/// writes and Prometheus scrapes.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The ops server's listen address.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsConfig {
    /// Address and port; all interfaces by default, because the kubelet probes the pod's
    /// IP address.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 9090))
}

impl Default for OpsConfig {
    fn default() -> Self {
        OpsConfig { listen: default_listen() }
    }
}

/// The ops server cannot listen or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// The listen address cannot be bound.
    #[error(
        "cannot listen on `{address}` for the ops server: {error}; set `ops.listen` to a free address"
    )]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The operating system's error.
        error: std::io::Error,
    },
    /// Accepting or serving connections failed.
    #[error("the ops server failed: {error}")]
    Serve {
        /// The I/O error.
        error: std::io::Error,
    },
}

/// The `/readyz` response body.
#[derive(Debug, Serialize)]
struct ReadyBody<'a> {
    status: &'a str,
    checks: Vec<CheckResult>,
}

struct OpsState {
    registry: Registry,
    readiness: Readiness,
    check_failures: Family<CheckLabel, Counter>,
    shutdown: Shutdown,
}

/// The ops server, with the service's metrics registry and readiness checks.
pub struct OpsServer {
    state: Arc<OpsState>,
}

impl OpsServer {
    /// Creates the server. `registry` contains the service's metrics, and the server adds
    /// `readiness_check_failures_total{check}` to it. `/readyz` fails once `shutdown` is
    /// triggered, and [`OpsServer::serve`] returns then.
    pub fn new(mut registry: Registry, readiness: Readiness, shutdown: &Shutdown) -> OpsServer {
        let check_failures = Family::<CheckLabel, Counter>::default();
        registry.register(
            "readiness_check_failures",
            "Readiness checks that failed or timed out, by check",
            check_failures.clone(),
        );
        let state = OpsState { registry, readiness, check_failures, shutdown: shutdown.clone() };
        OpsServer { state: Arc::new(state) }
    }

    /// Returns the routes, for tests or to merge into another router.
    pub fn router(&self) -> Router {
        Router::new()
            .route("/metrics", get(metrics))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .with_state(Arc::clone(&self.state))
    }

    /// Binds the configured address.
    ///
    /// # Errors
    ///
    /// Returns an error when the address is taken or not local.
    pub async fn bind(config: &OpsConfig) -> Result<TcpListener, OpsError> {
        TcpListener::bind(config.listen)
            .await
            .map_err(|error| OpsError::Bind { address: config.listen, error })
    }

    /// Serves until the shutdown is triggered, then lets requests in progress finish.
    ///
    /// # Errors
    ///
    /// Returns an error when the listener fails.
    pub async fn serve(self, listener: TcpListener) -> Result<(), OpsError> {
        let address = listener.local_addr().ok();
        tracing::info!(address = ?address, "ops server listening");
        let shutdown = self.state.shutdown.clone();
        let result = axum::serve(listener, self.router())
            .with_graceful_shutdown(async move { shutdown.triggered().await })
            .await
            .map_err(|error| OpsError::Serve { error });
        tracing::info!(address = ?address, "ops server stopped");
        result
    }
}

async fn metrics(State(state): State<Arc<OpsState>>) -> Response {
    let mut text = String::new();
    match prometheus_client::encoding::text::encode(&mut text, &state.registry) {
        Ok(()) => ([(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)], text).into_response(),
        Err(_) => {
            tracing::error!("cannot encode the metrics registry");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(state): State<Arc<OpsState>>) -> Response {
    let (code, body) = if state.shutdown.is_triggered() {
        (StatusCode::SERVICE_UNAVAILABLE, ReadyBody { status: "shutting_down", checks: Vec::new() })
    } else {
        let checks = state.readiness.run(&state.check_failures).await;
        let ready = checks.iter().all(|check| check.status == CheckStatus::Ok);
        let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
        (code, ReadyBody { status: if ready { "ready" } else { "not_ready" }, checks })
    };
    match serde_json::to_string(&body) {
        Ok(json) => (code, [(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Err(_) => code.into_response(),
    }
}
