//! Jitter for the pauses of the HTTP transport: between retries of one
//! request, and between probes of an unreachable server.

use std::time::Duration;

/// Between half and all of `delay`, at random.
pub(crate) fn jitter(delay: Duration) -> Duration {
    let half = delay / 2;
    let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
    half.saturating_add(Duration::from_micros(fastrand::u64(0..=spread)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_half_and_whole() {
        for _ in 0..100 {
            let d = jitter(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(50) && d <= Duration::from_millis(100));
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }
}
