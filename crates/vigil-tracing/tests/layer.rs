//! What `tracing` events become: the exact JSON of events and breadcrumbs,
//! span fields, level mapping, filters, mappers and the guards against
//! capturing the SDK's own output. Subscribers are set per thread
//! (`with_default`), so no global state is touched.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use serde_json::{Value, json};
use tracing::{Level as TLevel, debug, error, info, info_span, trace, warn};
use tracing_subscriber::Registry;
use tracing_subscriber::prelude::*;
use vigil_core::protocol::Event;
use vigil_core::test::{with_captured_events, with_captured_events_options};
use vigil_core::{ClientOptions, Hub};
use vigil_tracing::{EventFilter, VigilLayer};

/// Runs `f` under a subscriber with `layer` and returns the captured events.
fn capture_with(layer: VigilLayer<Registry>, f: impl FnOnce()) -> Vec<Event> {
    let subscriber = tracing_subscriber::registry().with(layer);
    with_captured_events(|| tracing::subscriber::with_default(subscriber, f))
}

fn capture(f: impl FnOnce()) -> Vec<Event> {
    capture_with(VigilLayer::new(), f)
}

/// The event as JSON with the values that change between runs replaced
/// and the SDK's identity removed.
fn json_of(event: &Event) -> Value {
    let mut json = serde_json::to_value(event).unwrap();
    let obj = json.as_object_mut().unwrap();
    assert_eq!(obj["event_id"].as_str().unwrap().len(), 32);
    obj.insert("event_id".into(), "<event_id>".into());
    assert!(obj["timestamp"].is_f64());
    obj.insert("timestamp".into(), "<timestamp>".into());
    assert_eq!(obj.remove("sdk").unwrap()["name"], "vigil.rust");
    // Filled in by the client, not by this integration; whether it is
    // written when it is the default is the protocol crate's business.
    if let Some(platform) = obj.remove("platform") {
        assert_eq!(platform, "native");
    }
    // The trace comes from the scope, not from this integration.
    if let Some(contexts) = obj.get_mut("contexts").and_then(Value::as_object_mut) {
        let trace = contexts
            .remove("trace")
            .expect("every event carries a trace");
        assert_eq!(trace["trace_id"].as_str().unwrap().len(), 32);
        if contexts.is_empty() {
            obj.remove("contexts");
        }
    }
    if let Some(crumbs) = obj.get_mut("breadcrumbs") {
        for crumb in crumbs["values"].as_array_mut().unwrap() {
            assert!(crumb["timestamp"].is_f64());
            crumb["timestamp"] = "<timestamp>".into();
        }
    }
    json
}

fn messages(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.message.clone().unwrap_or_default())
        .collect()
}

#[test]
fn error_event_with_spans_and_breadcrumb_is_this_json() {
    let mut line = 0;
    let events = capture(|| {
        let request = info_span!(target: "shop::http", "request", method = "GET", id = 7u64);
        let _request = request.enter();
        let query = info_span!("query", table = "carts");
        let _query = query.enter();
        warn!(target: "shop::db", elapsed_ms = 1250u64, "slow query");
        line = line!() + 1;
        error!(target: "shop::http", status = 500, ok = false, ratio = 0.5, who = ?Some(1), ip = %"10.0.0.1", "request failed");
    });
    assert_eq!(events.len(), 1);
    assert_eq!(
        json_of(&events[0]),
        json!({
            "event_id": "<event_id>",
            "level": "error",
            "message": "request failed",
            "logger": "shop::http",
            "timestamp": "<timestamp>",
            "environment": "production",
            "contexts": {
                "Rust Tracing Fields": {"status": 500, "ok": false, "ratio": 0.5, "who": "Some(1)", "ip": "10.0.0.1"},
                "Rust Tracing Location": {"module_path": module_path!(), "file": file!(), "line": line},
                "tracing_spans": {"spans": [
                    {"name": "request", "fields": {"method": "GET", "id": 7}},
                    {"name": "query", "fields": {"table": "carts"}},
                ]}
            },
            "breadcrumbs": {"values": [
                {"timestamp": "<timestamp>", "type": "default", "category": "shop::db",
                 "message": "slow query", "data": {"elapsed_ms": 1250}, "level": "warning"}
            ]}
        })
    );
}

#[test]
fn event_outside_spans_has_no_span_context() {
    let events = capture(|| error!(code = -3i64, big = u128::MAX, "boom"));
    let json = json_of(&events[0]);
    assert!(json["contexts"].get("tracing_spans").is_none(), "{json}");
    assert_eq!(
        json["contexts"]["Rust Tracing Fields"],
        json!({"code": -3, "big": u128::MAX.to_string()})
    );
}

#[test]
fn event_without_message_and_non_finite_floats() {
    let events = capture(|| error!(ratio = f64::NAN, inf = f64::INFINITY));
    let json = json_of(&events[0]);
    assert!(json.get("message").is_none(), "{json}");
    assert_eq!(
        json["contexts"]["Rust Tracing Fields"],
        json!({"ratio": "NaN", "inf": "inf"})
    );
}

#[derive(Debug)]
struct ConfigError(std::io::Error);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("loading config failed")
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn error_field_becomes_exceptions() {
    let err = ConfigError(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        "no such file",
    ));
    let events = capture(|| {
        error!(error = &err as &(dyn Error + 'static), "cannot start");
        warn!(error = &err as &(dyn Error + 'static), "as a breadcrumb");
        error!("next");
    });
    let json = json_of(&events[0]);
    assert_eq!(json["message"], "cannot start");
    // The error is the exceptions, not a field too.
    assert!(
        json["contexts"].get("Rust Tracing Fields").is_none(),
        "{json}"
    );
    assert_eq!(
        json["exception"],
        json!({"values": [
            {"type": "std::io::Error", "value": "no such file"},
            {"type": "ConfigError", "value": "loading config failed",
             "mechanism": {"type": "tracing", "handled": true}},
        ]})
    );
    // In a breadcrumb, the error is its chain, the outermost first.
    let crumb = &json_of(&events[1])["breadcrumbs"]["values"][0];
    assert_eq!(
        crumb["data"],
        json!({"error": [
            "ConfigError: loading config failed",
            "std::io::Error: no such file",
        ]})
    );
    assert!(json_of(&events[1]).get("exception").is_none());
}

#[test]
fn levels_are_mapped() {
    let layer = VigilLayer::new().event_filter(|_| EventFilter::Event);
    let events = capture_with(layer, || {
        error!("e");
        warn!("w");
        info!("i");
        debug!("d");
        trace!("t");
    });
    let levels: Vec<_> = events.iter().map(|e| e.level.as_str()).collect();
    assert_eq!(levels, ["error", "warning", "info", "debug", "debug"]);
    let layer = VigilLayer::new().event_filter(|_| EventFilter::Breadcrumb);
    let events = capture_with(layer, || {
        warn!("w");
        info!("i");
        debug!("d");
        trace!("t");
        Hub::current().capture_message("flush", vigil_core::protocol::Level::Info);
    });
    let levels: Vec<_> = events[0]
        .breadcrumbs
        .iter()
        .map(|c| c.level.as_str())
        .collect();
    assert_eq!(levels, ["warning", "info", "debug", "debug"]);
}

#[test]
fn default_filter_ignores_debug_and_trace() {
    let events = capture(|| {
        debug!("d");
        trace!("t");
        info!("i");
        error!("e");
    });
    assert_eq!(messages(&events), ["e"]);
    let crumbs: Vec<_> = events[0]
        .breadcrumbs
        .iter()
        .map(|c| c.message.clone())
        .collect();
    assert_eq!(crumbs, [Some("i".to_owned())]);
}

#[test]
fn custom_filter_decides() {
    let layer = VigilLayer::new().event_filter(|md| match (*md.level(), md.target()) {
        (_, "noisy") => EventFilter::Ignore,
        (TLevel::DEBUG, "shop::db") => EventFilter::Breadcrumb,
        (TLevel::WARN, _) => EventFilter::Event,
        (TLevel::ERROR, _) => EventFilter::EventAndBreadcrumb,
        _ => EventFilter::Ignore,
    });
    let events = capture_with(layer, || {
        error!(target: "noisy", "not captured");
        debug!(target: "shop::db", "query");
        debug!(target: "shop::http", "not captured");
        warn!("warned");
        error!(attempt = 1, "first error");
        error!("second error");
    });
    assert_eq!(messages(&events), ["warned", "first error", "second error"]);
    assert_eq!(events[0].level.as_str(), "warning");
    let crumbs = &events[2].breadcrumbs;
    let crumb_messages: Vec<_> = crumbs.iter().map(|c| c.message.clone().unwrap()).collect();
    assert_eq!(crumb_messages, ["query", "first error"]);
    assert_eq!(crumbs[1].event_id, Some(events[1].event_id));
    assert_eq!(crumbs[1].data["attempt"], 1);
    // An event-and-breadcrumb event keeps its fields in both.
    assert_eq!(
        json_of(&events[1])["contexts"]["Rust Tracing Fields"]["attempt"],
        1
    );
}

#[test]
fn span_filter_and_recorded_fields() {
    let events = capture(|| {
        let outer = info_span!("outer", user = tracing::field::Empty, step = 1);
        let _outer = outer.enter();
        outer.record("user", "ada");
        outer.record("step", 2);
        let debug_span = tracing::debug_span!("not_recorded", x = 1);
        let _debug = debug_span.enter();
        error!("failed");
    });
    let json = json_of(&events[0]);
    assert_eq!(
        json["contexts"]["tracing_spans"],
        json!({"spans": [{"name": "outer", "fields": {"user": "ada", "step": 2}}]})
    );

    let layer = VigilLayer::new().span_filter(|_| true);
    let events = capture_with(layer, || {
        let span = tracing::trace_span!("inner", message = "kept as a field");
        let _span = span.enter();
        let again = tracing::trace_span!("inner");
        let _again = again.enter();
        error!("failed");
    });
    assert_eq!(
        json_of(&events[0])["contexts"]["tracing_spans"],
        json!({"spans": [
            {"name": "inner", "fields": {"message": "kept as a field"}},
            {"name": "inner", "fields": {}},
        ]})
    );
}

#[test]
fn mappers_change_or_drop() {
    let layer = VigilLayer::new()
        .map_event(|event, mut vigil_event| {
            if event.metadata().target() == "drop" {
                return None;
            }
            vigil_event.fingerprint = vec![event.metadata().name().to_owned()];
            vigil_event.tags.insert("mapped".into(), "yes".into());
            Some(vigil_event)
        })
        .breadcrumb_mapper(|event, mut crumb| {
            if event.metadata().target() == "drop" {
                return None;
            }
            crumb.ty = "debug".into();
            Some(crumb)
        });
    let events = capture_with(layer, || {
        warn!(target: "drop", "dropped crumb");
        warn!(target: "keep", "kept crumb");
        error!(target: "drop", "dropped event");
        error!(target: "keep", "kept event");
    });
    assert_eq!(messages(&events), ["kept event"]);
    let json = json_of(&events[0]);
    assert_eq!(json["tags"], json!({"mapped": "yes"}));
    assert!(
        json["fingerprint"][0]
            .as_str()
            .unwrap()
            .starts_with("event ")
    );
    assert_eq!(
        json["breadcrumbs"]["values"],
        json!([{"timestamp": "<timestamp>", "type": "debug", "category": "keep",
                "message": "kept crumb", "level": "warning"}])
    );
}

#[test]
fn events_emitted_while_capturing_are_not_captured() {
    let options = ClientOptions {
        before_send: Some(Arc::new(|event| {
            error!("emitted by before_send");
            Some(event)
        })),
        before_breadcrumb: Some(Arc::new(|crumb| {
            warn!("emitted by before_breadcrumb");
            Some(crumb)
        })),
        ..ClientOptions::default()
    };
    let subscriber = tracing_subscriber::registry().with(VigilLayer::new());
    let events = with_captured_events_options(
        || {
            tracing::subscriber::with_default(subscriber, || {
                warn!("first");
                error!("second");
            })
        },
        options,
    );
    assert_eq!(messages(&events), ["second"]);
    let crumbs: Vec<_> = events[0]
        .breadcrumbs
        .iter()
        .map(|c| c.message.clone())
        .collect();
    assert_eq!(crumbs, [Some("first".to_owned())]);
}

#[test]
fn sdk_threads_and_targets_are_never_captured() {
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(VigilLayer::new()));
    let events = with_captured_events(|| {
        let hub = Hub::current();
        let on_thread = |name: &str, message: &'static str| {
            let (hub, dispatch) = (hub.clone(), dispatch.clone());
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        Hub::run(hub, || error!(target: "ureq::unit", "{message}"))
                    })
                })
                .unwrap()
                .join()
                .unwrap();
        };
        on_thread("vigil-transport", "on the transport thread");
        on_thread("worker", "on a user thread");
        tracing::dispatcher::with_default(&dispatch, || {
            error!(target: "vigil", "from the facade");
            error!(target: "vigil_transport::worker", "from the transport");
        });
    });
    assert_eq!(messages(&events), ["on a user thread"]);
}

#[test]
fn panicking_callbacks_capture_nothing() {
    let layer = VigilLayer::new().event_filter(|_| panic!("filter bug"));
    assert!(capture_with(layer, || error!("filtered")).is_empty());
    let layer = VigilLayer::new().map_event(|_, _| panic!("mapper bug"));
    assert!(capture_with(layer, || error!("mapped")).is_empty());
    let layer = VigilLayer::new().span_filter(|_| panic!("span filter bug"));
    let events = capture_with(layer, || {
        let span = info_span!("skipped");
        let _span = span.enter();
        error!("still captured");
    });
    assert_eq!(messages(&events), ["still captured"]);
    assert!(!events[0].contexts.contains_key("tracing_spans"));
}

#[test]
fn disabled_sdk_captures_nothing_and_records_no_span() {
    let subscriber = tracing_subscriber::registry().with(VigilLayer::new());
    tracing::subscriber::with_default(subscriber, || {
        let span = info_span!("before_init", x = 1);
        let _span = span.enter();
        error!("no client bound");
    });
}
