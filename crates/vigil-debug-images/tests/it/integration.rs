//! `DebugImagesIntegration`: which events get the images, through a client
//! and on the wire.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Value, json};
use vigil_core::protocol::{
    DebugImage, DebugMeta, Envelope, Event, Exception, Frame, Level, NativeDebugImage, Stacktrace,
    Thread, Values,
};
use vigil_core::{ClientOptions, Integration};
use vigil_debug_images::{DebugImagesIntegration, debug_images};

fn stacktrace(frames: usize) -> Option<Stacktrace> {
    Some(Stacktrace {
        frames: (0..frames)
            .map(|i| Frame {
                function: Some(format!("f{i}")),
                instruction_addr: Some(format!("{:#x}", 0x1000 + i)),
                ..Default::default()
            })
            .collect(),
    })
}

fn with_exception(stacktrace: Option<Stacktrace>) -> Event {
    Event {
        exception: Values::from(vec![Exception {
            ty: "Crash".into(),
            stacktrace,
            ..Default::default()
        }]),
        ..Default::default()
    }
}

fn with_thread(stacktrace: Option<Stacktrace>) -> Event {
    Event {
        threads: Values::from(vec![Thread {
            stacktrace,
            ..Default::default()
        }]),
        ..Default::default()
    }
}

fn processed(integration: &DebugImagesIntegration, event: Event) -> Event {
    integration
        .process_event(event, &ClientOptions::default())
        .expect("the integration drops nothing")
}

#[test]
fn events_with_a_stack_trace_get_the_images() {
    let integration = DebugImagesIntegration::new();
    let images = debug_images();
    assert!(!images.is_empty());
    for event in [with_exception(stacktrace(1)), with_thread(stacktrace(3))] {
        assert_eq!(processed(&integration, event).debug_meta.images, images);
    }
}

#[test]
fn events_without_a_stack_trace_do_not() {
    let integration = DebugImagesIntegration::new();
    for event in [
        Event::from_message("hello", Level::Info),
        with_exception(None),
        with_exception(stacktrace(0)),
        with_thread(None),
        with_thread(stacktrace(0)),
    ] {
        let before = event.clone();
        assert_eq!(processed(&integration, event), before);
    }
    // Nothing was read.
    assert_eq!(
        format!("{integration:?}"),
        "DebugImagesIntegration { images: None, .. }"
    );
}

#[test]
fn the_images_are_read_once() {
    let integration = DebugImagesIntegration::default();
    let first = processed(&integration, with_exception(stacktrace(1)));
    let count = first.debug_meta.images.len();
    assert_eq!(
        format!("{integration:?}"),
        format!("DebugImagesIntegration {{ images: Some({count}), .. }}")
    );
    let second = processed(&integration, with_thread(stacktrace(1)));
    assert_eq!(second.debug_meta, first.debug_meta);
}

#[test]
fn native_images_already_there_are_left_alone_and_others_kept() {
    let integration = DebugImagesIntegration::new();
    let theirs = DebugImage::Elf(NativeDebugImage {
        code_file: "/opt/app/plugin.so".into(),
        ..Default::default()
    });
    let mut event = with_exception(stacktrace(1));
    event.debug_meta.images.push(theirs.clone());
    assert_eq!(processed(&integration, event).debug_meta.images, [theirs]);

    let other = DebugImage::Other([("type".to_owned(), json!("sourcemap"))].into());
    let mut event = with_exception(stacktrace(1));
    event.debug_meta.images.push(other.clone());
    let images = processed(&integration, event).debug_meta.images;
    assert_eq!(images[0], other);
    assert_eq!(images[1..], debug_images());
}

#[test]
fn a_filter_chooses_the_events() {
    let integration = DebugImagesIntegration::new().filter(|event| event.level == Level::Fatal);
    let event = with_exception(stacktrace(1));
    assert!(processed(&integration, event).debug_meta.is_empty());
    let event = Event {
        level: Level::Fatal,
        ..Default::default()
    };
    assert!(!processed(&integration, event).debug_meta.is_empty());
    assert_eq!(integration.name(), "debug-images");
}

/// Captures an error with a real stack trace and a message, through a
/// client with the integration.
fn captured() -> Vec<Event> {
    let options = ClientOptions::default().integration(DebugImagesIntegration::new());
    vigil_core::test::with_captured_events_options(
        || {
            let error = std::io::Error::other("disk on fire");
            let mut event = vigil_core::event_from_error(&error);
            event.exception.values[0].stacktrace =
                vigil_backtrace::current_stacktrace(&ClientOptions::default());
            vigil_core::capture_event(event);
            vigil_core::capture_message("no stack here", Level::Info);
        },
        options,
    )
}

#[test]
fn a_captured_error_carries_the_images_and_a_message_does_not() {
    let events = captured();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].debug_meta.images, debug_images());
    assert!(events[1].debug_meta.is_empty());
    let sdk = events[0].sdk.as_ref().expect("sdk info");
    assert!(
        sdk.integrations.iter().any(|name| name == "debug-images"),
        "{sdk:?}"
    );
}

#[test]
fn the_event_json_round_trips() {
    let mut event = captured().swap_remove(0);
    // Whole seconds survive the float timestamp.
    let seconds = event
        .timestamp
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    event.timestamp = UNIX_EPOCH + Duration::from_secs(seconds);
    let json = serde_json::to_value(&event).unwrap();
    let images = json["debug_meta"]["images"].as_array().unwrap();
    assert_eq!(images.len(), event.debug_meta.images.len());
    for image in images {
        assert_eq!(image["type"], "elf");
        for field in [
            "code_file",
            "code_id",
            "debug_id",
            "image_addr",
            "image_vmaddr",
        ] {
            assert!(image[field].is_string(), "{field} in {image}");
        }
        assert!(image["image_size"].is_u64(), "{image}");
        let addr = image["image_addr"].as_str().unwrap();
        assert!(addr.starts_with("0x") && addr[2..] == addr[2..].to_ascii_lowercase());
        vigil_core::protocol::Uuid::parse_str(image["debug_id"].as_str().unwrap()).unwrap();
    }
    let back: Event = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, event);
    assert_eq!(serde_json::to_value(&back).unwrap(), json);

    // The envelope's own writer gives the same JSON.
    let bytes = Envelope::from_event(event.clone()).to_vec().unwrap();
    let back = Envelope::from_slice(&bytes).unwrap();
    assert_eq!(back.event(), Some(&event));
    let payload = bytes.split(|&b| b == b'\n').nth(2).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(payload).unwrap(), json);
}

/// `relay-validate.py` of the shared interop tools, when they are there.
fn relay_validator() -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let validator = shared.join("interop/relay-validate.py");
    if validator.is_file() {
        Some(validator)
    } else {
        eprintln!(
            "\n*** SKIPPED: {} not found; Relay did not check the images ***\n",
            validator.display()
        );
        None
    }
}

#[test]
fn relay_accepts_the_images_unchanged() {
    let Some(validator) = relay_validator() else {
        return;
    };
    let event = captured().swap_remove(0);
    let path = std::env::temp_dir().join(format!(
        "vigil-debug-images-{}-{}.envelope",
        std::process::id(),
        event.event_id
    ));
    std::fs::write(&path, Envelope::from_event(event).to_vec().unwrap()).unwrap();
    let out = Command::new("python3")
        .arg(&validator)
        .arg("--strict")
        .arg(&path)
        .output()
        .unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{report}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn an_empty_debug_meta_is_left_out() {
    let json = serde_json::to_value(Event {
        debug_meta: DebugMeta::default(),
        ..Default::default()
    })
    .unwrap();
    assert!(json.get("debug_meta").is_none());
}
