//! What a custom event mapper returns.

use vigil_core::protocol::{Breadcrumb, Event, Log};

/// What [`VigilLayer::event_mapper`](crate::VigilLayer::event_mapper)
/// turns a `tracing` event into.
///
/// Build the items with [`event_from_event`](crate::event_from_event),
/// [`breadcrumb_from_event`](crate::breadcrumb_from_event) and
/// [`log_from_event`](crate::log_from_event), which make what the layer
/// makes by default, and change them as needed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EventMapping {
    /// Nothing is captured.
    Ignore,
    /// The breadcrumb is added to the hub's scope.
    Breadcrumb(Breadcrumb),
    /// The event is captured. Boxed, as events are large; `.into()` boxes
    /// an [`Event`].
    Event(Box<Event>),
    /// The structured log is sent with `Hub::capture_log`, linked to the
    /// traced span the event was emitted in (unless it names a trace or a
    /// span itself).
    Log(Log),
    /// Each of the mappings, in this order. Combined mappings inside are
    /// flattened.
    Combined(CombinedEventMapping),
}

impl From<Breadcrumb> for EventMapping {
    fn from(breadcrumb: Breadcrumb) -> EventMapping {
        EventMapping::Breadcrumb(breadcrumb)
    }
}

impl From<Event> for EventMapping {
    fn from(event: Event) -> EventMapping {
        EventMapping::Event(Box::new(event))
    }
}

impl From<Log> for EventMapping {
    fn from(log: Log) -> EventMapping {
        EventMapping::Log(log)
    }
}

impl From<Vec<EventMapping>> for EventMapping {
    fn from(mappings: Vec<EventMapping>) -> EventMapping {
        EventMapping::Combined(mappings.into())
    }
}

/// A list of [`EventMapping`]s, captured in order.
///
/// ```
/// use vigil_core::protocol::{Breadcrumb, Event, Log};
/// use vigil_tracing::{CombinedEventMapping, EventMapping};
///
/// let both: CombinedEventMapping = vec![
///     EventMapping::Breadcrumb(Breadcrumb::default()),
///     EventMapping::Event(Event::default().into()),
/// ]
/// .into();
/// assert_eq!(both.len(), 2);
/// ```
#[derive(Debug, Default)]
pub struct CombinedEventMapping(Vec<EventMapping>);

impl CombinedEventMapping {
    /// The number of mappings (combined ones inside counted as one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there is no mapping.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The mappings.
    pub fn iter(&self) -> std::slice::Iter<'_, EventMapping> {
        self.0.iter()
    }

    /// Appends a mapping.
    pub fn push(&mut self, mapping: EventMapping) {
        self.0.push(mapping);
    }
}

/// A single mapping is a list of one; a combined one is its list.
impl From<EventMapping> for CombinedEventMapping {
    fn from(mapping: EventMapping) -> CombinedEventMapping {
        match mapping {
            EventMapping::Combined(combined) => combined,
            other => CombinedEventMapping(vec![other]),
        }
    }
}

impl From<Vec<EventMapping>> for CombinedEventMapping {
    fn from(mappings: Vec<EventMapping>) -> CombinedEventMapping {
        CombinedEventMapping(mappings)
    }
}

impl IntoIterator for CombinedEventMapping {
    type Item = EventMapping;
    type IntoIter = std::vec::IntoIter<EventMapping>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a CombinedEventMapping {
    type Item = &'a EventMapping;
    type IntoIter = std::slice::Iter<'a, EventMapping>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}
