//! User feedback through the client: scope data and event processors
//! applied, `before_send_feedback` instead of `before_send`, no sampling,
//! one envelope per feedback, drops counted as `feedback`, and linking to
//! `last_event_id`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use vigil_core::protocol::{
    Context, DataCategory, DiscardReason, Envelope, EnvelopeItem, Event, Feedback, Level, User,
};
use vigil_core::{ClientOptions, Hub, TransactionContext, configure_scope};

use crate::support::{Harness, harness};

fn feedback(message: &str) -> Feedback {
    let mut feedback = Feedback::new(message);
    feedback.contact_email = Some("jane@example.com".into());
    feedback.name = Some("Jane".into());
    feedback
}

/// The feedback event of the only envelope sent, checked to be alone in
/// it, with the envelope header's id.
fn only_feedback(h: &Harness) -> Event {
    let envelopes = h.transport.fetch_and_clear_envelopes();
    assert_eq!(envelopes.len(), 1, "one envelope");
    let envelope = &envelopes[0];
    assert_eq!(envelope.items().len(), 1, "the feedback alone");
    let Some(EnvelopeItem::Feedback(event)) = envelope.items().next() else {
        panic!("a feedback item, not {:?}", envelope.items().next());
    };
    assert_eq!(envelope.headers().event_id, Some(event.event_id));
    (**event).clone()
}

fn trace_of(event: &Event) -> &vigil_core::protocol::TraceContext {
    match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace,
        other => panic!("no trace context: {other:?}"),
    }
}

#[test]
fn a_feedback_gets_the_scope_data_the_processors_and_its_trace() {
    let h = harness(
        ClientOptions::new()
            .release("shop@2.0")
            .environment("staging"),
    );
    let (id, trace_id) = h.run(|| {
        configure_scope(|scope| {
            scope.set_user(Some(User {
                id: Some("42".into()),
                ..Default::default()
            }));
            scope.set_tag("region", "eu");
            scope.set_context(
                "cart",
                std::collections::BTreeMap::from([("items".to_owned(), 3.into())]),
            );
            scope.set_extra("db_password", "hunter2".into());
            scope.add_event_processor(|mut event| {
                event.tags.insert("processed".into(), "yes".into());
                Some(event)
            });
        });
        let id = vigil_core::capture_feedback(feedback("The pay button does nothing."));
        let trace_id = configure_scope(|scope| scope.propagation_context().trace_id());
        (id, trace_id)
    });
    assert!(!id.is_nil());
    let event = only_feedback(&h);
    assert_eq!(event.event_id, id);
    assert_eq!(event.level, Level::Info);
    let sent = event.feedback().expect("the feedback context");
    assert_eq!(sent.message, "The pay button does nothing.");
    assert_eq!(sent.contact_email.as_deref(), Some("jane@example.com"));
    assert_eq!(sent.name.as_deref(), Some("Jane"));
    assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("42"));
    assert_eq!(event.tags["region"], "eu");
    assert_eq!(event.tags["processed"], "yes");
    assert!(matches!(event.contexts["cart"], Context::Other(_)));
    assert_eq!(trace_of(&event).trace_id, trace_id);
    assert_eq!(event.release.as_deref(), Some("shop@2.0"));
    assert_eq!(event.environment.as_deref(), Some("staging"));
    assert!(event.sdk.is_some());
    // The event scrubber ran, as for events.
    assert_eq!(event.extra["db_password"], "[Filtered]");
}

#[test]
fn a_feedback_in_a_span_carries_the_span() {
    let h = harness(ClientOptions::new().traces_sample_rate(1.0));
    let (transaction_trace, transaction_span) = h.run(|| {
        let transaction = Hub::current().start_transaction(TransactionContext::new("t", "task"));
        configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
        vigil_core::capture_feedback(feedback("slow"));
        let ids = (transaction.trace_id(), transaction.span_id());
        configure_scope(|scope| scope.set_span(None));
        transaction.finish();
        ids
    });
    let envelopes = h.transport.fetch_and_clear_envelopes();
    let feedbacks: Vec<&Envelope> = envelopes
        .iter()
        .filter(|e| e.feedback().is_some())
        .collect();
    assert_eq!(feedbacks.len(), 1);
    assert!(
        feedbacks[0].transaction().is_none() && feedbacks[0].event().is_none(),
        "never with a transaction or an event"
    );
    let trace = trace_of(feedbacks[0].feedback().unwrap());
    assert_eq!(trace.trace_id, transaction_trace);
    assert_eq!(trace.span_id, transaction_span);
    let header = feedbacks[0].headers().trace.as_deref().expect("the DSC");
    assert_eq!(header.trace_id(), Some(transaction_trace));
}

#[test]
fn before_send_never_sees_a_feedback_and_sampling_never_drops_one() {
    let before_send_calls = Arc::new(AtomicUsize::new(0));
    let calls = before_send_calls.clone();
    let h = harness(ClientOptions::new().sample_rate(0.0).before_send(move |_| {
        calls.fetch_add(1, Ordering::SeqCst);
        None
    }));
    let id = h.run(|| vigil_core::capture_feedback(feedback("kept")));
    assert!(!id.is_nil());
    assert_eq!(only_feedback(&h).feedback().unwrap().message, "kept");
    assert_eq!(before_send_calls.load(Ordering::SeqCst), 0);
    assert_eq!(h.client.loss_recorder().total_dropped(), 0);
}

#[test]
fn before_send_feedback_changes_or_drops_and_drops_are_counted_as_feedback() {
    let h = harness(ClientOptions::new().before_send_feedback(|mut event| {
        let feedback = event.feedback_mut().expect("a feedback event");
        match feedback.message.as_str() {
            "drop" => None,
            "panic" => panic!("before_send_feedback panics"),
            _ => {
                feedback.message.push_str(" (checked)");
                Some(event)
            }
        }
    }));
    h.run(|| {
        assert!(vigil_core::capture_feedback(feedback("drop")).is_nil());
        assert!(vigil_core::capture_feedback(feedback("panic")).is_nil());
        // Error events do not go through before_send_feedback.
        assert!(!vigil_core::capture_message("drop", Level::Error).is_nil());
        assert!(!vigil_core::capture_feedback(feedback("fine")).is_nil());
    });
    let envelopes = h.transport.fetch_and_clear_envelopes();
    assert_eq!(envelopes.len(), 2);
    assert_eq!(
        envelopes[0].event().unwrap().message.as_deref(),
        Some("drop")
    );
    assert_eq!(
        envelopes[1].feedback().unwrap().feedback().unwrap().message,
        "fine (checked)"
    );
    let r = h.client.loss_recorder();
    assert_eq!(
        r.total(DiscardReason::BeforeSend, DataCategory::Feedback),
        2
    );
    assert_eq!(r.total(DiscardReason::BeforeSend, DataCategory::Error), 0);
    assert_eq!(r.total_dropped(), 2);
}

#[test]
fn a_processor_that_drops_a_feedback_is_counted_as_feedback() {
    let h = harness(ClientOptions::new());
    h.run(|| {
        configure_scope(|scope| {
            scope.add_event_processor(|event| event.feedback().is_none().then_some(event));
        });
        assert!(vigil_core::capture_feedback(feedback("dropped")).is_nil());
        assert!(!vigil_core::capture_message("kept", Level::Error).is_nil());
    });
    assert_eq!(h.events().len(), 1);
    let r = h.client.loss_recorder();
    assert_eq!(
        r.total(DiscardReason::EventProcessor, DataCategory::Feedback),
        1
    );
    assert_eq!(r.total_dropped(), 1);
}

#[test]
fn a_feedback_links_to_the_last_event_and_does_not_replace_it() {
    let h = harness(ClientOptions::new());
    let (error_id, feedback_id, last_after) = h.run(|| {
        let error_id = vigil_core::capture_message("checkout failed", Level::Error);
        let mut report = feedback("I clicked pay and nothing happened.");
        report.associated_event_id = vigil_core::last_event_id();
        let feedback_id = vigil_core::capture_feedback(report);
        (error_id, feedback_id, vigil_core::last_event_id())
    });
    assert_eq!(
        last_after,
        Some(error_id),
        "a feedback is not an error event"
    );
    let envelopes = h.transport.fetch_and_clear_envelopes();
    assert_eq!(envelopes.len(), 2);
    let event = envelopes[1].feedback().unwrap();
    assert_eq!(event.event_id, feedback_id);
    assert_ne!(feedback_id, error_id);
    assert_eq!(envelopes[1].headers().event_id, Some(feedback_id));
    assert_eq!(
        event.feedback().unwrap().associated_event_id,
        Some(error_id)
    );
}

#[test]
fn a_long_message_is_cut_to_4096_characters() {
    let h = harness(ClientOptions::new());
    h.run(|| vigil_core::capture_feedback(Feedback::new("a".repeat(10_000))));
    let message = only_feedback(&h).feedback().unwrap().message.clone();
    assert_eq!(message.chars().count(), 4096);
    assert!(message.ends_with("..."));
}

#[test]
fn without_a_client_nothing_is_sent_and_the_id_is_nil() {
    let hub = Hub::new(None, Arc::new(vigil_core::Scope::new()));
    assert!(hub.capture_feedback(feedback("nobody listens")).is_nil());
}
