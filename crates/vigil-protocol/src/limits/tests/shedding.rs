//! Shedding optional parts to fit 1 MiB.

use std::collections::BTreeMap;

use serde_json::json;

use crate::Map;

use super::exception_with_frames;
use crate::breadcrumb::Breadcrumb;
use crate::breadcrumb_list::Breadcrumbs;
use crate::context::Context;
use crate::debug_meta::{DebugImage, DebugMeta, NativeDebugImage};
use crate::event::{Event, Values};
use crate::exception::{Frame, Stacktrace, Thread};
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
        debug_meta: DebugMeta {
            images: vec![
                // The frames are at 0x1000.
                DebugImage::Elf(image(0x800, 0x1000)),
                DebugImage::Elf(image(0x1001, 0x1000)),
                DebugImage::Other(Map::from([("type".into(), json!("pe"))])),
            ],
        },
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
    assert_eq!(event.debug_meta.images.len(), 3);

    assert!(shed_heavy_parts(&mut event));
    assert_eq!(
        event.debug_meta.images,
        [
            DebugImage::Elf(image(0x800, 0x1000)),
            DebugImage::Other(Map::from([("type".into(), json!("pe"))])),
        ]
    );
    assert!(
        event.exception.values[0]
            .stacktrace
            .as_ref()
            .unwrap()
            .frames[0]
            .raw_function
            .is_some()
    );

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

fn image(image_addr: u64, image_size: u64) -> NativeDebugImage {
    NativeDebugImage {
        code_file: format!("/lib/{image_addr:x}.so"),
        image_addr,
        image_size,
        ..Default::default()
    }
}

#[test]
fn only_images_that_a_frame_falls_into_are_kept() {
    let mut exception = exception_with_frames(3);
    let frames = &mut exception.stacktrace.as_mut().unwrap().frames;
    frames[0].instruction_addr = Some("0xffffffffffffffff".into());
    frames[1].instruction_addr = Some("4096".into());
    frames[2].instruction_addr = Some("not an address".into());
    let thread = Thread {
        stacktrace: Some(Stacktrace {
            frames: vec![Frame {
                instruction_addr: Some("0x20ff".into()),
                ..Default::default()
            }],
        }),
        ..Default::default()
    };
    let images = [
        image(u64::MAX - 1, 10), // holds u64::MAX
        image(0x1000, 1),        // holds 4096
        image(0x2000, 0x100),    // holds 0x20ff (a thread's frame)
        image(0x2100, 0x100),    // starts just after it
        image(0xfff, 1),         // ends just before 4096
        image(0x1000, 0),        // empty
    ];
    let mut event = Event {
        exception: Values::from(vec![exception]),
        threads: Values::from(vec![thread]),
        debug_meta: DebugMeta {
            images: images
                .iter()
                .cloned()
                .enumerate()
                .map(|(i, image)| {
                    if i % 2 == 0 {
                        DebugImage::Elf(image)
                    } else {
                        DebugImage::MachO(image)
                    }
                })
                .collect(),
        },
        ..Default::default()
    };
    assert!(shed_heavy_parts(&mut event));
    assert_eq!(
        event.debug_meta.images,
        [
            DebugImage::Elf(images[0].clone()),
            DebugImage::MachO(images[1].clone()),
            DebugImage::Elf(images[2].clone()),
        ]
    );
    // The next step is the frame details (the stack traces are short).
    assert!(!shed_heavy_parts(&mut event));
}

#[test]
fn without_frames_every_native_image_is_shed() {
    let mut event = Event {
        debug_meta: DebugMeta {
            images: vec![DebugImage::Elf(image(0, u64::MAX))],
        },
        ..Default::default()
    };
    assert!(shed_heavy_parts(&mut event));
    assert!(event.debug_meta.is_empty());
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
