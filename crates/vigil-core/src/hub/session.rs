//! The hub's release-health API: a session lives on the top scope, and the
//! scopes copied from it (pushed layers, hubs forked from it) share it.

use std::sync::Arc;

use vigil_protocol::{SessionStatus, User};

use super::Hub;
use super::stack::{Bound, lock};
use crate::session::Session;

impl Hub {
    /// Starts a session on the top scope, ending the one it had (as
    /// `exited`). In application mode (see
    /// [`SessionMode`](crate::SessionMode)) the session belongs to the
    /// scope's user, if one is set, and its `init` update is sent now; in
    /// request mode it is one request's session, counted when it ends.
    /// Nothing happens without an enabled client or a release.
    ///
    /// `init` calls this on the main hub when
    /// [`auto_session_tracking`](crate::ClientOptions::auto_session_tracking)
    /// is on; call it yourself when it is off.
    pub fn start_session(&self) {
        let Some(bound) = self.bound() else {
            return;
        };
        self.end_session();
        let client = bound.client();
        let session = if client.counts_requests() {
            client.start_request_session()
        } else {
            let user = self.top_scope().rest.user.clone();
            client.start_application_session(user.as_deref())
        };
        if let Some(session) = session {
            self.set_session(session);
        }
    }

    /// Starts the session of one request on the top scope, for server
    /// integrations (the tower layer calls it for every request); end it
    /// with [`end_session`](Hub::end_session) when the response is ready.
    ///
    /// Does nothing, and returns false, unless the client counts requests:
    /// [`SessionMode::Request`](crate::SessionMode::Request), or
    /// [`SessionMode::Auto`](crate::SessionMode::Auto), which switches to
    /// request mode on the first call (the process's session ends as
    /// `exited`). Also false without an enabled client, with
    /// `auto_session_tracking` off or without a release.
    pub fn start_request_session(&self) -> bool {
        let Some(bound) = self.bound() else {
            return false;
        };
        let client = bound.client();
        if !client.options().auto_session_tracking {
            return false;
        }
        match client.start_request_session() {
            Some(session) => {
                self.set_session(session);
                true
            }
            None => false,
        }
    }

    /// Ends the top scope's session normally (`exited`, which the server
    /// counts as errored when it had errors) and removes it from the scope.
    pub fn end_session(&self) {
        self.end_session_with_status(SessionStatus::Exited);
    }

    /// Ends the top scope's session with `status` (`Ok` means `exited`;
    /// `crashed` counts at least one error) and removes it from the scope.
    /// An application session sends its final update with its duration; a
    /// request session is counted for the next aggregate, under the
    /// scope's user. A session that ended already (crashed) stays as it
    /// ended.
    pub fn end_session_with_status(&self, status: SessionStatus) {
        let Some(ended) = self.take_session() else {
            return;
        };
        if let Some(bound) = ended.bound {
            bound
                .client()
                .end_session(&ended.session, status, ended.user.as_deref());
        }
    }

    /// Sets `session` on the top scope (the layer's version moves, so a
    /// `configure_scope` running meanwhile merges instead of overwriting).
    fn set_session(&self, session: Arc<Session>) {
        let mut stack = lock(&self.stack);
        let top = stack.top_mut();
        Arc::make_mut(&mut top.scope).session = Some(session);
        top.version += 1;
    }

    /// Removes the top scope's session; with it, the scope's user and the
    /// client that captures here, read under the same lock.
    fn take_session(&self) -> Option<TakenSession> {
        let mut stack = lock(&self.stack);
        stack.top().scope.session.as_ref()?;
        let bound = self.with_resolved_client(stack.top(), |c| c.cloned());
        let top = stack.top_mut();
        let scope = Arc::make_mut(&mut top.scope);
        let session = scope.session.take()?;
        let user = scope.rest.user.clone();
        top.version += 1;
        Some(TakenSession {
            session,
            user,
            bound,
        })
    }
}

/// What [`Hub::end_session_with_status`] takes from the top scope.
struct TakenSession {
    session: Arc<Session>,
    user: Option<Arc<User>>,
    bound: Option<Arc<Bound>>,
}

#[cfg(test)]
mod tests {
    use vigil_protocol::{EnvelopeItem, SessionAggregates};

    use crate::{ClientOptions, Hub, SessionMode};

    fn aggregates(options: ClientOptions, f: impl FnOnce()) -> Vec<SessionAggregates> {
        crate::test::with_captured_envelopes_options(f, options)
            .iter()
            .flat_map(|e| e.items())
            .filter_map(|item| match item {
                EnvelopeItem::SessionAggregates(a) => Some((**a).clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn explicit_request_sessions_work_with_automatic_tracking_off() {
        let options = ClientOptions::new()
            .release("app@1")
            .auto_session_tracking(false)
            .session_mode(SessionMode::Request);
        let sent = aggregates(options, || {
            let hub = Hub::current();
            // What server integrations call: off with automatic tracking.
            assert!(!hub.start_request_session());
            hub.start_session();
            crate::capture_error(&std::io::Error::other("failed"));
            hub.end_session();
            hub.start_session();
            hub.end_session();
        });
        assert_eq!(sent.len(), 1);
        let bucket = &sent[0].aggregates[0];
        assert_eq!((bucket.exited, bucket.errored), (1, 1));
    }

    #[test]
    fn ending_twice_counts_once() {
        let options = ClientOptions::new()
            .release("app@1")
            .session_mode(SessionMode::Request);
        let sent = aggregates(options, || {
            let hub = Hub::current();
            assert!(hub.start_request_session());
            let _inner = hub.push_scope();
            // The pushed scope shares the session: ending it there ends it.
            hub.end_session();
            drop(_inner);
            hub.end_session();
        });
        assert_eq!(sent.iter().map(SessionAggregates::total).sum::<u64>(), 1);
    }
}
