//! Hub affinity: an event inside a recorded span is captured into the hub
//! that was current when the span was created, on whichever thread it is
//! emitted.

use std::sync::Arc;

use tracing::instrument::WithSubscriber;
use tracing::{Dispatch, Instrument, error, info_span, warn};
use tracing_subscriber::prelude::*;
use vigil_core::protocol::{Event, Level};
use vigil_core::test::with_captured_events;
use vigil_core::{Hub, HubFutureExt};
use vigil_tracing::VigilLayer;

fn dispatch() -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(VigilLayer::new()))
}

/// A hub forked from the current one, tagged `request = id`.
fn request_hub(id: u32) -> Arc<Hub> {
    let hub = Arc::new(Hub::new_from_top(Hub::current()));
    hub.configure_scope(|scope| scope.set_tag("request", id));
    hub
}

fn tag(event: &Event) -> Option<&str> {
    event.tags.get("request").map(|v| v.as_str())
}

/// A field of the event's `Rust Tracing Fields` context.
fn field<'a>(event: &'a Event, name: &str) -> &'a serde_json::Value {
    match &event.contexts["Rust Tracing Fields"] {
        vigil_core::protocol::Context::Other(fields) => &fields[name],
        other => panic!("not a map: {other:?}"),
    }
}

#[test]
fn span_keeps_its_hub_on_another_thread() {
    let dispatch = dispatch();
    let events = with_captured_events(|| {
        let hub = request_hub(1);
        let span = tracing::dispatcher::with_default(&dispatch, || {
            Hub::run(hub.clone(), || info_span!("request", id = 1))
        });
        std::thread::spawn({
            let dispatch = dispatch.clone();
            move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    {
                        let _entered = span.enter();
                        warn!("inside the span");
                        error!("captured into the request hub");
                    }
                    // Outside the span this thread's own hub is used: it has
                    // no client (it was forked from the main hub), so the
                    // event is dropped.
                    error!("outside the span");
                })
            }
        })
        .join()
        .unwrap();
        // The breadcrumb went into the request hub's scope too.
        hub.capture_message("later", Level::Info);
    });
    let messages: Vec<_> = events.iter().map(|e| e.message.clone().unwrap()).collect();
    assert_eq!(messages, ["captured into the request hub", "later"]);
    assert!(events.iter().all(|e| tag(e) == Some("1")));
    let crumbs: Vec<_> = events[1]
        .breadcrumbs
        .iter()
        .map(|c| c.message.clone())
        .collect();
    assert_eq!(crumbs, [Some("inside the span".to_owned())]);
    let spans = serde_json::to_value(&events[0].contexts["tracing_spans"]).unwrap();
    assert_eq!(
        spans,
        serde_json::json!({"spans": [{"name": "request", "fields": {"id": 1}}]})
    );
}

#[test]
fn without_a_span_the_current_hub_is_used() {
    let dispatch = dispatch();
    let events = with_captured_events(|| {
        let hub = request_hub(2);
        tracing::dispatcher::with_default(&dispatch, || {
            Hub::run(hub, || error!("in the request hub"));
            error!("in the test hub");
        });
    });
    let tags: Vec<_> = events.iter().map(tag).collect();
    assert_eq!(tags, [Some("2"), None]);
}

#[test]
fn innermost_recorded_span_decides() {
    let dispatch = dispatch();
    let events = with_captured_events(|| {
        let (outer_hub, inner_hub) = (request_hub(1), request_hub(2));
        tracing::dispatcher::with_default(&dispatch, || {
            let outer = Hub::run(outer_hub, || info_span!("outer"));
            let _outer = outer.enter();
            let inner = Hub::run(inner_hub, || info_span!("inner"));
            {
                let _inner = inner.enter();
                // Not recorded (DEBUG): does not change the hub.
                let debug = tracing::debug_span!("debug");
                let _debug = debug.enter();
                error!("inner");
            }
            error!("outer");
            // An explicit parent wins over the entered spans.
            error!(parent: &inner, "explicit parent");
            error!(parent: None, "no parent");
        });
    });
    let got: Vec<_> = events
        .iter()
        .map(|e| (e.message.clone().unwrap(), tag(e).map(str::to_owned)))
        .collect();
    let want = [
        ("inner", Some("2")),
        ("outer", Some("1")),
        ("explicit parent", Some("2")),
        ("no parent", None),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(m, t)| ((*m).to_owned(), t.map(str::to_owned)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn spans_created_in_bound_futures_follow_their_tasks_across_threads() {
    let dispatch = dispatch();
    let events = with_captured_events(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let requests: Vec<_> = (0..8)
            .map(|id| {
                let inner_dispatch = dispatch.clone();
                let request = async move {
                    let span = info_span!("request", id);
                    // A task spawned without binding a hub: it runs on any
                    // worker thread, whose current hub is not the request's.
                    let work = async move {
                        tokio::task::yield_now().await;
                        error!(id, "request failed");
                    };
                    tokio::spawn(work.instrument(span).with_subscriber(inner_dispatch))
                        .await
                        .unwrap();
                };
                runtime.spawn(
                    request
                        .bind_hub(request_hub(id))
                        .with_subscriber(dispatch.clone()),
                )
            })
            .collect();
        runtime.block_on(async {
            for request in requests {
                request.await.unwrap();
            }
        });
    });
    assert_eq!(events.len(), 8);
    for event in &events {
        assert_eq!(tag(event), Some(field(event, "id").to_string().as_str()));
    }
}
