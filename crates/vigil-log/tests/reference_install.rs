//! Installing the logger the way code written for the reference SDK does:
//! `log::set_boxed_logger` with a `SentryLogger` wrapping the
//! application's logger and a combined filter, then `log::set_max_level`
//! by hand. A file of its own, because it sets the process's logger.

use std::sync::{Arc, Mutex, Once};

use log::{LevelFilter, Log, Metadata, Record};
use vigil_core::protocol::Level;
use vigil_log::{LogFilter, SentryLogger};

/// The application's logger: remembers the lines it would print.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl Log for Lines {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            let line = format!("{} {}", record.level(), record.args());
            self.0.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

/// The application's lines, kept by the installed logger.
fn lines() -> Lines {
    static LINES: Mutex<Option<Lines>> = Mutex::new(None);
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let lines = Lines::default();
        *LINES.lock().unwrap() = Some(lines.clone());
        let logger = SentryLogger::with_dest(lines).filter(|md| match md.level() {
            log::Level::Error => LogFilter::Breadcrumb | LogFilter::Event,
            log::Level::Warn => LogFilter::Event,
            log::Level::Info => LogFilter::Breadcrumb,
            _ => LogFilter::Ignore,
        });
        log::set_boxed_logger(Box::new(logger))
            .map(|()| log::set_max_level(LevelFilter::Trace))
            .unwrap();
    });
    LINES.lock().unwrap().clone().unwrap()
}

#[test]
fn wrapped_logger_with_combined_filter() {
    let lines = lines();
    let events = vigil_core::test::with_captured_events(|| {
        vigil_core::configure_scope(|scope| scope.set_tag("worker", "w1"));
        log::info!("starting");
        log::error!("both {}", "kinds");
        log::warn!("only an event");
        log::trace!("nothing");
    });

    assert_eq!(events.len(), 2);
    assert_eq!(events[0].message.as_deref(), Some("both kinds"));
    assert_eq!(events[0].level, Level::Error);
    assert_eq!(events[0].tags["worker"], "w1");
    assert_eq!(events[1].message.as_deref(), Some("only an event"));
    assert_eq!(events[1].level, Level::Warning);
    let crumbs: Vec<_> = events[1]
        .breadcrumbs
        .iter()
        .map(|c| (c.level, c.message.as_deref()))
        .collect();
    assert_eq!(
        crumbs,
        [
            (Level::Info, Some("starting")),
            (Level::Error, Some("both kinds"))
        ]
    );
    // The application's logger got every record it wants.
    assert_eq!(
        lines.0.lock().unwrap().as_slice(),
        ["INFO starting", "ERROR both kinds", "WARN only an event"]
    );
}
