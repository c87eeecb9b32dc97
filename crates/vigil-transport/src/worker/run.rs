//! The worker thread's loop: takes tasks off the queue and runs the
//! handler's steps, each under the SDK's panic guard, plus the idle and
//! background steps when they are due.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use vigil_core::protocol::DiscardReason;
use vigil_core::{LossRecorder, call_guarded};

use crate::loss::record_counts;
use crate::worker::Task;
use crate::worker::control::{Control, FinishGuard};
use crate::worker::handler::{Handler, Job};

/// Runs the worker thread until a `Shutdown` task, or until every caller
/// is gone.
pub(super) fn run<H: Handler>(
    receiver: Receiver<Task<H::Job>>,
    mut handler: H,
    control: &Arc<Control>,
    recorder: &LossRecorder,
) {
    let _finish = FinishGuard(Arc::clone(control));
    let mut last_task = Instant::now();
    let mut hold = WakeHold::default();
    loop {
        // Background work that is due runs even while tasks keep coming.
        let due = handler.next_wake().map(|at| hold.delay(at));
        if due.is_some_and(|at| at <= Instant::now()) {
            let done = call_guarded("transport background step", None, || {
                handler.wake(control);
            });
            hold.after(done.is_some(), Instant::now());
        }
        let now = Instant::now();
        let idle = handler.idle_interval();
        let until_idle = idle.map(|i| (last_task + i).saturating_duration_since(now));
        let until_wake = handler
            .next_wake()
            .map(|at| hold.delay(at).saturating_duration_since(now));
        let timeout = match (until_idle, until_wake) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let task = match timeout {
            Some(timeout) => match receiver.recv_timeout(timeout) {
                Ok(task) => task,
                Err(RecvTimeoutError::Timeout) => {
                    if idle.is_some_and(|i| last_task.elapsed() >= i) {
                        call_guarded("transport idle step", None, || handler.idle(control));
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
            Task::Run(job) => {
                // Kept to count the items should the handler panic.
                let at_stake = job.items_at_stake();
                if call_guarded("transport send", None, || handler.handle(job, control)).is_none() {
                    record_counts(recorder, at_stake, DiscardReason::InternalSdkError);
                }
            }
            Task::Flush(ack) => {
                call_guarded("transport flush", None, || handler.flush(control));
                let _ = ack.try_send(());
            }
            Task::Shutdown => {
                drain_at_shutdown(&receiver, &mut handler, recorder);
                call_guarded("transport shutdown", None, || handler.flush(control));
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

/// The first pause after a background step panicked.
const FIRST_HOLD: Duration = Duration::from_secs(1);
/// The longest pause after background steps that keep panicking.
const MAX_HOLD: Duration = Duration::from_secs(60);

/// Keeps a background step that panicked from running again at once: a
/// step that panics before it moves its own next wake (a stored file that
/// breaks the sender, say) would otherwise run in a loop, a core at 100%
/// and stderr flooded. The pause doubles while the step keeps panicking,
/// up to [`MAX_HOLD`], and ends at its first success.
#[derive(Debug, Default)]
struct WakeHold {
    /// No background step before this.
    until: Option<Instant>,
    /// The pause after the next panic.
    next: Option<Duration>,
}

impl WakeHold {
    /// When a step due at `at` may run.
    fn delay(&self, at: Instant) -> Instant {
        self.until.map_or(at, |until| at.max(until))
    }

    /// Records how the step that just ran ended.
    fn after(&mut self, succeeded: bool, now: Instant) {
        if succeeded {
            *self = WakeHold::default();
            return;
        }
        let pause = self.next.unwrap_or(FIRST_HOLD);
        self.until = Some(now + pause);
        self.next = Some(pause.saturating_mul(2).min(MAX_HOLD));
    }
}

/// Empties the queue after a `Shutdown` task: whatever raced in behind it
/// is kept by the handler or dropped and counted as `queue_overflow`
/// before the last flush, so the final client report includes it. (A send
/// racing with the receiver's drop can still be lost uncounted; the window
/// is tiny.)
fn drain_at_shutdown<H: Handler>(
    receiver: &Receiver<Task<H::Job>>,
    handler: &mut H,
    recorder: &LossRecorder,
) {
    while let Ok(task) = receiver.try_recv() {
        match task {
            Task::Run(mut job) => {
                let kept = call_guarded("transport shutdown drain", None, || {
                    handler.keep_at_shutdown(&mut job)
                })
                .unwrap_or(false);
                if !kept {
                    record_counts(recorder, job.items_at_stake(), DiscardReason::QueueOverflow);
                }
            }
            Task::Flush(ack) => {
                let _ = ack.try_send(());
            }
            Task::Shutdown => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use vigil_core::protocol::{DataCategory, Envelope, Event};

    use crate::loss::countable_items;
    use crate::worker::Worker;

    /// A job that is either counted when lost or, like a stored envelope,
    /// never lost.
    #[derive(Debug)]
    #[expect(clippy::large_enum_variant, reason = "a test's job, built a few times")]
    enum TestJob {
        Counted(Envelope),
        Safe,
    }

    impl Job for TestJob {
        fn items_at_stake(&self) -> Vec<(DataCategory, u64)> {
            match self {
                TestJob::Counted(envelope) => countable_items(envelope),
                TestJob::Safe => Vec::new(),
            }
        }
    }

    /// Panics on every job; at shutdown keeps the jobs whose event has a
    /// message, panics on `Safe`, and keeps nothing else.
    struct Picky;

    impl Handler for Picky {
        type Job = TestJob;

        fn handle(&mut self, _: TestJob, _: &Control) {
            panic!("boom");
        }

        fn keep_at_shutdown(&mut self, job: &mut TestJob) -> bool {
            match job {
                TestJob::Counted(envelope) => envelope.event().is_some_and(|e| e.message.is_some()),
                TestJob::Safe => panic!("boom at shutdown"),
            }
        }
    }

    /// A background step that is always due and always panics.
    struct PanickingWake(Arc<AtomicUsize>);

    impl Handler for PanickingWake {
        type Job = TestJob;

        fn handle(&mut self, _: TestJob, _: &Control) {}

        fn next_wake(&self) -> Option<Instant> {
            Some(Instant::now())
        }

        fn wake(&mut self, _: &Control) {
            self.0.fetch_add(1, Ordering::Relaxed);
            panic!("a background step that always fails");
        }
    }

    /// Prints one expected panic message to stderr.
    #[test]
    fn a_background_step_that_panics_is_held_off_not_spun() {
        let wakes = Arc::new(AtomicUsize::new(0));
        let worker = Worker::spawn(4, LossRecorder::new(), PanickingWake(Arc::clone(&wakes)));
        std::thread::sleep(Duration::from_millis(500));
        // Tasks are still served meanwhile.
        worker.send(TestJob::Safe);
        assert!(worker.flush(Duration::from_secs(5)));
        assert!(worker.shutdown(Duration::from_secs(5)));
        assert_eq!(
            wakes.load(Ordering::Relaxed),
            1,
            "run once, then held off for 1 s"
        );
    }

    #[test]
    fn the_hold_doubles_to_its_cap_and_ends_with_a_success() {
        let mut hold = WakeHold::default();
        let now = Instant::now();
        assert_eq!(hold.delay(now), now);
        let mut pauses = Vec::new();
        for _ in 0..9 {
            hold.after(false, now);
            pauses.push(hold.delay(now) - now);
        }
        let secs: Vec<u64> = pauses.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        hold.after(true, now);
        assert_eq!(hold.delay(now), now);
    }

    fn event(message: Option<&str>) -> Envelope {
        Envelope::from_event(Event {
            message: message.map(Into::into),
            ..Default::default()
        })
    }

    /// Prints two expected panic messages to stderr.
    #[test]
    fn a_panicking_step_counts_only_what_the_job_had_at_stake() {
        let recorder = LossRecorder::new();
        let worker = Worker::spawn(4, recorder.clone(), Picky);
        worker.send(TestJob::Counted(event(None)));
        worker.send(TestJob::Safe);
        assert!(worker.flush(Duration::from_secs(5)));
        assert_eq!(
            recorder.total(DiscardReason::InternalSdkError, DataCategory::Error),
            1
        );
        assert_eq!(recorder.total_dropped(), 1);
        assert!(worker.shutdown(Duration::from_secs(5)));
    }

    /// Prints one expected panic message to stderr.
    #[test]
    fn jobs_behind_a_shutdown_are_kept_or_counted_as_queue_overflow() {
        let recorder = LossRecorder::new();
        let (sender, receiver) = mpsc::sync_channel(8);
        let (ack, acked) = mpsc::sync_channel(1);
        for task in [
            Task::Run(TestJob::Counted(event(Some("kept")))),
            Task::Run(TestJob::Counted(event(None))),
            Task::Flush(ack),
            Task::Run(TestJob::Safe),
            Task::Shutdown,
        ] {
            sender.try_send(task).unwrap();
        }
        drain_at_shutdown(&receiver, &mut Picky, &recorder);
        assert!(acked.try_recv().is_ok(), "a waiting flush is answered");
        assert!(receiver.try_recv().is_err(), "the queue is empty");
        assert_eq!(
            recorder.total(DiscardReason::QueueOverflow, DataCategory::Error),
            1
        );
        assert_eq!(recorder.total_dropped(), 1);
    }
}
