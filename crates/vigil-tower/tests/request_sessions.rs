//! Request mode: every request through `VigilLayer` is one release-health
//! session, counted in per-minute aggregates. 10,000 concurrent requests
//! on a 2-worker runtime (some capture an error, some panic, some have a
//! user) give `sessions` items whose counts add up to exactly the requests
//! made, per outcome and per user. Own binary: it silences the panic hook.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::routing::get;
use tower::ServiceExt;
use vigil_core::protocol::{Envelope, EnvelopeItem, SessionAggregates, User};
use vigil_core::{ClientOptions, Hub, HubFutureExt, SessionMode};
use vigil_tower::VigilLayer;

const REQUESTS: usize = 10_000;

/// What request `i` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Fine,
    Error,
    Panic,
}

fn kind(i: usize) -> Kind {
    if i % 23 == 7 {
        Kind::Panic
    } else if i % 10 == 3 {
        Kind::Error
    } else {
        Kind::Fine
    }
}

/// The user request `i` sets, if any.
fn user(i: usize) -> Option<String> {
    i.is_multiple_of(5).then(|| format!("user-{}", i % 3))
}

async fn handler(Path((i, kind)): Path<(usize, String)>) -> Result<&'static str, Infallible> {
    if let Some(id) = user(i) {
        vigil_core::configure_scope(|scope| {
            scope.set_user(Some(User {
                id: Some(id),
                ..Default::default()
            }));
        });
    }
    tokio::task::yield_now().await;
    match kind.as_str() {
        "error" => {
            vigil_core::capture_error(&std::io::Error::other("request failed"));
        }
        "panic" => panic!("request {i} panicked"),
        _ => {}
    }
    Ok("ok")
}

fn path(i: usize) -> String {
    let kind = match kind(i) {
        Kind::Fine => "fine",
        Kind::Error => "error",
        Kind::Panic => "panic",
    };
    format!("/r/{i}/{kind}")
}

/// Sends every request concurrently on a 2-worker runtime; returns how
/// many panicked.
fn serve_all() -> usize {
    let app = Router::new()
        .route("/r/{i}/{kind}", get(handler))
        .layer(VigilLayer::new().capture_panics(true));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a runtime");
    let hub = Hub::current();
    runtime.block_on(async move {
        let tasks: Vec<_> = (0..REQUESTS)
            .map(|i| {
                let request = http::Request::get(path(i))
                    .header("host", "example.com")
                    .body(Body::empty())
                    .expect("a request");
                let future = app.clone().oneshot(request).bind_hub(hub.clone());
                tokio::spawn(future)
            })
            .collect();
        let mut panicked = 0;
        for task in tasks {
            match task.await {
                Ok(response) => assert!(response.expect("infallible").status().is_success()),
                Err(e) if e.is_panic() => panicked += 1,
                Err(e) => panic!("a request task failed: {e}"),
            }
        }
        panicked
    })
}

/// Every `sessions` item the client sent.
fn aggregates(envelopes: &[Envelope]) -> Vec<SessionAggregates> {
    envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::SessionAggregates(a) => Some((**a).clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn ten_thousand_requests_are_ten_thousand_sessions() {
    // The panics are expected: keep their messages off stderr.
    std::panic::set_hook(Box::new(|_| {}));
    let mut panicked = 0;
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || panicked = serve_all(),
        ClientOptions::new()
            .release("request-sessions@1.0.0")
            .environment("test"),
    );
    let _ = std::panic::take_hook();

    let expected_panics = (0..REQUESTS).filter(|&i| kind(i) == Kind::Panic).count();
    assert_eq!(panicked, expected_panics);
    // Request mode (Auto switched on the first request): no session of
    // the process, no single updates.
    assert!(
        envelopes
            .iter()
            .flat_map(|e| e.items())
            .all(|i| !matches!(i, EnvelopeItem::Session(_)))
    );

    let aggregates = aggregates(&envelopes);
    assert!(!aggregates.is_empty(), "the close sends the aggregates");
    // Expected counts per (user, outcome).
    let mut expected: BTreeMap<(Option<String>, &str), u32> = BTreeMap::new();
    for i in 0..REQUESTS {
        let outcome = match kind(i) {
            Kind::Fine => "exited",
            Kind::Error => "errored",
            Kind::Panic => "crashed",
        };
        *expected.entry((user(i), outcome)).or_default() += 1;
    }
    let mut counted: BTreeMap<(Option<String>, &str), u32> = BTreeMap::new();
    for item in &aggregates {
        assert_eq!(item.attributes.release, "request-sessions@1.0.0");
        assert_eq!(item.attributes.environment.as_deref(), Some("test"));
        assert!(item.aggregates.len() <= 100);
        for bucket in &item.aggregates {
            for (outcome, n) in [
                ("exited", bucket.exited),
                ("errored", bucket.errored),
                ("crashed", bucket.crashed),
                ("abnormal", bucket.abnormal),
            ] {
                if n > 0 {
                    *counted
                        .entry((bucket.distinct_id.clone(), outcome))
                        .or_default() += n;
                }
            }
        }
    }
    assert_eq!(counted, expected);
    let total: u64 = aggregates.iter().map(SessionAggregates::total).sum();
    assert_eq!(total, REQUESTS as u64);
}

#[test]
fn application_mode_counts_no_requests() {
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let app = Router::new()
                .route("/r/{i}/{kind}", get(handler))
                .layer(VigilLayer::new());
            let hub: Arc<Hub> = Hub::current();
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime")
                .block_on(async {
                    let request = http::Request::get(path(1))
                        .header("host", "example.com")
                        .body(Body::empty())
                        .expect("a request");
                    app.oneshot(request)
                        .bind_hub(hub)
                        .await
                        .expect("infallible");
                });
        },
        ClientOptions::new()
            .release("request-sessions@1.0.0")
            .session_mode(SessionMode::Application),
    );
    assert!(aggregates(&envelopes).is_empty());
}
