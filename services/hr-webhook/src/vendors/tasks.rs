//! The background loops of the vendor connections: the resolver, and the poll with ADP's
//! queue. Both stop when the shutdown starts; a pass in progress is cut, which loses
//! nothing, because deliveries stay committed until they are resolved.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rollcall_hr_vendors::{LookupError, Vendor};
use rollcall_runtime::Shutdown;
use rollcall_runtime::shutdown::WorkerError;

use super::poll::PollError;
use super::{poll, resolve};
use crate::app::AppState;
use crate::config::VendorSyncConfig;

/// Resolves due deliveries, then waits for a new delivery or the interval.
pub async fn run_resolver(
    state: Arc<AppState>,
    config: VendorSyncConfig,
    shutdown: Shutdown,
) -> Result<(), WorkerError> {
    let interval = Duration::from_secs(config.resolve_interval_seconds.max(1));
    let seconds = i64::try_from(config.retry_first_wait_seconds.max(1)).unwrap_or(3600);
    let first_retry_wait = chrono::TimeDelta::seconds(seconds);
    loop {
        let busy = tokio::select! {
            () = shutdown.triggered() => return Ok(()),
            pass = resolve::resolve_due(&state, Utc::now(), first_retry_wait) => match pass {
                Ok(pass) => pass.resolved + pass.retried > 0,
                Err(error) => {
                    tracing::warn!(error = %error, "vendor deliveries not read from the store; retrying at the next pass");
                    false
                }
            },
        };
        if busy {
            // More may be due than one pass takes.
            continue;
        }
        tokio::select! {
            () = shutdown.triggered() => return Ok(()),
            () = state.vendor_wake.notified() => {}
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Pulls ADP's queues and checks which worker lists are due every queue interval (or
/// poll interval, if shorter). A list is due one poll interval after its last poll,
/// which the store keeps, so a restart does not postpone it. A connection never polled
/// is first due one poll interval after the start.
pub async fn run_poll(
    state: Arc<AppState>,
    config: VendorSyncConfig,
    shutdown: Shutdown,
) -> Result<(), WorkerError> {
    let poll_interval = Duration::from_secs(config.poll_interval_seconds.max(1));
    let queue_interval = Duration::from_secs(config.queue_interval_seconds.max(1));
    let started = Utc::now();
    loop {
        tokio::select! {
            () = shutdown.triggered() => return Ok(()),
            () = pass(&state, started, poll_interval) => {}
        }
        tokio::select! {
            () = shutdown.triggered() => return Ok(()),
            () = tokio::time::sleep(queue_interval.min(poll_interval)) => {}
        }
    }
}

async fn pass(state: &AppState, started: DateTime<Utc>, poll_interval: Duration) {
    let interval = chrono::TimeDelta::from_std(poll_interval).unwrap_or(chrono::TimeDelta::days(1));
    for ((tenant, vendor), connection) in &state.vendors {
        let Some(auth) = state.tenants.get(tenant) else { continue };
        let now = Utc::now();
        if *vendor == Vendor::AdpWorkforceNow
            && let Err(error) = poll::pull_adp_queue(state, &auth.id, connection, now).await
        {
            log_poll_failure(tenant, *vendor, "ADP event queue not read", &error);
        }
        let last = match state.store.tenant(&auth.id).last_vendor_poll(vendor.as_str()).await {
            Ok(last) => last,
            Err(error) => {
                tracing::warn!(tenant = %tenant, vendor = %vendor, error = %error, "last vendor poll not read; retrying at the next pass");
                continue;
            }
        };
        // NOTE: a list that is empty, or a poll that fails, records no delivery, so it is
        // tried again at every pass until one succeeds with workers.
        if now < last.unwrap_or(started) + interval {
            continue;
        }
        if let Err(error) =
            poll::poll_vendor(state, &auth.id, connection, poll_interval, last, now).await
        {
            log_poll_failure(tenant, *vendor, "vendor worker list not polled", &error);
        }
    }
}

/// Logs a failed poll or queue read. A connection paused after a 429 is expected to skip
/// passes until the pause ends, so that case is logged at info level.
fn log_poll_failure(tenant: &str, vendor: Vendor, summary: &str, error: &PollError) {
    if let PollError::Vendor(LookupError::Paused { .. }) = error {
        tracing::info!(tenant, vendor = %vendor, error = %error, "{summary}: the connection is paused after a 429; retrying at the next pass");
    } else {
        tracing::warn!(tenant, vendor = %vendor, error = %error, "{summary}; retrying at the next pass");
    }
}
