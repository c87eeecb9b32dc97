//! What an event becomes ([`EventFilter`]) and the default filters.

use std::fmt;
use std::ops::{BitAnd, BitAndAssign, BitOr, BitOrAssign, Not, Sub, SubAssign};

use tracing_core::Metadata;

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
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EventFilter(u8);

#[expect(
    non_upper_case_globals,
    reason = "the actions are named like enum variants, as in the Sentry SDK's tracing integration"
)]
impl EventFilter {
    /// Nothing is captured (the empty set).
    pub const Ignore: EventFilter = EventFilter(0);
    /// The event is added to the hub's scope as a breadcrumb, shown with
    /// the next Vigil event.
    pub const Breadcrumb: EventFilter = EventFilter(0b01);
    /// The event is captured as a Vigil event.
    pub const Event: EventFilter = EventFilter(0b10);
    /// `Breadcrumb | Event`: the event is captured as a Vigil event, and
    /// then also added as a breadcrumb that refers to it (`event_id`), so
    /// that events captured later show it in their trail.
    pub const EventAndBreadcrumb: EventFilter = EventFilter(0b11);

    /// The empty set, [`EventFilter::Ignore`].
    pub const fn empty() -> EventFilter {
        EventFilter::Ignore
    }

    /// Every action.
    pub const fn all() -> EventFilter {
        EventFilter::EventAndBreadcrumb
    }

    /// The actions as bits: `Breadcrumb` is `0b01`, `Event` `0b10`.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// The actions of `bits`, unknown bits dropped.
    pub const fn from_bits_truncate(bits: u8) -> EventFilter {
        EventFilter(bits & EventFilter::all().0)
    }

    /// Whether no action is set ([`EventFilter::Ignore`]).
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every action is set.
    pub const fn is_all(self) -> bool {
        self.0 == EventFilter::all().0
    }

    /// Whether every action of `other` is set in `self`.
    pub const fn contains(self, other: EventFilter) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether `self` and `other` have an action in common.
    pub const fn intersects(self, other: EventFilter) -> bool {
        self.0 & other.0 != 0
    }

    /// The actions of either.
    #[must_use]
    pub const fn union(self, other: EventFilter) -> EventFilter {
        EventFilter(self.0 | other.0)
    }

    /// The actions of both.
    #[must_use]
    pub const fn intersection(self, other: EventFilter) -> EventFilter {
        EventFilter(self.0 & other.0)
    }

    /// The actions of `self` that `other` does not have.
    #[must_use]
    pub const fn difference(self, other: EventFilter) -> EventFilter {
        EventFilter(self.0 & !other.0)
    }

    /// Adds the actions of `other`.
    pub fn insert(&mut self, other: EventFilter) {
        *self = self.union(other);
    }

    /// Removes the actions of `other`.
    pub fn remove(&mut self, other: EventFilter) {
        *self = self.difference(other);
    }

    /// Adds or removes the actions of `other`.
    pub fn set(&mut self, other: EventFilter, value: bool) {
        if value {
            self.insert(other);
        } else {
            self.remove(other);
        }
    }

    /// Whether a Vigil event is captured.
    pub(crate) fn event(self) -> bool {
        self.contains(EventFilter::Event)
    }

    /// Whether a breadcrumb is added.
    pub(crate) fn breadcrumb(self) -> bool {
        self.contains(EventFilter::Breadcrumb)
    }
}

/// Prints the set as `Breadcrumb | Event`, or `Ignore` when empty.
impl fmt::Debug for EventFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = [
            (EventFilter::Breadcrumb, "Breadcrumb"),
            (EventFilter::Event, "Event"),
        ]
        .into_iter()
        .filter(|(flag, _)| self.contains(*flag))
        .map(|(_, name)| name)
        .collect();
        if names.is_empty() {
            f.write_str("EventFilter(Ignore)")
        } else {
            write!(f, "EventFilter({})", names.join(" | "))
        }
    }
}

impl BitOr for EventFilter {
    type Output = EventFilter;

    fn bitor(self, other: EventFilter) -> EventFilter {
        self.union(other)
    }
}

impl BitOrAssign for EventFilter {
    fn bitor_assign(&mut self, other: EventFilter) {
        self.insert(other);
    }
}

impl BitAnd for EventFilter {
    type Output = EventFilter;

    fn bitand(self, other: EventFilter) -> EventFilter {
        self.intersection(other)
    }
}

impl BitAndAssign for EventFilter {
    fn bitand_assign(&mut self, other: EventFilter) {
        *self = self.intersection(other);
    }
}

impl Sub for EventFilter {
    type Output = EventFilter;

    fn sub(self, other: EventFilter) -> EventFilter {
        self.difference(other)
    }
}

impl SubAssign for EventFilter {
    fn sub_assign(&mut self, other: EventFilter) {
        self.remove(other);
    }
}

impl Not for EventFilter {
    type Output = EventFilter;

    fn not(self) -> EventFilter {
        EventFilter::all().difference(self)
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
