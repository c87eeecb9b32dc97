//! The `debug_meta` interface: its JSON shape, the forms of addresses it
//! reads, and images it does not model kept as they are.

use serde_json::{Value, json};
use vigil_protocol::{DebugImage, DebugMeta, Event, NativeDebugImage, Uuid};

use crate::fixtures::{BUILD_ID, DEBUG_ID, EVENT_ID, fixed_time};

fn read_image(json: Value) -> DebugImage {
    serde_json::from_value(json).unwrap()
}

fn native(image: DebugImage) -> NativeDebugImage {
    match image {
        DebugImage::Elf(native) | DebugImage::MachO(native) => native,
        other => panic!("not native: {other:?}"),
    }
}

#[test]
fn a_default_native_image_has_only_the_required_fields() {
    assert_eq!(
        serde_json::to_value(DebugImage::Elf(NativeDebugImage::default())).unwrap(),
        json!({
            "type": "elf",
            "code_file": "",
            "debug_id": "00000000-0000-0000-0000-000000000000",
            "image_addr": "0x0",
            "image_size": 0
        })
    );
}

#[test]
fn every_field_of_a_macho_image() {
    let image = DebugImage::MachO(NativeDebugImage {
        code_file: "/usr/lib/libz.dylib".into(),
        code_id: Some(BUILD_ID.into()),
        debug_id: DEBUG_ID.parse().unwrap(),
        debug_file: Some("libz.dylib.dSYM".into()),
        arch: Some("arm64".into()),
        image_addr: u64::MAX,
        image_size: u64::MAX,
        image_vmaddr: Some(0x1_0000_0000),
    });
    let json = json!({
        "type": "macho",
        "code_file": "/usr/lib/libz.dylib",
        "code_id": BUILD_ID,
        "debug_id": DEBUG_ID,
        "debug_file": "libz.dylib.dSYM",
        "arch": "arm64",
        "image_addr": "0xffffffffffffffff",
        "image_size": u64::MAX,
        "image_vmaddr": "0x100000000"
    });
    assert_eq!(serde_json::to_value(&image).unwrap(), json);
    assert_eq!(read_image(json), image);
}

#[test]
fn addresses_are_read_as_hex_strings_decimal_strings_or_numbers() {
    for (addr, expected) in [
        (json!("0x7f0000001000"), 0x7f00_0000_1000),
        (json!("0X1F"), 31),
        (json!("31"), 31),
        (json!(31), 31),
        (json!("0xffffffffffffffff"), u64::MAX),
    ] {
        let image = native(read_image(json!({
            "type": "elf",
            "code_file": "/lib/a.so",
            "debug_id": DEBUG_ID,
            "image_addr": addr,
            "image_size": 1,
            "image_vmaddr": addr,
        })));
        assert_eq!(image.image_addr, expected, "{addr}");
        assert_eq!(image.image_vmaddr, Some(expected), "{addr}");
    }
    let image = native(read_image(json!({
        "type": "elf",
        "code_file": "/lib/a.so",
        "debug_id": DEBUG_ID,
        "image_addr": "0x1000",
        "image_size": 1,
        "image_vmaddr": null,
    })));
    assert_eq!(image.image_vmaddr, None);
}

#[test]
fn images_it_does_not_model_are_kept_as_they_are() {
    for json in [
        // Kinds without a variant.
        json!({"type": "pe", "code_file": "C:\\a.dll", "debug_id": format!("{DEBUG_ID}-1"),
               "image_addr": "0x70850000", "image_size": "1331200"}),
        json!({"type": "sourcemap", "code_file": "app.js", "debug_id": DEBUG_ID}),
        json!({"no_type": true}),
        // Native images that lack a required field or have a bad one.
        json!({"type": "elf", "code_file": "/lib/a.so", "image_addr": "0x0", "image_size": 1}),
        json!({"type": "elf", "code_file": "/lib/a.so", "debug_id": DEBUG_ID,
               "image_addr": "0xnope", "image_size": 1}),
        json!({"type": "macho", "code_file": "/lib/a.so", "debug_id": DEBUG_ID,
               "image_addr": -1, "image_size": 1}),
    ] {
        let image = read_image(json.clone());
        assert!(matches!(image, DebugImage::Other(_)), "{image:?}");
        assert_eq!(serde_json::to_value(&image).unwrap(), json);
    }
}

#[test]
fn an_event_without_images_has_no_debug_meta() {
    let event = Event {
        event_id: EVENT_ID.parse().unwrap(),
        timestamp: fixed_time(),
        ..Default::default()
    };
    assert!(event.debug_meta.is_empty());
    let json = serde_json::to_value(&event).unwrap();
    assert!(json.get("debug_meta").is_none(), "{json}");

    for debug_meta in [json!({}), json!({"images": []})] {
        let read: Event = serde_json::from_value(json!({
            "event_id": EVENT_ID,
            "timestamp": 1_714_564_800,
            "debug_meta": debug_meta,
        }))
        .unwrap();
        assert_eq!(read, event);
    }
}

#[test]
fn an_event_with_images_round_trips() {
    let event = Event {
        timestamp: fixed_time(),
        debug_meta: DebugMeta {
            images: vec![
                DebugImage::Elf(NativeDebugImage {
                    code_file: "/lib/x86_64-linux-gnu/libc.so.6".into(),
                    code_id: Some(BUILD_ID.into()),
                    debug_id: Uuid::from_u128(7),
                    image_addr: 0x7f00_0000_0000,
                    image_size: 0x1000,
                    image_vmaddr: Some(0),
                    ..Default::default()
                }),
                DebugImage::Other(
                    [
                        ("type".to_owned(), json!("wasm")),
                        ("x".to_owned(), json!(1)),
                    ]
                    .into(),
                ),
            ],
        },
        ..Default::default()
    };
    let bytes = vigil_protocol::Envelope::from_event(event.clone())
        .to_vec()
        .unwrap();
    let back = vigil_protocol::Envelope::from_slice(&bytes).unwrap();
    assert_eq!(back.event(), Some(&event));
}
