//! The background worker shared by every transport: one named thread, a
//! bounded queue fed with `try_send`, flush and shutdown with deadlines.
//!
//! The caller never blocks on I/O: [`Worker::send`] either queues the job
//! or drops it and records why. [`Worker::flush`] and [`Worker::shutdown`]
//! wait at most their timeout; a pending deadline is visible to the worker
//! through [`Control`], so retry back-off never sleeps past it.
//!
//! The worker knows nothing of what its jobs mean: a transport gives it a
//! [`Handler`] and queues that handler's [`Job`]s.
//!
//! - [`control`], the deadlines and the "finished" flag callers and the
//!   thread share;
//! - [`handler`], the [`Job`] and [`Handler`] traits;
//! - `run`, the thread's loop;
//! - here, the caller's side (start, queue, flush, shutdown).

pub(crate) mod control;
pub(crate) mod handler;
mod run;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use vigil_core::LossRecorder;
use vigil_core::protocol::DiscardReason;

use crate::loss::record_counts;
use crate::worker::control::Control;
use crate::worker::handler::{Handler, Job};

/// The name of every worker thread.
pub(crate) const THREAD_NAME: &str = "vigil-transport";

/// How long `flush`/`shutdown` sleep between attempts to queue their task
/// while the queue is full.
const CONTROL_RETRY: Duration = Duration::from_millis(2);

/// What the worker thread is asked to do.
#[derive(Debug)]
enum Task<J> {
    /// Hand this job to the handler.
    Run(J),
    /// Everything queued before has been handled: run the handler's flush
    /// step, then acknowledge.
    Flush(SyncSender<()>),
    /// Run the handler's flush step and stop.
    Shutdown,
}

/// `now + timeout`, saturating far in the future instead of overflowing.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// The caller's side of a worker thread whose handler takes jobs of type
/// `J`.
#[derive(Debug)]
pub(crate) struct Worker<J> {
    /// `None` when the thread could not be started.
    sender: Option<SyncSender<Task<J>>>,
    control: Arc<Control>,
    recorder: LossRecorder,
    /// Set by the first `shutdown`: later sends are dropped and counted.
    closed: AtomicBool,
    /// Whether a `Shutdown` task made it into the queue.
    shutdown_queued: AtomicBool,
    /// Whether the one-time "queue full" diagnostic was printed.
    warned_overflow: AtomicBool,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl<J: Job> Worker<J> {
    /// Starts the worker thread with a queue of `queue_size` jobs (at least
    /// 1). If the thread cannot be started, every job is dropped and its
    /// items recorded as `internal_sdk_error`.
    pub(crate) fn spawn<H: Handler<Job = J>>(
        queue_size: usize,
        recorder: LossRecorder,
        handler: H,
    ) -> Worker<J> {
        let (sender, receiver) = mpsc::sync_channel(queue_size.max(1));
        let control = Arc::new(Control::default());
        let thread = {
            let control = Arc::clone(&control);
            let recorder = recorder.clone();
            thread::Builder::new()
                .name(THREAD_NAME.into())
                .spawn(move || run::run(receiver, handler, &control, &recorder))
        };
        let (sender, thread) = match thread {
            Ok(handle) => (Some(sender), Some(handle)),
            Err(e) => {
                vigil_core::vigil_debug!("could not start the transport thread: {e}");
                control.set_finished();
                (None, None)
            }
        };
        Worker {
            sender,
            control,
            recorder,
            closed: AtomicBool::new(false),
            shutdown_queued: AtomicBool::new(false),
            warned_overflow: AtomicBool::new(false),
            thread: Mutex::new(thread),
        }
    }

    /// Queues a job without blocking. A full queue drops it as
    /// `queue_overflow`; after shutdown it is dropped as `queue_overflow`
    /// too (the queue is closed); a dead worker drops it as
    /// `internal_sdk_error`.
    pub(crate) fn send(&self, job: J) {
        if let Err((job, reason)) = self.try_queue(job) {
            record_counts(&self.recorder, job.items_at_stake(), reason);
        }
    }

    /// Whether `shutdown` was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Queues a job without blocking, or gives it back with the reason it
    /// would be dropped for: `queue_overflow` when the queue is full or
    /// closed, `internal_sdk_error` when the worker is gone. Nothing is
    /// recorded here.
    pub(crate) fn try_queue(&self, job: J) -> Result<(), (J, DiscardReason)> {
        if self.closed.load(Ordering::SeqCst) {
            vigil_core::vigil_debug!("transport is shut down; envelope dropped");
            return Err((job, DiscardReason::QueueOverflow));
        }
        let Some(sender) = &self.sender else {
            return Err((job, DiscardReason::InternalSdkError));
        };
        match sender.try_send(Task::Run(job)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(task)) => {
                if !self.warned_overflow.swap(true, Ordering::Relaxed) {
                    vigil_core::vigil_debug!(
                        "transport queue is full; envelopes that do not fit are refused (counted as queue_overflow unless the transport keeps them)"
                    );
                }
                Err((task.into_job(), DiscardReason::QueueOverflow))
            }
            Err(TrySendError::Disconnected(task)) => {
                let reason = if self.closed.load(Ordering::SeqCst) {
                    DiscardReason::QueueOverflow
                } else {
                    vigil_core::vigil_debug!("transport thread is gone; envelope dropped");
                    DiscardReason::InternalSdkError
                };
                Err((task.into_job(), reason))
            }
        }
    }

    /// Queues a control task, waiting (without holding any lock) while the
    /// queue is full, at most until `deadline`.
    fn queue_control(
        &self,
        sender: &SyncSender<Task<J>>,
        mut task: Task<J>,
        deadline: Instant,
    ) -> bool {
        loop {
            match sender.try_send(task) {
                Ok(()) => return true,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    task = back;
                    thread::sleep(CONTROL_RETRY.min(deadline.saturating_duration_since(now)));
                }
            }
        }
    }

    /// Waits until everything queued before the call was handled, at most
    /// `timeout`. Returns whether it was.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let deadline = deadline_after(timeout);
        let _registered = self.control.register(deadline);
        if self.closed.load(Ordering::SeqCst) {
            return self.control.wait_finished(deadline);
        }
        let Some(sender) = &self.sender else {
            // Never started: nothing was ever queued.
            return true;
        };
        let (ack, acked) = mpsc::sync_channel(1);
        if !self.queue_control(sender, Task::Flush(ack), deadline) {
            return self.control.is_finished() && self.closed.load(Ordering::SeqCst);
        }
        acked
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }

    /// Flushes, then stops the thread, waiting at most `timeout`; a thread
    /// still busy at the deadline is left to finish on its own (never
    /// joined past the deadline). Returns whether the thread stopped with
    /// everything handled. Calling it again waits again for the same stop.
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = deadline_after(timeout);
        self.closed.store(true, Ordering::SeqCst);
        let _registered = self.control.register(deadline);
        if let Some(sender) = &self.sender
            && !self.shutdown_queued.load(Ordering::SeqCst)
            && self.queue_control(sender, Task::Shutdown, deadline)
        {
            self.shutdown_queued.store(true, Ordering::SeqCst);
        }
        if !self.control.wait_finished(deadline) {
            vigil_core::vigil_debug!("transport did not finish within {timeout:?}");
            return false;
        }
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            // The thread has marked itself finished: joining returns at once.
            if handle.join().is_err() {
                vigil_core::vigil_debug!("transport thread panicked");
            }
        }
        true
    }
}

impl<J> Task<J> {
    /// The job of a `Run` task handed back by the queue. Only `Run` tasks
    /// go through [`Worker::try_queue`].
    fn into_job(self) -> J {
        match self {
            Task::Run(job) => job,
            Task::Flush(_) | Task::Shutdown => {
                unreachable!("only Run tasks are queued with try_queue")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Sender;
    use vigil_core::protocol::{DataCategory, Envelope, Event};

    /// Forwards envelopes to a channel, optionally after a delay.
    struct Recording {
        out: Sender<Envelope>,
        delay: Duration,
    }

    impl Handler for Recording {
        type Job = Envelope;

        fn handle(&mut self, envelope: Envelope, _: &Control) {
            thread::sleep(self.delay);
            let _ = self.out.send(envelope);
        }
    }

    fn envelope() -> Envelope {
        Envelope::from_event(Event::default())
    }

    #[test]
    fn thread_is_named_and_sends_in_order() {
        struct Named(Sender<Option<String>>);
        impl Handler for Named {
            type Job = Envelope;

            fn handle(&mut self, _: Envelope, _: &Control) {
                let _ = self.0.send(thread::current().name().map(str::to_owned));
            }
        }
        let (tx, rx) = mpsc::channel();
        let worker = Worker::spawn(10, LossRecorder::new(), Named(tx));
        worker.send(envelope());
        assert!(worker.flush(Duration::from_secs(5)));
        assert_eq!(rx.try_recv().unwrap().as_deref(), Some(THREAD_NAME));
        assert!(worker.shutdown(Duration::from_secs(5)));
    }

    #[test]
    fn full_queue_counts_overflow_and_flush_waits() {
        let (tx, rx) = mpsc::channel();
        let recorder = LossRecorder::new();
        let worker = Worker::spawn(
            1,
            recorder.clone(),
            Recording {
                out: tx,
                delay: Duration::from_millis(100),
            },
        );
        for _ in 0..5 {
            worker.send(envelope());
        }
        let overflow = recorder.total(DiscardReason::QueueOverflow, DataCategory::Error);
        assert!(overflow >= 3, "overflow {overflow}");
        assert!(worker.flush(Duration::from_secs(5)));
        let delivered = rx.try_iter().count() as u64;
        assert_eq!(delivered + overflow, 5);
        assert!(worker.shutdown(Duration::from_secs(5)));
    }

    #[test]
    fn flush_times_out_on_a_stuck_handler_and_shutdown_does_not_join() {
        let (tx, _rx) = mpsc::channel();
        let worker = Worker::spawn(
            4,
            LossRecorder::new(),
            Recording {
                out: tx,
                delay: Duration::from_millis(600),
            },
        );
        worker.send(envelope());
        let start = Instant::now();
        assert!(!worker.flush(Duration::from_millis(100)));
        assert!(!worker.shutdown(Duration::from_millis(100)));
        assert!(
            start.elapsed() < Duration::from_millis(450),
            "{:?}",
            start.elapsed()
        );
        // The stuck thread finishes on its own; a second shutdown sees it.
        assert!(worker.shutdown(Duration::from_secs(5)));
    }

    /// Prints one expected "thread 'vigil-transport' panicked ... boom"
    /// line and one "[vigil] transport send panicked: boom" line to stderr
    /// (the worker thread's output is not captured).
    #[test]
    fn panicking_handler_counts_internal_error_and_keeps_going() {
        struct Panicky(Sender<()>);
        impl Handler for Panicky {
            type Job = Envelope;

            fn handle(&mut self, envelope: Envelope, _: &Control) {
                if envelope.event().is_some_and(|e| e.message.is_some()) {
                    panic!("boom");
                }
                let _ = self.0.send(());
            }
        }
        let (tx, rx) = mpsc::channel();
        let recorder = LossRecorder::new();
        let worker = Worker::spawn(4, recorder.clone(), Panicky(tx));
        worker.send(Envelope::from_event(Event {
            message: Some("x".into()),
            ..Default::default()
        }));
        worker.send(envelope());
        assert!(worker.flush(Duration::from_secs(5)));
        assert_eq!(rx.try_iter().count(), 1);
        assert_eq!(
            recorder.total(DiscardReason::InternalSdkError, DataCategory::Error),
            1
        );
        assert!(worker.shutdown(Duration::from_secs(5)));
    }

    #[test]
    fn shutdown_twice_and_send_after() {
        let (tx, rx) = mpsc::channel();
        let recorder = LossRecorder::new();
        let worker = Worker::spawn(
            4,
            recorder.clone(),
            Recording {
                out: tx,
                delay: Duration::ZERO,
            },
        );
        worker.send(envelope());
        assert!(worker.shutdown(Duration::from_secs(5)));
        assert!(worker.shutdown(Duration::from_millis(10)));
        worker.send(envelope());
        assert!(worker.flush(Duration::from_millis(10)));
        assert_eq!(rx.try_iter().count(), 1);
        assert_eq!(
            recorder.total(DiscardReason::QueueOverflow, DataCategory::Error),
            1
        );
    }
}
