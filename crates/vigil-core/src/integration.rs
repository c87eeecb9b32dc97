//! The integration trait.

use vigil_protocol::Event;

use crate::options::ClientOptions;

/// Extends the SDK: sets options up when a client is created and processes
/// every event the client captures.
///
/// Integrations run in the order they were added, after the scope's event
/// processors and before `before_send`. A panic inside either method is
/// caught: in `setup` it is reported, in `process_event` it drops the
/// event (counted as `event_processor`).
pub trait Integration: Send + Sync + 'static {
    /// A short name, listed in the event's `sdk.integrations`.
    fn name(&self) -> &'static str;

    /// Called once when a client is created with this integration.
    fn setup(&self, options: &mut ClientOptions) {
        let _ = options;
    }

    /// Changes or drops (`None`) an event.
    fn process_event(&self, event: Event, options: &ClientOptions) -> Option<Event> {
        let _ = options;
        Some(event)
    }
}
