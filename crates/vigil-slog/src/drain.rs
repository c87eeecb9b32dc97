//! The drain.

use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::atomic::AtomicBool;

use slog::{Drain, OwnedKVList, Record};
use vigil_core::protocol::{Breadcrumb, Event, EventId, Log};
use vigil_core::{Hub, ReentrancyGuard, call_guarded, is_sdk_target, is_sdk_thread};

use crate::convert;

bitflags::bitflags! {
    /// What [`VigilDrain`] does with a record, as decided by its filter: a set
    /// of actions, combined with `|`.
    ///
    /// ```
    /// use vigil_slog::LevelFilter;
    ///
    /// let both = LevelFilter::Breadcrumb | LevelFilter::Event;
    /// assert_eq!(both, LevelFilter::EventAndBreadcrumb);
    /// assert!(both.contains(LevelFilter::Event));
    /// assert!(!LevelFilter::Breadcrumb.contains(LevelFilter::Event));
    /// assert!(LevelFilter::Ignore.is_empty());
    /// ```
    ///
    /// A filter may also `match` on the constants; more actions may be added,
    /// so keep a `_` arm.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct LevelFilter: u8 {
        /// The record is added to the current scope as a breadcrumb, shown with
        /// the next event.
        const Breadcrumb = 1;
        /// The record is captured as an event.
        const Event = 1 << 1;
        /// The record is captured as an event built by
        /// [`exception_from_record`](crate::exception_from_record): a record
        /// carries no error value or stack trace, so that event holds the
        /// message, like [`Event`](LevelFilter::Event)'s. A separate action so
        /// that a filter naming it captures one event, and two with
        /// `Event | Exception`.
        const Exception = 1 << 2;
        /// `Event | Breadcrumb`: the record is captured as an event, and then
        /// added as a breadcrumb that refers to that event (`event_id`), so
        /// that events captured later show it in their trail.
        const EventAndBreadcrumb = Self::Breadcrumb.bits() | Self::Event.bits();
        /// The record is captured as a structured log (Sentry's log items),
        /// built by [`log_from_record`](crate::log_from_record): the message
        /// as body, the key-values and the record's module and location as
        /// attributes. Sent whether or not the client's `enable_logs` is on:
        /// that option only decides whether the
        /// [default filter](default_filter) asks for logs.
        const Log = 1 << 3;
    }
}

impl LevelFilter {
    /// Nothing is captured (the record is still passed to the wrapped
    /// drain). The empty set.
    #[expect(
        non_upper_case_globals,
        reason = "the actions are spelt like enum variants, so that filters read the same as with an enum"
    )]
    pub const Ignore: LevelFilter = LevelFilter::empty();
}

/// The default filter: `critical` and `error` records become events,
/// `warning` and `info` records breadcrumbs, `debug` and `trace` records
/// are ignored. When the client of the current hub has
/// [`enable_logs`](vigil_core::ClientOptions::enable_logs) on,
/// `critical`, `error`, `warning` and `info` records also become
/// structured logs ([`LevelFilter::Log`]): `Event | Log` for `critical` and
/// `error`, `Breadcrumb | Log` for `warning` and `info`. Without a client,
/// or with `enable_logs` off, no logs.
///
/// Useful as the fallback of a custom filter:
///
/// ```
/// use vigil_slog::{LevelFilter, VigilDrain, default_filter};
///
/// // Debug records as breadcrumbs too.
/// let drain = VigilDrain::new(slog::Discard).filter(|level| match level {
///     slog::Level::Debug => LevelFilter::Breadcrumb,
///     _ => default_filter(level),
/// });
/// # let _ = drain;
/// ```
pub fn default_filter(level: slog::Level) -> LevelFilter {
    let action = match level {
        slog::Level::Critical | slog::Level::Error => LevelFilter::Event,
        slog::Level::Warning | slog::Level::Info => LevelFilter::Breadcrumb,
        slog::Level::Debug | slog::Level::Trace => return LevelFilter::Ignore,
    };
    if logs_enabled() {
        action | LevelFilter::Log
    } else {
        action
    }
}

/// Whether the enabled client of the current hub has `enable_logs` on.
fn logs_enabled() -> bool {
    Hub::with_active(|hub| hub.client().is_some_and(|c| c.options().enable_logs))
}

/// What a [mapper](VigilDrain::mapper) makes of a record.
#[derive(Debug)]
#[non_exhaustive]
pub enum RecordMapping {
    /// Nothing is captured.
    Ignore,
    /// This breadcrumb is added to the current scope.
    Breadcrumb(Breadcrumb),
    /// This event is captured.
    Event(Box<Event>),
    /// This structured log is captured
    /// ([`log_from_record`](crate::log_from_record) builds the default one).
    Log(Box<Log>),
}

type Filter = Box<dyn Fn(slog::Level) -> LevelFilter + Send + Sync>;
type Mapper = Box<dyn Fn(&Record<'_>, &OwnedKVList) -> RecordMapping + Send + Sync>;

/// A [`slog::Drain`] that turns records into Vigil events and breadcrumbs,
/// and passes every record on to the drain it wraps.
///
/// Its `Ok` and `Err` are those of the wrapped drain, whose result
/// [`log`](Drain::log) returns. See the [crate docs](crate) for what is
/// captured and how records map to events.
pub struct VigilDrain<D> {
    drain: D,
    filter: Filter,
    mapper: Option<Mapper>,
    warned_panic: AtomicBool,
}

/// The reference SDK's name of [`VigilDrain`], for migrating code that uses
/// it: the same type, with the same methods ([`new`](VigilDrain::new),
/// [`filter`](VigilDrain::filter), [`mapper`](VigilDrain::mapper)).
pub type SentryDrain<D> = VigilDrain<D>;

// The filter and the mapper are only ever called under `call_guarded`,
// which catches their panics, and a panic cannot leave the drain's own
// state (a flag) inconsistent: the drain is as unwind safe as what it
// wraps.
impl<D: RefUnwindSafe> RefUnwindSafe for VigilDrain<D> {}
impl<D: UnwindSafe> UnwindSafe for VigilDrain<D> {}

impl<D: fmt::Debug> fmt::Debug for VigilDrain<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VigilDrain")
            .field("drain", &self.drain)
            .field("mapper", &self.mapper.is_some())
            .finish_non_exhaustive()
    }
}

impl<D> VigilDrain<D> {
    /// Wraps `drain`, with the [default filter](default_filter) and no
    /// mapper. Use [`slog::Discard`] to feed only Vigil.
    pub fn new(drain: D) -> VigilDrain<D> {
        VigilDrain {
            drain,
            filter: Box::new(default_filter),
            mapper: None,
            warned_panic: AtomicBool::new(false),
        }
    }

    /// Replaces the filter that decides, by level, what records become.
    ///
    /// The filter also answers [`Drain::is_enabled`] (with the wrapped
    /// drain). A filter that panics ignores the record (reported once on
    /// stderr).
    ///
    /// ```
    /// use vigil_slog::{LevelFilter, VigilDrain};
    ///
    /// // Errors as events that also leave a breadcrumb, nothing else.
    /// let drain = VigilDrain::new(slog::Discard).filter(|level| match level {
    ///     slog::Level::Critical | slog::Level::Error => LevelFilter::EventAndBreadcrumb,
    ///     _ => LevelFilter::Ignore,
    /// });
    /// # let _ = drain;
    /// ```
    #[must_use]
    pub fn filter<F>(mut self, filter: F) -> Self
    where
        F: Fn(slog::Level) -> LevelFilter + Send + Sync + 'static,
    {
        self.filter = Box::new(filter);
        self
    }

    /// Builds what is captured for each record the filter does not ignore:
    /// `mapper` gets the record and the key-values of its logger, and
    /// returns a breadcrumb, an event, a structured log, or
    /// [`RecordMapping::Ignore`]. Which actions the filter chose does not
    /// matter then, only that it chose some. A mapper that panics captures
    /// nothing.
    ///
    /// [`event_from_record`](crate::event_from_record),
    /// [`breadcrumb_from_record`](crate::breadcrumb_from_record) and
    /// [`log_from_record`](crate::log_from_record) build the default event,
    /// breadcrumb and log to start from.
    ///
    /// ```
    /// use vigil_slog::{RecordMapping, VigilDrain, event_from_record};
    ///
    /// let drain = VigilDrain::new(slog::Discard).mapper(|record, values| {
    ///     let mut event = event_from_record(record, values);
    ///     event.fingerprint = vec![record.module().to_owned()];
    ///     RecordMapping::Event(Box::new(event))
    /// });
    /// # let _ = drain;
    /// ```
    #[must_use]
    pub fn mapper<M>(mut self, mapper: M) -> Self
    where
        M: Fn(&Record<'_>, &OwnedKVList) -> RecordMapping + Send + Sync + 'static,
    {
        self.mapper = Some(Box::new(mapper));
        self
    }

    /// The wrapped drain.
    pub fn get_ref(&self) -> &D {
        &self.drain
    }

    /// Unwraps the wrapped drain.
    pub fn into_inner(self) -> D {
        self.drain
    }

    /// What the filter says about a level (`Ignore` if it panics).
    fn level_action(&self, level: slog::Level) -> LevelFilter {
        call_guarded("the slog filter", Some(&self.warned_panic), || {
            (self.filter)(level)
        })
        .unwrap_or(LevelFilter::Ignore)
    }

    /// What to do with a record; `Ignore` for the SDK's own records and
    /// while this thread is capturing.
    fn action(&self, record: &Record<'_>) -> LevelFilter {
        let action = self.level_action(record.level());
        if action.is_empty() || is_sdk_target(record.module()) || ReentrancyGuard::is_active() {
            return LevelFilter::Ignore;
        }
        action
    }

    /// Captures the record as the mapper or `action` says: events first,
    /// then the breadcrumb (which refers to the event), then the structured
    /// log.
    fn capture(&self, record: &Record<'_>, values: &OwnedKVList, action: LevelFilter) {
        let Some(_capturing) = ReentrancyGuard::enter() else {
            return;
        };
        if is_sdk_thread() {
            return;
        }
        if let Some(mapper) = &self.mapper {
            Hub::with_active(|hub| {
                let mapped = call_guarded("the slog mapper", Some(&self.warned_panic), || {
                    mapper(record, values)
                });
                match mapped {
                    Some(RecordMapping::Event(event)) => {
                        hub.capture_event(*event);
                    }
                    Some(RecordMapping::Breadcrumb(crumb)) => hub.add_breadcrumb(crumb),
                    Some(RecordMapping::Log(log)) => hub.capture_log(*log),
                    Some(RecordMapping::Ignore) | None => {}
                }
            });
            return;
        }
        // The breadcrumb refers to the record's (first) event.
        let mut id = EventId::nil();
        if action.contains(LevelFilter::Event) {
            id = Hub::with_active(|hub| {
                hub.capture_event(convert::event_from_record(record, values))
            });
        }
        if action.contains(LevelFilter::Exception) {
            let captured = Hub::with_active(|hub| {
                hub.capture_event(convert::exception_from_record(record, values))
            });
            if id.is_nil() {
                id = captured;
            }
        }
        if action.contains(LevelFilter::Breadcrumb) {
            Hub::with_active(|hub| {
                hub.add_breadcrumb(|| {
                    let mut crumb = convert::breadcrumb_from_record(record, values);
                    if !id.is_nil() {
                        crumb.event_id = Some(id);
                    }
                    crumb
                });
            });
        }
        if action.contains(LevelFilter::Log) {
            Hub::with_active(|hub| hub.capture_log(convert::log_from_record(record, values)));
        }
    }
}

impl<D: Drain> Drain for VigilDrain<D> {
    type Ok = D::Ok;
    type Err = D::Err;

    /// Passes the record to the wrapped drain, then captures it as the
    /// filter says (events, breadcrumb, structured log), into the current
    /// hub. Returns the wrapped drain's
    /// result, whatever Vigil did.
    fn log(&self, record: &Record<'_>, values: &OwnedKVList) -> Result<D::Ok, D::Err> {
        let result = self.drain.log(record, values);
        let action = self.action(record);
        if !action.is_empty() {
            self.capture(record, values, action);
        }
        result
    }

    /// Whether the wrapped drain or Vigil wants records of this level.
    fn is_enabled(&self, level: slog::Level) -> bool {
        self.drain.is_enabled(level) || !self.level_action(level).is_empty()
    }
}
