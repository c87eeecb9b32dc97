//! Release-health sessions on a hub: explicit sessions, ending twice.

use vigil_core::protocol::{EnvelopeItem, SessionAggregates};

use vigil_core::{ClientOptions, Hub, SessionMode};

fn aggregates(options: ClientOptions, f: impl FnOnce()) -> Vec<SessionAggregates> {
    vigil_core::test::with_captured_envelopes_options(f, options)
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::SessionAggregates(a) => Some((**a).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn explicit_request_sessions_work_with_automatic_tracking_off() {
    let options = ClientOptions::new()
        .release("app@1")
        .auto_session_tracking(false)
        .session_mode(SessionMode::Request);
    let sent = aggregates(options, || {
        let hub = Hub::current();
        // What server integrations call: off with automatic tracking.
        assert!(!hub.start_request_session());
        hub.start_session();
        vigil_core::capture_error(&std::io::Error::other("failed"));
        hub.end_session();
        hub.start_session();
        hub.end_session();
    });
    assert_eq!(sent.len(), 1);
    let bucket = &sent[0].aggregates[0];
    assert_eq!((bucket.exited, bucket.errored), (1, 1));
}

#[test]
fn ending_twice_counts_once() {
    let options = ClientOptions::new()
        .release("app@1")
        .session_mode(SessionMode::Request);
    let sent = aggregates(options, || {
        let hub = Hub::current();
        assert!(hub.start_request_session());
        let _inner = hub.push_scope();
        // The pushed scope shares the session: ending it there ends it.
        hub.end_session();
        drop(_inner);
        hub.end_session();
    });
    assert_eq!(sent.iter().map(SessionAggregates::total).sum::<u64>(), 1);
}
