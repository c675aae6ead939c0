//! The running service: one loop per tenant that syncs on the tenant's interval with
//! jitter and publishes each attempt.

use std::sync::Arc;
use std::time::Duration;

use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_store::Store;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::auth::Credential;
use crate::client::GraphClient;
use crate::config::{ConnectorConfig, TenantConfig};
use crate::metrics::ConnectorMetrics;
use crate::publish::{Attempt, Stage, TenantSync, fail, sync_and_publish};
use crate::schedule::{RunningSyncs, jittered};
use crate::transport::HttpTransport;

/// The state that every tenant's loop shares.
#[derive(Clone)]
pub struct Shared {
    /// The checked configuration.
    pub config: Arc<ConnectorConfig>,
    /// The HTTP client.
    pub transport: Arc<HttpTransport>,
    /// The store with the delta state.
    pub store: Store,
    /// The bus publisher.
    pub publisher: Publisher,
    /// The connector's metrics.
    pub metrics: ConnectorMetrics,
    /// The tenants whose sync is running.
    pub running: RunningSyncs,
}

/// Syncs `tenant` until `stop` is cancelled: first after `first_wait`, then after each
/// jittered interval. A sync that has started runs to its end, because a shutdown only
/// stops the waits; the runtime's grace period bounds it, and a sync aborted there saves
/// no delta state.
pub async fn run_tenant(
    shared: Shared,
    tenant: TenantConfig,
    first_wait: Duration,
    stop: CancellationToken,
) {
    let interval = Duration::from_secs(shared.config.interval_minutes.max(1) * 60);
    let mut wait = first_wait;
    let mut round: u64 = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        round += 1;
        match shared.running.try_start(&tenant.tenant) {
            Some(_guard) => {
                let span =
                    rollcall_runtime::work_span("entra_sync", Some(&tenant.tenant), Some("entra"));
                let _ = sync_tenant(&shared, &tenant).instrument(span).await;
            }
            None => tracing::warn!(
                tenant = %tenant.tenant,
                source = "entra",
                "the previous sync of this tenant is still running; skipping this round"
            ),
        }
        wait = jittered(interval, &format!("{}-{round}", tenant.tenant));
        tracing::debug!(tenant = %tenant.tenant, source = "entra", wait_seconds = wait.as_secs(), "next sync scheduled");
    }
}

/// Runs one published sync of `tenant`. An unreadable credential ends in a FAILED
/// report. Returns `None` only for an invalid tenant id, which cannot be published on
/// and is logged and counted instead.
pub async fn sync_tenant(shared: &Shared, tenant: &TenantConfig) -> Option<Attempt> {
    let config = &shared.config;
    let name = tenant.tenant.as_str();
    let id = match TenantId::new(name) {
        Ok(id) => id,
        Err(error) => {
            shared.metrics.record_failure(name);
            tracing::error!(tenant = name, source = "entra", %error, "the tenant id is invalid; fix `tenants[].tenant`");
            return None;
        }
    };
    let job = TenantSync {
        tenant: &id,
        scope: shared.store.tenant(&id),
        publisher: &shared.publisher,
        metrics: &shared.metrics,
        graph_url: &config.graph_url,
        max_full_read_age: chrono::Duration::hours(i64::from(config.full_read_hours)),
    };
    // `check` made sure that every tenant names a configured app.
    let app = config.apps.get(&tenant.app)?;
    let credential = match Credential::load(&tenant.app, app) {
        Ok(credential) => credential,
        Err(error) => {
            let input = format!("apps.{}", tenant.app);
            let attempt =
                fail(&job, chrono::Utc::now(), Stage::Credential, &input, error.to_string()).await;
            return Some(attempt);
        }
    };
    let mut client = GraphClient::new(
        shared.transport.as_ref(),
        &config.authority_url,
        &tenant.directory_id,
        &app.client_id,
        &credential,
        config.limits.clone(),
    );
    Some(sync_and_publish(&mut client, &job).await)
}
