//! Every wire type serializes to exactly the JSON Sentry expects.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use vigil_protocol::{
    Breadcrumb, ClientReport, Context, DataCategory, DeviceContext, DiscardReason, Event, EventId,
    Geo, Level, LogEntry, OsContext, ParseEventIdError, ParseLevelError, Request, RuntimeContext,
    SessionStatus, SessionUpdate, SpanStatus, TraceContext, User,
};

use crate::fixtures::{
    EVENT_ID, SPAN_ID, TRACE_ID, client_report, fixed_time, full_event, full_event_json, object,
    session_update,
};

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[test]
fn minimal_event() {
    let event = Event {
        event_id: EVENT_ID.parse().unwrap(),
        timestamp: fixed_time(),
        ..Default::default()
    };
    assert_eq!(
        to_json(&event),
        json!({
            "event_id": EVENT_ID,
            "level": "error",
            "platform": "native",
            "timestamp": 1_714_564_800.0
        })
    );
}

#[test]
fn fully_populated_event() {
    assert_eq!(to_json(&full_event(fixed_time())), full_event_json());
}

#[test]
fn event_round_trips_through_json() {
    let event = full_event(fixed_time());
    let back: Event = serde_json::from_value(to_json(&event)).unwrap();
    assert_eq!(back, event);
}

#[test]
fn event_defaults_when_reading() {
    let event: Event =
        serde_json::from_value(json!({"event_id": EVENT_ID, "timestamp": "2024-05-01T12:00:00Z"}))
            .unwrap();
    assert_eq!(event.level, Level::Error);
    assert_eq!(event.platform, "native");
    assert_eq!(event.timestamp, fixed_time());
    assert_eq!(event.event_id.to_string(), EVENT_ID);
}

#[test]
fn event_with_logentry() {
    let event = Event {
        event_id: EVENT_ID.parse().unwrap(),
        timestamp: fixed_time(),
        logentry: Some(LogEntry {
            message: Some("user %s logged in".into()),
            formatted: Some("user jane logged in".into()),
            params: vec![json!("jane")],
        }),
        ..Default::default()
    };
    assert_eq!(
        to_json(&event)["logentry"],
        json!({
            "message": "user %s logged in",
            "formatted": "user jane logged in",
            "params": ["jane"]
        })
    );
    assert_eq!(event.message_text(), Some("user jane logged in"));
}

#[test]
fn breadcrumb_default_and_full() {
    let crumb = Breadcrumb {
        timestamp: fixed_time(),
        ..Default::default()
    };
    assert_eq!(
        to_json(&crumb),
        json!({"timestamp": 1_714_564_800.0, "type": "default", "level": "info"})
    );
    let crumb = Breadcrumb {
        timestamp: fixed_time(),
        ty: "navigation".into(),
        category: Some("ui.route".into()),
        message: Some("to /settings".into()),
        data: BTreeMap::from([
            ("from".into(), json!("/")),
            ("to".into(), json!("/settings")),
        ]),
        level: Level::Debug,
        event_id: Some(EVENT_ID.parse().unwrap()),
    };
    let expected = json!({
        "timestamp": 1_714_564_800.0,
        "type": "navigation",
        "category": "ui.route",
        "message": "to /settings",
        "data": {"from": "/", "to": "/settings"},
        "level": "debug",
        "event_id": EVENT_ID
    });
    assert_eq!(to_json(&crumb), expected);
    assert_eq!(
        serde_json::from_value::<Breadcrumb>(expected).unwrap(),
        crumb
    );
}

#[test]
fn breadcrumb_reads_rfc3339_timestamps() {
    let crumb: Breadcrumb =
        serde_json::from_value(json!({"timestamp": "2024-05-01T12:00:00Z"})).unwrap();
    assert_eq!(crumb.timestamp, fixed_time());
    assert_eq!(crumb.ty, "default");
    assert_eq!(crumb.level, Level::Info);
}

#[test]
fn user_shapes() {
    assert_eq!(to_json(&User::default()), json!({}));
    let user = User {
        id: Some("1".into()),
        email: Some("a@example.com".into()),
        ip_address: Some("::1".into()),
        username: Some("a".into()),
        geo: Some(Geo {
            city: Some("Lyon".into()),
            country_code: Some("FR".into()),
            region: None,
        }),
        data: BTreeMap::from([("tier".into(), json!(2))]),
        other: BTreeMap::from([("team".into(), json!("core"))]),
    };
    let expected = json!({
        "id": "1",
        "email": "a@example.com",
        "ip_address": "::1",
        "username": "a",
        "geo": {"city": "Lyon", "country_code": "FR"},
        "data": {"tier": 2},
        "team": "core"
    });
    assert_eq!(to_json(&user), expected);
    assert_eq!(serde_json::from_value::<User>(expected).unwrap(), user);
}

#[test]
fn request_shapes() {
    assert_eq!(to_json(&Request::default()), json!({}));
    let request = Request {
        url: Some("https://example.com/api".into()),
        method: Some("PUT".into()),
        data: Some(json!({"items": [1, 2], "note": null})),
        ..Default::default()
    };
    let expected = json!({
        "url": "https://example.com/api",
        "method": "PUT",
        "data": {"items": [1, 2], "note": null}
    });
    assert_eq!(to_json(&request), expected);
    assert_eq!(
        serde_json::from_value::<Request>(expected).unwrap(),
        request
    );
}

#[test]
fn typed_contexts_serialize_their_type() {
    let cases = [
        (
            Context::from(OsContext {
                name: Some("Linux".into()),
                raw_description: Some("Linux 6.1".into()),
                ..Default::default()
            }),
            json!({"type": "os", "name": "Linux", "raw_description": "Linux 6.1"}),
        ),
        (
            Context::from(RuntimeContext {
                name: Some("rustc".into()),
                ..Default::default()
            }),
            json!({"type": "runtime", "name": "rustc"}),
        ),
        (
            Context::from(DeviceContext {
                free_memory: Some(1),
                ..Default::default()
            }),
            json!({"type": "device", "free_memory": 1}),
        ),
        (
            Context::from(vigil_protocol::AppContext {
                app_build: Some("7".into()),
                ..Default::default()
            }),
            json!({"type": "app", "app_build": "7"}),
        ),
        (
            Context::from(TraceContext {
                trace_id: TRACE_ID.parse().unwrap(),
                span_id: SPAN_ID.parse().unwrap(),
                parent_span_id: Some("b7ad6b7169203331".parse().unwrap()),
                ..Default::default()
            }),
            json!({
                "type": "trace",
                "trace_id": TRACE_ID,
                "span_id": SPAN_ID,
                "parent_span_id": "b7ad6b7169203331"
            }),
        ),
    ];
    for (context, expected) in cases {
        assert_eq!(to_json(&context), expected);
        assert_eq!(
            serde_json::from_value::<Context>(expected).unwrap(),
            context
        );
    }
}

#[test]
fn other_contexts_round_trip_unchanged() {
    for value in [
        json!({"name": "jobs", "depth": 3}),
        json!({"type": "gpu", "name": "Radeon", "memory_size": 8}),
        json!({}),
        // A known type with fields of the wrong type stays a free object.
        json!({"type": "os", "name": 5}),
    ] {
        let context: Context = serde_json::from_value(value.clone()).unwrap();
        assert!(matches!(context, Context::Other(_)), "{context:?}");
        assert_eq!(to_json(&context), value);
    }
    let context = Context::from(object(json!({"a": [1, {"b": null}]})));
    assert_eq!(to_json(&context), json!({"a": [1, {"b": null}]}));
}

#[test]
fn typed_context_keeps_unknown_fields() {
    let value = json!({"type": "os", "name": "Linux", "distribution_name": "debian"});
    let context: Context = serde_json::from_value(value.clone()).unwrap();
    let Context::Os(os) = &context else {
        panic!("{context:?}")
    };
    assert_eq!(os.other["distribution_name"], "debian");
    assert_eq!(to_json(&context), value);
}

#[test]
fn client_report_shape() {
    let report = client_report(fixed_time());
    let expected = json!({
        "timestamp": 1_714_564_800.0,
        "discarded_events": [
            {"reason": "queue_overflow", "category": "error", "quantity": 3},
            {"reason": "ratelimit_backoff", "category": "attachment", "quantity": 1024}
        ]
    });
    assert_eq!(to_json(&report), expected);
    assert_eq!(
        serde_json::from_value::<ClientReport>(expected).unwrap(),
        report
    );
}

#[test]
fn discard_reasons_and_categories_use_their_wire_names() {
    for reason in DiscardReason::ALL {
        assert_eq!(to_json(&reason), json!(reason.as_str()));
        assert_eq!(reason.to_string(), reason.as_str());
        assert_eq!(DiscardReason::ALL[reason.index()], reason);
    }
    for category in DataCategory::ALL {
        assert_eq!(to_json(&category), json!(category.as_str()));
        assert_eq!(DataCategory::from_name(category.as_str()), Some(category));
        assert_eq!(DataCategory::ALL[category.index()], category);
    }
    assert_eq!(DataCategory::from_name("nope"), None);
    assert_eq!(
        to_json(&DiscardReason::BufferOverflow),
        json!("buffer_overflow")
    );
}

#[test]
fn session_update_shape() {
    let session = session_update(fixed_time());
    let expected = json!({
        "sid": "2d0f3c1e6a4b4f6e9a3b8c7d6e5f4a3b",
        "did": "user-42",
        "seq": 2,
        "timestamp": "2024-05-01T12:01:30.000000Z",
        "started": "2024-05-01T12:00:00.000000Z",
        "init": true,
        "duration": 90.5,
        "status": "exited",
        "errors": 1,
        "attrs": {"release": "app@1.2.3", "environment": "production"}
    });
    assert_eq!(to_json(&session), expected);
    assert_eq!(
        serde_json::from_value::<SessionUpdate>(expected).unwrap(),
        session
    );
}

#[test]
fn session_status_names() {
    for (status, name) in [
        (SessionStatus::Ok, "ok"),
        (SessionStatus::Exited, "exited"),
        (SessionStatus::Crashed, "crashed"),
        (SessionStatus::Abnormal, "abnormal"),
    ] {
        assert_eq!(to_json(&status), json!(name));
    }
}

#[test]
fn event_id_is_32_lowercase_hex() {
    let id = EventId::new();
    let text = id.to_string();
    assert_eq!(text.len(), 32);
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    assert_eq!(to_json(&id), json!(text));
    assert_ne!(EventId::new(), id);
    assert!(EventId::nil().is_nil());
    assert_eq!(EventId::default(), EventId::nil());
    assert_eq!(EventId::nil().to_string(), "0".repeat(32));
    assert_eq!(format!("{id:?}"), format!("EventId({text})"));
}

#[test]
fn event_id_parses_dashed_and_undashed() {
    let expected: EventId = EVENT_ID.parse().unwrap();
    for text in [
        "9ec79c33ec9942ab8353589fcb2e04dc",
        "9EC79C33EC9942AB8353589FCB2E04DC",
        "9ec79c33-ec99-42ab-8353-589fcb2e04dc",
        "9EC79C33-EC99-42AB-8353-589FCB2E04DC",
    ] {
        assert_eq!(text.parse::<EventId>(), Ok(expected), "{text}");
        assert_eq!(
            serde_json::from_value::<EventId>(json!(text)).unwrap(),
            expected
        );
    }
    assert_eq!(expected.to_string(), EVENT_ID);
    let uuid = *expected.as_uuid();
    assert_eq!(EventId::from(uuid), expected);
    assert_eq!(uuid::Uuid::from(expected), uuid);
}

#[test]
fn event_id_rejects_everything_else() {
    for text in [
        "",
        "9ec79c33ec9942ab8353589fcb2e04d",
        "9ec79c33ec9942ab8353589fcb2e04dc0",
        "9ec79c33ec9942ab8353589fcb2e04dg",
        "{9ec79c33-ec99-42ab-8353-589fcb2e04dc}",
        "urn:uuid:9ec79c33-ec99-42ab-8353-589fcb2e04dc",
        "9ec79c33-ec9942ab-8353-589fcb2e04dc-",
        " 9ec79c33ec9942ab8353589fcb2e04dc",
    ] {
        let err: ParseEventIdError = text.parse::<EventId>().expect_err(text);
        assert!(err.to_string().contains("invalid event id"), "{err}");
        assert!(serde_json::from_value::<EventId>(json!(text)).is_err());
    }
    assert!(serde_json::from_value::<EventId>(json!(42)).is_err());
}

#[test]
fn level_names_and_order() {
    let levels = [
        (Level::Debug, "debug"),
        (Level::Info, "info"),
        (Level::Warning, "warning"),
        (Level::Error, "error"),
        (Level::Fatal, "fatal"),
    ];
    for (level, name) in levels {
        assert_eq!(to_json(&level), json!(name));
        assert_eq!(serde_json::from_value::<Level>(json!(name)).unwrap(), level);
        assert_eq!(level.as_str(), name);
        assert_eq!(level.to_string(), name);
        assert_eq!(name.parse::<Level>(), Ok(level));
    }
    assert!(Level::Debug < Level::Info && Level::Info < Level::Warning);
    assert!(Level::Warning < Level::Error && Level::Error < Level::Fatal);
    assert_eq!(Level::default(), Level::Info);
}

#[test]
fn level_parses_legacy_aliases_only_from_str() {
    assert_eq!("warn".parse::<Level>(), Ok(Level::Warning));
    assert_eq!("log".parse::<Level>(), Ok(Level::Info));
    assert_eq!("critical".parse::<Level>(), Ok(Level::Fatal));
    for text in ["Error", "", "warning "] {
        let err: ParseLevelError = text.parse::<Level>().expect_err(text);
        assert!(err.to_string().contains("unknown level"), "{err}");
    }
    assert!(serde_json::from_value::<Level>(json!("verbose")).is_err());
}

#[test]
fn trace_context_reads_like_relay() {
    // Upper-case ids are read; an unknown status and unknown keys are dropped.
    let read = serde_json::from_value::<Context>(json!({
        "type": "trace",
        "trace_id": TRACE_ID.to_uppercase(),
        "span_id": SPAN_ID,
        "status": "unknown_error",
        "unknown_key": 1,
        "data": {"route": "/api"},
    }))
    .unwrap();
    let expected = TraceContext {
        trace_id: TRACE_ID.parse().unwrap(),
        span_id: SPAN_ID.parse().unwrap(),
        status: Some(SpanStatus::InternalError),
        data: object(json!({"route": "/api"})),
        ..Default::default()
    };
    assert_eq!(read, Context::from(expected.clone()));
    let bad_status =
        json!({"type": "trace", "trace_id": TRACE_ID, "span_id": SPAN_ID, "status": 5});
    let Context::Trace(trace) = serde_json::from_value::<Context>(bad_status).unwrap() else {
        panic!("still a trace context");
    };
    assert_eq!(trace.status, None);
    // Invalid ids: the context is kept as it came, as a free object.
    let bad_id = json!({"type": "trace", "trace_id": "nope", "span_id": SPAN_ID});
    assert_eq!(
        serde_json::from_value::<Context>(bad_id.clone()).unwrap(),
        Context::Other(object(bad_id))
    );
}
