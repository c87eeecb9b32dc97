//! Shedding optional parts to fit 1 MiB.

use std::collections::BTreeMap;

use serde_json::json;

use crate::Map;

use super::exception_with_frames;
use crate::breadcrumb::Breadcrumb;
use crate::breadcrumb_list::Breadcrumbs;
use crate::context::Context;
use crate::event::{Event, Values};
use crate::limits::shed_heavy_parts;
use crate::request::Request;

#[test]
fn shedding_follows_the_documented_order() {
    let crumb = |i: usize| Breadcrumb {
        message: Some(format!("crumb {i}")),
        data: BTreeMap::from([("k".into(), json!(i))]),
        ..Default::default()
    };
    let mut contexts = BTreeMap::new();
    for name in ["os", "runtime", "device", "app", "trace", "custom", "gpu"] {
        contexts.insert(name.to_owned(), Context::Other(Map::new()));
    }
    let mut event = Event {
        breadcrumbs: Breadcrumbs::from((0..30).map(crumb).collect::<Vec<_>>()),
        request: Some(Request {
            url: Some("https://example.com/".into()),
            data: Some(json!("body")),
            ..Default::default()
        }),
        extra: BTreeMap::from([("e".into(), json!(1))]),
        exception: Values::from(vec![exception_with_frames(60)]),
        contexts,
        ..Default::default()
    };

    assert!(shed_heavy_parts(&mut event));
    assert!(event.breadcrumbs.iter().all(|b| b.data.is_empty()));
    assert_eq!(event.breadcrumbs.len(), 30);
    assert!(event.request.as_ref().unwrap().data.is_some());

    assert!(shed_heavy_parts(&mut event));
    assert_eq!(event.request.as_ref().unwrap().data, None);
    assert!(event.request.as_ref().unwrap().url.is_some());
    assert!(!event.extra.is_empty());

    assert!(shed_heavy_parts(&mut event));
    assert!(event.extra.is_empty());

    assert!(shed_heavy_parts(&mut event));
    let frames = &event.exception.values[0]
        .stacktrace
        .as_ref()
        .unwrap()
        .frames;
    assert_eq!(frames.len(), 60);
    for frame in &frames[..10] {
        assert_eq!(frame.raw_function, None);
        assert_eq!(frame.module, None);
        assert_eq!(frame.abs_path, None);
        assert_eq!(frame.instruction_addr, None);
        assert!(frame.function.is_some() && frame.filename.is_some() && frame.lineno.is_some());
    }
    for frame in &frames[10..] {
        assert!(frame.raw_function.is_some() && frame.module.is_some());
    }
    assert_eq!(event.breadcrumbs.len(), 30);

    assert!(shed_heavy_parts(&mut event));
    assert_eq!(event.breadcrumbs.len(), 10);
    assert_eq!(event.breadcrumbs[0].message.as_deref(), Some("crumb 20"));
    assert_eq!(event.breadcrumbs[9].message.as_deref(), Some("crumb 29"));

    assert!(shed_heavy_parts(&mut event));
    assert!(event.breadcrumbs.is_empty());
    assert_eq!(event.contexts.len(), 7);

    assert!(shed_heavy_parts(&mut event));
    let names: Vec<&str> = event.contexts.keys().map(String::as_str).collect();
    assert_eq!(names, ["app", "device", "os", "runtime", "trace"]);

    assert!(!shed_heavy_parts(&mut event));
    assert!(!shed_heavy_parts(&mut event));
}

#[test]
fn shedding_skips_steps_with_nothing_to_remove() {
    let mut event = Event {
        breadcrumbs: Breadcrumbs::from(vec![Breadcrumb::message("only one")]),
        ..Default::default()
    };
    assert!(shed_heavy_parts(&mut event));
    assert!(event.breadcrumbs.is_empty());
    assert!(!shed_heavy_parts(&mut event));
}

#[test]
fn shedding_leaves_short_stack_traces_alone() {
    let mut event = Event {
        exception: Values::from(vec![exception_with_frames(50)]),
        ..Default::default()
    };
    let before = event.clone();
    assert!(!shed_heavy_parts(&mut event));
    assert_eq!(event, before);
}
