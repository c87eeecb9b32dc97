//! What the server keeps across restarts: the script, the default reply and
//! the recorded requests, shared by the handle, the accept loop and the
//! connections.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::server::http::RawRequest;
use crate::server::reply::Reply;
use crate::server::request::Request;

/// Locks `mutex`, ignoring poisoning: a test that panicked while holding a
/// lock (in a [`with_requests`](ServerState::with_requests) closure, say)
/// must not break the server for the rest of the test, nor its drop.
pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The server's state; it survives restarts.
pub(super) struct ServerState {
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    requests: Mutex<Vec<Request>>,
    /// Signalled whenever a request is recorded or answered.
    recorded: Condvar,
}

impl ServerState {
    /// An empty script, `200 OK` as the default, no requests.
    pub(super) fn new() -> ServerState {
        ServerState {
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::ok()),
            requests: Mutex::new(Vec::new()),
            recorded: Condvar::new(),
        }
    }

    /// Appends `replies` to the script.
    pub(super) fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.script).extend(replies);
    }

    /// Sets the reply used once the script is used up.
    pub(super) fn set_default(&self, reply: Reply) {
        *lock(&self.default) = reply;
    }

    /// How many scripted replies are not used yet.
    pub(super) fn script_left(&self) -> usize {
        lock(&self.script).len()
    }

    /// Takes the next scripted reply, or a copy of the default.
    pub(super) fn next_reply(&self) -> Reply {
        lock(&self.script)
            .pop_front()
            .unwrap_or_else(|| lock(&self.default).clone())
    }

    /// Records a request (not answered yet); returns its index.
    pub(super) fn record(&self, raw: RawRequest) -> usize {
        let request = Request::received(raw);
        let mut requests = lock(&self.requests);
        requests.push(request);
        let index = requests.len() - 1;
        drop(requests);
        self.recorded.notify_all();
        index
    }

    /// Sets the status answered to request `index`.
    pub(super) fn answered(&self, index: usize, status: u16) {
        if let Some(request) = lock(&self.requests).get_mut(index) {
            request.status = status;
        }
        self.recorded.notify_all();
    }

    /// Runs `f` on the requests recorded so far, under the lock.
    pub(super) fn with_requests<R>(&self, f: impl FnOnce(&[Request]) -> R) -> R {
        f(&lock(&self.requests))
    }

    /// Waits until `done` returns true for the recorded requests, at most
    /// `timeout`. `done` runs now, after each new request, and at least
    /// every 50 ms. Returns whether it became true.
    pub(super) fn wait_for(
        &self,
        timeout: Duration,
        mut done: impl FnMut(&[Request]) -> bool,
    ) -> bool {
        let deadline = Instant::now() + timeout;
        let mut requests = lock(&self.requests);
        loop {
            if done(&requests) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wait = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(50));
            requests = self
                .recorded
                .wait_timeout(requests, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}
