//! Semantics 4: pipeline order and drop reasons.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use vigil_core::protocol::{DataCategory, DiscardReason, Level};
use vigil_core::{ClientOptions, capture_message, configure_scope};

use crate::support::harness;

#[test]
fn order_is_scope_data_processors_before_send_then_sampling() {
    let trail = Arc::new(Mutex::new(Vec::<String>::new()));
    let t = trail.clone();
    let before_send_calls = Arc::new(AtomicUsize::new(0));
    let calls = before_send_calls.clone();
    let h = harness(ClientOptions::new().sample_rate(0.0).before_send(move |e| {
        calls.fetch_add(1, Ordering::SeqCst);
        t.lock().unwrap().push(format!(
            "before_send sees tag={:?} proc={:?}",
            e.tags.get("scope"),
            e.tags.get("processor")
        ));
        Some(e)
    }));
    let t = trail.clone();
    let id = h.run(|| {
        configure_scope(move |s| {
            s.set_tag("scope", "1");
            s.add_event_processor(move |mut e| {
                t.lock()
                    .unwrap()
                    .push(format!("processor sees tag={:?}", e.tags.get("scope")));
                e.tags.insert("processor".into(), "1".into());
                Some(e)
            });
        });
        capture_message("m", Level::Error)
    });
    assert!(id.is_nil(), "sampled out events return the nil id");
    assert_eq!(
        *trail.lock().unwrap(),
        [
            "processor sees tag=Some(\"1\")",
            "before_send sees tag=Some(\"1\") proc=Some(\"1\")"
        ]
    );
    // Sampling comes after before_send, and is what dropped the event.
    assert_eq!(before_send_calls.load(Ordering::SeqCst), 1);
    let r = h.client.loss_recorder();
    assert_eq!(r.total(DiscardReason::SampleRate, DataCategory::Error), 1);
    assert_eq!(r.total_dropped(), 1);
    assert!(h.events().is_empty());
}

#[test]
fn each_drop_is_recorded_with_its_reason() {
    let h = harness(ClientOptions::new().before_send(|e| {
        if e.message.as_deref() == Some("drop-in-before-send") {
            None
        } else {
            Some(e)
        }
    }));
    h.run(|| {
        configure_scope(|s| {
            s.add_event_processor(|e| {
                if e.message.as_deref() == Some("drop-in-processor") {
                    None
                } else {
                    Some(e)
                }
            })
        });
        assert!(capture_message("drop-in-processor", Level::Error).is_nil());
        assert!(capture_message("drop-in-before-send", Level::Error).is_nil());
        assert!(!capture_message("kept", Level::Error).is_nil());
    });
    let r = h.client.loss_recorder();
    assert_eq!(
        r.total(DiscardReason::EventProcessor, DataCategory::Error),
        1
    );
    assert_eq!(r.total(DiscardReason::BeforeSend, DataCategory::Error), 1);
    assert_eq!(r.total_dropped(), 2);
    assert_eq!(h.events().len(), 1);
    // The client report carries the same counts, once.
    let report = r.take_report().unwrap();
    assert_eq!(report.discarded_events.len(), 2);
    assert!(r.take_report().is_none());
}

#[test]
fn sample_rate_keeps_about_its_share() {
    let h = harness(ClientOptions::new().sample_rate(0.5));
    let kept = h.run(|| {
        (0..2000)
            .filter(|_| !capture_message("m", Level::Error).is_nil())
            .count()
    });
    assert!((800..1200).contains(&kept), "kept {kept} of 2000");
    let dropped = h
        .client
        .loss_recorder()
        .total(DiscardReason::SampleRate, DataCategory::Error);
    assert_eq!(kept as u64 + dropped, 2000);
}

#[test]
fn oversized_events_are_trimmed_then_shed_not_dropped() {
    let h = harness(ClientOptions::default());
    h.run(|| {
        configure_scope(|s| {
            for i in 0..40 {
                s.set_extra(&format!("big{i}"), "x".repeat(15_000).into());
            }
        });
        let huge = "y".repeat(2_000_000);
        assert!(!capture_message(&huge, Level::Error).is_nil());
    });
    // The size limit is enforced where the bytes are produced.
    let envelopes = h.transport.fetch_and_clear_envelopes();
    let bytes = envelopes[0].to_vec().unwrap();
    let written = vigil_core::protocol::Envelope::from_slice(&bytes).unwrap();
    let event = written.event().unwrap();
    let size = serde_json::to_vec(event).unwrap().len();
    assert!(
        size <= vigil_core::protocol::limits::MAX_EVENT_SIZE,
        "{size}"
    );
    assert!(event.message.as_ref().unwrap().chars().count() <= 8192);
    assert!(event.extra.len() < 40, "extras were shed");
}
