//! Structured logs the way code written for the reference SDK asks for
//! them: a logger whose filter always answers `LogFilter::Log`, installed
//! with `log::set_boxed_logger`, and plain client options (`enable_logs`
//! off). A file of its own, because it sets the process's logger; the
//! record target is this test crate's name.

use vigil_core::protocol::{EnvelopeItem, ItemContainer, LogLevel};

#[test]
fn log_filter_with_installed_logger() {
    let logger = vigil_log::SentryLogger::new().filter(|_| vigil_log::LogFilter::Log);
    log::set_boxed_logger(Box::new(logger))
        .map(|()| log::set_max_level(log::LevelFilter::Trace))
        .unwrap();

    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || log::info!(user_id = 42, request_id = "abc123"; "This is a log"),
        vigil_core::ClientOptions::new(),
    );

    assert_eq!(envelopes.len(), 1);
    let item = envelopes[0].items().next().expect("an envelope item");
    let EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) = item else {
        panic!("expected a log item, got {item:?}");
    };
    assert_eq!(logs.len(), 1);
    let log = &logs[0];
    assert_eq!(log.level, LogLevel::Info);
    assert_eq!(log.body, "This is a log");
    assert_eq!(log.attributes["user_id"], 42.into());
    assert_eq!(log.attributes["request_id"], "abc123".into());
    assert_eq!(log.attributes["logger.target"], "reference_logs".into());
    assert_eq!(log.attributes["code.module.name"], "reference_logs".into());
    assert_eq!(log.attributes["sentry.origin"], "auto.log.log".into());
    assert!(
        log.attributes["code.file.path"]
            .0
            .as_str()
            .unwrap()
            .ends_with("reference_logs.rs")
    );
}
