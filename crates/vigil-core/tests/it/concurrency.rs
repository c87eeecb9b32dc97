//! Semantics 5 (first half) and 6: no user code under an SDK lock, and no
//! lost concurrent updates.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use vigil_core::protocol::{Breadcrumb, Level};
use vigil_core::{ClientOptions, Hub, add_breadcrumb, capture_message, configure_scope};

use crate::support::{default_harness, harness};

#[test]
fn capture_inside_configure_scope_does_not_deadlock() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| {
            s.set_tag("outer", "1");
            capture_message("from inside configure_scope", Level::Info);
            add_breadcrumb(Breadcrumb::message("inside"));
            configure_scope(|inner| inner.set_tag("nested", "1"));
        });
        capture_message("after", Level::Info);
    });
    let events = h.events();
    assert_eq!(events.len(), 2);
    // The nested configure_scope ran on the then-current scope; the outer
    // closure's write-back merges with it instead of losing it.
    assert!(events[1].tags.contains_key("outer"));
    assert!(events[1].tags.contains_key("nested"));
    assert_eq!(events[1].breadcrumbs.len(), 1);
}

#[test]
fn capture_inside_event_processor_and_before_send_does_not_deadlock() {
    let nested = Arc::new(AtomicUsize::new(0));
    let n = nested.clone();
    let h = harness(ClientOptions::new().before_send(move |e| {
        if e.message.as_deref() == Some("outer") && n.fetch_add(1, Ordering::SeqCst) == 0 {
            capture_message("from before_send", Level::Info);
        }
        Some(e)
    }));
    h.run(|| {
        configure_scope(|s| {
            s.add_event_processor(|e| {
                if e.message.as_deref() == Some("outer") {
                    Hub::current().configure_scope(|s| s.set_tag("touched", "1"));
                }
                Some(e)
            })
        });
        capture_message("outer", Level::Info);
    });
    let msgs: Vec<_> = h.events().into_iter().map(|e| e.message.unwrap()).collect();
    assert_eq!(msgs, ["from before_send", "outer"]);
}

#[test]
fn concurrent_configure_scope_loses_no_update() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 250;
    let h = default_harness();
    let hub = h.hub.clone();
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let hub = hub.clone();
            s.spawn(move || {
                for i in 0..PER_THREAD {
                    hub.configure_scope(|scope| {
                        scope.set_tag(&format!("t{t}-{i}"), "x");
                        scope.set_extra(&format!("e{t}-{i}"), i.into());
                    });
                    hub.add_breadcrumb(Breadcrumb::message(format!("{t}-{i}")));
                }
            });
        }
    });
    let (tags, extra) = hub.configure_scope(|scope| (scope.tags().len(), scope.extra().len()));
    assert_eq!(tags, THREADS * PER_THREAD);
    assert_eq!(extra, THREADS * PER_THREAD);
    Hub::run(hub, || capture_message("m", Level::Info));
    let events = h.events();
    assert_eq!(events[0].tags.len(), THREADS * PER_THREAD);
    assert_eq!(events[0].breadcrumbs.len(), 100);
}

#[test]
fn concurrent_captures_on_one_hub() {
    let h = default_harness();
    let hub = h.hub.clone();
    std::thread::scope(|s| {
        for _ in 0..4 {
            let hub = hub.clone();
            s.spawn(move || {
                for _ in 0..100 {
                    hub.capture_message("m", Level::Info);
                }
            });
        }
    });
    assert_eq!(h.events().len(), 400);
}
