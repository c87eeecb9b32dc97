//! Delivery statistics of the HTTP transport (the type lives in
//! `vigil-core` so that clients can report it).

use std::time::{Duration, Instant, SystemTime};

use vigil_core::protocol::DataCategory;

use crate::rate_limit::ActiveLimits;

/// Turns remaining durations into wall-clock deadlines.
pub(crate) fn deadlines(
    active: ActiveLimits,
    measured_at: Instant,
) -> (Option<SystemTime>, Vec<(DataCategory, SystemTime)>) {
    let now = SystemTime::now();
    // Time passed since `active` was measured is subtracted.
    let at = |remaining: Duration| {
        let remaining = remaining.saturating_sub(measured_at.elapsed());
        now.checked_add(remaining).unwrap_or(now)
    };
    (
        active.all.map(at),
        active
            .categories
            .into_iter()
            .map(|(c, d)| (c, at(d)))
            .collect(),
    )
}
