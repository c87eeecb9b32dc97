//! Semantics 1: init binds a client to a hub with a blank scope, current for
//! the calling thread; other threads see the client. Own binary: it
//! touches the main hub.

mod support;

use std::sync::Arc;

use support::{Recording, options_with};
use vigil::{Hub, Level};

#[test]
fn init_makes_a_client_visible_to_this_and_later_threads() {
    // A thread that used the SDK before init...
    let (early_tx, early_rx) = std::sync::mpsc::channel::<()>();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let early = std::thread::spawn(move || {
        assert!(vigil::capture_message("before init", Level::Info).is_nil());
        early_rx.recv().unwrap();
        done_tx
            .send(vigil::capture_message(
                "early thread, after init",
                Level::Info,
            ))
            .unwrap();
    });
    // Let the early thread make its first SDK call.
    std::thread::sleep(std::time::Duration::from_millis(50));

    let transport = Arc::new(Recording::default());
    let guard = vigil::init((
        "https://public@example.invalid/1",
        options_with(transport.clone()),
    ));
    assert!(guard.is_enabled());

    // The calling thread's hub is the main hub, with a blank scope.
    assert!(Arc::ptr_eq(&Hub::current(), &Hub::main()));
    Hub::current().configure_scope(|s| {
        assert!(s.tags().is_empty() && s.user().is_none() && s.breadcrumbs().is_empty());
    });
    vigil::configure_scope(|s| s.set_tag("configured-before-spawn", "yes"));

    // ...and a thread started after init.
    let later = std::thread::spawn(|| {
        assert!(
            Hub::current().client().is_some(),
            "a new thread must have the client"
        );
        vigil::capture_message("later thread", Level::Info)
    })
    .join()
    .unwrap();
    assert!(!later.is_nil());

    early_tx.send(()).unwrap();
    let early_id = done_rx.recv().unwrap();
    early.join().unwrap();
    assert!(
        !early_id.is_nil(),
        "a thread that touched the SDK before init still reports"
    );

    let main_id = vigil::capture_message("main thread", Level::Info);
    assert!(!main_id.is_nil());
    assert_eq!(vigil::last_event_id(), Some(main_id));

    let events = transport.events();
    let later_event = events
        .iter()
        .find(|e| e.message.as_deref() == Some("later thread"))
        .unwrap();
    assert_eq!(
        later_event
            .tags
            .get("configured-before-spawn")
            .map(|v| v.as_str()),
        Some("yes")
    );
    assert_eq!(events.len(), 3);
    drop(guard);
    assert!(vigil::capture_message("after the guard", Level::Info).is_nil());
}
