//! Wiring: connections, the web server and the ops server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::registry::Registry;
use rollcall_runtime::ops::CheckFailure;
use rollcall_runtime::{OpsServer, Readiness, Shutdown, ShutdownReport, Workers};
use rollcall_store::{Store, StoreOptions};
use tokio::net::TcpListener;

use crate::auth::oidc::{OidcClient, OidcError};
use crate::config::{RedisConfig, ReviewsWebConfig};
use crate::metrics::ReviewsWebMetrics;
use crate::routes;
use crate::session::SessionStore;
use crate::state::{AppState, TenantConfigError, sign_in_tenants};

/// Readiness probe timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// An error that stops the service from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A tenant's sign-in settings are invalid.
    #[error(transparent)]
    Tenant(#[from] TenantConfigError),
    /// `http.public_url` or the OIDC client settings are invalid.
    #[error(transparent)]
    Oidc(#[from] OidcError),
    /// `http.public_url` is not HTTPS and not loopback.
    #[error(
        "http.public_url `{0}` must start with https://, or http:// with a loopback host for local runs"
    )]
    PublicUrl(String),
    /// PostgreSQL rejected the connection or did not respond.
    #[error(transparent)]
    Store(#[from] rollcall_store::StoreError),
    /// A URL secret is not UTF-8.
    #[error("{0} is not UTF-8 text")]
    NotText(&'static str),
    /// The Redis URL is plain text to a remote host.
    #[error(
        "redis.url uses redis:// to a host that is not loopback; use rediss:// or set redis.insecure: true"
    )]
    RedisPlainText,
    /// Redis could not be reached.
    #[error("cannot use Redis: {0}; check redis.url")]
    Redis(#[from] redis::RedisError),
    /// A listener could not bind.
    #[error("cannot listen on `{address}`: {reason}; set http.listen to a free address")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The operating system's error.
        reason: String,
    },
    /// The ops server could not bind.
    #[error(transparent)]
    Ops(#[from] rollcall_runtime::ops::OpsError),
}

/// Returns whether `url`'s host is loopback.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = host.rsplit_once(':').map_or(host, |(host, _)| host);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// Connects to Redis, rejecting plain text to a remote host unless `insecure` is set.
pub async fn connect_redis(
    config: &RedisConfig,
) -> Result<redis::aio::ConnectionManager, StartError> {
    let url = config.url.expose_str().ok_or(StartError::NotText("redis.url"))?;
    if url.starts_with("redis://") && !is_loopback(url) {
        if !config.insecure {
            return Err(StartError::RedisPlainText);
        }
        tracing::warn!("redis.insecure is set: sessions travel to Redis without TLS");
    }
    let client = redis::Client::open(url)?;
    Ok(client.get_connection_manager().await?)
}

/// Returns the OIDC redirect URI, `http.public_url` followed by `/auth/callback`, after
/// checking that the public URL is HTTPS or plain HTTP to a loopback host.
pub fn redirect_uri(public_url: &str) -> Result<String, StartError> {
    let public = public_url.trim_end_matches('/');
    if !(public.starts_with("https://") || (public.starts_with("http://") && is_loopback(public))) {
        return Err(StartError::PublicUrl(public.to_owned()));
    }
    Ok(format!("{public}/auth/callback"))
}

/// Builds the shared state from the configuration and open connections.
pub fn app_state(
    config: &ReviewsWebConfig,
    store: Store,
    redis: redis::aio::ConnectionManager,
) -> Result<AppState, StartError> {
    let redirect = redirect_uri(&config.http.public_url)?;
    let tenants = sign_in_tenants(config)?;
    let secret =
        config.oidc.client_secret.expose_str().ok_or(StartError::NotText("oidc.client_secret"))?;
    let oidc = OidcClient::new(
        &config.oidc.client_id,
        secret,
        &redirect,
        Duration::from_secs(config.oidc.timeout_seconds.max(1)),
    )?;
    let directories = tenants.values().filter_map(|tenant| tenant.directory).collect();
    Ok(AppState {
        store,
        sessions: SessionStore::new(redis, &config.redis.key_prefix, config.session),
        oidc,
        tenants,
        directories,
        roles: config.oidc.roles.clone(),
        metrics: ReviewsWebMetrics::default(),
    })
}

/// A connected service with its listeners bound, ready to run.
pub struct Service {
    state: Arc<AppState>,
    http: TcpListener,
    ops: TcpListener,
    grace: Duration,
}

impl Service {
    /// Connects to PostgreSQL and Redis, checks the sign-in settings and binds both
    /// listeners.
    pub async fn start(config: ReviewsWebConfig) -> Result<Self, StartError> {
        let url = config.postgres.url.expose_str().ok_or(StartError::NotText("postgres.url"))?;
        let options = StoreOptions {
            max_connections: config.postgres.max_connections,
            acquire_timeout: Duration::from_secs(config.postgres.acquire_timeout_seconds.max(1)),
        };
        let store = Store::connect(url, &options).await?;
        let redis = connect_redis(&config.redis).await?;
        let state = Arc::new(app_state(&config, store, redis)?);
        let http = TcpListener::bind(config.http.listen).await.map_err(|error| {
            StartError::Bind { address: config.http.listen, reason: error.to_string() }
        })?;
        let ops = OpsServer::bind(&config.ops).await?;
        Ok(Self { state, http, ops, grace: config.shutdown.grace_period() })
    }

    /// Returns the address of the web server.
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http.local_addr().ok()
    }

    /// Returns the address of the ops server.
    pub fn ops_addr(&self) -> Option<SocketAddr> {
        self.ops.local_addr().ok()
    }

    /// Serves until `shutdown` is triggered, then lets requests in progress finish within
    /// the grace period.
    pub async fn run(self, shutdown: &Shutdown) -> ShutdownReport {
        let Service { state, http, ops, grace } = self;
        let mut registry = Registry::with_prefix("rollcall_reviews_web");
        state.metrics.register(&mut registry);
        let ops_server = OpsServer::new(registry, readiness(&state), shutdown);
        let mut workers = Workers::new(shutdown);
        workers.spawn("ops", async move { Ok(ops_server.serve(ops).await?) });
        {
            let shutdown = shutdown.clone();
            let router = routes::router(state.clone());
            workers.spawn("http", async move {
                let address = http.local_addr().ok();
                tracing::info!(address = ?address, "review pages listening");
                axum::serve(http, router)
                    .with_graceful_shutdown(async move { shutdown.triggered().await })
                    .await?;
                Ok(())
            });
        }
        tracing::info!(tenants = state.tenants.len(), "reviews web started");
        workers.run(grace).await
    }
}

/// Builds the readiness checks: PostgreSQL, and Redis, because sign-in needs it.
fn readiness(state: &Arc<AppState>) -> Readiness {
    let mut readiness = Readiness::new();
    let store = state.store.clone();
    readiness.add("postgres", PROBE_TIMEOUT, move || {
        let store = store.clone();
        async move { store.ping().await.map_err(CheckFailure::from) }
    });
    let sessions = state.sessions.clone();
    readiness.add("redis", PROBE_TIMEOUT, move || {
        let sessions = sessions.clone();
        async move { sessions.ping().await.map_err(CheckFailure::from) }
    });
    readiness
}

#[cfg(test)]
mod tests {
    use super::{StartError, is_loopback, redirect_uri};

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback("redis://127.0.0.1:6379/0"));
        assert!(is_loopback("redis://:pw@localhost:6379"));
        assert!(is_loopback("http://127.0.0.1:8080"));
        assert!(!is_loopback("redis://redis.rollcall.svc:6379"));
        assert!(!is_loopback("redis://127.0.0.1.example.org:6379"));
    }

    #[test]
    fn redirect_uri_needs_https_off_loopback() {
        assert_eq!(
            redirect_uri("https://reviews.example.org/").ok().as_deref(),
            Some("https://reviews.example.org/auth/callback")
        );
        assert_eq!(
            redirect_uri("http://127.0.0.1:8080").ok().as_deref(),
            Some("http://127.0.0.1:8080/auth/callback")
        );
        assert!(matches!(
            redirect_uri("http://reviews.example.org"),
            Err(StartError::PublicUrl(url)) if url == "http://reviews.example.org"
        ));
    }
}
