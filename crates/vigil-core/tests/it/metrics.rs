//! Trace metrics through the client: the builders, the trace and span a
//! metric gets, its default attributes, `before_send_metric`,
//! `enable_metrics`, and the batches they travel in.

use std::time::{Duration, Instant};

use vigil_core::metrics;
use vigil_core::protocol::{
    DataCategory, DiscardReason, Envelope, EnvelopeItem, ItemContainer, LogAttribute, Metric,
    MetricType, Unit, User,
};
use vigil_core::{ClientOptions, TransactionContext};

use crate::support::harness;

/// The metrics of every `trace_metric` item, per envelope.
fn batches(envelopes: &[Envelope]) -> Vec<Vec<Metric>> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics)) => Some(metrics.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn each_builder_makes_its_type_with_unit_and_attributes() {
    let h = harness(ClientOptions::new());
    h.run(|| {
        metrics::counter("jobs.done", 3)
            .attribute("queue", "mail")
            .attribute("queue", "sms")
            .attribute("retry", true)
            .capture();
        metrics::gauge("pool.size", 12u32)
            .unit("connections")
            .capture();
        metrics::distribution("http.duration", 187.5f32)
            .unit("ms")
            .attribute("http.response.status_code", 200)
            .capture();
    });
    h.client.flush(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent.len(), 1, "one batch");
    let [counter, gauge, distribution] = &sent[0][..] else {
        panic!("three metrics: {:?}", sent[0]);
    };
    assert_eq!(counter.r#type, MetricType::Counter);
    assert_eq!(counter.name, "jobs.done");
    assert_eq!(counter.value, 3.0);
    assert_eq!(counter.unit, None);
    assert_eq!(counter.attributes["queue"], LogAttribute::from("sms"));
    assert_eq!(counter.attributes["retry"], LogAttribute::from(true));
    assert_eq!(gauge.r#type, MetricType::Gauge);
    assert_eq!(gauge.unit, Some(Unit::Other("connections".into())));
    assert_eq!(distribution.r#type, MetricType::Distribution);
    assert_eq!(distribution.value, 187.5);
    assert_eq!(distribution.unit, Some(Unit::Millisecond));
    assert_eq!(
        distribution.attributes["http.response.status_code"],
        LogAttribute::from(200)
    );
}

#[test]
fn a_metric_gets_the_scope_trace_and_the_default_attributes() {
    let h = harness(
        ClientOptions::new()
            .release("svc@1.0")
            .environment("staging")
            .server_name("web-1"),
    );
    let trace_id = h.run(|| {
        metrics::counter("hits", 1).capture();
        vigil_core::configure_scope(|scope| scope.propagation_context().trace_id())
    });
    h.client.flush(None);
    let sent = &batches(&h.transport.fetch_and_clear_envelopes())[0][0];
    assert_eq!(sent.trace_id, trace_id);
    assert_eq!(sent.span_id, None, "no span was active");
    let attribute = |key: &str| sent.attributes.get(key).cloned();
    assert_eq!(
        attribute("sentry.sdk.name"),
        Some(LogAttribute::from("vigil.rust"))
    );
    assert!(sent.attributes.contains_key("sentry.sdk.version"));
    assert_eq!(
        attribute("sentry.release"),
        Some(LogAttribute::from("svc@1.0"))
    );
    assert_eq!(
        attribute("sentry.environment"),
        Some(LogAttribute::from("staging"))
    );
    assert_eq!(
        attribute("server.address"),
        Some(LogAttribute::from("web-1"))
    );
}

#[test]
fn a_metric_in_a_span_carries_the_span_and_the_user_only_with_pii() {
    for pii in [false, true] {
        let h = harness(
            ClientOptions::new()
                .traces_sample_rate(1.0)
                .send_default_pii(pii),
        );
        let (trace_id, span_id) = h.run(|| {
            vigil_core::configure_scope(|scope| {
                scope.set_user(Some(User {
                    id: Some("42".into()),
                    username: Some("jane".into()),
                    email: Some("jane@example.com".into()),
                    ..Default::default()
                }));
            });
            let transaction = vigil_core::start_transaction(TransactionContext::new("job", "task"));
            vigil_core::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
            let span = transaction.start_child("db", "query");
            vigil_core::configure_scope(|scope| scope.set_span(Some(span.clone().into())));
            metrics::distribution("db.rows", 7).capture();
            let ids = (span.trace_id(), span.span_id());
            span.finish();
            transaction.finish();
            ids
        });
        h.client.flush(None);
        let sent = &batches(&h.transport.fetch_and_clear_envelopes())[0][0];
        assert_eq!(sent.trace_id, trace_id);
        assert_eq!(sent.span_id, Some(span_id), "the innermost span");
        for key in ["user.id", "user.name", "user.email"] {
            assert_eq!(sent.attributes.contains_key(key), pii, "{key}");
        }
    }
}

#[test]
fn attributes_set_by_the_caller_are_kept() {
    let h = harness(ClientOptions::new().release("svc@1.0"));
    h.run(|| {
        metrics::counter("hits", 1)
            .attribute("sentry.release", "other@2")
            .capture();
    });
    h.client.flush(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(
        sent[0][0].attributes["sentry.release"],
        LogAttribute::from("other@2")
    );
}

#[test]
fn a_full_batch_goes_at_once_and_the_rest_on_flush() {
    let h = harness(ClientOptions::new());
    h.run(|| {
        for i in 0..230 {
            metrics::counter("ticks", 1).attribute("i", i).capture();
        }
    });
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100]);
    h.client.flush(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), [30]);
    assert_eq!(sent[0][29].attributes["i"], LogAttribute::from(229));
}

#[test]
fn a_batch_is_sent_five_seconds_after_its_first_metric() {
    let h = harness(ClientOptions::new());
    let started = Instant::now();
    h.run(|| metrics::gauge("waits", 1).capture());
    let mut sent = Vec::new();
    while sent.is_empty() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
        sent = batches(&h.transport.fetch_and_clear_envelopes());
    }
    let waited = started.elapsed();
    assert_eq!(sent.len(), 1, "sent by the timer, without a flush");
    assert!(
        waited >= Duration::from_millis(4900) && waited < Duration::from_secs(7),
        "sent after {waited:?}"
    );
}

#[test]
fn logs_and_metrics_travel_in_envelopes_of_their_own() {
    let h = harness(ClientOptions::new().traces_sample_rate(1.0));
    h.run(|| {
        metrics::counter("hits", 1).capture();
        vigil_core::logger_info!("a log");
    });
    h.client.flush(None);
    let envelopes = h.transport.fetch_and_clear_envelopes();
    assert_eq!(envelopes.len(), 2);
    for envelope in &envelopes {
        assert_eq!(envelope.items().len(), 1, "one container item");
        assert!(envelope.headers().trace.is_none(), "no sampling context");
    }
}

#[test]
fn before_send_metric_changes_or_drops_and_the_drops_are_counted() {
    let h = harness(ClientOptions::new().before_send_metric(
        |mut metric| match metric.name.as_ref() {
            "secret" => None,
            "boom" => panic!("before_send_metric failed"),
            _ => {
                metric.attributes.insert("seen".into(), true.into());
                Some(metric)
            }
        },
    ));
    h.run(|| {
        for name in ["kept", "secret", "boom"] {
            metrics::counter(name, 1).capture();
        }
    });
    h.client.flush(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent[0].len(), 1);
    assert_eq!(sent[0][0].attributes["seen"], LogAttribute::from(true));
    let stats = h.client.delivery_stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::BeforeSend, DataCategory::TraceMetric),
        2
    );
    assert!(stats.dropped_count(DiscardReason::BeforeSend, DataCategory::TraceMetricByte) > 150);
}

#[test]
fn a_value_that_is_not_finite_is_dropped_and_counted() {
    let h = harness(ClientOptions::new());
    h.run(|| {
        metrics::gauge("nan", f64::NAN).capture();
        metrics::distribution("inf", f64::INFINITY).capture();
        metrics::gauge("fine", 0.5).capture();
    });
    h.client.flush(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent[0].len(), 1);
    assert_eq!(sent[0][0].name, "fine");
    let stats = h.client.delivery_stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::InternalSdkError, DataCategory::TraceMetric),
        2
    );
}

#[test]
fn enable_metrics_off_sends_and_counts_nothing() {
    let h = harness(ClientOptions::new().enable_metrics(false));
    h.run(|| metrics::counter("hits", 1).capture());
    h.client.flush(None);
    assert!(h.transport.fetch_and_clear_envelopes().is_empty());
    let stats = h.client.delivery_stats();
    for reason in DiscardReason::ALL {
        assert_eq!(stats.dropped_count(reason, DataCategory::TraceMetric), 0);
    }
}

#[test]
fn close_sends_what_waits_and_later_metrics_are_dropped() {
    let h = harness(ClientOptions::new());
    h.run(|| metrics::counter("last", 1).capture());
    h.client.close(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent[0][0].name, "last");
    h.run(|| metrics::counter("too.late", 1).capture());
    assert!(batches(&h.transport.fetch_and_clear_envelopes()).is_empty());
}

#[test]
fn a_hub_without_a_client_drops_metrics_quietly() {
    let hub = std::sync::Arc::new(vigil_core::Hub::new(None, Default::default()));
    vigil_core::Hub::run(hub, || metrics::counter("nowhere", 1).capture());
}
