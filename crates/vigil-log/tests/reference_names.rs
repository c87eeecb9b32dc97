//! The names code written for the reference SDK uses: `SentryLogger`,
//! `NoopLogger`, `LogFilter` as a set combined with `|`, the `Exception`
//! action and the record converters. The logger is called directly, so no
//! global state is touched.

use log::{Level as LogLevel, LevelFilter, Log, Metadata, Record};
use vigil_core::protocol::Level;
use vigil_core::test::with_captured_events;
use vigil_log::{
    LogFilter, NoLogger, NoopLogger, SentryLogger, VigilLogger, breadcrumb_from_record,
    convert_log_level, event_from_record, exception_from_record,
};

/// Logs one record.
fn log(logger: &dyn Log, level: LogLevel, message: &str) {
    logger.log(
        &Record::builder()
            .args(format_args!("{message}"))
            .level(level)
            .target("app")
            .build(),
    );
}

fn metadata(level: LogLevel) -> Metadata<'static> {
    Metadata::builder().level(level).target("app").build()
}

#[test]
fn log_filter_is_a_set() {
    let both = LogFilter::Breadcrumb | LogFilter::Event;
    assert_eq!(both, LogFilter::EventAndBreadcrumb);
    assert_eq!(LogFilter::Event | LogFilter::Breadcrumb, both);
    assert!(both.contains(LogFilter::Breadcrumb));
    assert!(both.contains(LogFilter::Event));
    assert!(!both.contains(LogFilter::Exception));
    assert!(both.intersects(LogFilter::Event | LogFilter::Exception));
    assert!(!LogFilter::Breadcrumb.intersects(LogFilter::Event));
    assert!(both.contains(LogFilter::Ignore));
    assert!(LogFilter::Ignore.is_empty());
    assert_eq!(LogFilter::default(), LogFilter::Ignore);
    assert_eq!(LogFilter::Ignore | LogFilter::Ignore, LogFilter::Ignore);
    assert_eq!(both & LogFilter::Event, LogFilter::Event);
    assert_eq!(both & LogFilter::Exception, LogFilter::Ignore);

    let mut set = LogFilter::Ignore;
    set |= LogFilter::Exception;
    set |= LogFilter::Breadcrumb;
    assert!(set.contains(LogFilter::Exception | LogFilter::Breadcrumb));
    set.remove(LogFilter::Exception);
    assert_eq!(set, LogFilter::Breadcrumb);
    set.insert(LogFilter::Event);
    set &= LogFilter::Event;
    assert_eq!(set, LogFilter::Event);

    assert_eq!(format!("{:?}", LogFilter::Ignore), "LogFilter(0x0)");
    assert_eq!(format!("{:?}", LogFilter::Event), "LogFilter(Event)");
    assert_eq!(
        format!("{:?}", LogFilter::Exception | LogFilter::Breadcrumb),
        "LogFilter(Breadcrumb | Exception)"
    );
}

#[test]
fn log_filter_constants_work_as_patterns() {
    let describe = |action: LogFilter| match action {
        LogFilter::Ignore => "nothing",
        LogFilter::Breadcrumb => "breadcrumb",
        LogFilter::EventAndBreadcrumb => "both",
        _ => "other",
    };
    assert_eq!(describe(LogFilter::Ignore), "nothing");
    assert_eq!(describe(LogFilter::Breadcrumb), "breadcrumb");
    assert_eq!(describe(LogFilter::Breadcrumb | LogFilter::Event), "both");
    assert_eq!(describe(LogFilter::Exception), "other");
}

#[test]
fn sentry_logger_is_vigil_logger() {
    let logger: VigilLogger = SentryLogger::new();
    assert_eq!(logger.max_level(), LevelFilter::Info);
    assert!(logger.dest() == &NoLogger);
    let logger: SentryLogger<NoopLogger> = SentryLogger::with_dest(NoopLogger);
    assert!(logger.enabled(&metadata(LogLevel::Error)));
    assert!(!logger.enabled(&metadata(LogLevel::Debug)));
    let noop: NoLogger = NoopLogger;
    assert!(!noop.enabled(&metadata(LogLevel::Error)));

    let events = with_captured_events(|| {
        log(&logger, LogLevel::Info, "hello");
        log(&logger, LogLevel::Debug, "ignored");
        log(&logger, LogLevel::Error, "on fire");
    });
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].level, Level::Error);
    assert_eq!(events[0].message.as_deref(), Some("on fire"));
    let crumbs = &events[0].breadcrumbs;
    assert_eq!(crumbs.len(), 1);
    assert_eq!(crumbs[0].level, Level::Info);
    assert_eq!(crumbs[0].message.as_deref(), Some("hello"));
}

#[test]
fn one_argument_filter_sees_every_level() {
    let logger = SentryLogger::new().filter(|md| match md.level() {
        LogLevel::Error => LogFilter::Breadcrumb | LogFilter::Event,
        LogLevel::Warn => LogFilter::Event,
        LogLevel::Trace => LogFilter::Breadcrumb,
        _ => LogFilter::Ignore,
    });
    // A custom filter is asked about every level.
    assert_eq!(logger.max_level(), LevelFilter::Trace);
    assert!(logger.enabled(&metadata(LogLevel::Trace)));
    assert!(!logger.enabled(&metadata(LogLevel::Info)));

    let events = with_captured_events(|| {
        log(&logger, LogLevel::Error, "both");
        log(&logger, LogLevel::Trace, "a trace");
        log(&logger, LogLevel::Info, "ignored");
        log(&logger, LogLevel::Warn, "an event");
    });
    let messages: Vec<_> = events.iter().map(|e| e.message.as_deref()).collect();
    assert_eq!(messages, [Some("both"), Some("an event")]);
    // The first event does not list its own record; the breadcrumb left
    // after it refers to it.
    assert!(events[0].breadcrumbs.is_empty());
    let crumbs = &events[1].breadcrumbs;
    let crumb_messages: Vec<_> = crumbs.iter().map(|c| c.message.as_deref()).collect();
    assert_eq!(crumb_messages, [Some("both"), Some("a trace")]);
    assert_eq!(crumbs[0].event_id, Some(events[0].event_id));
    assert_eq!(crumbs[0].level, Level::Error);
    assert_eq!(crumbs[1].event_id, None);
    assert_eq!(crumbs[1].level, Level::Debug);
}

#[test]
fn filter_max_level_narrows_a_custom_filter_in_any_order() {
    let everything = |_: &Metadata<'_>| LogFilter::Breadcrumb;
    let before = SentryLogger::new()
        .filter_max_level(LevelFilter::Warn)
        .filter(everything);
    let after = SentryLogger::new()
        .filter(everything)
        .filter_max_level(LevelFilter::Warn);
    for logger in [before, after] {
        assert_eq!(logger.max_level(), LevelFilter::Warn);
        assert!(logger.enabled(&metadata(LogLevel::Warn)));
        assert!(!logger.enabled(&metadata(LogLevel::Info)));
    }
    // The default filter narrowed to errors.
    let errors_only = SentryLogger::new().filter_max_level(LevelFilter::Error);
    assert_eq!(errors_only.max_level(), LevelFilter::Error);
    assert!(!errors_only.enabled(&metadata(LogLevel::Warn)));
}

#[test]
fn exception_captures_an_event_of_its_own() {
    let logger = SentryLogger::new().filter(|md| match md.level() {
        LogLevel::Error => LogFilter::Exception,
        LogLevel::Warn => LogFilter::Exception | LogFilter::Event | LogFilter::Breadcrumb,
        _ => LogFilter::Ignore,
    });
    let events = with_captured_events(|| {
        log(&logger, LogLevel::Error, "exception");
        log(&logger, LogLevel::Warn, "twice");
        log(&logger, LogLevel::Error, "last");
    });
    let messages: Vec<_> = events.iter().map(|e| e.message.as_deref()).collect();
    assert_eq!(
        messages,
        [
            Some("exception"),
            Some("twice"),
            Some("twice"),
            Some("last")
        ]
    );
    assert_eq!(events[3].breadcrumbs.len(), 1);
    // The breadcrumb refers to the first of the record's events.
    assert_eq!(events[3].breadcrumbs[0].event_id, Some(events[1].event_id));
}

#[test]
fn converters_build_what_the_logger_sends() {
    let args = format_args!("disk {} full", "/var");
    let record = Record::builder()
        .args(args)
        .level(LogLevel::Warn)
        .target("app::disk")
        .module_path(Some("app::disk"))
        .line(Some(7))
        .build();
    assert_eq!(convert_log_level(LogLevel::Trace), Level::Debug);
    assert_eq!(convert_log_level(LogLevel::Warn), Level::Warning);

    let event = event_from_record(&record);
    assert_eq!(event.message.as_deref(), Some("disk /var full"));
    assert_eq!(event.logger.as_deref(), Some("app::disk"));
    assert_eq!(event.level, Level::Warning);
    assert!(event.contexts.contains_key("log"));
    let exception = exception_from_record(&record);
    assert_eq!(exception.message, event.message);
    assert_eq!(exception.contexts, event.contexts);

    let crumb = breadcrumb_from_record(&record);
    assert_eq!(crumb.message.as_deref(), Some("disk /var full"));
    assert_eq!(crumb.category.as_deref(), Some("app::disk"));
    assert_eq!(crumb.level, Level::Warning);
}
