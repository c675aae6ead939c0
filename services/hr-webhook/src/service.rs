//! Wiring: connections, the HTTP server and the ops server.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use prometheus_client::registry::Registry;
use rollcall_bus::{BusMetrics, Namespace, Publisher, RetryPolicy};
use rollcall_core::TenantId;
use rollcall_runtime::ops::CheckFailure;
use rollcall_runtime::{OpsServer, Readiness, Shutdown, ShutdownReport, Workers};
use rollcall_store::{Store, StoreOptions};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::app::{self, AppState, TenantAuth};
use crate::config::{HrWebhookConfig, VendorSyncConfig};
use crate::metrics::HrWebhookMetrics;
use crate::ratelimit::RateLimiter;
use crate::signature::{KeyError, SigningKey};
use crate::vendors::{self, VendorConnections};

/// Readiness probe timeout.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// An error that stops the service from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A subject or stream prefix is invalid.
    #[error("nats.subject_prefix or nats.stream_prefix: {0}")]
    Namespace(#[from] rollcall_bus::SubjectError),
    /// The NATS client could not be created.
    #[error("cannot use NATS at `{url}`: {reason}; check nats.url")]
    Nats {
        /// The configured URL.
        url: String,
        /// The client's error.
        reason: String,
    },
    /// PostgreSQL rejected the connection or did not respond.
    #[error(transparent)]
    Store(#[from] rollcall_store::StoreError),
    /// `postgres.url` is not UTF-8.
    #[error("postgres.url is not UTF-8 text")]
    PostgresUrl,
    /// A tenant id in `tenants` is invalid.
    #[error("tenants: {0}")]
    Tenant(#[from] rollcall_core::tenant::TenantIdError),
    /// A webhook key is not a Standard Webhooks secret.
    #[error("tenants.{tenant}.webhook_keys: {source}")]
    Key {
        /// The tenant.
        tenant: String,
        /// The problem with the key.
        source: KeyError,
    },
    /// A tenant's vendor section is invalid.
    #[error(transparent)]
    Vendor(#[from] crate::vendors::VendorConfigError),
    /// A listener could not bind.
    #[error(
        "cannot listen on `{address}` for the HR endpoints: {reason}; set http.listen to a free address"
    )]
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

/// A connected service with its listeners bound, ready to run.
pub struct Service {
    state: Arc<AppState>,
    client: async_nats::Client,
    http: TcpListener,
    ops: TcpListener,
    grace: Duration,
    bus_metrics: BusMetrics,
    vendor_sync: VendorSyncConfig,
}

impl Service {
    /// Reads the tenants' keys, connects to PostgreSQL, creates the NATS client and binds
    /// both listeners. NATS may be down: the client connects in the background, and events
    /// are committed while it is away.
    pub async fn start(config: HrWebhookConfig) -> Result<Self, StartError> {
        let tenants = tenants(&config)?;
        let metrics = HrWebhookMetrics::new();
        let vendors = vendor_connections(&config, &metrics)?;
        let namespace = Namespace::new(&config.nats.subject_prefix, &config.nats.stream_prefix)?;
        if config.nats.insecure {
            tracing::warn!(url = %config.nats.display_url(), "nats.insecure is set: bus traffic may travel without TLS");
        }
        let options = config
            .nats
            .connect_options("rollcall-hr-webhook")
            .map_err(|error| StartError::Nats {
                url: config.nats.display_url(),
                reason: error.to_string(),
            })?
            .retry_on_initial_connect()
            .max_reconnects(None);
        let client = options.connect(config.nats.url.as_str()).await.map_err(|error| {
            StartError::Nats { url: config.nats.display_url(), reason: error.to_string() }
        })?;
        let publish_timeout = config.http.publish_timeout();
        let mut context = jetstream::new(client.clone());
        context.set_timeout(publish_timeout);
        let bus_metrics = BusMetrics::new();
        // Two attempts: the response waits for the publish, and a lost publish is
        // recovered from the store.
        let publisher =
            Publisher::new(context, namespace, bus_metrics.clone()).with_retry(RetryPolicy {
                attempts: 2,
                first_delay: Duration::from_millis(200),
                max_delay: Duration::from_secs(1),
            });

        let url = config.postgres.url.expose_str().ok_or(StartError::PostgresUrl)?;
        let store_options = StoreOptions {
            max_connections: config.postgres.max_connections,
            acquire_timeout: Duration::from_secs(config.postgres.acquire_timeout_seconds.max(1)),
        };
        let store = Store::connect(url, &store_options).await?;

        let http = TcpListener::bind(config.http.listen).await.map_err(|error| {
            StartError::Bind { address: config.http.listen, reason: error.to_string() }
        })?;
        let ops = OpsServer::bind(&config.ops).await?;
        let state = Arc::new(AppState {
            tenants,
            store,
            publisher,
            publish_timeout,
            metrics,
            limiter: RateLimiter::new(config.rate_limit),
            max_body_bytes: config.http.max_body_bytes,
            vendors,
            vendor_wake: Notify::new(),
        });
        let grace = config.shutdown.grace_period();
        let vendor_sync = config.vendor_sync;
        Ok(Self { state, client, http, ops, grace, bus_metrics, vendor_sync })
    }

    /// Returns the address of the HR endpoints.
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
        let Service { state, client, http, ops, grace, bus_metrics, vendor_sync } = self;
        let mut registry = Registry::with_prefix("rollcall_hr_webhook");
        state.metrics.register(&mut registry);
        bus_metrics.register(&mut registry);
        let ops_server = OpsServer::new(registry, readiness(&state.store), shutdown);

        let mut workers = Workers::new(shutdown);
        workers.spawn("ops", async move { Ok(ops_server.serve(ops).await?) });
        {
            let shutdown = shutdown.clone();
            let router = app::router(state.clone());
            workers.spawn("http", async move {
                let address = http.local_addr().ok();
                tracing::info!(address = ?address, "HR endpoints listening");
                // The peer address is the vendors' allowed-networks check.
                let service = router.into_make_service_with_connect_info::<SocketAddr>();
                axum::serve(http, service)
                    .with_graceful_shutdown(async move { shutdown.triggered().await })
                    .await?;
                Ok(())
            });
        }
        if !state.vendors.is_empty() {
            let (resolver_state, resolver_stop) = (state.clone(), shutdown.clone());
            workers.spawn("vendor-resolver", async move {
                vendors::tasks::run_resolver(resolver_state, vendor_sync, resolver_stop).await
            });
            let (poll_state, poll_stop) = (state.clone(), shutdown.clone());
            workers.spawn("vendor-poll", async move {
                vendors::tasks::run_poll(poll_state, vendor_sync, poll_stop).await
            });
        }
        tracing::info!(
            tenants = state.tenants.len(),
            vendors = state.vendors.len(),
            "HR webhook started"
        );
        let report = workers.run(grace).await;
        // Acked events are in JetStream already, so draining only ends the connection
        // cleanly. It is bounded because a client that never connected cannot drain.
        let _ = tokio::time::timeout(Duration::from_secs(5), client.drain()).await;
        report
    }
}

fn tenants(config: &HrWebhookConfig) -> Result<HashMap<String, TenantAuth>, StartError> {
    let mut tenants = HashMap::new();
    for (name, tenant) in &config.tenants {
        let id = TenantId::new(name)?;
        let keys = tenant
            .webhook_keys
            .iter()
            .map(|key| SigningKey::from_secret(&key.id, key.secret.expose_bytes()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| StartError::Key { tenant: name.clone(), source })?;
        let scim_token_digest = tenant.scim_token.as_ref().map(|token| {
            let digest = ring::digest::digest(&ring::digest::SHA256, token.expose_bytes());
            let mut bytes = [0_u8; 32];
            bytes.copy_from_slice(digest.as_ref());
            bytes
        });
        tenants.insert(name.clone(), TenantAuth { id, keys, scim_token_digest });
    }
    Ok(tenants)
}

/// Builds every tenant's vendor connections, checking each section. Each client counts
/// the 429s it receives in `vendor_throttled_total`.
fn vendor_connections(
    config: &HrWebhookConfig,
    metrics: &HrWebhookMetrics,
) -> Result<VendorConnections, StartError> {
    let mut connections = VendorConnections::new();
    for (tenant, tenant_config) in &config.tenants {
        for (name, vendor) in &tenant_config.vendors {
            let mut connection = vendor.connect(tenant, name)?;
            let throttled = metrics.vendor_throttled(connection.vendor.as_str());
            connection.client.on_throttled(move || {
                throttled.inc();
            });
            connections.insert((tenant.clone(), connection.vendor), Arc::new(connection));
        }
    }
    Ok(connections)
}

/// Builds the readiness checks: PostgreSQL only. NATS is left out because events are
/// committed and acknowledged while NATS is down, so the service must keep receiving traffic.
fn readiness(store: &Store) -> Readiness {
    let mut readiness = Readiness::new();
    let store = store.clone();
    readiness.add("postgres", PROBE_TIMEOUT, move || {
        let store = store.clone();
        async move { store.ping().await.map_err(CheckFailure::from) }
    });
    readiness
}
