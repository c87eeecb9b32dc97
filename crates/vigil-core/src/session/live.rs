//! One session while it runs: its state changes lock-free, from any thread.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use vigil_protocol::{Event, EventId, Level, SessionAttributes, SessionStatus, SessionUpdate};

/// The status and the error count of a session, packed into one word so
/// that both change together in one atomic step: the status in the low two
/// bits, the errors above.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SessionState(u64);

const STATUS_BITS: u32 = 2;
const STATUS_MASK: u64 = (1 << STATUS_BITS) - 1;

impl SessionState {
    const OK: SessionState = SessionState(0);

    fn new(status: SessionStatus, errors: u64) -> SessionState {
        let code = match status {
            SessionStatus::Exited => 1,
            SessionStatus::Crashed => 2,
            SessionStatus::Abnormal => 3,
            _ => 0,
        };
        SessionState(errors.saturating_mul(1 << STATUS_BITS) | code)
    }

    /// The status.
    pub(crate) fn status(self) -> SessionStatus {
        match self.0 & STATUS_MASK {
            1 => SessionStatus::Exited,
            2 => SessionStatus::Crashed,
            3 => SessionStatus::Abnormal,
            _ => SessionStatus::Ok,
        }
    }

    /// How many errors the session had.
    pub(crate) fn errors(self) -> u64 {
        self.0 >> STATUS_BITS
    }

    fn is_terminal(self) -> bool {
        self.0 & STATUS_MASK != 0
    }
}

/// What an event means for the session it was captured in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventEffect {
    /// Nothing: a message, or an error below level `error`.
    None,
    /// A handled error: one more error.
    Error,
    /// An unhandled error (a panic): the session crashed.
    Crash,
}

impl EventEffect {
    /// As the session spec's table says: an exception whose mechanism says
    /// it was not handled is a crash, whatever the level; an event with
    /// exceptions at level `error` or above is an error; events without an
    /// exception (messages, whatever their level) change nothing.
    fn of(event: &Event) -> EventEffect {
        let exceptions = &event.exception.values;
        if exceptions.is_empty() {
            return EventEffect::None;
        }
        let unhandled = exceptions
            .iter()
            .any(|e| e.mechanism.as_ref().and_then(|m| m.handled) == Some(false));
        if unhandled {
            EventEffect::Crash
        } else if event.level >= Level::Error {
            EventEffect::Error
        } else {
            EventEffect::None
        }
    }
}

/// How a session is reported.
pub(crate) enum SessionKind {
    /// Sent on its own (`session` items): one per process run.
    Application(Box<ApplicationSession>),
    /// Counted into per-minute aggregates when it ends: one per request.
    Request,
}

/// What an application session sends along with its state.
pub(crate) struct ApplicationSession {
    id: EventId,
    distinct_id: Option<String>,
    attributes: SessionAttributes,
    /// The next update's sequence number; 0 is the `init` update.
    sequence: AtomicU64,
}

/// A running session. Shared by the scopes that carry it; every change is
/// one atomic step on [`SessionState`], so capturing never waits for it.
pub(crate) struct Session {
    started: SystemTime,
    /// For the duration an application session reports (a request session
    /// reports none).
    clock: Option<Instant>,
    state: AtomicU64,
    /// Set by the first [`end`](Session::end): a session is reported as
    /// ended once, even when several scopes holding it end it.
    ended: AtomicBool,
    kind: SessionKind,
}

/// How [`Session::end`] found and left a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ending {
    /// The final state.
    pub(crate) state: SessionState,
    /// Whether this call set the final status (false: an event had
    /// already ended it, as `crashed`, and its update was sent then).
    pub(crate) status_changed: bool,
}

impl Session {
    /// An application session starting now.
    pub(crate) fn application(
        distinct_id: Option<String>,
        attributes: SessionAttributes,
    ) -> Session {
        Session::new(SessionKind::Application(Box::new(ApplicationSession {
            id: EventId::new(),
            distinct_id,
            attributes,
            sequence: AtomicU64::new(0),
        })))
    }

    /// A request session starting now.
    pub(crate) fn request() -> Session {
        Session::new(SessionKind::Request)
    }

    fn new(kind: SessionKind) -> Session {
        let clock = matches!(kind, SessionKind::Application(_)).then(Instant::now);
        Session {
            started: SystemTime::now(),
            clock,
            state: AtomicU64::new(SessionState::OK.0),
            ended: AtomicBool::new(false),
            kind,
        }
    }

    /// When the session started.
    pub(crate) fn started(&self) -> SystemTime {
        self.started
    }

    pub(crate) fn kind(&self) -> &SessionKind {
        &self.kind
    }

    /// The current state.
    pub(crate) fn state(&self) -> SessionState {
        SessionState(self.state.load(Ordering::Acquire))
    }

    /// Moves the state with `step` (which returns `None` to leave it), in
    /// one atomic step. Returns the old and the new state on a change.
    fn transition(
        &self,
        step: impl Fn(SessionState) -> Option<SessionState>,
    ) -> Option<(SessionState, SessionState)> {
        let mut new = SessionState::OK;
        self.state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                new = step(SessionState(old))?;
                Some(new.0)
            })
            .ok()
            .map(|old| (SessionState(old), new))
    }

    /// Applies a captured event (after `before_send`, before sampling: an
    /// event sampled out still counts). Returns the update to send with
    /// the event, if the change is one the server must hear of at once:
    /// the first error of an application session, or its crash. Later
    /// errors are only counted (the final update carries the count).
    pub(crate) fn update_from_event(&self, event: &Event) -> Option<SessionUpdate> {
        let effect = EventEffect::of(event);
        if effect == EventEffect::None {
            return None;
        }
        let (old, new) = self.transition(|state| {
            if state.is_terminal() {
                return None;
            }
            let status = match effect {
                EventEffect::Crash => SessionStatus::Crashed,
                _ => SessionStatus::Ok,
            };
            Some(SessionState::new(status, state.errors() + 1))
        })?;
        let worth_sending = new.is_terminal() || old.errors() == 0;
        match &self.kind {
            SessionKind::Application(app) if worth_sending => Some(self.update(app, new)),
            _ => None,
        }
    }

    /// Ends the session with `status` (`Ok` means `Exited`); a session an
    /// event ended (crashed) keeps its status. A crashed session counts at
    /// least one error. Only the first call ends it; later ones return
    /// `None`.
    pub(crate) fn end(&self, status: SessionStatus) -> Option<Ending> {
        if self.ended.swap(true, Ordering::AcqRel) {
            return None;
        }
        let status = match status {
            SessionStatus::Ok => SessionStatus::Exited,
            other => other,
        };
        let changed = self.transition(|state| {
            if state.is_terminal() {
                return None;
            }
            let errors = match status {
                SessionStatus::Crashed => state.errors().max(1),
                _ => state.errors(),
            };
            Some(SessionState::new(status, errors))
        });
        Some(match changed {
            Some((_, state)) => Ending {
                state,
                status_changed: true,
            },
            None => Ending {
                state: self.state(),
                status_changed: false,
            },
        })
    }

    /// The `init` update of an application session: sent when it starts.
    pub(crate) fn init_update(&self) -> Option<SessionUpdate> {
        match &self.kind {
            SessionKind::Application(app) => Some(self.update(app, self.state())),
            SessionKind::Request => None,
        }
    }

    /// The update of an application session that ended in `state`.
    pub(crate) fn final_update(&self, state: SessionState) -> Option<SessionUpdate> {
        match &self.kind {
            SessionKind::Application(app) => Some(self.update(app, state)),
            SessionKind::Request => None,
        }
    }

    /// An update reporting `state`, with the next sequence number (the
    /// first one is the `init` update) and, once ended, the duration.
    fn update(&self, app: &ApplicationSession, state: SessionState) -> SessionUpdate {
        let sequence = app.sequence.fetch_add(1, Ordering::AcqRel);
        let mut update = SessionUpdate::new(app.id, self.started, app.attributes.clone());
        update.distinct_id.clone_from(&app.distinct_id);
        update.sequence = Some(sequence);
        update.init = sequence == 0;
        update.timestamp = Some(SystemTime::now());
        update.status = state.status();
        update.errors = state.errors();
        if state.is_terminal() {
            update.duration = self.clock.map(|clock| clock.elapsed().as_secs_f64());
        }
        update
    }
}

#[cfg(test)]
mod tests {
    use vigil_protocol::{Exception, Mechanism, Values};

    use super::*;

    fn error_event(level: Level, handled: Option<bool>) -> Event {
        Event {
            level,
            exception: Values::from(vec![Exception {
                ty: "E".into(),
                mechanism: handled.map(|handled| Mechanism {
                    ty: "test".into(),
                    handled: Some(handled),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }
    }

    fn app() -> Session {
        Session::application(Some("u1".into()), SessionAttributes::new("app@1.0.0"))
    }

    #[test]
    fn state_packs_status_and_errors() {
        for status in [
            SessionStatus::Ok,
            SessionStatus::Exited,
            SessionStatus::Crashed,
            SessionStatus::Abnormal,
        ] {
            let state = SessionState::new(status, 41);
            assert_eq!((state.status(), state.errors()), (status, 41));
        }
    }

    #[test]
    fn first_error_and_crash_are_sent_later_errors_only_counted() {
        let session = app();
        let init = session.init_update().unwrap();
        assert!(init.init);
        assert_eq!(
            (init.sequence, init.status, init.errors),
            (Some(0), SessionStatus::Ok, 0)
        );
        assert!(init.duration.is_none());

        let first = session
            .update_from_event(&error_event(Level::Error, Some(true)))
            .unwrap();
        assert!(!first.init);
        assert_eq!((first.sequence, first.errors), (Some(1), 1));
        assert!(
            session
                .update_from_event(&error_event(Level::Error, None))
                .is_none()
        );
        assert_eq!(session.state().errors(), 2);

        let crash = session
            .update_from_event(&error_event(Level::Fatal, Some(false)))
            .unwrap();
        assert_eq!((crash.status, crash.errors), (SessionStatus::Crashed, 3));
        assert!(crash.duration.is_some());
        // Terminal: nothing changes any more.
        assert!(
            session
                .update_from_event(&error_event(Level::Error, None))
                .is_none()
        );
        let ending = session.end(SessionStatus::Exited).unwrap();
        assert!(!ending.status_changed);
        assert_eq!(ending.state.status(), SessionStatus::Crashed);
        assert!(session.end(SessionStatus::Exited).is_none());
        assert_eq!(session.state().errors(), 3);
    }

    #[test]
    fn messages_and_low_levels_change_nothing() {
        let session = app();
        let message = Event::from_message("boom", Level::Fatal);
        assert!(session.update_from_event(&message).is_none());
        assert!(
            session
                .update_from_event(&error_event(Level::Warning, None))
                .is_none()
        );
        assert_eq!(session.state(), SessionState::OK);
    }

    #[test]
    fn end_once_and_crashed_counts_an_error() {
        let session = app();
        let ending = session.end(SessionStatus::Crashed).unwrap();
        assert!(ending.status_changed);
        let state = ending.state;
        assert_eq!(
            (state.status(), state.errors()),
            (SessionStatus::Crashed, 1)
        );
        assert!(session.end(SessionStatus::Exited).is_none());

        let session = app();
        let state = session.end(SessionStatus::Ok).unwrap().state;
        assert_eq!(state.status(), SessionStatus::Exited);
        let update = session.final_update(state).unwrap();
        assert_eq!(update.status, SessionStatus::Exited);
        assert!(update.duration.is_some());
    }

    #[test]
    fn request_sessions_count_but_never_send() {
        let session = Session::request();
        assert!(session.init_update().is_none());
        assert!(
            session
                .update_from_event(&error_event(Level::Error, None))
                .is_none()
        );
        assert!(
            session
                .update_from_event(&error_event(Level::Error, None))
                .is_none()
        );
        let state = session.end(SessionStatus::Exited).unwrap().state;
        assert_eq!((state.status(), state.errors()), (SessionStatus::Exited, 2));
        assert!(session.final_update(state).is_none());
    }

    #[test]
    fn concurrent_errors_are_all_counted_and_the_first_is_sent_once() {
        let session = std::sync::Arc::new(app());
        let sent: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let session = &session;
                    s.spawn(move || {
                        (0..1000)
                            .filter(|_| {
                                session
                                    .update_from_event(&error_event(Level::Error, None))
                                    .is_some()
                            })
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(sent, 1);
        assert_eq!(session.state().errors(), 4000);
    }
}
