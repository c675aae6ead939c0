//! A token bucket per tenant.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::RateLimitConfig;

/// Token buckets by tenant id. A bucket contains at most `burst` tokens and gains
/// `per_minute` tokens each minute, evenly. Each request takes one.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// Creates the limiter; a rate or burst of 0 counts as 1.
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            per_second: f64::from(config.per_minute.max(1)) / 60.0,
            burst: f64::from(config.burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from `tenant`'s bucket at `now`, or returns how long until one is
    /// there.
    pub fn take(&self, tenant: &str, now: Instant) -> Result<(), Duration> {
        // A poisoned lock only means another request panicked while holding it; the
        // buckets are still consistent numbers.
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket =
            buckets.entry(tenant.to_owned()).or_insert(Bucket { tokens: self.burst, at: now });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / self.per_second))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills() {
        let limiter = RateLimiter::new(RateLimitConfig { per_minute: 120, burst: 3 });
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limiter.take("a", start).is_ok());
        }
        let wait = limiter.take("a", start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        // Another tenant has its own bucket.
        assert!(limiter.take("b", start).is_ok());
        assert!(limiter.take("a", start + Duration::from_millis(500)).is_ok());
        assert!(limiter.take("a", start + Duration::from_millis(500)).is_err());
    }
}
