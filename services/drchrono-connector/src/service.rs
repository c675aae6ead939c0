//! The running service: one loop per tenant that syncs on the interval with jitter and
//! publishes each attempt.

use std::sync::Arc;
use std::time::Duration;

use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_store::Store;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::client::ApiClient;
use crate::config::{ConnectorConfig, TenantConfig};
use crate::metrics::ConnectorMetrics;
use crate::oauth::TokenSource;
use crate::publish::{Attempt, TenantSync, sync_and_publish};
use crate::schedule::jittered;

/// The name of the per-tenant advisory lock that keeps two replicas from spending the
/// same refresh token.
pub const SYNC_LOCK: &str = "drchrono-sync";

/// The state that every tenant's loop shares.
#[derive(Clone)]
pub struct Shared {
    /// The checked configuration.
    pub config: Arc<ConnectorConfig>,
    /// The HTTP client.
    pub http: reqwest::Client,
    /// The store with the refresh tokens and published hashes.
    pub store: Store,
    /// The bus publisher.
    pub publisher: Publisher,
    /// The connector's metrics.
    pub metrics: ConnectorMetrics,
}

/// Syncs `tenant` until `stop` is cancelled: first after `first_wait`, then after each
/// jittered interval. A shutdown stops the waits, not a sync that has started; the
/// runtime's grace period bounds that one.
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
        let span = rollcall_runtime::work_span(
            "drchrono_sync",
            Some(&tenant.tenant),
            Some("ehr:drchrono"),
        );
        let _ = sync_tenant(&shared, &tenant).instrument(span).await;
        wait = jittered(interval, &format!("{}-{round}", tenant.tenant));
        tracing::debug!(tenant = %tenant.tenant, source = "ehr:drchrono", wait_seconds = wait.as_secs(), "next sync scheduled");
    }
}

/// Runs one published sync of `tenant` under the tenant's advisory lock. Returns `None`
/// when no attempt ran: the tenant id or time zone is invalid, the lock is held by
/// another replica, or the store is unreachable.
pub async fn sync_tenant(shared: &Shared, tenant: &TenantConfig) -> Option<Attempt> {
    let config = &shared.config;
    let name = tenant.tenant.as_str();
    let (id, zone) = match (TenantId::new(name), tenant.time_zone.parse::<chrono_tz::Tz>()) {
        (Ok(id), Ok(zone)) => (id, zone),
        _ => {
            shared.metrics.record_failure(name);
            tracing::error!(
                tenant = name,
                source = "ehr:drchrono",
                "the tenant id or time zone is invalid; fix `tenants[]`"
            );
            return None;
        }
    };
    let lock = match shared.store.try_advisory_lock(SYNC_LOCK, &id).await {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            tracing::warn!(
                tenant = name,
                source = "ehr:drchrono",
                "another replica is syncing this tenant; skipping this round"
            );
            return None;
        }
        Err(error) => {
            shared.metrics.record_failure(name);
            tracing::error!(tenant = name, source = "ehr:drchrono", %error, "the sync lock could not be taken; skipping this round");
            return None;
        }
    };

    let tokens = TokenSource {
        tenant: name.to_owned(),
        token_url: config.token_url.clone(),
        client_id: tenant.client_id.clone(),
        client_secret: &tenant.client_secret,
        refresh_token_file: tenant.refresh_token_file.clone(),
        scope: shared.store.tenant(&id),
    };
    let mut client = ApiClient::new(&shared.http, &config.api_url, tokens, config.limits.clone());
    let job = TenantSync {
        tenant: &id,
        scope: shared.store.tenant(&id),
        publisher: &shared.publisher,
        metrics: &shared.metrics,
        zone,
        login_window_days: config.login_window_days,
        page_size: config.limits.page_size,
    };
    let attempt = sync_and_publish(&mut client, &job).await;
    lock.release().await;
    Some(attempt)
}
