//! What the callers and the worker thread share: the deadlines of pending
//! flush and shutdown calls, and whether the thread has stopped.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// State shared by the callers and the worker thread.
#[derive(Debug, Default)]
pub(crate) struct Control {
    state: Mutex<State>,
    changed: Condvar,
}

/// What [`Control`] guards.
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
    pub(super) fn register(&self, deadline: Instant) -> DeadlineGuard<'_> {
        self.lock().deadlines.push(deadline);
        self.changed.notify_all();
        DeadlineGuard {
            control: self,
            deadline,
        }
    }

    /// Marks the worker thread stopped and wakes every waiting call.
    pub(super) fn set_finished(&self) {
        self.lock().finished = true;
        self.changed.notify_all();
    }

    /// Whether the worker thread has stopped.
    pub(super) fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// Waits until the worker thread has stopped, at most until `deadline`.
    pub(super) fn wait_finished(&self, deadline: Instant) -> bool {
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

/// A deadline registered with [`Control::register`]; dropping it removes
/// the deadline.
pub(super) struct DeadlineGuard<'a> {
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
pub(super) struct FinishGuard(pub(super) Arc<Control>);

impl Drop for FinishGuard {
    fn drop(&mut self) {
        self.0.set_finished();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread;

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
}
