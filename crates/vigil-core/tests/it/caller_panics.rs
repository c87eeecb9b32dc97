//! A panic in a closure the caller hands to a synchronous API call is the
//! caller's: it propagates, after the hub was left as before the call.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use vigil_core::protocol::Level;
use vigil_core::{Hub, Scope, capture_message, configure_scope, push_scope, with_scope};

use crate::support::default_harness;

/// Runs `f`, expecting it to panic with `message`.
fn expect_panic(message: &str, f: impl FnOnce()) {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("the panic must propagate");
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    assert_eq!(text, Some(message));
}

#[test]
fn configure_scope_panic_propagates_and_discards_the_half_made_changes() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| s.set_tag("before", "1"));
        expect_panic("configure exploded", || {
            configure_scope(|s| {
                s.set_tag("half-done", "1");
                s.set_user(None);
                panic!("configure exploded");
            })
        });
        // The next call works on the scope as it was.
        configure_scope(|s| s.set_tag("after", "1"));
        capture_message("m", Level::Error);
    });
    let events = h.events();
    assert_eq!(events.len(), 1);
    assert!(events[0].tags.contains_key("before"));
    assert!(events[0].tags.contains_key("after"));
    assert!(!events[0].tags.contains_key("half-done"));
}

#[test]
fn hub_configure_scope_panic_propagates_too() {
    let h = default_harness();
    expect_panic("method exploded", || {
        h.hub.configure_scope(|s| {
            s.set_tag("half-done", "1");
            panic!("method exploded")
        })
    });
    h.hub.capture_message("m", Level::Error);
    assert!(!h.events()[0].tags.contains_key("half-done"));
}

#[test]
fn with_scope_configuration_panic_propagates_without_running_the_callback() {
    let h = default_harness();
    let ran = std::cell::Cell::new(false);
    h.run(|| {
        configure_scope(|s| s.set_tag("outer", "1"));
        expect_panic("configuration exploded", || {
            with_scope(
                |s| {
                    s.set_tag("half-done", "1");
                    panic!("configuration exploded");
                },
                || ran.set(true),
            )
        });
        // Nothing was pushed: a change now lands in the outer scope.
        configure_scope(|s| s.set_tag("later", "1"));
        capture_message("after", Level::Error);
    });
    assert!(!ran.get(), "the callback must not run");
    let events = h.events();
    assert!(events[0].tags.contains_key("outer"));
    assert!(events[0].tags.contains_key("later"));
    assert!(!events[0].tags.contains_key("half-done"));
}

#[test]
fn with_scope_callback_panic_propagates_after_the_scope_is_popped() {
    let h = default_harness();
    h.run(|| {
        expect_panic("callback exploded", || {
            with_scope(
                |s| s.set_tag("inner", "1"),
                || {
                    configure_scope(|s| s.set_tag("inner-2", "1"));
                    panic!("callback exploded")
                },
            )
        });
        capture_message("after", Level::Error);
    });
    let events = h.events();
    assert!(!events[0].tags.contains_key("inner"));
    assert!(!events[0].tags.contains_key("inner-2"));
}

#[test]
fn push_scope_user_panic_pops_the_scope_while_unwinding() {
    let h = default_harness();
    h.run(|| {
        expect_panic("user code exploded", || {
            let _guard = push_scope();
            configure_scope(|s| s.set_tag("pushed", "1"));
            panic!("user code exploded");
        });
        capture_message("after", Level::Error);
    });
    assert!(!h.events()[0].tags.contains_key("pushed"));
}

#[test]
fn hub_run_panic_propagates_and_restores_the_previous_hub() {
    let h = default_harness();
    let outer = Hub::current();
    let other = Arc::new(Hub::new(None, Arc::new(Scope::new())));
    expect_panic("run exploded", || {
        Hub::run(other.clone(), || panic!("run exploded"));
    });
    assert!(Arc::ptr_eq(&Hub::current(), &outer));
    // The hub that was current during the panic is usable.
    h.run(|| capture_message("m", Level::Info));
    assert_eq!(h.events().len(), 1);
}
