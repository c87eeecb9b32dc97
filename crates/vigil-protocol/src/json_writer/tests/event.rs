//! The event writer against `serde_json` and the derived `Serialize`
//! impls: events with every field present or absent, exceptions and
//! threads with stack traces, breadcrumbs with and without cached JSON.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use proptest::prelude::*;
use serde_json::Value;
use smol_str::SmolStr;

use super::{
    Floats, context, json, json_map, opt_text, request, same_json, sdk, string_map, text, time,
    user,
};
use crate::breadcrumb::Breadcrumb;
use crate::breadcrumb_list::Breadcrumbs;
use crate::context::{Context, OsContext, TraceContext};
use crate::debug_meta::{DebugImage, DebugMeta, NativeDebugImage, hex_addr};
use crate::event::{Event, LogEntry, Values};
use crate::exception::{Exception, Frame, Mechanism, Stacktrace, Thread};
use crate::json_writer::write_event;
use crate::level::Level;
use crate::request::Request;
use crate::sdk::ClientSdkInfo;
use crate::trace::span_id::SpanId;
use crate::trace::trace_id::TraceId;
use crate::user::User;

/// The fast writer's bytes for `event`.
fn written(event: &Event) -> Vec<u8> {
    let mut out = Vec::new();
    write_event(event, &mut out).unwrap();
    out
}

/// Any level.
fn level() -> impl Strategy<Value = Level> {
    prop::sample::select(
        &[
            Level::Debug,
            Level::Info,
            Level::Warning,
            Level::Error,
            Level::Fatal,
        ][..],
    )
}

/// A flag, or none.
fn opt_bool() -> impl Strategy<Value = Option<bool>> {
    prop::option::of(any::<bool>())
}

/// A number of any size, or none.
fn opt_number() -> impl Strategy<Value = Option<u64>> {
    prop::option::of(any::<u64>())
}

/// A stack frame with each field present or absent.
fn frame() -> impl Strategy<Value = Frame> {
    (
        (opt_text(), opt_text(), opt_text(), opt_text(), opt_text()),
        (
            opt_number(),
            opt_number(),
            opt_bool(),
            opt_text(),
            opt_text(),
        ),
    )
        .prop_map(
            |(
                (function, raw_function, module, filename, abs_path),
                (lineno, colno, in_app, instruction_addr, symbol_addr),
            )| Frame {
                function,
                raw_function,
                module,
                filename,
                abs_path,
                lineno,
                colno,
                in_app,
                instruction_addr,
                symbol_addr,
            },
        )
}

/// A stack trace of up to 3 frames, or none.
fn stacktrace() -> impl Strategy<Value = Option<Stacktrace>> {
    prop::option::of(prop::collection::vec(frame(), 0..4).prop_map(|frames| Stacktrace { frames }))
}

/// A mechanism with each optional field present or absent, or none.
fn mechanism() -> impl Strategy<Value = Option<Mechanism>> {
    prop::option::of(
        (
            (text(), opt_bool(), opt_text(), opt_text(), opt_bool()),
            (
                opt_number(),
                opt_number(),
                opt_text(),
                json_map(Floats::Allowed),
            ),
        )
            .prop_map(
                |(
                    (ty, handled, description, help_link, synthetic),
                    (exception_id, parent_id, source, data),
                )| Mechanism {
                    ty,
                    handled,
                    description,
                    help_link,
                    synthetic,
                    exception_id,
                    parent_id,
                    source,
                    data: data.into_iter().collect(),
                },
            ),
    )
}

/// An exception with each field present or absent.
fn exception() -> impl Strategy<Value = Exception> {
    (
        (opt_text(), opt_text(), opt_text()),
        (
            stacktrace(),
            mechanism(),
            prop::option::of(json(Floats::Allowed)),
        ),
    )
        .prop_map(
            |((ty, value, module), (stacktrace, mechanism, thread_id))| Exception {
                ty: ty.unwrap_or_default(),
                value,
                module,
                stacktrace,
                mechanism,
                thread_id,
            },
        )
}

/// A thread with each field present or absent.
fn thread() -> impl Strategy<Value = Thread> {
    (
        prop::option::of(json(Floats::Allowed)),
        opt_text(),
        (opt_bool(), opt_bool(), opt_bool()),
        stacktrace(),
    )
        .prop_map(|(id, name, (crashed, current, main), stacktrace)| Thread {
            id,
            name,
            crashed,
            current,
            main,
            stacktrace,
        })
}

/// A breadcrumb with each optional field present or absent, its type a
/// literal or an owned text.
fn breadcrumb() -> impl Strategy<Value = Breadcrumb> {
    let ty = prop_oneof![
        Just(SmolStr::new_static("default")),
        text().prop_map(SmolStr::from)
    ];
    (
        (time(), ty, prop::option::of(text().prop_map(Cow::Owned))),
        (opt_text(), json_map(Floats::Allowed), level()),
        prop::option::of(any::<u128>()),
    )
        .prop_map(
            |((timestamp, ty, category), (message, data, level), event_id)| Breadcrumb {
                timestamp,
                ty,
                category,
                message,
                data: data.into_iter().collect(),
                level,
                event_id: event_id.map(|id| uuid::Uuid::from_u128(id).into()),
            },
        )
}

/// A log entry with each field present or absent, or none.
fn logentry() -> impl Strategy<Value = Option<LogEntry>> {
    prop::option::of(
        (
            opt_text(),
            opt_text(),
            prop::collection::vec(json(Floats::Allowed), 0..3),
        )
            .prop_map(|(message, formatted, params)| LogEntry {
                message,
                formatted,
                params,
            }),
    )
}

/// A native image with each optional field present or absent, addresses
/// and sizes from zero to `u64::MAX`.
fn native_image() -> impl Strategy<Value = NativeDebugImage> {
    (
        (text(), opt_text(), any::<u128>(), opt_text(), opt_text()),
        (any::<u64>(), any::<u64>(), prop::option::of(any::<u64>())),
    )
        .prop_map(
            |(
                (code_file, code_id, debug_id, debug_file, arch),
                (image_addr, image_size, image_vmaddr),
            )| NativeDebugImage {
                code_file,
                code_id,
                debug_id: uuid::Uuid::from_u128(debug_id),
                debug_file,
                arch,
                image_addr,
                image_size,
                image_vmaddr,
            },
        )
}

/// `debug_meta` with up to 3 images of each kind (none, usually).
fn debug_meta() -> impl Strategy<Value = DebugMeta> {
    let image = prop_oneof![
        native_image().prop_map(DebugImage::Elf),
        native_image().prop_map(DebugImage::MachO),
        (text(), json_map(Floats::Allowed)).prop_map(|(ty, mut fields)| {
            fields.insert("type".into(), Value::from(ty));
            DebugImage::Other(fields)
        }),
    ];
    prop::collection::vec(image, 0..4).prop_map(|images| DebugMeta { images })
}

/// An event with each optional field present or absent.
fn event() -> impl Strategy<Value = Event> {
    (
        (
            any::<u128>(),
            level(),
            prop::collection::vec(text(), 0..3),
            (opt_text(), opt_text(), logentry(), opt_text()),
            string_map(),
            text(),
            time(),
        ),
        (opt_text(), opt_text(), opt_text(), opt_text()),
        (user(Floats::Allowed), request(Floats::Allowed), sdk()),
        (
            prop::collection::btree_map(text(), context(Floats::Allowed), 0..3),
            prop::collection::vec(breadcrumb(), 0..4),
            prop::collection::vec(exception(), 0..3),
            prop::collection::vec(thread(), 0..3),
            debug_meta(),
        ),
        (
            prop::collection::btree_map(text(), text(), 0..4),
            prop::collection::btree_map(text(), json(Floats::Allowed), 0..3),
        ),
    )
        .prop_map(
            |(
                (
                    id,
                    level,
                    fingerprint,
                    (transaction, message, logentry, logger),
                    modules,
                    platform,
                    timestamp,
                ),
                (server_name, release, dist, environment),
                (user, request, sdk),
                (contexts, breadcrumbs, exception, threads, debug_meta),
                (tags, extra),
            )| Event {
                event_id: uuid::Uuid::from_u128(id).into(),
                level,
                fingerprint,
                transaction,
                message,
                logentry,
                logger,
                modules,
                platform,
                timestamp,
                server_name,
                release,
                dist,
                environment,
                user,
                request,
                contexts,
                breadcrumbs: breadcrumbs.into(),
                exception: exception.into(),
                threads: threads.into(),
                debug_meta,
                tags: tags
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
                extra,
                sdk,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn events_are_written_as_serde_json_writes_them(event in event()) {
        // Written first by hand, so that the breadcrumbs' JSON is cached
        // by the hand-written path and then reused by `serde_json`; then
        // once more from the cache.
        let fast = written(&event);
        same_json(&fast, &serde_json::to_vec(&event).unwrap())?;
        same_json(&written(&event), &fast)?;
    }

    #[test]
    fn addresses_are_written_as_rust_formats_them(addr in any::<u64>()) {
        let (digits, len) = hex_addr(addr);
        let expected = format!("{addr:#x}");
        prop_assert_eq!(&digits[..len], expected.as_bytes());
    }
}

#[test]
fn a_default_event_is_written_as_serde_json_writes_it() {
    let event = Event::default();
    assert_eq!(written(&event), serde_json::to_vec(&event).unwrap());
}

#[test]
fn an_event_with_every_field_is_written_as_serde_json_writes_it() {
    let frame = Frame {
        function: Some("app::main".into()),
        raw_function: Some("_ZN3app4main17h0123456789abcdefE".into()),
        module: Some("app".into()),
        filename: Some("src/main.rs".into()),
        abs_path: Some("/src/app/src/main.rs".into()),
        lineno: Some(42),
        colno: Some(7),
        in_app: Some(true),
        instruction_addr: Some("0x1000".into()),
        symbol_addr: Some("0xff0".into()),
    };
    let stacktrace = Stacktrace {
        frames: vec![frame.clone(), Frame::default(), frame],
    };
    let mut tags = BTreeMap::new();
    tags.insert("region".into(), "eu \"west\"".into());
    let event = Event {
        level: Level::Fatal,
        fingerprint: vec!["{{ default }}".into(), "db\n".into()],
        transaction: Some("GET /orders/{id}".into()),
        message: Some("disk full: \u{1}".into()),
        logentry: Some(LogEntry {
            message: Some("user %s logged in".into()),
            formatted: Some("user ann logged in".into()),
            params: vec![Value::from("ann"), Value::from(1.5), Value::Null],
        }),
        logger: Some("app::db".into()),
        modules: [("serde".to_owned(), "1.0".to_owned())].into(),
        platform: "native".into(),
        timestamp: UNIX_EPOCH + Duration::from_micros(1_714_564_800_123_456),
        server_name: Some("host-1".into()),
        release: Some("app@1.2.3".into()),
        dist: Some("x86_64".into()),
        environment: Some("production".into()),
        user: Some(User {
            id: Some("42".into()),
            email: Some("ann@example.com".into()),
            ..Default::default()
        }),
        request: Some(Request {
            url: Some("https://example.com/orders/7?x=1".into()),
            method: Some("GET".into()),
            headers: [("accept".to_owned(), "*/*".to_owned())].into(),
            ..Default::default()
        }),
        contexts: [
            (
                "trace".to_owned(),
                Context::from(TraceContext {
                    trace_id: TraceId::from_bytes([7; 16]).unwrap(),
                    span_id: SpanId::from_bytes([9; 8]).unwrap(),
                    ..Default::default()
                }),
            ),
            (
                "os".to_owned(),
                Context::from(OsContext {
                    name: Some("Linux".into()),
                    ..Default::default()
                }),
            ),
        ]
        .into(),
        breadcrumbs: Breadcrumbs::from(vec![
            Breadcrumb::message("first"),
            Breadcrumb {
                category: Some("db".into()),
                data: [("rows".to_owned(), Value::from(3))].into(),
                level: Level::Warning,
                event_id: Some(crate::event::EventId::new()),
                ..Breadcrumb::message("second")
            },
        ]),
        exception: Values::from(vec![
            Exception {
                ty: "io::Error".into(),
                value: Some("not found".into()),
                ..Default::default()
            },
            Exception {
                ty: "app::Error".into(),
                value: Some("could not load".into()),
                module: Some("app".into()),
                stacktrace: Some(stacktrace.clone()),
                mechanism: Some(Mechanism {
                    ty: "panic".into(),
                    handled: Some(false),
                    description: Some("a panic".into()),
                    help_link: Some("https://example.com".into()),
                    synthetic: Some(true),
                    exception_id: Some(1),
                    parent_id: Some(0),
                    source: Some("source".into()),
                    data: [("code".to_owned(), Value::from(-1))].into(),
                }),
                thread_id: Some(Value::from(1)),
            },
        ]),
        threads: Values::from(vec![Thread {
            id: Some(Value::from(1)),
            name: Some("main".into()),
            crashed: Some(true),
            current: Some(true),
            main: Some(true),
            stacktrace: Some(stacktrace),
        }]),
        debug_meta: DebugMeta {
            images: vec![
                DebugImage::Elf(NativeDebugImage {
                    code_file: "/usr/lib/libssl.so.3".into(),
                    code_id: Some("68220ae2c65d65c1b6aaa12fa6765a6ec2f5f434".into()),
                    debug_id: "e20a2268-5dc6-c165-b6aa-a12fa6765a6e".parse().unwrap(),
                    debug_file: Some("libssl.so.3.debug".into()),
                    arch: Some("x86_64".into()),
                    image_addr: 0x7f51_4052_7000,
                    image_size: 90112,
                    image_vmaddr: Some(0),
                }),
                DebugImage::MachO(NativeDebugImage {
                    code_file: "/usr/lib/libz.dylib".into(),
                    image_addr: u64::MAX,
                    ..Default::default()
                }),
                DebugImage::Other(
                    [
                        ("type".to_owned(), Value::from("sourcemap")),
                        ("code_file".to_owned(), Value::from("app.js")),
                    ]
                    .into(),
                ),
            ],
        },
        tags,
        extra: [("attempt".to_owned(), Value::from(2.5e-8))].into(),
        sdk: Some(ClientSdkInfo {
            name: "vigil".into(),
            version: "0.1.0".into(),
            integrations: vec!["panic".into()],
            packages: Vec::new(),
        }),
        ..Default::default()
    };
    let serde = serde_json::to_vec(&event).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&written(&event)),
        String::from_utf8_lossy(&serde)
    );
    // Every field is there.
    let fields = serde_json::from_slice::<serde_json::Map<String, Value>>(&serde).unwrap();
    assert_eq!(fields.len(), 24);
}
