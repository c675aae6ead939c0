//! The pause of one vendor connection after a 429.
//!
//! A vendor's rate limit counts the requests of the whole account, so a 429 on one
//! request means every request of the connection is over the limit. The client therefore
//! pauses the connection: until the `Retry-After` instant when the vendor sends one,
//! otherwise for an exponential backoff with jitter that doubles with each 429 in a row.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ring::rand::{SecureRandom as _, SystemRandom};

/// The maximum pause one 429 sets: a day. A longer `Retry-After` is cut to it, so that a
/// wrong header cannot stop a connection's reads for good and the end of the pause
/// stays a representable instant.
pub const MAX_PAUSE: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Debug, Default)]
struct PauseState {
    /// The end of the pause; it may lie in the past.
    until: Option<Instant>,
    /// The number of 429 responses since the last other response.
    streak: u32,
}

/// One connection's pause, shared by every call of its client.
#[derive(Debug)]
pub(crate) struct Throttle {
    state: Mutex<PauseState>,
    first_backoff: Duration,
    max_backoff: Duration,
    random: SystemRandom,
}

impl Throttle {
    /// Builds an unpaused throttle whose backoff without `Retry-After` starts at
    /// `first_backoff` and doubles up to `max_backoff`.
    pub(crate) fn new(first_backoff: Duration, max_backoff: Duration) -> Self {
        Self {
            state: Mutex::new(PauseState::default()),
            first_backoff,
            max_backoff,
            random: SystemRandom::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, PauseState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a 429 and pauses the connection for `retry_after`, or for the backoff of
    /// the current streak of 429s when the vendor sent no `Retry-After`. A pause already
    /// running that ends later is kept. Returns the pause this 429 requests, at most
    /// [`MAX_PAUSE`].
    pub(crate) fn record(&self, retry_after: Option<Duration>) -> Duration {
        let mut state = self.lock();
        state.streak = state.streak.saturating_add(1);
        let pause = retry_after.unwrap_or_else(|| self.backoff(state.streak)).min(MAX_PAUSE);
        let end = Instant::now().checked_add(pause);
        state.until = match (state.until, end) {
            (Some(current), Some(end)) => Some(current.max(end)),
            (current, end) => end.or(current),
        };
        pause
    }

    /// Ends the streak of 429s, after a response with another status.
    pub(crate) fn reset_streak(&self) {
        self.lock().streak = 0;
    }

    /// Returns the time left until the pause ends, or `None` when the connection is not
    /// paused.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        let until = self.lock().until?;
        until.checked_duration_since(Instant::now()).filter(|left| !left.is_zero())
    }

    /// Returns the backoff after the `streak`-th 429 in a row: half of the exponential
    /// wait plus a random part of the other half ("equal jitter"), so connections
    /// throttled at the same moment do not all send again at the same moment.
    fn backoff(&self, streak: u32) -> Duration {
        let factor = 2_u32.saturating_pow(streak.saturating_sub(1));
        let full = self.first_backoff.saturating_mul(factor).min(self.max_backoff);
        let half = full / 2;
        half + half.mul_f64(self.random_fraction())
    }

    /// Returns a random number in [0, 1], or 1 when the system's generator fails.
    fn random_fraction(&self) -> f64 {
        let mut bytes = [0_u8; 4];
        if self.random.fill(&mut bytes).is_err() {
            return 1.0;
        }
        f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
    }
}

/// A callback the client runs for each 429 response it receives, such as a metric's
/// increment. It runs on the calling task, so it must not block.
pub(crate) struct ThrottleObserver(pub(crate) Box<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for ThrottleObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ThrottleObserver")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(Duration::from_millis(400), Duration::from_secs(30))
    }

    #[test]
    fn retry_after_sets_pause() {
        let throttle = throttle();
        assert_eq!(throttle.remaining(), None);
        assert_eq!(throttle.record(Some(Duration::from_secs(5))), Duration::from_secs(5));
        let left = throttle.remaining().unwrap();
        assert!(left <= Duration::from_secs(5), "{left:?}");
        assert!(left > Duration::from_secs(4), "{left:?}");
    }

    #[test]
    fn shorter_pause_keeps_longer_one() {
        let throttle = throttle();
        throttle.record(Some(Duration::from_secs(60)));
        throttle.record(Some(Duration::ZERO));
        assert!(throttle.remaining().unwrap() > Duration::from_secs(59));
    }

    #[test]
    fn zero_retry_after_does_not_pause() {
        let throttle = throttle();
        assert_eq!(throttle.record(Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(throttle.remaining(), None);
    }

    #[test]
    fn huge_retry_after_cut_to_a_day() {
        let throttle = throttle();
        assert_eq!(throttle.record(Some(Duration::from_secs(u64::MAX))), MAX_PAUSE);
        assert!(throttle.remaining().unwrap() <= MAX_PAUSE);
    }

    #[test]
    fn backoff_doubles_within_jitter_bounds() {
        let throttle = throttle();
        // 400 ms, 800 ms, 1.6 s, ... up to 30 s, each between half and all of it.
        for streak in 1..=12_u32 {
            let pause = throttle.record(None);
            let full = Duration::from_millis(400)
                .saturating_mul(2_u32.pow(streak - 1))
                .min(Duration::from_secs(30));
            assert!(pause >= full / 2, "streak {streak}: {pause:?}");
            assert!(pause <= full, "streak {streak}: {pause:?}");
        }
        throttle.reset_streak();
        assert!(throttle.record(None) <= Duration::from_millis(400));
    }
}
