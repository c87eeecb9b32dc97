//! What an event becomes ([`EventFilter`]) and the default filters.

use tracing_core::Metadata;
use vigil_core::Hub;

bitflags::bitflags! {
    /// What the layer does with a `tracing` event, as decided by its event
    /// filter: a set of actions, combined with `|`.
    ///
    /// [`EventFilter::Ignore`] is the empty set; `EventFilter::Breadcrumb |
    /// EventFilter::Event` (also named [`EventFilter::EventAndBreadcrumb`])
    /// captures a Vigil event and then adds a breadcrumb referring to it.
    /// [`EventFilter::Log`] sends the event as a structured log too (or
    /// alone); [`EventFilter::all()`] is every action: event, breadcrumb
    /// and log.
    ///
    /// ```
    /// use vigil_tracing::EventFilter;
    ///
    /// let both = EventFilter::Breadcrumb | EventFilter::Event;
    /// assert!(both.contains(EventFilter::Event));
    /// assert_eq!(both, EventFilter::EventAndBreadcrumb);
    /// assert!(EventFilter::Ignore.is_empty());
    /// ```
    ///
    /// The values are constants, so they can be matched on:
    ///
    /// ```
    /// use vigil_tracing::EventFilter;
    ///
    /// fn describe(filter: EventFilter) -> &'static str {
    ///     match filter {
    ///         EventFilter::Ignore => "nothing",
    ///         EventFilter::Event => "an event",
    ///         EventFilter::Breadcrumb => "a breadcrumb",
    ///         EventFilter::Log => "a log",
    ///         EventFilter::EventAndBreadcrumb => "an event and a breadcrumb",
    ///         _ => "a log and more",
    ///     }
    /// }
    /// assert_eq!(describe(EventFilter::Event), "an event");
    /// assert_eq!(describe(EventFilter::Log | EventFilter::Event), "a log and more");
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct EventFilter: u8 {
        /// The event is added to the hub's scope as a breadcrumb, shown with
        /// the next Vigil event.
        const Breadcrumb = 0b01;
        /// The event is captured as a Vigil event.
        const Event = 0b10;
        /// `Breadcrumb | Event`: the event is captured as a Vigil event, and
        /// then also added as a breadcrumb that refers to it (`event_id`), so
        /// that events captured later show it in their trail.
        const EventAndBreadcrumb = Self::Breadcrumb.bits() | Self::Event.bits();
        /// The event is sent as a structured log
        /// ([`Log`](vigil_core::protocol::Log), see
        /// [`log_from_event`](crate::log_from_event)) through
        /// `Hub::capture_log`, linked to the traced span it was emitted in.
        /// Sent whenever asked for, whether or not the client's
        /// `enable_logs` is on (which only decides what the
        /// [default filter](default_event_filter) asks for).
        const Log = 0b100;
    }
}

impl EventFilter {
    /// Nothing is captured (the empty set).
    #[expect(
        non_upper_case_globals,
        reason = "the actions are named like enum variants, as in the Sentry SDK's tracing integration"
    )]
    pub const Ignore: EventFilter = EventFilter::empty();

    /// Whether a Vigil event is captured.
    pub(crate) fn event(self) -> bool {
        self.contains(EventFilter::Event)
    }

    /// Whether a breadcrumb is added.
    pub(crate) fn breadcrumb(self) -> bool {
        self.contains(EventFilter::Breadcrumb)
    }

    /// Whether a structured log is sent.
    pub(crate) fn log(self) -> bool {
        self.contains(EventFilter::Log)
    }
}

/// The default event filter: `ERROR` events become Vigil events, `WARN`
/// and `INFO` events breadcrumbs, `DEBUG` and `TRACE` events are ignored.
///
/// When the client of the current hub has
/// [`enable_logs`](vigil_core::ClientOptions::enable_logs) on, `ERROR`,
/// `WARN` and `INFO` events are also sent as structured logs
/// ([`EventFilter::Log`] is added); without a client, or with it off, the
/// filter is as above. Until a client is bound anywhere, checking costs one
/// atomic load.
///
/// Useful as the fallback of a custom filter:
///
/// ```
/// use tracing_subscriber::Registry;
/// use vigil_tracing::{EventFilter, VigilLayer, default_event_filter};
///
/// let layer = VigilLayer::<Registry>::new().event_filter(|md| match md.target() {
///     "noisy_dependency" => EventFilter::Ignore,
///     _ => default_event_filter(md),
/// });
/// # let _ = layer;
/// ```
pub fn default_event_filter(metadata: &Metadata<'_>) -> EventFilter {
    let action = match *metadata.level() {
        tracing_core::Level::ERROR => EventFilter::Event,
        tracing_core::Level::WARN | tracing_core::Level::INFO => EventFilter::Breadcrumb,
        _ => return EventFilter::Ignore,
    };
    if logs_enabled() {
        action | EventFilter::Log
    } else {
        action
    }
}

/// Whether the current hub's client has `enable_logs` on.
fn logs_enabled() -> bool {
    vigil_core::__private::any_client()
        && Hub::with_current(|hub| {
            hub.client()
                .is_some_and(|client| client.options().enable_logs)
        })
}

/// The default span filter of [`VigilLayer`](crate::VigilLayer): spans at
/// `ERROR`, `WARN` and `INFO` are recorded, `DEBUG` and `TRACE` spans are
/// not.
pub fn default_span_filter(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= tracing_core::Level::INFO
}
