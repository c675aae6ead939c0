//! Per-tenant scheduling: each tenant syncs on its own interval with jitter, and never
//! twice at the same time.

use std::collections::BTreeSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Returns the wait before a tenant's next sync: `interval` plus or minus up to 10 %,
/// so tenants that start together drift apart and do not meet Graph's per-app limit at
/// the same moment. `seed` varies the draw (a counter or the tenant's name).
pub fn jittered(interval: Duration, seed: &str) -> Duration {
    let tenth = interval / 10;
    let span = tenth.as_millis().saturating_mul(2) as u64;
    if span == 0 {
        return interval;
    }
    let draw = RandomState::new().hash_one(seed) % (span + 1);
    interval - tenth + Duration::from_millis(draw)
}

/// Returns the wait before a tenant's first sync: a random share of `interval`, at most
/// five minutes, so a restart does not sync every tenant at once.
pub fn first_delay(interval: Duration, tenant: &str) -> Duration {
    let window = interval.min(Duration::from_secs(300));
    let span = window.as_millis() as u64;
    if span == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(RandomState::new().hash_one(tenant) % span)
}

/// The tenants whose sync is running. Clones share the set.
#[derive(Debug, Clone, Default)]
pub struct RunningSyncs {
    running: Arc<Mutex<BTreeSet<String>>>,
}

/// Marks a tenant's sync as running until dropped.
#[derive(Debug)]
pub struct SyncGuard {
    running: Arc<Mutex<BTreeSet<String>>>,
    tenant: String,
}

impl RunningSyncs {
    /// Creates an empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `tenant` as running, or returns `None` when its sync is already running.
    pub fn try_start(&self, tenant: &str) -> Option<SyncGuard> {
        let mut running = self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !running.insert(tenant.to_owned()) {
            return None;
        }
        Some(SyncGuard { running: Arc::clone(&self.running), tenant: tenant.to_owned() })
    }
}

impl Drop for SyncGuard {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        running.remove(&self.tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        let interval = Duration::from_secs(600);
        for n in 0..200 {
            let wait = jittered(interval, &format!("tenant-{n}"));
            assert!(wait >= Duration::from_secs(540), "{wait:?}");
            assert!(wait <= Duration::from_secs(660), "{wait:?}");
        }
    }

    #[test]
    fn jitter_varies() {
        let interval = Duration::from_secs(600);
        let waits: BTreeSet<Duration> =
            (0..50).map(|n| jittered(interval, &n.to_string())).collect();
        assert!(waits.len() > 10, "only {} distinct waits", waits.len());
    }

    #[test]
    fn first_delay_within_five_minutes() {
        for n in 0..100 {
            let wait = first_delay(Duration::from_secs(6 * 3600), &format!("t{n}"));
            assert!(wait < Duration::from_secs(300), "{wait:?}");
        }
    }

    #[test]
    fn one_sync_per_tenant() {
        let running = RunningSyncs::new();
        let first = running.try_start("harborview");
        assert!(first.is_some());
        assert!(running.try_start("harborview").is_none());
        assert!(running.try_start("lakeside").is_some());
        drop(first);
        assert!(running.try_start("harborview").is_some());
    }
}
