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

    /// Starts the session of one request on `hub`'s top scope, as
    /// [`start_request_session`](Hub::start_request_session) does, and
    /// returns a guard that ends it (`exited`) when dropped: what a server
    /// integration keeps for the lifetime of a request. `None` when the
    /// client does not count requests.
    pub fn request_session(hub: &Arc<Hub>) -> Option<RequestSessionGuard> {
        hub.start_request_session()
            .then(|| RequestSessionGuard(Arc::clone(hub)))
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

/// The session of one request, ended (`exited`) when dropped; made by
/// [`Hub::request_session`]. A panic captured on the request's hub before
/// that has already made the session `crashed`.
#[must_use = "the request's session ends when the guard is dropped"]
#[derive(Debug)]
pub struct RequestSessionGuard(Arc<Hub>);

impl Drop for RequestSessionGuard {
    fn drop(&mut self) {
        self.0.end_session();
    }
}
