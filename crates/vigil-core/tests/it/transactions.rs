//! Transactions and spans: sampling, what is sent, what is counted.

use serde_json::{Value, json};
use vigil_core::protocol::{DataCategory, DiscardReason, Envelope, Level, SpanStatus};
use vigil_core::{ClientOptions, TransactionContext, TransactionOrSpan};

use crate::support::{Harness, harness, trace_header};

const TRACE: &str = "771a43a4192642f0b136d5159a501700";
const SPAN: &str = "b0e6f15b45c36b12";

fn tracing(rate: f32) -> ClientOptions {
    ClientOptions::new()
        .traces_sample_rate(rate)
        .release("app@1.0")
}

fn envelopes(h: &Harness) -> Vec<Envelope> {
    h.transport.fetch_and_clear_envelopes()
}

fn lost(h: &Harness, reason: DiscardReason, category: DataCategory) -> u64 {
    h.client.loss_recorder().total(reason, category)
}

#[test]
fn a_sampled_transaction_is_sent_with_its_spans_and_dsc() {
    let h = harness(tracing(1.0));
    let transaction = h
        .hub
        .start_transaction(TransactionContext::new("checkout", "task"));
    assert!(transaction.is_sampled());
    let query = transaction.start_child("db.query", "SELECT 1");
    let nested = query.start_child("db.fetch", "");
    nested.set_data("rows", json!(3));
    nested.finish();
    query.set_status(SpanStatus::NotFound);
    query.finish();
    transaction.set_tag("shard", 7);
    transaction.finish();

    let sent = envelopes(&h);
    assert_eq!(sent.len(), 1);
    let envelope = &sent[0];
    let tx = envelope.transaction().expect("a transaction item");
    let payload = serde_json::to_value(tx).unwrap();
    assert_eq!(payload["type"], "transaction");
    assert_eq!(payload["transaction"], "checkout");
    assert_eq!(payload["transaction_info"]["source"], "custom");
    assert_eq!(payload["platform"], "native");
    assert_eq!(payload["release"], "app@1.0");
    assert_eq!(payload["tags"]["shard"], "7");
    let trace = &payload["contexts"]["trace"];
    assert_eq!(trace["op"], "task");
    assert_eq!(trace["status"], "ok");
    assert_eq!(trace["origin"], "manual");
    assert!(trace.get("parent_span_id").is_none());
    // RFC 3339 in UTC with six decimals: the text orders as the time.
    let time = |v: &Value| v.as_str().expect("an RFC 3339 time").to_owned();
    assert!(time(&payload["start_timestamp"]) <= time(&payload["timestamp"]));

    let spans = payload["spans"].as_array().unwrap();
    assert_eq!(spans.len(), 2);
    let (fetch, query) = (&spans[0], &spans[1]);
    assert_eq!(query["parent_span_id"], trace["span_id"]);
    assert_eq!(fetch["parent_span_id"], query["span_id"]);
    assert_eq!(query["status"], "not_found");
    assert_eq!(query["description"], "SELECT 1");
    assert_eq!(fetch["data"]["rows"], 3);
    for span in spans {
        assert_eq!(span["trace_id"], trace["trace_id"]);
        assert!(time(&span["start_timestamp"]) <= time(&span["timestamp"]));
        assert!(time(&span["start_timestamp"]) >= time(&payload["start_timestamp"]));
    }

    let dsc = trace_header(envelope);
    assert_eq!(dsc["trace_id"], trace["trace_id"]);
    assert_eq!(dsc["sampled"], "true");
    assert_eq!(dsc["sample_rate"], "1");
    assert_eq!(dsc["transaction"], "checkout");
    assert_eq!(dsc["public_key"], "public");
    assert_eq!(dsc["release"], "app@1.0");
    assert!(dsc["sample_rand"].as_str().is_some());
}

#[test]
fn an_unsampled_transaction_is_counted_with_its_spans_and_never_sent() {
    let h = harness(ClientOptions::new().traces_sampler(|_| 0.0));
    let transaction = h
        .hub
        .start_transaction(TransactionContext::new("t", "task"));
    assert!(!transaction.is_sampled());
    for _ in 0..3 {
        transaction.start_child("work", "").finish();
    }
    transaction.finish();
    assert!(envelopes(&h).is_empty());
    assert_eq!(
        lost(&h, DiscardReason::SampleRate, DataCategory::Transaction),
        1
    );
    assert_eq!(lost(&h, DiscardReason::SampleRate, DataCategory::Span), 4);
}

/// A span of an unsampled transaction keeps its ids (a child of a child
/// has its parent's id as parent) and drops everything else as it is set.
#[test]
fn a_span_of_an_unsampled_transaction_keeps_only_its_ids() {
    let h = harness(ClientOptions::new().traces_sampler(|_| 0.0));
    let transaction = h
        .hub
        .start_transaction(TransactionContext::new("t", "task"));
    let span = transaction.start_child("db", "SELECT 1");
    let child = span.start_child("db.fetch", "");
    assert!(!span.is_sampled() && !child.is_sampled());
    assert_eq!(span.trace_id(), transaction.trace_id());
    assert_eq!(span.parent_span_id(), transaction.span_id());
    assert_eq!(child.parent_span_id(), span.span_id());
    assert_ne!(child.span_id(), span.span_id());
    span.set_status(SpanStatus::InternalError);
    span.set_data("rows", 3.into());
    assert_eq!(span.get_status(), None);
    let context = span.get_trace_context();
    assert_eq!(context.span_id, span.span_id());
    assert_eq!(context.parent_span_id, Some(transaction.span_id()));
    assert_eq!((context.op, context.status), (None, None));
    let headers: Vec<_> = child.iter_headers().collect();
    assert_eq!(
        headers[0].1,
        format!("{}-{}-0", child.trace_id(), child.span_id())
    );
    child.finish();
    span.finish();
    transaction.finish();
    assert!(envelopes(&h).is_empty());
    assert_eq!(lost(&h, DiscardReason::SampleRate, DataCategory::Span), 3);
}

#[test]
fn with_tracing_off_nothing_is_recorded_or_counted() {
    let h = harness(ClientOptions::default());
    let transaction = h
        .hub
        .start_transaction(TransactionContext::new("t", "task"));
    assert!(!transaction.is_sampled());
    transaction.start_child("work", "").finish();
    transaction.finish();
    assert!(envelopes(&h).is_empty());
    assert_eq!(
        lost(&h, DiscardReason::SampleRate, DataCategory::Transaction),
        0
    );
}

#[test]
fn the_upstream_decision_wins_over_the_rate_and_the_sampler_sees_it() {
    let sampled_upstream = format!("{TRACE}-{SPAN}-1");
    let unsampled_upstream = format!("{TRACE}-{SPAN}-0");
    let h = harness(tracing(0.000_001));
    let ctx = TransactionContext::continue_from_headers(
        "t",
        "http.server",
        [("sentry-trace", sampled_upstream.as_str())],
    );
    assert_eq!(ctx.parent_sampled(), Some(true));
    let transaction = h.hub.start_transaction(ctx);
    assert!(transaction.is_sampled());
    assert_eq!(transaction.trace_id().to_string(), TRACE);

    let h = harness(tracing(1.0));
    let ctx = TransactionContext::continue_from_headers(
        "t",
        "http.server",
        [("sentry-trace", unsampled_upstream.as_str())],
    );
    assert!(!h.hub.start_transaction(ctx).is_sampled());

    // The sampler decides, knowing the upstream decision.
    let h = harness(ClientOptions::new().traces_sampler(|ctx| {
        if ctx.parent_sampled() == Some(true) {
            0.0
        } else {
            1.0
        }
    }));
    let ctx = TransactionContext::continue_from_headers(
        "t",
        "http.server",
        [("sentry-trace", sampled_upstream.as_str())],
    );
    assert!(!h.hub.start_transaction(ctx).is_sampled());
    // A decision in code wins over everything.
    let mut ctx = TransactionContext::new("t", "task");
    ctx.set_sampled(true);
    assert!(h.hub.start_transaction(ctx).is_sampled());
}

#[test]
fn a_panicking_sampler_falls_back_to_the_rate() {
    let h = harness(tracing(1.0).traces_sampler(|_| panic!("sampler exploded")));
    assert!(
        h.hub
            .start_transaction(TransactionContext::new("t", "task"))
            .is_sampled()
    );
}

#[test]
fn events_and_headers_inside_a_span_carry_it() {
    let h = harness(tracing(1.0));
    let transaction = h
        .hub
        .start_transaction(TransactionContext::new("request", "http.server"));
    let span = transaction.start_child("handler", "");
    h.hub
        .configure_scope(|s| s.set_span(Some(TransactionOrSpan::from(span.clone()))));
    h.hub.capture_message("failed inside", Level::Error);
    let headers: Vec<(&str, String)> = h.hub.iter_trace_propagation_headers().collect();
    h.hub.configure_scope(|s| s.set_span(None));
    let (trace_id, transaction_span, span_id) = (
        transaction.trace_id(),
        transaction.span_id(),
        span.span_id(),
    );
    span.finish();
    transaction.finish();

    let sent = envelopes(&h);
    assert_eq!(sent.len(), 2);
    let event = sent[0].event().expect("the error first");
    let trace = serde_json::to_value(&event.contexts["trace"]).unwrap();
    assert_eq!(trace["trace_id"], trace_id.to_string());
    assert_eq!(trace["span_id"], span_id.to_string());
    assert_eq!(trace["parent_span_id"], transaction_span.to_string());
    let event_dsc = trace_header(&sent[0]);
    let tx_dsc = trace_header(&sent[1]);
    assert_eq!(
        event_dsc, tx_dsc,
        "the error and the transaction share the DSC"
    );
    assert_eq!(headers[0].1, format!("{trace_id}-{span_id}-1"));
    // The span is inside the transaction that was sent.
    let tx = sent[1].transaction().unwrap();
    assert!(tx.spans.iter().any(|s| s.span_id == span_id));
}

#[test]
fn before_send_transaction_and_ignore_transactions_count_what_they_drop() {
    let h = harness(tracing(1.0).before_send_transaction(|mut tx| {
        if tx.name.as_deref() == Some("drop me") {
            return None;
        }
        tx.spans.truncate(1);
        Some(tx)
    }));
    let dropped = h
        .hub
        .start_transaction(TransactionContext::new("drop me", "task"));
    dropped.start_child("a", "").finish();
    dropped.finish();
    assert_eq!(
        lost(&h, DiscardReason::BeforeSend, DataCategory::Transaction),
        1
    );
    assert_eq!(lost(&h, DiscardReason::BeforeSend, DataCategory::Span), 2);
    let trimmed = h
        .hub
        .start_transaction(TransactionContext::new("keep", "task"));
    for _ in 0..3 {
        trimmed.start_child("a", "").finish();
    }
    trimmed.finish();
    assert_eq!(envelopes(&h)[0].transaction().unwrap().spans.len(), 1);
    assert_eq!(lost(&h, DiscardReason::BeforeSend, DataCategory::Span), 4);

    let h = harness(tracing(1.0).ignore_transaction("GET /health*"));
    let ignored = h
        .hub
        .start_transaction(TransactionContext::new("GET /healthz", "http.server"));
    ignored.start_child("a", "").finish();
    ignored.finish();
    h.hub
        .start_transaction(TransactionContext::new("GET /users", "http.server"))
        .finish();
    assert_eq!(envelopes(&h).len(), 1);
    assert_eq!(
        lost(&h, DiscardReason::EventProcessor, DataCategory::Transaction),
        1
    );
    assert_eq!(
        lost(&h, DiscardReason::EventProcessor, DataCategory::Span),
        2
    );
}

#[test]
fn spans_past_max_spans_and_late_spans_are_not_sent() {
    let h = harness(tracing(1.0).max_spans(3));
    let transaction = h
        .hub
        .start_transaction(TransactionContext::new("t", "task"));
    for _ in 0..5 {
        transaction.start_child("a", "").finish();
    }
    let late = transaction.start_child("late", "");
    let _never = transaction.start_child("never finished", "");
    transaction.clone().finish();
    late.finish();
    transaction.finish(); // again: nothing more
    let sent = envelopes(&h);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].transaction().unwrap().spans.len(), 3);
    assert_eq!(
        lost(&h, DiscardReason::BufferOverflow, DataCategory::Span),
        2
    );
}
