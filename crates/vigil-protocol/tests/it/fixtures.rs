//! Events and items shared by the tests.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use vigil_protocol::{
    AppContext, Breadcrumb, Breadcrumbs, ClientReport, ClientSdkInfo, ClientSdkPackage, Context,
    DataCategory, DebugImage, DebugMeta, DeviceContext, DiscardReason, DiscardedEvent, Event,
    Exception, Frame, Geo, Level, Map, Mechanism, NativeDebugImage, OsContext, Request,
    RuntimeContext, SessionAttributes, SessionStatus, SessionUpdate, SpanStatus, Stacktrace,
    Thread, TraceContext, User, Value, Values,
};

/// 2024-05-01T12:00:00Z: whole seconds survive the float round trip.
pub(crate) fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_564_800)
}

/// Now, rounded down to whole seconds (Relay rejects old timestamps).
pub(crate) fn now_seconds() -> SystemTime {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    UNIX_EPOCH + Duration::from_secs(secs)
}

pub(crate) const EVENT_ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";
pub(crate) const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub(crate) const SPAN_ID: &str = "00f067aa0ba902b7";
/// A GNU build id and the debug id derived from it (the example of Relay's
/// `NativeDebugImage` docs).
pub(crate) const BUILD_ID: &str = "68220ae2c65d65c1b6aaa12fa6765a6ec2f5f434";
pub(crate) const DEBUG_ID: &str = "e20a2268-5dc6-c165-b6aa-a12fa6765a6e";

pub(crate) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        other => panic!("not an object: {other}"),
    }
}

/// An event with every interface Vigil models filled in.
pub(crate) fn full_event(timestamp: SystemTime) -> Event {
    let frames = vec![
        Frame {
            function: Some("main".into()),
            filename: Some("src/main.rs".into()),
            abs_path: Some("/app/src/main.rs".into()),
            lineno: Some(10),
            colno: Some(5),
            in_app: Some(true),
            ..Default::default()
        },
        Frame {
            function: Some("app::db::connect".into()),
            raw_function: Some("_ZN3app2db7connect17h0123456789abcdefE".into()),
            module: Some("app::db".into()),
            filename: Some("src/db.rs".into()),
            lineno: Some(42),
            in_app: Some(true),
            instruction_addr: Some("0x55d0c0ffee00".into()),
            symbol_addr: Some("0x55d0c0ffe000".into()),
            ..Default::default()
        },
    ];
    Event {
        event_id: EVENT_ID.parse().unwrap(),
        level: Level::Warning,
        fingerprint: vec!["{{ default }}".into(), "db".into()],
        transaction: Some("/users/{id}".into()),
        message: Some("connection lost".into()),
        logentry: None,
        logger: Some("app::db".into()),
        modules: BTreeMap::from([("serde".into(), "1.0.200".into())]),
        platform: "native".into(),
        timestamp,
        server_name: Some("web-1".into()),
        release: Some("app@1.2.3".into()),
        dist: Some("42".into()),
        environment: Some("staging".into()),
        user: Some(User {
            id: Some("42".into()),
            email: Some("jane@example.com".into()),
            ip_address: Some("{{auto}}".into()),
            username: Some("jane".into()),
            geo: Some(Geo {
                city: Some("Berlin".into()),
                country_code: Some("DE".into()),
                region: Some("Berlin".into()),
            }),
            data: BTreeMap::from([("plan".into(), json!("pro"))]),
            other: BTreeMap::from([("team".into(), json!("payments"))]),
        }),
        request: Some(Request {
            url: Some("https://example.com/users/42".into()),
            method: Some("POST".into()),
            // A string body: `sentry-types` models `data` as a string only
            // (Relay takes any JSON; see `json_shapes::request_shapes`).
            data: Some(json!("name=jane")),
            query_string: Some("page=2&sort=asc".into()),
            cookies: Some("session=abc".into()),
            headers: BTreeMap::from([("Content-Type".into(), "application/json".into())]),
            env: BTreeMap::from([("REMOTE_ADDR".into(), "203.0.113.9".into())]),
        }),
        contexts: BTreeMap::from([
            (
                "os".into(),
                Context::from(OsContext {
                    name: Some("Linux".into()),
                    version: Some("6.1".into()),
                    kernel_version: Some("6.1.0-18-amd64".into()),
                    ..Default::default()
                }),
            ),
            (
                "runtime".into(),
                Context::from(RuntimeContext {
                    name: Some("rustc".into()),
                    version: Some("1.85.0".into()),
                    other: object(json!({"channel": "stable"})),
                    ..Default::default()
                }),
            ),
            (
                "device".into(),
                Context::from(DeviceContext {
                    arch: Some("x86_64".into()),
                    processor_count: Some(8),
                    memory_size: Some(16 << 30),
                    boot_time: Some(timestamp - Duration::from_secs(3600)),
                    ..Default::default()
                }),
            ),
            (
                "app".into(),
                Context::from(AppContext {
                    app_name: Some("app".into()),
                    app_version: Some("1.2.3".into()),
                    app_start_time: Some(timestamp - Duration::from_secs(60)),
                    ..Default::default()
                }),
            ),
            (
                "trace".into(),
                Context::from(TraceContext {
                    trace_id: TRACE_ID.parse().unwrap(),
                    span_id: SPAN_ID.parse().unwrap(),
                    op: Some("db.query".into()),
                    status: Some(SpanStatus::InternalError),
                    ..Default::default()
                }),
            ),
            (
                "queue".into(),
                Context::Other(object(json!({"name": "jobs", "depth": 3}))),
            ),
        ]),
        breadcrumbs: Breadcrumbs::from(vec![
            Breadcrumb {
                timestamp,
                ty: "http".into(),
                category: Some("http".into()),
                message: Some("GET https://example.com/health".into()),
                data: BTreeMap::from([("status_code".into(), json!(200))]),
                level: Level::Info,
                event_id: None,
            },
            Breadcrumb {
                timestamp,
                category: Some("db".into()),
                message: Some("retrying".into()),
                level: Level::Warning,
                ..Default::default()
            },
        ]),
        exception: Values::from(vec![
            Exception {
                ty: "std::io::Error".into(),
                value: Some("broken pipe".into()),
                module: Some("std::io".into()),
                mechanism: Some(Mechanism {
                    ty: "chained".into(),
                    source: Some("source".into()),
                    exception_id: Some(1),
                    parent_id: Some(0),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Exception {
                ty: "app::DbError".into(),
                value: Some("connection lost".into()),
                stacktrace: Some(Stacktrace { frames }),
                mechanism: Some(Mechanism {
                    ty: "generic".into(),
                    handled: Some(true),
                    exception_id: Some(0),
                    data: BTreeMap::from([("retries".into(), json!(2))]),
                    ..Default::default()
                }),
                thread_id: Some(json!(1)),
                ..Default::default()
            },
        ]),
        threads: Values::from(vec![Thread {
            id: Some(json!(1)),
            name: Some("main".into()),
            crashed: Some(false),
            current: Some(true),
            main: Some(true),
            stacktrace: None,
        }]),
        debug_meta: DebugMeta {
            images: vec![DebugImage::Elf(NativeDebugImage {
                code_file: "/app/bin/app".into(),
                code_id: Some(BUILD_ID.into()),
                debug_id: DEBUG_ID.parse().unwrap(),
                arch: Some("x86_64".into()),
                // Holds the frame at 0x55d0c0ffee00.
                image_addr: 0x55d0_c0f0_0000,
                image_size: 0x20_0000,
                image_vmaddr: Some(0),
                ..Default::default()
            })],
        },
        tags: BTreeMap::from([
            ("component".into(), "db".into()),
            ("region".into(), "eu-1".into()),
        ]),
        extra: BTreeMap::from([
            ("attempt".into(), json!(3)),
            ("payload".into(), json!({"ids": [1, 2], "ok": false})),
        ]),
        sdk: Some(ClientSdkInfo {
            name: "vigil.rust".into(),
            version: "0.1.0".into(),
            integrations: vec!["panic".into()],
            packages: vec![ClientSdkPackage {
                name: "cargo:vigil".into(),
                version: "0.1.0".into(),
            }],
        }),
    }
}

/// `full_event(fixed_time())` as JSON.
pub(crate) fn full_event_json() -> Value {
    json!({
        "event_id": EVENT_ID,
        "level": "warning",
        "fingerprint": ["{{ default }}", "db"],
        "transaction": "/users/{id}",
        "message": "connection lost",
        "logger": "app::db",
        "modules": {"serde": "1.0.200"},
        "platform": "native",
        "timestamp": 1_714_564_800.0,
        "server_name": "web-1",
        "release": "app@1.2.3",
        "dist": "42",
        "environment": "staging",
        "user": {
            "id": "42",
            "email": "jane@example.com",
            "ip_address": "{{auto}}",
            "username": "jane",
            "geo": {"city": "Berlin", "country_code": "DE", "region": "Berlin"},
            "data": {"plan": "pro"},
            "team": "payments"
        },
        "request": {
            "url": "https://example.com/users/42",
            "method": "POST",
            "data": "name=jane",
            "query_string": "page=2&sort=asc",
            "cookies": "session=abc",
            "headers": {"Content-Type": "application/json"},
            "env": {"REMOTE_ADDR": "203.0.113.9"}
        },
        "contexts": {
            "os": {"type": "os", "name": "Linux", "version": "6.1", "kernel_version": "6.1.0-18-amd64"},
            "runtime": {"type": "runtime", "name": "rustc", "version": "1.85.0", "channel": "stable"},
            "device": {
                "type": "device",
                "arch": "x86_64",
                "processor_count": 8,
                "memory_size": 17_179_869_184_u64,
                "boot_time": "2024-05-01T11:00:00.000000Z"
            },
            "app": {
                "type": "app",
                "app_name": "app",
                "app_version": "1.2.3",
                "app_start_time": "2024-05-01T11:59:00.000000Z"
            },
            "trace": {
                "type": "trace",
                "trace_id": TRACE_ID,
                "span_id": SPAN_ID,
                "op": "db.query",
                "status": "internal_error"
            },
            "queue": {"name": "jobs", "depth": 3}
        },
        "breadcrumbs": {"values": [
            {
                "timestamp": 1_714_564_800.0,
                "type": "http",
                "category": "http",
                "message": "GET https://example.com/health",
                "data": {"status_code": 200},
                "level": "info"
            },
            {
                "timestamp": 1_714_564_800.0,
                "type": "default",
                "category": "db",
                "message": "retrying",
                "level": "warning"
            }
        ]},
        "exception": {"values": [
            {
                "type": "std::io::Error",
                "value": "broken pipe",
                "module": "std::io",
                "mechanism": {"type": "chained", "source": "source", "exception_id": 1, "parent_id": 0}
            },
            {
                "type": "app::DbError",
                "value": "connection lost",
                "stacktrace": {"frames": [
                    {
                        "function": "main",
                        "filename": "src/main.rs",
                        "abs_path": "/app/src/main.rs",
                        "lineno": 10,
                        "colno": 5,
                        "in_app": true
                    },
                    {
                        "function": "app::db::connect",
                        "raw_function": "_ZN3app2db7connect17h0123456789abcdefE",
                        "module": "app::db",
                        "filename": "src/db.rs",
                        "lineno": 42,
                        "in_app": true,
                        "instruction_addr": "0x55d0c0ffee00",
                        "symbol_addr": "0x55d0c0ffe000"
                    }
                ]},
                "mechanism": {"type": "generic", "handled": true, "exception_id": 0, "data": {"retries": 2}},
                "thread_id": 1
            }
        ]},
        "threads": {"values": [
            {"id": 1, "name": "main", "crashed": false, "current": true, "main": true}
        ]},
        "debug_meta": {"images": [{
            "type": "elf",
            "code_file": "/app/bin/app",
            "code_id": BUILD_ID,
            "debug_id": DEBUG_ID,
            "arch": "x86_64",
            "image_addr": "0x55d0c0f00000",
            "image_size": 2_097_152,
            "image_vmaddr": "0x0"
        }]},
        "tags": {"component": "db", "region": "eu-1"},
        "extra": {"attempt": 3, "payload": {"ids": [1, 2], "ok": false}},
        "sdk": {
            "name": "vigil.rust",
            "version": "0.1.0",
            "integrations": ["panic"],
            "packages": [{"name": "cargo:vigil", "version": "0.1.0"}]
        }
    })
}

pub(crate) fn client_report(timestamp: SystemTime) -> ClientReport {
    ClientReport::new(
        timestamp,
        vec![
            DiscardedEvent::new(DiscardReason::QueueOverflow, DataCategory::Error, 3),
            DiscardedEvent::new(
                DiscardReason::RatelimitBackoff,
                DataCategory::Attachment,
                1024,
            ),
        ],
    )
}

pub(crate) fn session_update(started: SystemTime) -> SessionUpdate {
    // Both types are `#[non_exhaustive]`: built with their constructors.
    let mut attrs = SessionAttributes::new("app@1.2.3");
    attrs.environment = Some("production".into());
    let session_id = "2d0f3c1e6a4b4f6e9a3b8c7d6e5f4a3b".parse().unwrap();
    let mut session = SessionUpdate::new(session_id, started, attrs);
    session.distinct_id = Some("user-42".into());
    session.sequence = Some(2);
    session.timestamp = Some(started + Duration::from_secs(90));
    session.init = true;
    session.duration = Some(90.5);
    session.status = SessionStatus::Exited;
    session.errors = 1;
    session
}
