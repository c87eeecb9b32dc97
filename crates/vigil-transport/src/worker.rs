//! The background worker shared by every transport: one named thread, a
//! bounded queue fed with `try_send`, flush and shutdown with deadlines.
//!
//! The caller never blocks on I/O: [`Worker::send`] either queues the
//! envelope or drops it and records why. [`Worker::flush`] and
//! [`Worker::shutdown`] wait at most their timeout; a pending deadline is
//! visible to the worker through [`Control`], so retry back-off never
//! sleeps past it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use vigil_core::LossRecorder;
use vigil_core::protocol::{DiscardReason, Envelope, EnvelopeItem};

/// The name of every worker thread.
pub(crate) const THREAD_NAME: &str = "vigil-transport";

/// How long `flush`/`shutdown` sleep between attempts to queue their task
/// while the queue is full.
const CONTROL_RETRY: Duration = Duration::from_millis(2);

/// What the worker thread is asked to do.
pub(crate) enum Task {
    /// Send (or write) an envelope.
    Send(Envelope),
    /// Send an envelope already stored in the disk queue under this name.
    SendStored(Envelope, String),
    /// Everything queued before has been handled: run the handler's flush
    /// step, then acknowledge.
    Flush(SyncSender<()>),
    /// Run the handler's flush step and stop.
    Shutdown,
}

/// What a transport does with the envelopes its worker takes off the
/// queue. Runs on the worker thread only.
pub(crate) trait Handler: Send + 'static {
    /// Delivers one envelope, recording every item it drops.
    fn send(&mut self, envelope: Envelope, control: &Control);

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

    /// Delivers an envelope that is stored in the disk queue as `name`.
    fn send_stored(&mut self, envelope: Envelope, name: String, control: &Control) {
        let _ = name;
        self.send(envelope, control);
    }

    /// When [`Handler::wake`] should run next, whether or not tasks keep
    /// arriving; `None` for never.
    fn next_wake(&self) -> Option<Instant> {
        None
    }

    /// Background work that is due (see [`Handler::next_wake`]).
    fn wake(&mut self, control: &Control) {
        let _ = control;
    }

    /// Keeps an envelope that is dropped from the queue at shutdown (e.g.
    /// stores it on disk). `false` when it was not kept: the caller counts
    /// it as `queue_overflow`.
    fn keep(&mut self, envelope: &mut Envelope) -> bool {
        let _ = envelope;
        false
    }
}

/// Records every item of `envelope` as dropped for `reason`. Client
/// reports are not counted: they are the SDK's own bookkeeping.
pub(crate) fn record_items(recorder: &LossRecorder, envelope: &Envelope, reason: DiscardReason) {
    for item in envelope.items() {
        record_item(recorder, item, reason);
    }
}

/// Records one dropped item (client reports excepted).
pub(crate) fn record_item(recorder: &LossRecorder, item: &EnvelopeItem, reason: DiscardReason) {
    if !matches!(item, EnvelopeItem::ClientReport(_)) {
        recorder.record(reason, item.category(), item.quantity());
    }
}

/// State shared by the callers and the worker thread.
#[derive(Debug, Default)]
pub(crate) struct Control {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    /// Deadlines of the flush and shutdown calls now waiting.
    deadlines: Vec<Instant>,
    /// The worker thread has stopped (or never started).
    finished: bool,
}

impl Control {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps `delay` (a retry back-off) unless waking would come after the
    /// deadline of a pending flush or shutdown: then returns `false` at
    /// once, or as soon as such a call starts waiting. `true` when the
    /// whole delay was slept and retrying may go on.
    pub(crate) fn backoff(&self, delay: Duration) -> bool {
        let Some(wake) = Instant::now().checked_add(delay) else {
            return false;
        };
        let mut state = self.lock();
        loop {
            if state.deadlines.iter().any(|d| *d < wake) {
                return false;
            }
            let now = Instant::now();
            if now >= wake {
                return true;
            }
            state = self
                .changed
                .wait_timeout(state, wake.saturating_duration_since(now))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Makes `deadline` visible to the worker until the guard is dropped.
    fn register(&self, deadline: Instant) -> DeadlineGuard<'_> {
        self.lock().deadlines.push(deadline);
        self.changed.notify_all();
        DeadlineGuard {
            control: self,
            deadline,
        }
    }

    fn set_finished(&self) {
        self.lock().finished = true;
        self.changed.notify_all();
    }

    fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// Waits until the worker thread has stopped, at most until `deadline`.
    fn wait_finished(&self, deadline: Instant) -> bool {
        let mut state = self.lock();
        loop {
            if state.finished {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, deadline.saturating_duration_since(now))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

struct DeadlineGuard<'a> {
    control: &'a Control,
    deadline: Instant,
}

impl Drop for DeadlineGuard<'_> {
    fn drop(&mut self) {
        let mut state = self.control.lock();
        if let Some(i) = state.deadlines.iter().position(|d| *d == self.deadline) {
            state.deadlines.swap_remove(i);
        }
        drop(state);
        self.control.changed.notify_all();
    }
}

/// Marks the worker finished when its thread ends, even by a panic.
struct FinishGuard(Arc<Control>);

impl Drop for FinishGuard {
    fn drop(&mut self) {
        self.0.set_finished();
    }
}

/// `now + timeout`, saturating far in the future instead of overflowing.
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// The caller's side of a worker thread.
#[derive(Debug)]
pub(crate) struct Worker {
    /// `None` when the thread could not be started.
    sender: Option<SyncSender<Task>>,
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

impl Worker {
    /// Starts the worker thread with a queue of `queue_size` envelopes (at
    /// least 1). If the thread cannot be started, every envelope is
    /// dropped and recorded as `internal_sdk_error`.
    pub(crate) fn spawn(
        queue_size: usize,
        recorder: LossRecorder,
        handler: impl Handler,
    ) -> Worker {
        let (sender, receiver) = mpsc::sync_channel(queue_size.max(1));
        let control = Arc::new(Control::default());
        let thread = {
            let control = Arc::clone(&control);
            let recorder = recorder.clone();
            thread::Builder::new()
                .name(THREAD_NAME.into())
                .spawn(move || run(receiver, handler, &control, &recorder))
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

    /// Queues an envelope without blocking. A full queue drops it as
    /// `queue_overflow`; after shutdown it is dropped as `queue_overflow`
    /// too (the queue is closed); a dead worker drops it as
    /// `internal_sdk_error`.
    pub(crate) fn send(&self, envelope: Envelope) {
        if let Err((Task::Send(envelope) | Task::SendStored(envelope, _), reason)) =
            self.try_queue(Task::Send(envelope))
        {
            record_items(&self.recorder, &envelope, reason);
        }
    }

    /// Whether `shutdown` was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Queues a task without blocking, or gives it back with the reason it
    /// would be dropped for: `queue_overflow` when the queue is full or
    /// closed, `internal_sdk_error` when the worker is gone. Nothing is
    /// recorded here.
    #[expect(
        clippy::result_large_err,
        reason = "the task is handed back by value so the caller can store or count it; boxing would allocate per event"
    )]
    pub(crate) fn try_queue(&self, task: Task) -> Result<(), (Task, DiscardReason)> {
        if self.closed.load(Ordering::SeqCst) {
            vigil_core::vigil_debug!("transport is shut down; envelope dropped");
            return Err((task, DiscardReason::QueueOverflow));
        }
        let Some(sender) = &self.sender else {
            return Err((task, DiscardReason::InternalSdkError));
        };
        match sender.try_send(task) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(task)) => {
                if !self.warned_overflow.swap(true, Ordering::Relaxed) {
                    vigil_core::vigil_debug!(
                        "transport queue is full; envelopes are dropped (counted as queue_overflow) or, with a disk queue, stored"
                    );
                }
                Err((task, DiscardReason::QueueOverflow))
            }
            Err(TrySendError::Disconnected(task)) => {
                let reason = if self.closed.load(Ordering::SeqCst) {
                    DiscardReason::QueueOverflow
                } else {
                    vigil_core::vigil_debug!("transport thread is gone; envelope dropped");
                    DiscardReason::InternalSdkError
                };
                Err((task, reason))
            }
        }
    }

    /// Queues a control task, waiting (without holding any lock) while the
    /// queue is full, at most until `deadline`.
    fn queue_control(&self, sender: &SyncSender<Task>, mut task: Task, deadline: Instant) -> bool {
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
        if let Some(sender) = &self.sender {
            if !self.shutdown_queued.load(Ordering::SeqCst)
                && self.queue_control(sender, Task::Shutdown, deadline)
            {
                self.shutdown_queued.store(true, Ordering::SeqCst);
            }
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

/// Runs a handler step so that a panic inside cannot kill the worker.
fn guarded(what: &str, f: impl FnOnce()) -> bool {
    let ok = catch_unwind(AssertUnwindSafe(f)).is_ok();
    if !ok {
        vigil_core::vigil_debug!("transport {what} panicked");
    }
    ok
}

/// The worker thread's loop.
fn run(
    receiver: Receiver<Task>,
    mut handler: impl Handler,
    control: &Arc<Control>,
    recorder: &LossRecorder,
) {
    let _finish = FinishGuard(Arc::clone(control));
    let mut last_task = Instant::now();
    loop {
        // Background work that is due runs even while tasks keep coming.
        if handler.next_wake().is_some_and(|at| at <= Instant::now()) {
            guarded("background step", || handler.wake(control));
        }
        let now = Instant::now();
        let idle = handler.idle_interval();
        let until_idle = idle.map(|i| (last_task + i).saturating_duration_since(now));
        let until_wake = handler
            .next_wake()
            .map(|at| at.saturating_duration_since(now));
        let timeout = match (until_idle, until_wake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let task = match timeout {
            Some(timeout) => match receiver.recv_timeout(timeout) {
                Ok(task) => task,
                Err(RecvTimeoutError::Timeout) => {
                    if idle.is_some_and(|i| last_task.elapsed() >= i) {
                        guarded("idle step", || handler.idle(control));
                        last_task = Instant::now();
                    }
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            },
            None => match receiver.recv() {
                Ok(task) => task,
                Err(_) => break,
            },
        };
        last_task = Instant::now();
        match task {
            Task::Send(envelope) => {
                // Kept to count the items should the handler panic.
                let items: Vec<_> = envelope
                    .items()
                    .iter()
                    .filter(|i| !matches!(i, EnvelopeItem::ClientReport(_)))
                    .map(|i| (i.category(), i.quantity()))
                    .collect();
                if !guarded("send", || handler.send(envelope, control)) {
                    for (category, quantity) in items {
                        recorder.record(DiscardReason::InternalSdkError, category, quantity);
                    }
                }
            }
            Task::SendStored(envelope, name) => {
                // A panic leaves the file on disk, to be sent later: not
                // counted.
                guarded("send", || handler.send_stored(envelope, name, control));
            }
            Task::Flush(ack) => {
                guarded("flush", || handler.flush(control));
                let _ = ack.try_send(());
            }
            Task::Shutdown => {
                // Whatever raced in behind the shutdown is kept by the
                // handler (stored on disk) or dropped and counted before
                // the last flush, so the final client report includes it.
                // (A send racing with the receiver's drop below can still
                // be lost uncounted; the window is tiny.)
                while let Ok(task) = receiver.try_recv() {
                    match task {
                        Task::Send(mut envelope) => {
                            let kept =
                                catch_unwind(AssertUnwindSafe(|| handler.keep(&mut envelope)))
                                    .unwrap_or(false);
                            if !kept {
                                record_items(recorder, &envelope, DiscardReason::QueueOverflow);
                            }
                        }
                        // Already on disk.
                        Task::SendStored(..) => {}
                        Task::Flush(ack) => {
                            let _ = ack.try_send(());
                        }
                        Task::Shutdown => {}
                    }
                }
                guarded("shutdown", || handler.flush(control));
                break;
            }
        }
    }
    let dropped = recorder.total_dropped();
    if dropped > 0 {
        vigil_core::vigil_debug!(
            "transport stopped; items dropped since start: {:?}",
            recorder.totals()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::Sender;
    use vigil_core::protocol::{DataCategory, Event};

    /// Forwards envelopes to a channel, optionally after a delay.
    struct Recording {
        out: Sender<Envelope>,
        delay: Duration,
    }

    impl Handler for Recording {
        fn send(&mut self, envelope: Envelope, _: &Control) {
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
            fn send(&mut self, _: Envelope, _: &Control) {
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

    #[test]
    fn backoff_stops_at_a_pending_deadline() {
        let control = Arc::new(Control::default());
        assert!(control.backoff(Duration::from_millis(5)));
        let guard = control.register(Instant::now() + Duration::from_millis(50));
        let start = Instant::now();
        assert!(!control.backoff(Duration::from_millis(500)));
        assert!(start.elapsed() < Duration::from_millis(40));
        drop(guard);
        // A deadline arriving while sleeping cuts the sleep short.
        let c2 = Arc::clone(&control);
        let sleeper = thread::spawn(move || c2.backoff(Duration::from_secs(5)));
        thread::sleep(Duration::from_millis(50));
        let _g = control.register(Instant::now() + Duration::from_millis(100));
        assert!(!sleeper.join().unwrap());
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    /// Prints one expected "thread 'vigil-transport' panicked ... boom"
    /// line to stderr (the worker thread's output is not captured).
    #[test]
    fn panicking_handler_counts_internal_error_and_keeps_going() {
        struct Panicky(Sender<()>);
        impl Handler for Panicky {
            fn send(&mut self, envelope: Envelope, _: &Control) {
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
