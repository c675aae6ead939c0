//! The sync schedule: each directory syncs on its own interval with random jitter, retries
//! a failed sync with exponential backoff, and no tenant runs two syncs at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rollcall_bus::Publisher;
use rollcall_core::TenantId;
use rollcall_proto::SyncOutcome;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::Directory;
use crate::metrics::SyncMetrics;
use crate::sync::sync_once;

/// The first retry after a failed sync; each further failure doubles it, up to the
/// directory's interval.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(30);

/// Returns a random duration from zero to `max`, from the operating system's random source
/// (a version 4 UUID contains 122 random bits).
pub fn jitter(max: Duration) -> Duration {
    let millis = max.as_millis();
    if millis == 0 {
        return Duration::ZERO;
    }
    let random = uuid::Uuid::new_v4().as_u128();
    let offset = u64::try_from(random % (millis + 1)).unwrap_or(u64::MAX);
    Duration::from_millis(offset)
}

/// Returns the wait after a sync: the interval after a success, otherwise the backoff for the
/// number of failures in a row, never longer than the interval. Jitter comes on top.
pub fn next_wait(interval: Duration, failures: u32) -> Duration {
    if failures == 0 {
        return interval;
    }
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    FIRST_BACKOFF.saturating_mul(factor).min(interval)
}

/// Returns the wait before the next sync: [`next_wait`] plus a random jitter from zero to
/// `jitter_max`.
pub fn wait_after(interval: Duration, failures: u32, jitter_max: Duration) -> Duration {
    next_wait(interval, failures).saturating_add(jitter(jitter_max))
}

/// One lock per tenant, so that two directories of one tenant never sync at the same time.
#[derive(Debug, Clone, Default)]
pub struct TenantLocks {
    locks: HashMap<TenantId, Arc<Mutex<()>>>,
}

impl TenantLocks {
    /// Creates a lock for every tenant of `directories`.
    pub fn new(directories: &[Directory]) -> Self {
        let mut locks = HashMap::new();
        for directory in directories {
            locks.entry(directory.tenant.clone()).or_insert_with(|| Arc::new(Mutex::new(())));
        }
        Self { locks }
    }

    /// Returns the lock of `tenant`, shared by its directories.
    pub fn get(&self, tenant: &TenantId) -> Arc<Mutex<()>> {
        self.locks.get(tenant).cloned().unwrap_or_else(|| Arc::new(Mutex::new(())))
    }
}

/// Syncs `directory` until `stop` is cancelled: first after a random part of the jitter,
/// then after each interval (or backoff) plus jitter. A sync in progress is finished
/// before the loop returns, so no half-published snapshot is left behind by a shutdown.
pub async fn run_directory(
    directory: Directory,
    publisher: Publisher,
    metrics: SyncMetrics,
    lock: Arc<Mutex<()>>,
    stop: CancellationToken,
) {
    let mut wait = jitter(directory.jitter);
    let mut failures: u32 = 0;
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        let report = {
            let _turn = tokio::select! {
                () = stop.cancelled() => return,
                guard = lock.lock() => guard,
            };
            let span = rollcall_runtime::work_span(
                "ldap_sync",
                Some(directory.tenant.as_str()),
                Some(&directory.source.to_string()),
            );
            sync_once(&directory, &publisher, &metrics).instrument(span).await
        };
        failures = match report.outcome {
            SyncOutcome::Ok => 0,
            SyncOutcome::Failed => failures.saturating_add(1),
        };
        wait = wait_after(directory.interval, failures, directory.jitter);
        tracing::debug!(
            tenant = %directory.tenant,
            source = %directory.source,
            failures,
            wait_seconds = wait.as_secs(),
            "next sync scheduled"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{FIRST_BACKOFF, jitter, next_wait, wait_after};

    #[test]
    fn backoff_doubles_up_to_interval() {
        let hour = Duration::from_secs(3600);
        assert_eq!(next_wait(hour, 0), hour);
        assert_eq!(next_wait(hour, 1), FIRST_BACKOFF);
        assert_eq!(next_wait(hour, 2), FIRST_BACKOFF * 2);
        assert_eq!(next_wait(hour, 4), FIRST_BACKOFF * 8);
        assert_eq!(next_wait(hour, 10), hour);
        assert_eq!(next_wait(hour, u32::MAX), hour);
    }

    #[test]
    fn jitter_stays_within_bound() {
        let max = Duration::from_secs(300);
        let draws: Vec<Duration> = (0..200).map(|_| jitter(max)).collect();
        assert!(draws.iter().all(|draw| *draw <= max));
        let first = draws.first().copied().unwrap_or_default();
        assert!(draws.iter().any(|draw| *draw != first), "200 draws were all {first:?}");
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn retry_wait_grows_capped_jittered() {
        let interval = Duration::from_secs(3600);
        let jitter_max = Duration::from_secs(300);
        let mut previous = Duration::ZERO;
        for failures in 1..=40u32 {
            let backoff = next_wait(interval, failures);
            assert!(backoff >= previous, "failure {failures}: {backoff:?} < {previous:?}");
            assert!(backoff <= interval, "failure {failures}: {backoff:?} above the interval");
            assert!(backoff >= FIRST_BACKOFF, "failure {failures}: {backoff:?}");
            previous = backoff;
            for _ in 0..20 {
                let wait = wait_after(interval, failures, jitter_max);
                assert!(wait >= backoff, "failure {failures}: {wait:?} below {backoff:?}");
                assert!(wait <= backoff + jitter_max, "failure {failures}: {wait:?} too long");
            }
        }
        assert_eq!(previous, interval, "the backoff reaches the interval and stays there");

        // An interval below the first backoff caps every retry at the interval.
        let short = Duration::from_secs(10);
        for failures in [1, 2, 30] {
            assert_eq!(next_wait(short, failures), short);
        }
        assert_eq!(wait_after(short, 3, Duration::ZERO), short, "no jitter configured");
        let waits: Vec<Duration> =
            (0..200).map(|_| wait_after(short, 3, Duration::from_secs(60))).collect();
        let first = waits.first().copied().unwrap_or_default();
        assert!(waits.iter().any(|wait| *wait != first), "200 waits were all {first:?}");
    }
}
