//! What a transport plugs into the worker: the [`Job`]s it queues and the
//! [`Handler`] that does them on the worker thread.

use std::time::{Duration, Instant};

use vigil_core::protocol::{DataCategory, Envelope};

use crate::loss::countable_items;
use crate::worker::control::Control;

/// Something a transport queues for its worker thread. The worker never
/// looks inside a job; it only needs to know what is lost when a job is
/// dropped undone (queue full, worker gone, shut down, or its handler
/// panicked), so that it can count it.
pub(crate) trait Job: Send + 'static {
    /// `(category, quantity)` of every item lost if this job is dropped
    /// undone; client reports are not counted (they are the SDK's own
    /// bookkeeping).
    fn items_at_stake(&self) -> Vec<(DataCategory, u64)>;
}

/// The job of most transports: deliver this envelope.
impl Job for Envelope {
    fn items_at_stake(&self) -> Vec<(DataCategory, u64)> {
        countable_items(self)
    }
}

/// What a transport does with the jobs its worker takes off the queue.
/// Runs on the worker thread only; a panic in any step is caught by the
/// worker (see [`Handler::handle`] for what is counted then).
pub(crate) trait Handler: Send + 'static {
    /// What the handler is given to do, one per queued task.
    type Job: Job;

    /// Does one job, recording every item it drops. Should it panic, the
    /// job's [`items_at_stake`](Job::items_at_stake) are counted as
    /// `internal_sdk_error`.
    fn handle(&mut self, job: Self::Job, control: &Control);

    /// Called on flush and shutdown, after everything queued before them
    /// was handled (e.g. to send pending client reports).
    fn flush(&mut self, control: &Control) {
        let _ = control;
    }

    /// How long the queue may stay empty before [`Handler::idle`] runs;
    /// `None` never.
    fn idle_interval(&self) -> Option<Duration> {
        None
    }

    /// Called when the queue was empty for [`Handler::idle_interval`].
    fn idle(&mut self, control: &Control) {
        let _ = control;
    }

    /// When [`Handler::wake`] should run next, whether or not jobs keep
    /// arriving; `None` for never.
    fn next_wake(&self) -> Option<Instant> {
        None
    }

    /// Background work that is due (see [`Handler::next_wake`]).
    fn wake(&mut self, control: &Control) {
        let _ = control;
    }

    /// Keeps a job that is still queued when the worker shuts down, so
    /// that it is not lost (e.g. writes it somewhere durable). `false`
    /// when it was not kept: the worker counts its
    /// [`items_at_stake`](Job::items_at_stake) as `queue_overflow`.
    fn keep_at_shutdown(&mut self, job: &mut Self::Job) -> bool {
        let _ = job;
        false
    }
}
