//! Loss accounting: every item the SDK drops is counted by reason and
//! category, for client reports and delivery statistics.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use vigil_protocol::{ClientReport, DataCategory, DiscardReason, DiscardedEvent};

const REASONS: usize = DiscardReason::ALL.len();
const CATEGORIES: usize = DataCategory::ALL.len();
const CELLS: usize = REASONS * CATEGORIES;

struct Counters {
    /// Counts not yet sent in a client report (read and reset atomically).
    pending: [AtomicU64; CELLS],
    /// Counts since the client was created (never reset).
    total: [AtomicU64; CELLS],
}

/// A handle to a client's loss counters.
///
/// Cloning is cheap; all clones count into the same place. Transports get
/// one through [`TransportContext`](crate::TransportContext) so they can
/// record what they drop (full queue, rate limits, network and server
/// errors). Counting is lock-free.
///
/// ```
/// use vigil_core::LossRecorder;
/// use vigil_core::protocol::{DataCategory, DiscardReason};
/// let recorder = LossRecorder::new();
/// recorder.record(DiscardReason::QueueOverflow, DataCategory::Error, 1);
/// assert_eq!(recorder.total(DiscardReason::QueueOverflow, DataCategory::Error), 1);
/// let report = recorder.take_report().unwrap();
/// assert_eq!(report.discarded_events[0].quantity, 1);
/// assert!(recorder.take_report().is_none()); // reset by take
/// assert_eq!(recorder.total(DiscardReason::QueueOverflow, DataCategory::Error), 1);
/// ```
#[derive(Clone)]
pub struct LossRecorder {
    counters: Arc<Counters>,
}

impl Default for LossRecorder {
    fn default() -> LossRecorder {
        LossRecorder::new()
    }
}

impl fmt::Debug for LossRecorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LossRecorder")
            .field("totals", &self.totals())
            .finish()
    }
}

fn cell(reason: DiscardReason, category: DataCategory) -> usize {
    reason.index() * CATEGORIES + category.index()
}

impl LossRecorder {
    /// Empty counters.
    pub fn new() -> LossRecorder {
        LossRecorder {
            counters: Arc::new(Counters {
                pending: std::array::from_fn(|_| AtomicU64::new(0)),
                total: std::array::from_fn(|_| AtomicU64::new(0)),
            }),
        }
    }

    /// Counts `quantity` items of `category` dropped for `reason`.
    pub fn record(&self, reason: DiscardReason, category: DataCategory, quantity: u64) {
        if quantity == 0 {
            return;
        }
        let i = cell(reason, category);
        self.counters.pending[i].fetch_add(quantity, Ordering::Relaxed);
        self.counters.total[i].fetch_add(quantity, Ordering::Relaxed);
        crate::vigil_debug!("dropped {quantity} {category} item(s): {reason}");
    }

    /// Items of `category` dropped for `reason` since the client was created.
    pub fn total(&self, reason: DiscardReason, category: DataCategory) -> u64 {
        self.counters.total[cell(reason, category)].load(Ordering::Relaxed)
    }

    /// Every non-zero count since the client was created.
    pub fn totals(&self) -> Vec<DiscardedEvent> {
        collect(&self.counters.total, |a| a.load(Ordering::Relaxed))
    }

    /// All items dropped since the client was created, any reason.
    pub fn total_dropped(&self) -> u64 {
        self.counters
            .total
            .iter()
            .map(|a| a.load(Ordering::Relaxed))
            .sum()
    }

    /// Takes the counts not yet reported, resetting them, as a client
    /// report; `None` when nothing was dropped since the last one.
    pub fn take_report(&self) -> Option<ClientReport> {
        let discarded_events = collect(&self.counters.pending, |a| a.swap(0, Ordering::Relaxed));
        if discarded_events.is_empty() {
            return None;
        }
        Some(ClientReport::new(SystemTime::now(), discarded_events))
    }

    /// Puts counts from a report that could not be sent back into the
    /// pending counters (without counting them twice in the totals).
    pub fn restore_report(&self, report: &ClientReport) {
        for d in &report.discarded_events {
            self.counters.pending[cell(d.reason, d.category)]
                .fetch_add(d.quantity, Ordering::Relaxed);
        }
    }
}

fn collect(cells: &[AtomicU64; CELLS], read: impl Fn(&AtomicU64) -> u64) -> Vec<DiscardedEvent> {
    let mut out = Vec::new();
    for reason in DiscardReason::ALL {
        for category in DataCategory::ALL {
            let quantity = read(&cells[cell(reason, category)]);
            if quantity > 0 {
                out.push(DiscardedEvent::new(reason, category, quantity));
            }
        }
    }
    out
}
