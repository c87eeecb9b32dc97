//! Structured logs through the client: the defaults a log gets, its trace
//! and span, `before_send_log`, and the batches they travel in.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use vigil_core::protocol::{
    DataCategory, DiscardReason, Envelope, EnvelopeItem, ItemContainer, Log, LogAttribute,
    LogLevel, Map, PARENT_SPAN_ID, User,
};
use vigil_core::{ClientOptions, TransactionContext};

use crate::support::harness;

fn log(body: &str) -> Log {
    Log {
        level: LogLevel::Info,
        body: body.to_owned(),
        trace_id: None,
        timestamp: SystemTime::now(),
        severity_number: None,
        attributes: Map::new(),
    }
}

/// The logs of every `log` item, per envelope.
fn batches(envelopes: &[Envelope]) -> Vec<Vec<Log>> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some(logs.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_log_gets_its_trace_and_the_default_attributes() {
    let h = harness(
        ClientOptions::new()
            .release("svc@1.0")
            .environment("staging")
            .server_name("web-1"),
    );
    let trace_id = h.run(|| {
        vigil_core::Hub::current().capture_log(log("hello"));
        vigil_core::configure_scope(|scope| scope.propagation_context().trace_id())
    });
    h.client.flush(None);
    let batches = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(batches.len(), 1);
    let sent = &batches[0][0];
    assert_eq!(sent.trace_id, Some(trace_id));
    assert!(sent.span_id().is_none(), "no span was active");
    assert_eq!(sent.severity_number, None);
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
    assert!(!sent.attributes.contains_key("user.id"));
}

#[test]
fn a_log_in_a_span_carries_the_span_and_the_user_only_with_pii() {
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
            vigil_core::Hub::current().capture_log(log("inside"));
            let ids = (transaction.trace_id(), transaction.span_id());
            transaction.finish();
            ids
        });
        h.client.flush(None);
        let batches = batches(&h.transport.fetch_and_clear_envelopes());
        let sent = &batches[0][0];
        assert_eq!(sent.trace_id, Some(trace_id));
        assert_eq!(sent.span_id(), Some(span_id));
        assert_eq!(
            sent.attributes.get(PARENT_SPAN_ID),
            Some(&LogAttribute::from(span_id.to_string()))
        );
        assert_eq!(sent.attributes.contains_key("user.id"), pii);
        assert_eq!(sent.attributes.contains_key("user.name"), pii);
        assert_eq!(sent.attributes.contains_key("user.email"), pii);
    }
}

#[test]
fn attributes_set_by_the_caller_are_kept() {
    let h = harness(ClientOptions::new().release("svc@1.0"));
    h.run(|| {
        let mut mine = log("mine");
        mine.attributes
            .insert("sentry.release".into(), LogAttribute::from("other@2"));
        vigil_core::Hub::current().capture_log(mine);
    });
    h.client.flush(None);
    let batches = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(
        batches[0][0].attributes["sentry.release"],
        LogAttribute::from("other@2")
    );
}

#[test]
fn a_full_batch_goes_at_once_and_the_rest_on_flush() {
    let h = harness(ClientOptions::new());
    h.run(|| {
        for i in 0..250 {
            vigil_core::Hub::current().capture_log(log(&format!("log {i}")));
        }
    });
    // Two full batches were handed over while capturing.
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), [100, 100]);
    h.client.flush(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent.iter().map(Vec::len).collect::<Vec<_>>(), [50]);
    assert_eq!(sent[0][49].body, "log 249");
}

#[test]
fn a_batch_is_sent_five_seconds_after_its_first_log() {
    let h = harness(ClientOptions::new());
    let started = Instant::now();
    h.run(|| vigil_core::Hub::current().capture_log(log("waits")));
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
fn before_send_log_changes_or_drops_and_the_drops_are_counted() {
    let h = harness(ClientOptions::new().before_send_log(|mut log| {
        if log.body.contains("secret") {
            return None;
        }
        if log.body == "boom" {
            panic!("before_send_log failed");
        }
        log.body.push_str(" (seen)");
        Some(log)
    }));
    h.run(|| {
        for body in ["kept", "a secret", "boom"] {
            vigil_core::Hub::current().capture_log(log(body));
        }
    });
    h.client.flush(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent[0].len(), 1);
    assert_eq!(sent[0][0].body, "kept (seen)");
    let stats = h.client.delivery_stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::BeforeSend, DataCategory::LogItem),
        2
    );
    assert!(stats.dropped_count(DiscardReason::BeforeSend, DataCategory::LogByte) > 100);
}

#[test]
fn close_sends_what_waits_and_later_logs_are_dropped() {
    let h = harness(ClientOptions::new());
    h.run(|| vigil_core::Hub::current().capture_log(log("last words")));
    h.client.close(None);
    let sent = batches(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent[0][0].body, "last words");
    h.run(|| vigil_core::Hub::current().capture_log(log("too late")));
    assert!(batches(&h.transport.fetch_and_clear_envelopes()).is_empty());
}

#[test]
fn a_log_envelope_carries_no_sampling_context() {
    let h = harness(ClientOptions::new().traces_sample_rate(1.0));
    h.run(|| vigil_core::Hub::current().capture_log(log("no dsc")));
    h.client.flush(None);
    let envelopes = h.transport.fetch_and_clear_envelopes();
    assert_eq!(envelopes.len(), 1);
    assert!(envelopes[0].headers().trace.is_none());
    assert_eq!(envelopes[0].items().len(), 1);
}

#[test]
fn macros_capture_nothing_without_a_client_and_evaluate_nothing() {
    let evaluated = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = evaluated.clone();
    let value = move || {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        1
    };
    vigil_core::Hub::run(
        Arc::new(vigil_core::Hub::new(
            None,
            Arc::new(vigil_core::Scope::new()),
        )),
        || vigil_core::logger_info!(n = value(), "no client"),
    );
    assert!(!evaluated.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn every_format_argument_is_a_numbered_parameter() {
    let h = harness(ClientOptions::new());
    h.run(|| {
        vigil_core::logger_info!("{}{}{}{}{}{}{}{}{}{}", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    });
    h.client.flush(None);
    let sent = &batches(&h.transport.fetch_and_clear_envelopes())[0][0];
    assert_eq!(sent.body, "0123456789");
    for i in 0..10 {
        assert_eq!(
            sent.attributes[&format!("sentry.message.parameter.{i}")],
            LogAttribute::from(i)
        );
    }
    assert!(!sent.attributes.contains_key("sentry.message.parameter.10"));
}
