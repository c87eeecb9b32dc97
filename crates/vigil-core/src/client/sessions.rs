//! The client's side of release health: starting, updating and ending
//! sessions, and sending request-mode aggregates every 60 s.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use vigil_protocol::{
    DataCategory, DiscardReason, Envelope, SessionAttributes, SessionStatus, SessionUpdate, User,
};

use super::Client;
use crate::options::ClientOptions;
use crate::session::{Session, SessionAggregator, SessionKind, SessionMode};

/// How often request-mode aggregates are sent.
const AGGREGATE_INTERVAL: Duration = Duration::from_secs(60);

/// The most `sessions` items one envelope carries.
const MAX_ITEMS_PER_ENVELOPE: usize = 100;

/// The session state a client keeps.
pub(crate) struct ClientSessions {
    /// The attributes every session of this client has; `None` without a
    /// release (then no session starts).
    attributes: Option<SessionAttributes>,
    /// Requests are sessions: `SessionMode::Request`, or `Auto` once a
    /// server integration handled a request.
    request_mode: AtomicBool,
    /// Application sessions started and not yet known to have ended,
    /// ended when the client closes.
    open: Mutex<Vec<Weak<Session>>>,
    aggregator: SessionAggregator,
    flusher: Mutex<Option<Flusher>>,
    /// Set once the aggregate thread was started (or could not be): the
    /// per-request check is this load.
    flusher_started: AtomicBool,
    /// Whether the debug output said that sessions need a release.
    told_no_release: AtomicBool,
}

impl ClientSessions {
    pub(crate) fn new(options: &ClientOptions) -> ClientSessions {
        let attributes = options.release.as_ref().map(|release| {
            let mut attributes = SessionAttributes::new(release.to_string());
            attributes.environment = Some(
                options
                    .environment
                    .as_deref()
                    .unwrap_or("production")
                    .to_owned(),
            );
            attributes
        });
        ClientSessions {
            attributes,
            request_mode: AtomicBool::new(options.session_mode == SessionMode::Request),
            open: Mutex::new(Vec::new()),
            aggregator: SessionAggregator::default(),
            flusher: Mutex::new(None),
            flusher_started: AtomicBool::new(false),
            told_no_release: AtomicBool::new(false),
        }
    }
}

/// The thread sending aggregates every [`AGGREGATE_INTERVAL`].
struct Flusher {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<()>,
}

/// The distinct id a session is counted under: the user's id, else email,
/// else username.
fn distinct_id(user: Option<&User>) -> Option<&str> {
    let user = user?;
    user.id
        .as_deref()
        .or(user.email.as_deref())
        .or(user.username.as_deref())
}

impl Client {
    /// Whether requests are sessions (and the process is not).
    pub(crate) fn counts_requests(&self) -> bool {
        self.sessions.request_mode.load(Ordering::Relaxed)
    }

    /// Counts a session that cannot start for want of a release.
    fn session_without_release(&self) {
        if !self.sessions.told_no_release.swap(true, Ordering::Relaxed) {
            crate::vigil_debug!("no sessions: the release is not set (each one is counted)");
        }
        self.recorder
            .record(DiscardReason::InsufficientData, DataCategory::Session, 1);
    }

    /// Starts an application session for `user` and sends its `init`
    /// update. `None` when the client is disabled, counts requests
    /// instead, or has no release.
    pub(crate) fn start_application_session(&self, user: Option<&User>) -> Option<Arc<Session>> {
        if !self.is_enabled() || self.counts_requests() {
            return None;
        }
        let Some(attributes) = &self.sessions.attributes else {
            self.session_without_release();
            return None;
        };
        let mut attributes = attributes.clone();
        if self.options.send_default_pii {
            attributes.ip_address = user.and_then(|u| u.ip_address.clone());
        }
        let session = Arc::new(Session::application(
            distinct_id(user).map(str::to_owned),
            attributes,
        ));
        {
            let mut open = self
                .sessions
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            open.retain(|s| s.strong_count() > 0);
            open.push(Arc::downgrade(&session));
        }
        if let Some(update) = session.init_update() {
            self.send_session_update(update);
        }
        Some(session)
    }

    /// Starts a request session, switching [`SessionMode::Auto`] to request
    /// mode (ending the process's application sessions as `exited`).
    /// `None` when the client is disabled, tracks application sessions
    /// only, or has no release. (`auto_session_tracking` is for the caller
    /// to check: it turns off the automatic sessions, not the explicit
    /// ones.)
    pub(crate) fn start_request_session(self: &Arc<Self>) -> Option<Arc<Session>> {
        if !self.is_enabled() {
            return None;
        }
        if !self.counts_requests() {
            if self.options.session_mode != SessionMode::Auto {
                return None;
            }
            if !self.sessions.request_mode.swap(true, Ordering::AcqRel) {
                crate::vigil_debug!("a server integration handles requests: request mode");
                self.end_application_sessions();
            }
        }
        if self.sessions.attributes.is_none() {
            self.session_without_release();
            return None;
        }
        self.start_flusher();
        Some(Arc::new(Session::request()))
    }

    /// Ends `session` with `status` (`Ok` means `exited`) unless it ended
    /// already: an application session sends its final update, a request
    /// session is counted under `user`'s distinct id.
    pub(crate) fn end_session(
        &self,
        session: &Session,
        status: SessionStatus,
        user: Option<&User>,
    ) {
        let Some(ending) = session.end(status) else {
            return;
        };
        match session.kind() {
            // A crash already sent its update: nothing follows it.
            SessionKind::Application(_) if ending.status_changed => {
                if let Some(update) = session.final_update(ending.state) {
                    self.send_session_update(update);
                }
            }
            SessionKind::Application(_) => {}
            SessionKind::Request => {
                self.sessions
                    .aggregator
                    .record(session.started(), distinct_id(user), ending.state);
            }
        }
    }

    /// Ends every application session still running, as `exited`.
    fn end_application_sessions(&self) {
        let open = std::mem::take(
            &mut *self
                .sessions
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for session in open.iter().filter_map(Weak::upgrade) {
            self.end_session(&session, SessionStatus::Exited, None);
        }
    }

    pub(super) fn send_session_update(&self, update: SessionUpdate) {
        let mut envelope = Envelope::new();
        envelope.add_item(update);
        self.send_envelope(envelope);
    }

    /// Sends what the request-mode aggregator counted so far.
    pub(crate) fn send_session_aggregates(&self) {
        let Some(attributes) = &self.sessions.attributes else {
            return;
        };
        let items = self.sessions.aggregator.take(attributes);
        for chunk in items.chunks(MAX_ITEMS_PER_ENVELOPE) {
            let mut envelope = Envelope::new();
            for item in chunk {
                envelope.add_item(item.clone());
            }
            self.send_envelope(envelope);
        }
    }

    /// Before the client's final flush: ends the application sessions,
    /// sends the aggregates and stops the aggregate thread.
    pub(crate) fn close_sessions(&self) {
        self.end_application_sessions();
        self.send_session_aggregates();
        let flusher = self
            .sessions
            .flusher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(flusher) = flusher {
            let (stopped, wake) = &*flusher.stop;
            *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
            wake.notify_all();
            // The thread may be the one closing the client (its last
            // reference dropped there): never join oneself.
            if flusher.thread.thread().id() != std::thread::current().id() {
                let _ = flusher.thread.join();
            }
        }
    }

    /// Starts the aggregate thread unless it runs. It holds the client
    /// weakly: it stops when the client is closed or dropped.
    fn start_flusher(self: &Arc<Self>) {
        if self.sessions.flusher_started.load(Ordering::Acquire) {
            return;
        }
        let mut flusher = self
            .sessions
            .flusher
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if flusher.is_some() || !self.is_enabled() {
            return;
        }
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let client = Arc::downgrade(self);
        let thread_stop = Arc::clone(&stop);
        let spawned = std::thread::Builder::new()
            .name("vigil-sessions".into())
            .spawn(move || aggregate_loop(&client, &thread_stop));
        self.sessions.flusher_started.store(true, Ordering::Release);
        match spawned {
            Ok(thread) => *flusher = Some(Flusher { stop, thread }),
            // Aggregates are then sent at flush and close only.
            Err(e) => crate::vigil_debug!("cannot start the session aggregate thread: {e}"),
        }
    }
}

/// Sends the aggregates every [`AGGREGATE_INTERVAL`] until stopped or the
/// client is gone.
fn aggregate_loop(client: &Weak<Client>, stop: &(Mutex<bool>, Condvar)) {
    let (stopped, wake) = stop;
    let mut guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let (next, _) = wake
            .wait_timeout_while(guard, AGGREGATE_INTERVAL, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        guard = next;
        if *guard {
            return;
        }
        drop(guard);
        match client.upgrade() {
            Some(client) => crate::panic_guard::call_guarded("session aggregates", None, || {
                client.send_session_aggregates();
            })
            .unwrap_or(()),
            None => return,
        }
        guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
    }
}
