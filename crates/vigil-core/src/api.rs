//! The global API: free functions acting on the current hub.
//!
//! With no enabled client bound anywhere each of these is a single atomic
//! load and returns at once.

use std::error::Error;
use std::time::Duration;

use vigil_protocol::{Event, EventId, Level};

use crate::breadcrumbs::IntoBreadcrumbs;
use crate::hub::{Hub, ScopeGuard, any_client};
use crate::scope::Scope;

/// Captures an event on the current hub, merging the current scope's data.
/// Returns the event id, or the nil id when it was dropped or the SDK is
/// disabled.
///
/// ```
/// # let events = vigil_core::test::with_captured_events(|| {
/// let mut event = vigil_core::protocol::Event::new();
/// event.message = Some("hello".into());
/// vigil_core::capture_event(event);
/// # });
/// # assert_eq!(events[0].message.as_deref(), Some("hello"));
/// ```
#[inline]
pub fn capture_event(event: Event) -> EventId {
    if !any_client() {
        return EventId::nil();
    }
    Hub::with_current(|hub| hub.capture_event(event))
}

/// Captures a message at `level`.
///
/// ```
/// let events = vigil_core::test::with_captured_events(|| {
///     vigil_core::capture_message("disk almost full", vigil_core::protocol::Level::Warning);
/// });
/// assert_eq!(events[0].message.as_deref(), Some("disk almost full"));
/// ```
#[inline]
pub fn capture_message(message: &str, level: Level) -> EventId {
    if !any_client() {
        return EventId::nil();
    }
    Hub::with_current(|hub| hub.capture_message(message, level))
}

/// Captures an error and its whole `source()` chain as exception values,
/// root cause first.
///
/// ```
/// let events = vigil_core::test::with_captured_events(|| {
///     let err = "x".parse::<u32>().unwrap_err();
///     vigil_core::capture_error(&err);
/// });
/// assert_eq!(events[0].exception.values[0].ty, "ParseIntError");
/// ```
#[inline]
pub fn capture_error<E: Error + ?Sized>(error: &E) -> EventId {
    if !any_client() {
        return EventId::nil();
    }
    Hub::with_current(|hub| hub.capture_error(error))
}

/// Captures a cron check-in on the current hub (see
/// [`Hub::capture_check_in`]): the release, the environment and the
/// current trace are filled in where it has none, `before_send_check_in`
/// runs, and it is sent in an envelope of its own. Returns its id (also
/// when it was dropped or the SDK is disabled), which the check-in that
/// ends the run repeats. [`monitor`](crate::monitor) does both check-ins
/// of a job.
///
/// ```
/// use vigil_core::protocol::{CheckIn, CheckInStatus};
/// # let envelopes = vigil_core::test::with_captured_envelopes(|| {
/// let mut check_in = CheckIn::new("heartbeat", CheckInStatus::Ok);
/// check_in.duration = Some(0.5);
/// vigil_core::capture_check_in(check_in);
/// # });
/// # assert_eq!(envelopes.len(), 1);
/// ```
#[inline]
pub fn capture_check_in(check_in: vigil_protocol::CheckIn) -> vigil_protocol::CheckInId {
    if !any_client() {
        return check_in.check_in_id;
    }
    Hub::with_current(|hub| hub.capture_check_in(check_in))
}

/// Captures user feedback on the current hub (see
/// [`Hub::capture_feedback`]): sent as a `feedback` item with the current
/// scope's data, through `before_send_feedback` (never `before_send`) and
/// never sampled. Returns the feedback event's id, or the nil id when it
/// was dropped or the SDK is disabled.
///
/// Link it to an error with [`last_event_id`]:
///
/// ```
/// use vigil_core::protocol::{Feedback, Level};
/// let envelopes = vigil_core::test::with_captured_envelopes(|| {
///     vigil_core::capture_message("checkout failed", Level::Error);
///     let mut feedback = Feedback::new("I clicked pay and nothing happened.");
///     feedback.contact_email = Some("jane@example.com".into());
///     feedback.associated_event_id = vigil_core::last_event_id();
///     vigil_core::capture_feedback(feedback);
/// });
/// let error = envelopes[0].event().unwrap();
/// let feedback = envelopes[1].feedback().unwrap().feedback().unwrap();
/// assert_eq!(feedback.associated_event_id, Some(error.event_id));
/// ```
#[inline]
pub fn capture_feedback(feedback: vigil_protocol::Feedback) -> EventId {
    if !any_client() {
        return EventId::nil();
    }
    Hub::with_current(|hub| hub.capture_feedback(feedback))
}

/// Records breadcrumbs on the current scope (see [`IntoBreadcrumbs`]). A
/// closure passed here only runs when the SDK is enabled.
#[inline]
pub fn add_breadcrumb<B: IntoBreadcrumbs>(breadcrumbs: B) {
    if !any_client() {
        return;
    }
    Hub::with_current(|hub| hub.add_breadcrumb(breadcrumbs))
}

/// Changes the current scope for good. Not invoked (returns
/// `R::default()`) when the SDK is disabled.
///
/// ```
/// let events = vigil_core::test::with_captured_events(|| {
///     vigil_core::configure_scope(|scope| scope.set_tag("region", "eu"));
///     vigil_core::capture_message("hi", vigil_core::protocol::Level::Info);
/// });
/// assert_eq!(events[0].tags["region"], "eu");
/// ```
#[inline]
pub fn configure_scope<F, R>(f: F) -> R
where
    F: FnOnce(&mut Scope) -> R,
    R: Default,
{
    if !any_client() {
        return R::default();
    }
    Hub::with_active(|hub| hub.configure_scope(f))
}

/// Runs `callback` in a new scope configured by `scope_config`; changes
/// stay inside. When the SDK is disabled only `callback` runs.
///
/// ```
/// use vigil_core::protocol::Level;
/// let events = vigil_core::test::with_captured_events(|| {
///     vigil_core::with_scope(|scope| scope.set_tag("my-tag", "my value"), || {
///         vigil_core::capture_message("my error", Level::Error);
///     });
///     vigil_core::capture_message("my other error", Level::Error);
/// });
/// assert_eq!(events[0].tags.get("my-tag").map(|v| v.as_str()), Some("my value"));
/// assert!(events[1].tags.get("my-tag").is_none());
/// ```
#[inline]
pub fn with_scope<C, F, R>(scope_config: C, callback: F) -> R
where
    C: FnOnce(&mut Scope),
    F: FnOnce() -> R,
{
    if !any_client() {
        return callback();
    }
    Hub::with_current(|hub| {
        if hub.is_active() {
            hub.with_scope(scope_config, callback)
        } else {
            callback()
        }
    })
}

/// Pushes a new scope on the current hub; dropping the guard pops it.
///
/// ```
/// use vigil_core::protocol::Level;
/// let events = vigil_core::test::with_captured_events(|| {
///     {
///         let _guard = vigil_core::push_scope();
///         vigil_core::configure_scope(|s| s.set_tag("inner", "yes"));
///         vigil_core::capture_message("inside", Level::Info);
///     }
///     vigil_core::capture_message("outside", Level::Info);
/// });
/// assert!(events[0].tags.contains_key("inner"));
/// assert!(!events[1].tags.contains_key("inner"));
/// ```
#[inline]
pub fn push_scope() -> ScopeGuard {
    if !any_client() {
        return ScopeGuard::noop();
    }
    Hub::with_current(|hub| {
        if hub.is_active() {
            hub.push_scope()
        } else {
            ScopeGuard::noop()
        }
    })
}

/// The id of the last event sent from the current hub.
#[inline]
pub fn last_event_id() -> Option<EventId> {
    if !any_client() {
        return None;
    }
    Hub::with_current(|hub| hub.last_event_id())
}

/// Waits until the current client has sent what was queued, at most
/// `timeout` (the client's `shutdown_timeout` when `None`). Returns whether
/// everything was sent; `true` when the SDK is disabled.
///
/// Accepts a `Duration` or an `Option<Duration>`.
#[inline]
pub fn flush(timeout: impl Into<Option<Duration>>) -> bool {
    if !any_client() {
        return true;
    }
    match Hub::current().client() {
        Some(client) => client.flush(timeout),
        None => true,
    }
}

/// Starts a release-health session on the current hub's top scope, ending
/// the one it had (see [`Hub::start_session`]). `init` starts one itself
/// when `auto_session_tracking` is on.
#[inline]
pub fn start_session() {
    Hub::with_active(|hub| hub.start_session());
}

/// Ends the current scope's session as `exited` (see
/// [`Hub::end_session`]).
#[inline]
pub fn end_session() {
    Hub::with_active(|hub| hub.end_session());
}

/// Ends the current scope's session with `status` (see
/// [`Hub::end_session_with_status`]).
#[inline]
pub fn end_session_with_status(status: crate::SessionStatus) {
    Hub::with_active(|hub| hub.end_session_with_status(status));
}
