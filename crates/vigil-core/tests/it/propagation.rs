//! Tracing without performance: every event carries its scope's trace,
//! every envelope the trace's dynamic sampling context; incoming traces
//! are continued, hostile headers start a new trace, and the outgoing
//! headers carry the trace on.

use std::sync::Arc;

use serde_json::{Value, json};
use vigil_core::protocol::{Envelope, Level};
use vigil_core::{ClientOptions, Hub, PropagationContext, capture_message, configure_scope};

use crate::support::{Harness, default_harness, harness, trace_header};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const SPAN: &str = "b0e6f15b45c36b12";
const BAGGAGE: &str = "other-vendor=foo,sentry-trace_id=771a43a4192642f0b136d5159a501700,\
    sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,\
    sentry-sample_rand=0.123456,sentry-sampled=true,sentry-environment=prod,\
    sentry-release=upstream%401.0,sentry-transaction=GET%20%2Fapi,sentry-org_id=42";

/// The envelopes captured so far, with each event's `trace` context.
fn captured(h: &Harness) -> Vec<(Envelope, Value)> {
    h.transport
        .fetch_and_clear_envelopes()
        .into_iter()
        .map(|envelope| {
            let event = envelope.event().expect("an event");
            let trace = serde_json::to_value(&event.contexts["trace"]).unwrap();
            (envelope, trace)
        })
        .collect()
}

fn is_hex(s: &Value, len: usize) -> bool {
    s.as_str().is_some_and(|s| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[test]
fn every_event_carries_its_scopes_trace_and_every_envelope_its_dsc() {
    let h = harness(ClientOptions::new().release("app@2.0"));
    h.run(|| {
        capture_message("one", Level::Error);
        capture_message("two", Level::Error);
    });
    let events = captured(&h);
    let (first, trace) = &events[0];
    assert!(is_hex(&trace["trace_id"], 32), "{trace}");
    assert!(is_hex(&trace["span_id"], 16), "{trace}");
    assert!(trace.get("parent_span_id").is_none());
    // One hub, one trace.
    assert_eq!(events[1].1["trace_id"], trace["trace_id"]);
    assert_eq!(events[1].1["span_id"], trace["span_id"]);

    let dsc = trace_header(first);
    assert_eq!(dsc["trace_id"], trace["trace_id"]);
    assert_eq!(dsc["public_key"], "public");
    assert_eq!(dsc["release"], "app@2.0");
    assert_eq!(dsc["environment"], "production");
    let rand = dsc["sample_rand"].as_str().unwrap();
    assert_eq!(rand.len(), 8, "six decimals: {rand}");
    assert!((0.0..1.0).contains(&rand.parse::<f64>().unwrap()));
    // Deferred: no decision and no rate without tracing.
    assert!(dsc.get("sampled").is_none() && dsc.get("sample_rate").is_none());
    // Every value is a string.
    assert!(dsc.as_object().unwrap().values().all(Value::is_string));
}

#[test]
fn forks_share_the_trace_and_threads_start_their_own() {
    let h = default_harness();
    let fork = Arc::new(Hub::new_from_top(&*h.hub));
    h.hub.capture_message("parent", Level::Info);
    fork.capture_message("fork", Level::Info);
    let events = captured(&h);
    assert_eq!(events[0].1["trace_id"], events[1].1["trace_id"]);

    // The implicit hub of each thread has a trace of its own.
    let thread_trace = || {
        std::thread::spawn(|| {
            Hub::current().configure_scope(|s| s.propagation_context().trace_id())
        })
        .join()
        .unwrap()
    };
    assert_ne!(thread_trace(), thread_trace());
}

#[test]
fn an_incoming_trace_is_continued_and_its_dsc_sent_on_unchanged() {
    let h = default_harness();
    let sentry_trace = format!("{TRACE}-{SPAN}-1");
    h.hub.continue_trace([
        ("Sentry-Trace", sentry_trace.as_str()),
        ("BAGGAGE", BAGGAGE),
    ]);
    h.hub.capture_message("in the request", Level::Error);
    let (envelope, trace) = captured(&h).remove(0);
    assert_eq!(trace["trace_id"], TRACE);
    assert_eq!(trace["parent_span_id"], SPAN);
    assert_ne!(trace["span_id"], SPAN);
    assert_eq!(
        trace_header(&envelope),
        json!({
            "trace_id": TRACE,
            "public_key": "49d0f7386ad645858ae85020e393bef3",
            "sample_rate": "0.25",
            "sample_rand": "0.123456",
            "sampled": "true",
            "environment": "prod",
            "release": "upstream@1.0",
            "transaction": "GET /api",
            "org_id": "42",
        })
    );

    // Outgoing: our span as the parent, the decision, the same DSC, and
    // nothing of the other vendor.
    let headers: Vec<(&str, String)> = h.hub.iter_trace_propagation_headers().collect();
    assert_eq!(headers[0].0, "sentry-trace");
    assert_eq!(
        headers[0].1,
        format!("{TRACE}-{}-1", trace["span_id"].as_str().unwrap())
    );
    assert_eq!(headers[1].0, "baggage");
    assert!(!headers[1].1.contains("other-vendor"));
    assert!(headers[1].1.contains("sentry-release=upstream%401.0"));
    assert!(headers[1].1.contains("sentry-sample_rand=0.123456"));
    assert_eq!(headers.len(), 2, "no traceparent unless asked for");
}

#[test]
fn hostile_headers_start_a_new_trace() {
    let big = format!("sentry-trace_id={TRACE},x={}", "a".repeat(100_000));
    let valid = format!("{TRACE}-{SPAN}-1");
    let upper = format!("{}-{SPAN}-1", TRACE.to_uppercase());
    let cases: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("upper-case hex", vec![("sentry-trace", &upper)]),
        (
            "short trace id",
            vec![("sentry-trace", "771a43a4-b0e6f15b45c36b12-1")],
        ),
        (
            "all-zero",
            vec![(
                "sentry-trace",
                "00000000000000000000000000000000-b0e6f15b45c36b12",
            )],
        ),
        (
            "100 KB baggage",
            vec![("sentry-trace", &valid), ("baggage", &big)],
        ),
        (
            "duplicated sentry key",
            vec![
                ("sentry-trace", &valid),
                ("baggage", "sentry-release=a,sentry-release=b"),
            ],
        ),
        (
            "invalid UTF-8 escape",
            vec![("sentry-trace", &valid), ("baggage", "sentry-release=%FF")],
        ),
    ];
    for (what, headers) in cases {
        let ctx = PropagationContext::continue_from_headers(headers, &ClientOptions::default());
        assert_ne!(ctx.trace_id().to_string(), TRACE, "{what}");
        assert_eq!(ctx.parent_span_id(), None, "{what}");
        assert_eq!(ctx.sampled(), None, "{what}");
    }
    // Many baggage headers together count against the same limit.
    let piece = "k=".to_owned() + &"v".repeat(1000);
    let mut headers = vec![("sentry-trace", valid.as_str())];
    headers.extend(std::iter::repeat_n(("baggage", piece.as_str()), 20));
    let ctx = PropagationContext::continue_from_headers(headers, &ClientOptions::default());
    assert_ne!(ctx.trace_id().to_string(), TRACE);
}

#[test]
fn a_trace_of_another_organisation_is_not_continued() {
    let options = ClientOptions::new()
        .try_dsn("https://public@o42.ingest.sentry.io/1")
        .unwrap();
    let valid = format!("{TRACE}-{SPAN}-1");
    let other_org = [
        ("sentry-trace", valid.as_str()),
        ("baggage", "sentry-org_id=99"),
    ];
    let ctx = PropagationContext::continue_from_headers(other_org, &options);
    assert_ne!(ctx.trace_id().to_string(), TRACE);
    let same_org = [
        ("sentry-trace", valid.as_str()),
        ("baggage", "sentry-org_id=42"),
    ];
    let ctx = PropagationContext::continue_from_headers(same_org, &options);
    assert_eq!(ctx.trace_id().to_string(), TRACE);
    // Strict: an upstream without an org id is refused.
    let strict = options.strict_trace_continuation(true);
    let ctx =
        PropagationContext::continue_from_headers([("sentry-trace", valid.as_str())], &strict);
    assert_ne!(ctx.trace_id().to_string(), TRACE);
}

#[test]
fn traceparent_is_read_when_no_sentry_trace_came_and_sent_when_asked() {
    let h = harness(ClientOptions::new().propagate_traceparent(true));
    let traceparent = format!("00-{TRACE}-{SPAN}-01");
    h.hub
        .continue_trace([("traceparent", traceparent.as_str())]);
    let headers: Vec<(&str, String)> = h.hub.iter_trace_propagation_headers().collect();
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["sentry-trace", "baggage", "traceparent"]);
    let span = h.hub.configure_scope(|s| s.propagation_context().span_id());
    assert_eq!(headers[2].1, format!("00-{TRACE}-{span}-01"));
    // No Sentry baggage came: the DSC is ours, with the upstream decision.
    assert!(headers[1].1.contains("sentry-public_key=public"));
    assert!(headers[1].1.contains("sentry-sampled=true"));
    // sentry-trace wins over traceparent.
    let both = [
        (
            "traceparent",
            "00-11111111111111111111111111111111-2222222222222222-01",
        ),
        (
            "sentry-trace",
            "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0",
        ),
    ];
    let ctx = PropagationContext::continue_from_headers(both, &ClientOptions::default());
    assert_eq!(ctx.trace_id().to_string(), TRACE);
    assert_eq!(ctx.sampled(), Some(false));
}

#[test]
fn a_new_trace_sends_a_deferred_sentry_trace_and_a_frozen_dsc() {
    let h = default_harness();
    h.run(|| {
        let first: Vec<(&str, String)> =
            configure_scope(|s| s.iter_trace_propagation_headers().collect());
        let (trace, span) = configure_scope(|s| {
            let ctx = s.propagation_context();
            (ctx.trace_id(), ctx.span_id())
        });
        assert_eq!(first[0].1, format!("{trace}-{span}"), "no decision suffix");
        assert!(!first[1].1.contains("sentry-sampled"));
        // The DSC does not change once it left the process.
        configure_scope(|s| s.set_user(None));
        let again: Vec<(&str, String)> =
            configure_scope(|s| s.iter_trace_propagation_headers().collect());
        assert_eq!(first, again);
        capture_message("m", Level::Error);
    });
    let (envelope, _) = captured(&h).remove(0);
    assert_eq!(trace_header(&envelope)["public_key"], "public");
}
