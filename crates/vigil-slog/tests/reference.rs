//! Code written against the reference SDK's names: a root logger over
//! `SentryDrain::new(slog::Discard)`, a breadcrumb then an event carrying
//! it and the scope's tag.

use vigil_core::protocol::Level;
use vigil_slog::{LevelFilter, RecordMapping, SentryDrain, exception_from_record};

#[test]
fn breadcrumb_then_event_with_scope_tag() {
    let drain = SentryDrain::new(slog::Discard);
    let root = slog::Logger::root(drain, slog::o!());

    let events = vigil_core::test::with_captured_events(|| {
        vigil_core::configure_scope(|scope| {
            scope.set_tag("worker", "worker1");
        });

        slog::info!(root, "Hello World!");
        slog::error!(root, "Shit's on fire yo");
    });

    assert_eq!(events.len(), 1);
    let event = events.into_iter().next().unwrap();

    assert_eq!(event.tags["worker"], "worker1");
    assert_eq!(event.level, Level::Error);
    assert_eq!(event.breadcrumbs[0].level, Level::Info);
    assert_eq!(event.breadcrumbs[0].message, Some("Hello World!".into()));
}

#[test]
fn filter_and_mapper_read_as_with_the_reference() {
    let drain = SentryDrain::new(slog::Discard)
        .filter(|level| match level {
            slog::Level::Critical | slog::Level::Error => LevelFilter::Event,
            _ => LevelFilter::Ignore,
        })
        .mapper(|record, kv| match record.level() {
            slog::Level::Critical | slog::Level::Error => {
                RecordMapping::Event(exception_from_record(record, kv).into())
            }
            _ => RecordMapping::Ignore,
        });
    let root = slog::Logger::root(drain, slog::o!("global_kv" => 1234));

    let events = vigil_core::test::with_captured_events(|| {
        slog::info!(root, "ignored");
        slog::crit!(root, "recorded as exception event"; "event_kv" => "event");
    });

    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].message.as_deref(),
        Some("recorded as exception event")
    );
    assert_eq!(events[0].extra["event_kv"], "event");
    assert_eq!(events[0].extra["global_kv"], 1234);
    assert!(events[0].breadcrumbs.is_empty());
}
