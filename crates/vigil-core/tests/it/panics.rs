//! Semantics 5 (second half): a panicking callback never poisons the SDK.

use vigil_core::protocol::{Breadcrumb, DataCategory, DiscardReason, Level};
use vigil_core::{ClientOptions, add_breadcrumb, capture_message, configure_scope};

use crate::support::harness;

#[test]
fn panicking_before_send_drops_that_event_only() {
    let h = harness(ClientOptions::new().before_send(|e| {
        if e.message.as_deref() == Some("boom") {
            panic!("before_send exploded");
        }
        Some(e)
    }));
    h.run(|| {
        assert!(capture_message("boom", Level::Error).is_nil());
        assert!(!capture_message("fine", Level::Error).is_nil());
    });
    assert_eq!(h.events().len(), 1);
    assert_eq!(
        h.client
            .loss_recorder()
            .total(DiscardReason::BeforeSend, DataCategory::Error),
        1
    );
}

#[test]
fn panicking_event_processor_drops_that_event_only() {
    let h = harness(ClientOptions::default());
    h.run(|| {
        configure_scope(|s| {
            s.add_event_processor(|e| {
                if e.message.as_deref() == Some("boom") {
                    panic!("processor exploded");
                }
                Some(e)
            })
        });
        assert!(capture_message("boom", Level::Error).is_nil());
        assert!(!capture_message("fine", Level::Error).is_nil());
        configure_scope(|s| s.set_tag("still", "usable"));
        capture_message("after", Level::Error);
    });
    let events = h.events();
    assert_eq!(events.len(), 2);
    assert_eq!(
        events[1].tags.get("still").map(|v| v.as_str()),
        Some("usable")
    );
    assert_eq!(
        h.client
            .loss_recorder()
            .total(DiscardReason::EventProcessor, DataCategory::Error),
        1
    );
}

#[test]
fn panicking_before_breadcrumb_drops_that_breadcrumb_only() {
    let h = harness(ClientOptions::new().before_breadcrumb(|b| {
        if b.message.as_deref() == Some("boom") {
            panic!("before_breadcrumb exploded");
        }
        Some(b)
    }));
    h.run(|| {
        add_breadcrumb(Breadcrumb::message("boom"));
        add_breadcrumb(Breadcrumb::message("fine"));
        capture_message("m", Level::Error);
    });
    let events = h.events();
    assert_eq!(events[0].breadcrumbs.len(), 1);
    assert_eq!(events[0].breadcrumbs[0].message.as_deref(), Some("fine"));
}

#[test]
fn panic_in_with_scope_callback_pops_the_scope() {
    let h = harness(ClientOptions::default());
    h.run(|| {
        let r = std::panic::catch_unwind(|| {
            vigil_core::with_scope(|s| s.set_tag("inner", "1"), || panic!("user code"))
        });
        assert!(r.is_err());
        capture_message("m", Level::Error);
    });
    assert!(!h.events()[0].tags.contains_key("inner"));
}
