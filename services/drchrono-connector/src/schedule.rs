//! Per-tenant scheduling: each tenant syncs on its own interval with jitter.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

/// Returns the wait before a tenant's next sync: `interval` plus or minus up to 10 %, so
/// practices that start together drift apart. `seed` varies the draw.
pub fn jittered(interval: Duration, seed: &str) -> Duration {
    let tenth = interval / 10;
    let span = u64::try_from(tenth.as_millis().saturating_mul(2)).unwrap_or(u64::MAX);
    if span == 0 {
        return interval;
    }
    let draw = RandomState::new().hash_one(seed) % (span + 1);
    interval - tenth + Duration::from_millis(draw)
}

/// Returns the wait before a tenant's first sync: a random share of `window`, so a
/// restart does not sync every practice at once.
pub fn first_delay(window: Duration, tenant: &str) -> Duration {
    let span = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
    if span == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(RandomState::new().hash_one(tenant) % span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_within_ten_percent() {
        let interval = Duration::from_secs(3_600);
        for n in 0..200 {
            let wait = jittered(interval, &format!("practice-{n}"));
            assert!(wait >= Duration::from_secs(3_240), "{wait:?}");
            assert!(wait <= Duration::from_secs(3_960), "{wait:?}");
        }
    }

    #[test]
    fn first_delay_within_window() {
        for n in 0..100 {
            let wait = first_delay(Duration::from_secs(300), &format!("t{n}"));
            assert!(wait < Duration::from_secs(300), "{wait:?}");
        }
        assert_eq!(first_delay(Duration::ZERO, "t"), Duration::ZERO);
    }
}
