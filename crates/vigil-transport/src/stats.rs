//! Delivery statistics of the HTTP transport (the type lives in
//! `vigil-core` so that clients can report it): the counters and rate
//! limits its handle and its sender share, and the snapshot taken from
//! them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use vigil_core::protocol::DataCategory;
use vigil_core::{DeliveryStats, LossRecorder};

use crate::rate_limit::{ActiveLimits, RateLimits};

/// Counters and limits shared by the transport handle and its worker.
#[derive(Debug, Default)]
pub(crate) struct DeliveryState {
    limits: RateLimits,
    envelopes_sent: AtomicU64,
    events_sent: AtomicU64,
    client_reports_sent: AtomicU64,
}

impl DeliveryState {
    /// The rate limits in force.
    pub(crate) fn limits(&self) -> &RateLimits {
        &self.limits
    }

    /// Counts one envelope the server accepted, holding `events` events
    /// and, when `with_report`, a client report.
    pub(crate) fn count_accepted(&self, events: u64, with_report: bool) {
        self.envelopes_sent.fetch_add(1, Ordering::Relaxed);
        self.events_sent.fetch_add(events, Ordering::Relaxed);
        if with_report {
            self.client_reports_sent.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// What was delivered and dropped so far (drops as `recorder` counted
    /// them), and the rate limits in force.
    pub(crate) fn snapshot(&self, recorder: &LossRecorder) -> DeliveryStats {
        let measured_at = Instant::now();
        let (rate_limited_all_until, rate_limited) =
            deadlines(self.limits.active(measured_at), measured_at);
        let mut stats = DeliveryStats::default();
        stats.envelopes_sent = self.envelopes_sent.load(Ordering::Relaxed);
        stats.events_sent = self.events_sent.load(Ordering::Relaxed);
        stats.client_reports_sent = self.client_reports_sent.load(Ordering::Relaxed);
        stats.dropped = recorder.totals();
        stats.rate_limited_all_until = rate_limited_all_until;
        stats.rate_limited = rate_limited;
        stats
    }
}

/// Turns remaining durations into wall-clock deadlines.
fn deadlines(
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
