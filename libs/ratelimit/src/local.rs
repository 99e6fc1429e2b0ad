//! The per-replica fallback: governor's keyed GCRA, with a key space bounded by construction.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{RateLimiter, clock::DefaultClock};

use crate::{Decision, Quota};

/// How often the fallback drops buckets that are full again and returns their memory.
const SWEEP_EVERY: Duration = Duration::from_secs(10);

type Keyed =
    RateLimiter<u32, DefaultKeyedStateStore<u32>, DefaultClock, StateInformationMiddleware>;

/// One class's in-process limiter. Clients are hashed into `buckets` keys (the same SHA-256
/// of the client as the Redis key), so a flood of distinct clients cannot hold more than
/// `buckets` entries: memory is bounded whatever arrives. Clients sharing a bucket share its
/// quota, which can only make their limit tighter, never looser.
pub(crate) struct LocalLimiter {
    limiter: Keyed,
    buckets: u32,
    epoch: Instant,
    /// Milliseconds after `epoch` of the last sweep.
    last_sweep: AtomicU64,
}

impl LocalLimiter {
    pub(crate) fn new(quota: Quota, buckets: u32) -> Self {
        let burst = NonZeroU32::new(quota.requests).unwrap_or(NonZeroU32::MIN);
        let interval = Duration::from_micros(quota.emission_interval_us().max(1));
        let governor_quota = governor::Quota::with_period(interval)
            .unwrap_or(governor::Quota::per_second(burst))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::dashmap(governor_quota).with_middleware(),
            buckets: buckets.max(1),
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
        }
    }

    pub(crate) fn check(&self, class: &Arc<str>, quota: Quota, digest: &[u8; 32]) -> Decision {
        self.sweep_now_and_then();
        let [a, b, c, d, ..] = *digest;
        let bucket = u32::from_be_bytes([a, b, c, d]) % self.buckets;
        let interval = quota.emission_interval();
        let used = |remaining: u32| interval * quota.requests.saturating_sub(remaining);
        match self.limiter.check_key(&bucket) {
            Ok(state) => {
                let remaining = state.remaining_burst_capacity();
                Decision {
                    class: class.clone(),
                    quota,
                    allowed: true,
                    remaining,
                    reset_after: used(remaining),
                    retry_after: None,
                    local: true,
                }
            }
            Err(not_until) => {
                let retry = not_until.wait_time_from(Instant::now());
                Decision {
                    class: class.clone(),
                    quota,
                    allowed: false,
                    remaining: 0,
                    reset_after: retry + used(1),
                    retry_after: Some(retry),
                    local: true,
                }
            }
        }
    }

    /// Forgets buckets that are full again (indistinguishable from new ones) and gives their
    /// memory back, at most once per [`SWEEP_EVERY`], by whichever caller comes first.
    pub(crate) fn sweep_now_and_then(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_sweep.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= SWEEP_EVERY.as_millis() as u64;
        if due
            && self
                .last_sweep
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.limiter.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_distinct_clients_holds_at_most_the_bucket_count() {
        let local = LocalLimiter::new(Quota::per_minute(600), 1024);
        let class: Arc<str> = "reads".into();
        for i in 0u32..20_000 {
            let mut digest = [0u8; 32];
            digest[..4].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
            local.check(&class, Quota::per_minute(600), &digest);
        }
        assert!(local.len() <= 1024, "{} entries", local.len());
    }

    #[test]
    fn the_fallback_limits_a_burst() {
        let quota = Quota::new(3, Duration::from_secs(60));
        let local = LocalLimiter::new(quota, 1024);
        let class: Arc<str> = "auth".into();
        let digest = [7u8; 32];
        let remaining: Vec<_> = (0..3)
            .map(|_| local.check(&class, quota, &digest).remaining)
            .collect();
        assert_eq!(remaining, [2, 1, 0]);
        let refused = local.check(&class, quota, &digest);
        assert!(!refused.allowed);
        let retry = refused.retry_after.unwrap();
        assert!(retry > Duration::from_secs(19) && retry <= Duration::from_secs(20));
    }
}
