//! The logger.

use std::fmt;
use std::sync::atomic::AtomicBool;

use log::{LevelFilter, Log, Metadata, Record, SetLoggerError};
use vigil_core::Hub;
use vigil_core::protocol::{Breadcrumb, Event, EventId};

use crate::convert;
use vigil_core::{
    ReentrancyGuard as Reentrancy, call_guarded, is_sdk_target, is_sdk_thread as on_sdk_thread,
};

bitflags::bitflags! {
    /// What [`VigilLogger`] does with a record, as decided by its filter: a
    /// set of actions, combined with `|`.
    ///
    /// ```
    /// use vigil_log::LogFilter;
    ///
    /// let both = LogFilter::Breadcrumb | LogFilter::Event;
    /// assert_eq!(both, LogFilter::EventAndBreadcrumb);
    /// assert!(both.contains(LogFilter::Event));
    /// assert!(!LogFilter::Breadcrumb.contains(LogFilter::Event));
    /// assert!(LogFilter::Ignore.is_empty());
    /// ```
    ///
    /// A filter may also `match` on the constants; more actions may be added,
    /// so keep a `_` arm.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct LogFilter: u8 {
        /// The record is added to the current scope as a breadcrumb, shown with
        /// the next event.
        const Breadcrumb = 1;
        /// The record is captured as an event.
        const Event = 1 << 1;
        /// The record is captured as an event, like [`Event`](LogFilter::Event)
        /// does: a record carries no error value or stack trace to build an
        /// exception from, so the event holds the message. A separate action
        /// so that filters naming it capture one event for it, and two with
        /// `Event | Exception`.
        const Exception = 1 << 2;
        /// `Event | Breadcrumb`: the record is captured as an event, and then
        /// also added as a breadcrumb that refers to that event (`event_id`),
        /// so that events captured later show it in their trail.
        const EventAndBreadcrumb = Self::Breadcrumb.bits() | Self::Event.bits();
        /// The record is captured as a structured log (Sentry's log items),
        /// built by [`log_from_record`](crate::log_from_record): the message
        /// as body, the key-values and the record's target and location as
        /// attributes. Sent whether or not the client's `enable_logs` is on:
        /// that option only decides whether the
        /// [default filter](default_filter) asks for logs.
        const Log = 1 << 3;
    }
}

impl LogFilter {
    /// Nothing is captured (the record is still forwarded to the wrapped
    /// logger). The empty set.
    #[expect(
        non_upper_case_globals,
        reason = "the actions are named like the variants of the enum they used to be"
    )]
    pub const Ignore: LogFilter = LogFilter::empty();
}

/// The default filter: `error` records become events, `warn` and `info`
/// records breadcrumbs, `debug` and `trace` records are ignored. When the
/// client of the current hub has
/// [`enable_logs`](vigil_core::ClientOptions::enable_logs) on, `error`,
/// `warn` and `info` records also become structured logs
/// ([`LogFilter::Log`]): `Event | Log` for `error`, `Breadcrumb | Log` for
/// `warn` and `info`. Without a client, or with `enable_logs` off, no
/// logs.
///
/// Useful as the fallback of a custom filter:
///
/// ```
/// use log::{LevelFilter, Metadata};
/// use vigil_log::{LogFilter, VigilLogger, default_filter};
///
/// let logger = VigilLogger::new()
///     .filter(|md: &Metadata<'_>| match md.target() {
///         "noisy_dependency" => LogFilter::Ignore,
///         _ => default_filter(md),
///     })
///     // Like the default filter, it never wants debug or trace records.
///     .filter_max_level(LevelFilter::Info);
/// # let _ = logger;
/// ```
pub fn default_filter(metadata: &Metadata<'_>) -> LogFilter {
    let action = match metadata.level() {
        log::Level::Error => LogFilter::Event,
        log::Level::Warn | log::Level::Info => LogFilter::Breadcrumb,
        log::Level::Debug | log::Level::Trace => return LogFilter::Ignore,
    };
    if logs_enabled() {
        action | LogFilter::Log
    } else {
        action
    }
}

/// Whether the enabled client of the current hub has `enable_logs` on.
fn logs_enabled() -> bool {
    Hub::with_active(|hub| hub.client().is_some_and(|c| c.options().enable_logs))
}

/// A logger that drops every record: the destination of
/// [`VigilLogger::new`], which only feeds Vigil.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoLogger;

impl Log for NoLogger {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn log(&self, _: &Record<'_>) {}

    fn flush(&self) {}
}

type Filter = Box<dyn Fn(&Metadata<'_>) -> LogFilter + Send + Sync>;
type EventMapper = Box<dyn Fn(&Record<'_>, Event) -> Option<Event> + Send + Sync>;
type BreadcrumbMapper = Box<dyn Fn(&Record<'_>, Breadcrumb) -> Option<Breadcrumb> + Send + Sync>;

/// A [`log::Log`] implementation that turns records into Vigil events and
/// breadcrumbs, and forwards every record to another logger (`dest`).
///
/// See the [crate docs](crate) for what is captured and how records map to
/// events.
///
/// # Levels
/// [`max_level`](VigilLogger::max_level) is the most verbose level that
/// either the filter or the destination acts on;
/// [`install`](VigilLogger::install) passes it to [`log::set_max_level`]. If you
/// install the logger yourself, do the same, or records the filter wants
/// may never be created.
pub struct VigilLogger<L = NoLogger> {
    dest: L,
    dest_max_level: LevelFilter,
    filter: Filter,
    /// Set by [`VigilLogger::filter_max_level`].
    filter_max_level: Option<LevelFilter>,
    /// Whether [`VigilLogger::filter`] replaced the default filter.
    custom_filter: bool,
    event_mapper: Option<EventMapper>,
    breadcrumb_mapper: Option<BreadcrumbMapper>,
    warned_panic: AtomicBool,
}

/// The reference SDK's name of [`VigilLogger`], for migrating code that
/// uses it: the same type, with the same methods
/// ([`new`](VigilLogger::new), [`with_dest`](VigilLogger::with_dest),
/// [`filter`](VigilLogger::filter), ...).
pub type SentryLogger<L = NoLogger> = VigilLogger<L>;

impl<L> VigilLogger<L> {
    /// The most verbose level the filter is asked about.
    fn filter_level(&self) -> LevelFilter {
        self.filter_max_level.unwrap_or(if self.custom_filter {
            LevelFilter::Trace
        } else {
            LevelFilter::Info
        })
    }
}

impl<L: fmt::Debug> fmt::Debug for VigilLogger<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VigilLogger")
            .field("dest", &self.dest)
            .field("dest_max_level", &self.dest_max_level)
            .field("filter_max_level", &self.filter_level())
            .field("custom_filter", &self.custom_filter)
            .field("event_mapper", &self.event_mapper.is_some())
            .field("breadcrumb_mapper", &self.breadcrumb_mapper.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for VigilLogger<NoLogger> {
    fn default() -> Self {
        VigilLogger::new()
    }
}

impl VigilLogger<NoLogger> {
    /// A logger that only feeds Vigil, with the [default
    /// filter](default_filter).
    pub fn new() -> VigilLogger<NoLogger> {
        VigilLogger::with_dest(NoLogger).dest_max_level(LevelFilter::Off)
    }
}

impl<L: Log> VigilLogger<L> {
    /// A logger that feeds Vigil with the [default filter](default_filter)
    /// and forwards every record to `dest` (for instance `env_logger`'s
    /// logger), whatever the filter decides.
    ///
    /// The destination is assumed to act on every level: narrow that with
    /// [`dest_max_level`](VigilLogger::dest_max_level).
    pub fn with_dest(dest: L) -> VigilLogger<L> {
        VigilLogger {
            dest,
            dest_max_level: LevelFilter::Trace,
            filter: Box::new(default_filter),
            filter_max_level: None,
            custom_filter: false,
            event_mapper: None,
            breadcrumb_mapper: None,
            warned_panic: AtomicBool::new(false),
        }
    }

    /// Replaces the filter that decides what each record becomes.
    ///
    /// The filter is asked about records of every level, unless
    /// [`filter_max_level`](VigilLogger::filter_max_level) narrows that. A
    /// filter that panics ignores the record (reported once on stderr).
    ///
    /// ```
    /// use log::LevelFilter;
    /// use vigil_log::{LogFilter, VigilLogger};
    ///
    /// // Debug records of `my_app::db` as breadcrumbs, errors as events
    /// // that also leave a breadcrumb.
    /// let logger = VigilLogger::new().filter(|md| match md.level() {
    ///     log::Level::Error => LogFilter::Event | LogFilter::Breadcrumb,
    ///     log::Level::Debug if md.target().starts_with("my_app::db") => LogFilter::Breadcrumb,
    ///     log::Level::Debug | log::Level::Trace => LogFilter::Ignore,
    ///     _ => LogFilter::Breadcrumb,
    /// });
    /// assert_eq!(logger.max_level(), LevelFilter::Trace);
    /// // The filter never wants trace records: say so, and they are not
    /// // even created.
    /// let logger = logger.filter_max_level(LevelFilter::Debug);
    /// assert_eq!(logger.max_level(), LevelFilter::Debug);
    /// ```
    #[must_use]
    pub fn filter<F>(mut self, filter: F) -> Self
    where
        F: Fn(&Metadata<'_>) -> LogFilter + Send + Sync + 'static,
    {
        self.filter = Box::new(filter);
        self.custom_filter = true;
        self
    }

    /// Declares the most verbose level the filter may return anything but
    /// [`LogFilter::Ignore`] for: records more verbose than it are ignored
    /// without asking the filter, and it feeds
    /// [`max_level`](VigilLogger::max_level).
    ///
    /// Without it: `Info` for the [default filter](default_filter), `Trace`
    /// once [`filter`](VigilLogger::filter) replaced it. The order of the
    /// two calls does not matter.
    #[must_use]
    pub fn filter_max_level(mut self, level: LevelFilter) -> Self {
        self.filter_max_level = Some(level);
        self
    }

    /// Declares the most verbose level the destination logger writes, so
    /// that [`max_level`](VigilLogger::max_level) can be lower than
    /// `Trace`. Records are still all forwarded; this only matters for the
    /// global maximum level.
    #[must_use]
    pub fn dest_max_level(mut self, level: LevelFilter) -> Self {
        self.dest_max_level = level;
        self
    }

    /// Builds the events: `mapper` gets the record and the default event
    /// (see the crate docs) and returns the event to capture, or `None` to
    /// capture nothing. A mapper that panics captures nothing.
    ///
    /// ```
    /// use vigil_log::VigilLogger;
    ///
    /// let logger = VigilLogger::new().event_mapper(|record, mut event| {
    ///     event.fingerprint = vec![record.target().to_owned()];
    ///     Some(event)
    /// });
    /// # let _ = logger;
    /// ```
    #[must_use]
    pub fn event_mapper<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&Record<'_>, Event) -> Option<Event> + Send + Sync + 'static,
    {
        self.event_mapper = Some(Box::new(mapper));
        self
    }

    /// Builds the breadcrumbs: `mapper` gets the record and the default
    /// breadcrumb and returns the breadcrumb to record, or `None`. It runs
    /// before the client's `before_breadcrumb`. A mapper that panics records
    /// nothing.
    #[must_use]
    pub fn breadcrumb_mapper<F>(mut self, mapper: F) -> Self
    where
        F: Fn(&Record<'_>, Breadcrumb) -> Option<Breadcrumb> + Send + Sync + 'static,
    {
        self.breadcrumb_mapper = Some(Box::new(mapper));
        self
    }

    /// The most verbose level that the filter or the destination acts on:
    /// the value for [`log::set_max_level`].
    pub fn max_level(&self) -> LevelFilter {
        self.filter_level().max(self.dest_max_level)
    }

    /// The destination logger.
    pub fn dest(&self) -> &L {
        &self.dest
    }

    /// Installs this logger as the global logger and sets the global
    /// maximum level to [`max_level`](VigilLogger::max_level).
    ///
    /// # Errors
    /// When a global logger was already set; nothing is changed then.
    pub fn install(self) -> Result<(), SetLoggerError>
    where
        L: 'static,
    {
        let max = self.max_level();
        log::set_boxed_logger(Box::new(self))?;
        log::set_max_level(max);
        Ok(())
    }

    /// What the filter says about a record; `Ignore` for the SDK's own
    /// records and while this thread is capturing.
    fn action(&self, metadata: &Metadata<'_>) -> LogFilter {
        if metadata.level() > self.filter_level() {
            return LogFilter::Ignore;
        }
        let action = call_guarded("the log filter", Some(&self.warned_panic), || {
            (self.filter)(metadata)
        })
        .unwrap_or(LogFilter::Ignore);
        if action.is_empty() || is_sdk_target(metadata.target()) || Reentrancy::is_active() {
            return LogFilter::Ignore;
        }
        action
    }

    /// Captures the record as `action` says: events first, then the
    /// breadcrumb (which refers to the event), then the structured log.
    fn capture(&self, record: &Record<'_>, action: LogFilter) {
        let Some(_capturing) = Reentrancy::enter() else {
            return;
        };
        if on_sdk_thread() {
            return;
        }
        // The breadcrumb refers to the record's (first) event.
        let mut id = EventId::nil();
        for kind in [LogFilter::Event, LogFilter::Exception] {
            if action.contains(kind) {
                let captured = Hub::with_active(|hub| match self.map_event(record) {
                    Some(event) => hub.capture_event(event),
                    None => EventId::nil(),
                });
                if id.is_nil() {
                    id = captured;
                }
            }
        }
        if action.contains(LogFilter::Breadcrumb) {
            Hub::with_active(|hub| {
                hub.add_breadcrumb(|| {
                    let mut crumb = convert::breadcrumb_from_record(record);
                    if !id.is_nil() {
                        crumb.event_id = Some(id);
                    }
                    match &self.breadcrumb_mapper {
                        Some(mapper) => call_guarded(
                            "the log breadcrumb mapper",
                            Some(&self.warned_panic),
                            || mapper(record, crumb),
                        )?,
                        None => Some(crumb),
                    }
                });
            });
        }
        if action.contains(LogFilter::Log) {
            Hub::with_active(|hub| hub.capture_log(convert::log_from_record(record)));
        }
    }

    fn map_event(&self, record: &Record<'_>) -> Option<Event> {
        let event = convert::event_from_record(record);
        match &self.event_mapper {
            Some(mapper) => call_guarded("the log event mapper", Some(&self.warned_panic), || {
                mapper(record, event)
            })?,
            None => Some(event),
        }
    }
}

impl<L: Log> Log for VigilLogger<L> {
    /// Whether the destination or Vigil wants records like this one.
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        self.dest.enabled(metadata) || !self.action(metadata).is_empty()
    }

    /// Forwards the record to the destination, then captures it as the
    /// filter says (events, breadcrumb, structured log), into the current
    /// hub.
    fn log(&self, record: &Record<'_>) {
        self.dest.log(record);
        let action = self.action(record.metadata());
        if !action.is_empty() {
            self.capture(record, action);
        }
    }

    /// Flushes the destination. Vigil's own queue is flushed with
    /// `vigil::flush` or when the client closes, not here: `log`'s flush
    /// is not meant to wait on the network.
    fn flush(&self) {
        self.dest.flush();
    }
}
