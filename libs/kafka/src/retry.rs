//! Exponential backoff with jitter, so replicas retrying against one struggling peer spread out.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// No retry waits longer than this, however many attempts came before.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The delay before retry number `retry` (1 for the first): `base * 2^(retry - 1)`, capped at
/// 30s, then a random point in the upper half of that, so a retry always waits a while.
pub(crate) fn backoff(base: Duration, retry: u32) -> Duration {
    capped_backoff(base, retry, MAX_BACKOFF)
}

/// [`backoff`] with a cap of `cap` instead of 30s.
pub(crate) fn capped_backoff(base: Duration, retry: u32, cap: Duration) -> Duration {
    let factor = 1u32
        .checked_shl(retry.saturating_sub(1))
        .unwrap_or(u32::MAX);
    let ceiling = base.saturating_mul(factor).min(cap);
    let half = ceiling / 2;
    half + random_up_to(ceiling - half)
}

fn random_up_to(limit: Duration) -> Duration {
    let nanos = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
    // Without entropy the delay loses its spread, not its length.
    let random = getrandom::u64().unwrap_or(0);
    Duration::from_nanos(random.checked_rem(nanos.saturating_add(1)).unwrap_or(0))
}

/// Sleeps for `delay` unless `stop` comes first; returns whether it was stopped.
pub(crate) async fn sleep_or_stop(delay: Duration, stop: &CancellationToken) -> bool {
    tokio::select! {
        () = stop.cancelled() => true,
        () = tokio::time::sleep(delay) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_within_their_jitter_and_stop_at_the_cap() {
        let base = Duration::from_millis(200);
        for _ in 0..100 {
            let first = backoff(base, 1);
            assert!(
                (Duration::from_millis(100)..=base).contains(&first),
                "{first:?}"
            );
            let third = backoff(base, 3);
            let range = Duration::from_millis(400)..=Duration::from_millis(800);
            assert!(range.contains(&third), "{third:?}");
            let late = backoff(base, 40);
            assert!((MAX_BACKOFF / 2..=MAX_BACKOFF).contains(&late), "{late:?}");
        }
    }
}
