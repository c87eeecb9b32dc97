//! The init guard flushes within shutdown_timeout; invalid DSNs never panic.
//! Own binary: it touches the main hub.

mod support;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use support::{Recording, options_with};
use vigil::{InitError, Level};

/// Both tests bind clients to the one main hub: run them one at a time.
static MAIN_HUB: Mutex<()> = Mutex::new(());

#[test]
fn invalid_dsn_is_an_error_not_a_panic() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    for bad in [
        "not a dsn",
        "ftp://k@h/1",
        "https://h/1",
        "https://k@/1",
        "https://k@h:99999/1",
        "https://k@h/",
    ] {
        let err = vigil::try_init(bad).unwrap_err();
        assert!(matches!(err, InitError::InvalidDsn(_)), "{bad}: {err}");
        assert!(
            err.to_string()
                .starts_with("cannot initialize vigil: invalid dsn"),
            "{err}"
        );
        let guard = vigil::init(bad);
        assert!(!guard.is_enabled());
        assert!(vigil::capture_message("m", Level::Error).is_nil());
    }
}

#[test]
fn guard_drop_flushes_bounded_by_shutdown_timeout() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    // A transport that needs 10 s to flush; the guard waits only 300 ms.
    let transport = Arc::new(Recording {
        flush_delay: Some(Duration::from_secs(10)),
        ..Default::default()
    });
    let options = options_with(transport.clone()).shutdown_timeout(Duration::from_millis(300));
    let guard = vigil::init(("https://public@example.invalid/1", options));
    assert_eq!(
        guard.client().unwrap().options().shutdown_timeout,
        Duration::from_millis(300)
    );
    vigil::capture_message("m", Level::Error);
    let start = Instant::now();
    drop(guard);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert_eq!(transport.events().len(), 1);
    assert_eq!(
        vigil::ClientOptions::default().shutdown_timeout,
        Duration::from_secs(2),
        "default shutdown_timeout"
    );
}

#[test]
fn the_environment_defaults_to_development_in_a_debug_build() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((
        "https://public@example.invalid/1",
        options_with(transport.clone()),
    ));
    vigil::capture_message("m", Level::Error);
    drop(guard);
    let expected = if cfg!(debug_assertions) {
        "development"
    } else {
        "production"
    };
    let events = transport.events();
    assert_eq!(events[0].environment.as_deref(), Some(expected));

    // Set in code, it stays.
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((
        "https://public@example.invalid/1",
        options_with(transport.clone()).environment("staging"),
    ));
    vigil::capture_message("m", Level::Error);
    drop(guard);
    assert_eq!(
        transport.events()[0].environment.as_deref(),
        Some("staging")
    );
}
