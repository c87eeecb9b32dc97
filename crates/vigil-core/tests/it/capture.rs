//! Semantics 3: capture merges the top scope; event values win; breadcrumbs
//! are capped; before_breadcrumb may change or drop.

use std::collections::BTreeMap;

use serde_json::json;
use vigil_core::protocol::{Breadcrumb, Event, Level, User};
use vigil_core::{ClientOptions, add_breadcrumb, capture_event, capture_message, configure_scope};

use crate::support::{default_harness, harness};

#[test]
fn event_values_win_over_scope_values() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| {
            s.set_tag("shared", "scope");
            s.set_tag("scope-only", "scope");
            s.set_extra("shared", "scope".into());
            s.set_user(Some(User {
                id: Some("scope-user".into()),
                ..Default::default()
            }));
            s.set_transaction(Some("scope-tx"));
            s.set_fingerprint(Some(&["scope-fp"]));
        });
        capture_event(Event {
            tags: BTreeMap::from([("shared".into(), "event".into())]),
            extra: BTreeMap::from([("shared".into(), json!("event"))]),
            user: Some(User {
                id: Some("event-user".into()),
                ..Default::default()
            }),
            transaction: Some("event-tx".into()),
            fingerprint: vec!["event-fp".into()],
            ..Default::default()
        });
        capture_message("plain", Level::Info);
    });
    let events = h.events();
    let e = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(e["tags"], json!({"shared": "event", "scope-only": "scope"}));
    assert_eq!(e["extra"]["shared"], "event");
    assert_eq!(e["user"]["id"], "event-user");
    assert_eq!(e["transaction"], "event-tx");
    assert_eq!(e["fingerprint"], json!(["event-fp"]));
    let p = serde_json::to_value(&events[1]).unwrap();
    assert_eq!(p["tags"]["shared"], "scope");
    assert_eq!(p["user"]["id"], "scope-user");
    assert_eq!(p["transaction"], "scope-tx");
    assert_eq!(p["fingerprint"], json!(["scope-fp"]));
}

#[test]
fn scope_level_overrides_captured_level() {
    // As Sentry documents: `with_scope` can attach a level to one event.
    let h = default_harness();
    h.run(|| {
        vigil_core::with_scope(
            |s| s.set_level(Some(Level::Fatal)),
            || capture_message("m", Level::Error),
        );
        capture_message("m", Level::Warning);
    });
    let events = h.events();
    assert_eq!(events[0].level, Level::Fatal);
    assert_eq!(events[1].level, Level::Warning);
}

#[test]
fn breadcrumbs_keep_the_newest_max() {
    let h = harness(ClientOptions::new().max_breadcrumbs(5));
    h.run(|| {
        for i in 0..12 {
            add_breadcrumb(Breadcrumb::message(i.to_string()));
        }
        capture_message("m", Level::Info);
    });
    let events = h.events();
    let msgs: Vec<_> = events[0]
        .breadcrumbs
        .iter()
        .map(|b| b.message.clone().unwrap())
        .collect();
    assert_eq!(msgs, ["7", "8", "9", "10", "11"]);
}

#[test]
fn default_max_breadcrumbs_is_100() {
    let h = default_harness();
    assert_eq!(h.client.options().max_breadcrumbs, 100);
    h.run(|| {
        for i in 0..150 {
            add_breadcrumb(Breadcrumb::message(i.to_string()));
        }
        capture_message("m", Level::Info);
    });
    let events = h.events();
    assert_eq!(events[0].breadcrumbs.len(), 100);
    assert_eq!(events[0].breadcrumbs[0].message.as_deref(), Some("50"));
}

#[test]
fn before_breadcrumb_changes_or_drops() {
    let h = harness(ClientOptions::new().before_breadcrumb(|mut b| {
        if b.message.as_deref() == Some("drop me") {
            return None;
        }
        b.category = Some("changed".into());
        Some(b)
    }));
    h.run(|| {
        add_breadcrumb(Breadcrumb::message("keep"));
        add_breadcrumb(Breadcrumb::message("drop me"));
        add_breadcrumb(|| Breadcrumb::message("lazy"));
        add_breadcrumb(vec![Breadcrumb::message("v1"), Breadcrumb::message("v2")]);
        add_breadcrumb(None::<Breadcrumb>);
        capture_message("m", Level::Info);
    });
    let events = h.events();
    let crumbs = &events[0].breadcrumbs;
    let msgs: Vec<_> = crumbs.iter().map(|b| b.message.clone().unwrap()).collect();
    assert_eq!(msgs, ["keep", "lazy", "v1", "v2"]);
    assert!(
        crumbs
            .iter()
            .all(|b| b.category.as_deref() == Some("changed"))
    );
}

#[test]
fn release_environment_and_sdk_are_filled() {
    let h = harness(
        ClientOptions::new()
            .release("app@1.0")
            .environment("staging"),
    );
    h.run(|| {
        capture_message("m", Level::Info);
    });
    let e = serde_json::to_value(&h.events()[0]).unwrap();
    assert_eq!(e["release"], "app@1.0");
    assert_eq!(e["environment"], "staging");
    assert_eq!(e["sdk"]["name"], "vigil.rust");
    assert_eq!(e["level"], "info");
    assert_eq!(e["message"], "m");
    let default = default_harness();
    default.run(|| capture_message("m", Level::Info));
    let e = serde_json::to_value(&default.events()[0]).unwrap();
    assert_eq!(e["environment"], "production");
}

#[test]
fn envelope_header_carries_event_id_dsn_and_sdk() {
    let h = default_harness();
    let id = h.run(|| capture_message("m", Level::Info));
    let envelopes = h.transport.fetch_and_clear_envelopes();
    let headers = envelopes[0].headers();
    assert_eq!(headers.event_id, Some(id));
    assert_eq!(headers.dsn.as_deref(), Some(vigil_core::test::TEST_DSN));
    assert_eq!(headers.sdk.as_ref().unwrap().name, "vigil.rust");
    assert_eq!(envelopes[0].event().unwrap().event_id, id);
}
