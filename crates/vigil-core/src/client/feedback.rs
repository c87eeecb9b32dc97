//! User feedback of a client: the event pipeline with
//! `before_send_feedback` in place of `before_send`, no sampling, one
//! envelope per feedback.

use vigil_protocol::{Envelope, EventId, Feedback, limits};

use super::{Client, EventKind};
use crate::scope::Scope;

impl Client {
    /// Captures user feedback: builds its feedback event
    /// ([`Feedback::into_event`]: level `info`), runs the event pipeline
    /// on it (scope data with the `trace` context, the scopes' event
    /// processors, integrations, the event scrubber), then
    /// `before_send_feedback` (never `before_send`), and sends it alone in
    /// an envelope whose `event_id` is the feedback event's own id. An
    /// event processor tells a feedback by its
    /// [`Event::feedback`](vigil_protocol::Event::feedback).
    ///
    /// Feedback is never sampled and does not count for the session. The
    /// message is cut to 4096 characters. Drops are counted in category
    /// `feedback`.
    ///
    /// Returns the feedback event's id, or the nil id when it was dropped
    /// or the client is disabled. Unlike an error event's, the id does not
    /// become the hub's `last_event_id`.
    pub fn capture_feedback(&self, feedback: Feedback, scope: Option<&Scope>) -> EventId {
        let Some(transport) = self.transport() else {
            return EventId::nil();
        };
        let global = crate::global::snapshot();
        let event = Box::new(feedback.into_event());
        let Some(mut event) =
            self.prepare_with_global(event, scope, global.as_deref(), EventKind::Feedback)
        else {
            return EventId::nil();
        };
        limits::trim_event(&mut event);
        let id = event.event_id;
        let trace_header = self.trace_header_for(&event, scope.or(global.as_deref()));
        let mut envelope = Envelope::from_feedback(event);
        envelope.headers_mut().trace = trace_header;
        self.fill_envelope_headers(&mut envelope);
        crate::vigil_debug!("feedback {id} queued");
        transport.send_envelope(envelope);
        id
    }
}
