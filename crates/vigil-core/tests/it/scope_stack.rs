//! Semantics 2: pushing inherits everything, popping reverts everything.

use std::collections::BTreeMap;

use serde_json::json;
use vigil_core::protocol::{Attachment, Breadcrumb, Level, User, Value};
use vigil_core::{add_breadcrumb, capture_message, configure_scope, push_scope, with_scope};

use crate::support::default_harness;

fn fill(scope: &mut vigil_core::Scope, v: &str) {
    scope.set_tag("t", v);
    scope.set_user(Some(User {
        id: Some(v.into()),
        ..Default::default()
    }));
    scope.set_extra("x", v.into());
    scope.set_context("c", BTreeMap::from([("v".to_owned(), Value::from(v))]));
    scope.set_level(Some(if v == "outer" {
        Level::Warning
    } else {
        Level::Fatal
    }));
    scope.set_fingerprint(Some(&[v]));
    scope.set_transaction(Some(v));
    scope.add_breadcrumb(Breadcrumb::message(v));
    let tag = v.to_owned();
    scope.add_event_processor(move |mut e| {
        e.extra.insert(format!("proc-{tag}"), json!(true));
        Some(e)
    });
    scope.add_attachment(Attachment::new(format!("{v}.txt"), v.as_bytes().to_vec()));
}

fn snapshot(e: &vigil_core::protocol::Event) -> Value {
    let mut v = serde_json::to_value(e).unwrap();
    let o = v.as_object_mut().unwrap();
    for k in ["event_id", "timestamp", "sdk", "message", "environment"] {
        o.remove(k);
    }
    for b in o
        .get_mut("breadcrumbs")
        .and_then(|b| b["values"].as_array_mut())
        .into_iter()
        .flatten()
    {
        b.as_object_mut().unwrap().remove("timestamp");
    }
    v
}

#[test]
fn push_inherits_and_pop_reverts_every_field() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| fill(s, "outer"));
        capture_message("before", Level::Info);
        {
            let _guard = push_scope();
            capture_message("inherited", Level::Info);
            configure_scope(|s| fill(s, "inner"));
            capture_message("inner", Level::Info);
        }
        capture_message("after", Level::Info);
    });
    let envelopes = h.transport.fetch_and_clear_envelopes();
    assert_eq!(envelopes.len(), 4);
    let events: Vec<_> = envelopes
        .iter()
        .map(|e| e.event().unwrap().clone())
        .collect();
    // The pushed scope starts with everything of its parent...
    assert_eq!(snapshot(&events[0]), snapshot(&events[1]));
    // ...and popping reverts every change made in it.
    assert_eq!(snapshot(&events[0]), snapshot(&events[3]));
    let before = snapshot(&events[0]);
    assert_eq!(before["tags"]["t"], "outer");
    assert_eq!(before["user"]["id"], "outer");
    assert_eq!(before["extra"]["x"], "outer");
    assert_eq!(before["extra"]["proc-outer"], true);
    assert_eq!(before["contexts"]["c"]["v"], "outer");
    assert_eq!(before["level"], "warning");
    assert_eq!(before["fingerprint"], json!(["outer"]));
    assert_eq!(before["transaction"], "outer");
    assert_eq!(before["breadcrumbs"]["values"].as_array().unwrap().len(), 1);

    let inner = snapshot(&events[2]);
    assert_eq!(inner["tags"]["t"], "inner");
    assert_eq!(inner["user"]["id"], "inner");
    assert_eq!(inner["level"], "fatal");
    assert_eq!(inner["fingerprint"], json!(["inner"]));
    assert_eq!(inner["transaction"], "inner");
    assert_eq!(inner["extra"]["proc-outer"], true);
    assert_eq!(inner["extra"]["proc-inner"], true);
    assert_eq!(inner["breadcrumbs"]["values"].as_array().unwrap().len(), 2);

    // Attachments follow the same rule.
    let names = |i: usize| -> Vec<String> {
        envelopes[i]
            .items()
            .filter_map(|it| match it {
                vigil_core::protocol::EnvelopeItem::Attachment(a) => Some(a.filename.clone()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(names(0), ["outer.txt"]);
    assert_eq!(names(1), ["outer.txt"]);
    assert_eq!(names(2), ["outer.txt", "inner.txt"]);
    assert_eq!(names(3), ["outer.txt"]);
}

#[test]
fn configure_scope_persists_and_with_scope_stays_inside() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| s.set_tag("persist", "yes"));
        with_scope(
            |s| s.set_tag("inside", "yes"),
            || {
                capture_message("in", Level::Info);
                // configure_scope inside with_scope changes the pushed scope only
                configure_scope(|s| s.set_tag("inside-too", "yes"));
            },
        );
        capture_message("out", Level::Info);
    });
    let events = h.events();
    assert_eq!(
        events[0].tags.get("persist").map(|v| v.as_str()),
        Some("yes")
    );
    assert_eq!(
        events[0].tags.get("inside").map(|v| v.as_str()),
        Some("yes")
    );
    assert_eq!(
        events[1].tags.get("persist").map(|v| v.as_str()),
        Some("yes")
    );
    assert!(!events[1].tags.contains_key("inside"));
    assert!(!events[1].tags.contains_key("inside-too"));
}

#[test]
fn clear_inside_with_scope_empties_that_region_only() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| {
            s.set_tag("keep", "1");
            s.set_user(Some(User {
                id: Some("u".into()),
                ..Default::default()
            }));
        });
        add_breadcrumb(Breadcrumb::message("crumb"));
        with_scope(|s| s.clear(), || capture_message("cleared", Level::Info));
        capture_message("restored", Level::Info);
    });
    let events = h.events();
    assert!(events[0].tags.is_empty());
    assert!(events[0].user.is_none());
    assert!(events[0].breadcrumbs.is_empty());
    assert_eq!(events[1].tags.get("keep").map(|v| v.as_str()), Some("1"));
    assert!(events[1].user.is_some());
    assert_eq!(events[1].breadcrumbs.len(), 1);
}

#[test]
fn dropping_guards_out_of_order_never_panics() {
    let h = default_harness();
    h.run(|| {
        let a = push_scope();
        configure_scope(|s| s.set_tag("a", "1"));
        let b = push_scope();
        configure_scope(|s| s.set_tag("b", "1"));
        drop(a); // out of order: removes a's layer only
        capture_message("b still pushed", Level::Info);
        drop(b);
        capture_message("all popped", Level::Info);
        // a guard dropped twice over (via mem::forget of a clone-less guard
        // is impossible); dropping after the hub is gone is fine too.
        let c = push_scope();
        drop(c);
    });
    let events = h.events();
    assert_eq!(events[0].tags.get("b").map(|v| v.as_str()), Some("1"));
    assert!(events[1].tags.is_empty());
}

#[test]
fn guard_outliving_its_hub_is_harmless() {
    let h = default_harness();
    let guard = h.hub.push_scope();
    drop(h);
    drop(guard);
}
