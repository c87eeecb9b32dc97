//! What an event becomes ([`EventFilter`]) and the default filters.

use tracing_core::Metadata;

bitflags::bitflags! {
    /// What the layer does with a `tracing` event, as decided by its event
    /// filter: a set of actions, combined with `|`.
    ///
    /// [`EventFilter::Ignore`] is the empty set; `EventFilter::Breadcrumb |
    /// EventFilter::Event` (also named [`EventFilter::EventAndBreadcrumb`])
    /// captures a Vigil event and then adds a breadcrumb referring to it.
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
    ///         _ => "an event and a breadcrumb",
    ///     }
    /// }
    /// assert_eq!(describe(EventFilter::Event), "an event");
    /// ```
    ///
    /// Sentry's structured logs are not supported yet, so there is no `Log`
    /// action.
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
}

/// The default event filter: `ERROR` events become Vigil events, `WARN`
/// and `INFO` events breadcrumbs, `DEBUG` and `TRACE` events are ignored.
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
    match *metadata.level() {
        tracing_core::Level::ERROR => EventFilter::Event,
        tracing_core::Level::WARN | tracing_core::Level::INFO => EventFilter::Breadcrumb,
        _ => EventFilter::Ignore,
    }
}

/// The default span filter of [`VigilLayer`](crate::VigilLayer): spans at
/// `ERROR`, `WARN` and `INFO` are recorded, `DEBUG` and `TRACE` spans are
/// not.
pub fn default_span_filter(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= tracing_core::Level::INFO
}
