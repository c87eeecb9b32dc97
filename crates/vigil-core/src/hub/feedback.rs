//! Capturing user feedback on a hub.

use vigil_protocol::{EventId, Feedback};

use super::Hub;

impl Hub {
    /// Captures user feedback with the top scope's data (user, tags,
    /// contexts, the `trace` context of the active span or the scope's
    /// trace; see [`Client::capture_feedback`](crate::Client::capture_feedback)).
    /// Returns the feedback event's id, or the nil id when it was dropped
    /// or no client is bound.
    ///
    /// To link the feedback to an error, set its
    /// [`associated_event_id`](Feedback::associated_event_id) to the
    /// error's id, e.g. [`last_event_id`](Hub::last_event_id); capturing a
    /// feedback does not change `last_event_id`.
    pub fn capture_feedback(&self, feedback: Feedback) -> EventId {
        match self.client_and_capture_scope() {
            Some((client, scope)) => client.capture_feedback(feedback, Some(&scope)),
            None => EventId::nil(),
        }
    }
}
