//! Hub construction, switching and client binding.

use std::sync::Arc;

use vigil_core::protocol::Level;
use vigil_core::{Hub, Scope, capture_message, configure_scope};

use crate::support::default_harness;

#[test]
fn new_from_top_shares_client_and_copies_scope() {
    let h = default_harness();
    h.hub.configure_scope(|s| s.set_tag("parent", "1"));
    let child = Arc::new(Hub::new_from_top(&*h.hub));
    child.configure_scope(|s| s.set_tag("child", "1"));
    h.hub.configure_scope(|s| s.set_tag("parent-later", "1"));
    Hub::run(child.clone(), || capture_message("child", Level::Info));
    Hub::run(h.hub.clone(), || capture_message("parent", Level::Info));
    let events = h.events();
    assert!(events[0].tags.contains_key("parent"));
    assert!(events[0].tags.contains_key("child"));
    assert!(!events[0].tags.contains_key("parent-later"));
    assert!(!events[1].tags.contains_key("child"));
    assert!(Arc::ptr_eq(&child.client().unwrap(), &h.client));
}

#[test]
fn run_switches_the_current_hub_and_restores_it() {
    let h = default_harness();
    let outer = Hub::current();
    Hub::run(h.hub.clone(), || {
        assert!(Arc::ptr_eq(&Hub::current(), &h.hub));
        let other = Arc::new(Hub::new(None, Arc::new(Scope::new())));
        Hub::run(other.clone(), || {
            assert!(Arc::ptr_eq(&Hub::current(), &other))
        });
        assert!(Arc::ptr_eq(&Hub::current(), &h.hub));
    });
    assert!(Arc::ptr_eq(&Hub::current(), &outer));
    // Restored after a panic too.
    let _ = std::panic::catch_unwind(|| Hub::run(h.hub.clone(), || panic!("x")));
    assert!(Arc::ptr_eq(&Hub::current(), &outer));
}

#[test]
fn bind_client_enables_and_disables_a_hub() {
    let h = default_harness();
    let hub = Arc::new(Hub::new(None, Arc::new(Scope::new())));
    assert!(!hub.is_active());
    assert!(hub.capture_message("nobody listens", Level::Info).is_nil());
    hub.bind_client(Some(h.client.clone()));
    assert!(hub.is_active());
    assert!(!hub.capture_message("sent", Level::Info).is_nil());
    hub.bind_client(None);
    assert!(hub.capture_message("dropped", Level::Info).is_nil());
    let msgs: Vec<_> = h.events().into_iter().map(|e| e.message.unwrap()).collect();
    assert_eq!(msgs, ["sent"]);
}

#[test]
fn hub_without_client_runs_no_configure_closure_via_global_api() {
    let hub = Arc::new(Hub::new(None, Arc::new(Scope::new())));
    let ran = Hub::run(hub, || configure_scope(|_| true));
    assert!(
        !ran,
        "configure_scope is not invoked when the SDK is disabled"
    );
}

#[test]
fn closed_client_stops_capturing() {
    let h = default_harness();
    assert!(h.client.close(None));
    assert!(!h.client.is_enabled());
    assert!(h.hub.capture_message("late", Level::Info).is_nil());
}

#[test]
fn api_calls_on_a_hub_without_a_client_change_nothing() {
    // A client exists elsewhere (the harness's), so this is not the
    // disabled fast path: the hub itself has none.
    let _h = default_harness();
    let bare = Arc::new(Hub::new(None, Arc::new(Scope::new())));
    let mut configured = false;
    Hub::run(bare.clone(), || {
        let r = vigil_core::with_scope(|_| configured = true, || 5);
        assert_eq!(r, 5, "the callback runs");
        let n: usize = configure_scope(|s| {
            s.set_tag("never", "1");
            1
        });
        assert_eq!(n, 0, "the closure does not run");
        let guard = vigil_core::push_scope();
        configure_scope(|s| s.set_tag("never", "2"));
        drop(guard);
    });
    assert!(!configured, "the configuration does not run");
    let tags = bare.configure_scope(|s| s.tags().len());
    assert_eq!(tags, 0);
    // The hub's own methods still work without a client.
    bare.with_scope(
        |s| s.set_tag("own", "1"),
        || {
            assert_eq!(
                bare.configure_scope(|s| s.tags().get("own").map(str::to_owned)),
                Some("1".to_owned())
            );
        },
    );
    assert_eq!(bare.configure_scope(|s| s.tags().len()), 0);
}
