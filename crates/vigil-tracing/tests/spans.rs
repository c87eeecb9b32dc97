//! `tracing` spans as Sentry spans: the exact tree (parents, ops, names,
//! data, status, ordered timestamps) for nested `#[instrument]` functions,
//! an instrumented future polled on the workers of a 2-thread runtime,
//! 2,000 concurrent instrumented requests each on its own hub, spans
//! closed out of order, and the current span as what events and outgoing
//! headers carry. Subscribers are set per thread (`with_default`) or per
//! future (`WithSubscriber`), so no global state is touched.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing::{Instrument, error, info_span, instrument};
use tracing_subscriber::prelude::*;
use vigil_core::protocol::{
    Context, Envelope, Event, Span, SpanId, SpanStatus, Transaction, Value,
};
use vigil_core::{ClientOptions, Hub, HubFutureExt};

fn traced() -> ClientOptions {
    ClientOptions::new().traces_sample_rate(1.0)
}

fn dispatch() -> tracing::Dispatch {
    tracing::Dispatch::new(tracing_subscriber::registry().with(vigil_tracing::layer()))
}

/// Runs `f` under the layer with tracing on; returns what was sent.
fn run(options: ClientOptions, f: impl FnOnce()) -> Vec<Envelope> {
    let dispatch = dispatch();
    vigil_core::test::with_captured_envelopes_options(
        || tracing::dispatcher::with_default(&dispatch, f),
        options,
    )
}

fn transactions(envelopes: &[Envelope]) -> Vec<Transaction> {
    envelopes
        .iter()
        .filter_map(|e| e.transaction().cloned())
        .collect()
}

fn events(envelopes: &[Envelope]) -> Vec<Event> {
    envelopes
        .iter()
        .filter_map(|e| e.event().cloned())
        .collect()
}

fn trace_of(event: &Event) -> (SpanId, Option<SpanId>) {
    match &event.contexts["trace"] {
        Context::Trace(trace) => (trace.span_id, trace.parent_span_id),
        other => panic!("not a trace context: {other:?}"),
    }
}

fn root_span_id(transaction: &Transaction) -> SpanId {
    match &transaction.contexts["trace"] {
        Context::Trace(trace) => trace.span_id,
        other => panic!("not a trace context: {other:?}"),
    }
}

fn span<'a>(transaction: &'a Transaction, name: &str) -> &'a Span {
    transaction
        .spans
        .iter()
        .find(|s| s.description.as_deref() == Some(name))
        .unwrap_or_else(|| panic!("no span {name} in {:#?}", transaction.spans))
}

/// Every span starts no earlier than its parent and ends no later.
fn assert_nested(transaction: &Transaction) {
    let by_id: BTreeMap<SpanId, &Span> = transaction.spans.iter().map(|s| (s.span_id, s)).collect();
    let root = root_span_id(transaction);
    for span in &transaction.spans {
        let end = span.timestamp.expect("finished");
        assert!(span.start_timestamp <= end);
        match span.parent_span_id {
            Some(parent) if parent == root => {
                assert!(span.start_timestamp >= transaction.start_timestamp);
                assert!(end <= transaction.timestamp);
            }
            Some(parent) => {
                let parent = by_id
                    .get(&parent)
                    .expect("the parent is in the transaction");
                assert!(span.start_timestamp >= parent.start_timestamp);
                assert!(end <= parent.timestamp.expect("finished"));
            }
            None => panic!("a child span without parent: {span:?}"),
        }
    }
}

#[instrument(fields(order = 7, op = "task"))]
fn process_order(customer: &str) {
    load_items(3);
    tracing::Span::current().record("order", 8);
}

#[instrument]
fn load_items(count: u32) {
    let _query = info_span!("query", op = "db.query", sql = "SELECT 1").entered();
    error!(count, "item 2 is missing");
}

#[test]
fn nested_instrumented_functions_make_one_transaction() {
    let envelopes = run(traced(), || process_order("acme"));
    let transactions = transactions(&envelopes);
    assert_eq!(transactions.len(), 1, "{envelopes:#?}");
    let tx = &transactions[0];
    assert_eq!(tx.name.as_deref(), Some("process_order"));
    let Context::Trace(trace) = &tx.contexts["trace"] else {
        panic!("a trace context");
    };
    // `op` names the op; the target otherwise.
    assert_eq!(trace.op.as_deref(), Some("task"));
    assert_eq!(trace.data.get("customer"), Some(&json!("acme")));
    // Recorded later, it replaces the first value.
    assert_eq!(trace.data.get("order"), Some(&json!(8)));
    assert!(!trace.data.contains_key("op"));

    assert_eq!(tx.spans.len(), 2, "{:#?}", tx.spans);
    let load = span(tx, "load_items");
    let query = span(tx, "query");
    assert_eq!(load.parent_span_id, Some(trace.span_id));
    assert_eq!(load.op.as_deref(), Some("spans"), "the target");
    assert_eq!(load.data.get("count"), Some(&json!(3)));
    assert_eq!(query.parent_span_id, Some(load.span_id));
    assert_eq!(query.op.as_deref(), Some("db.query"));
    assert_eq!(query.origin.as_deref(), Some("auto.tracing"));
    assert_eq!(trace.origin.as_deref(), Some("auto.tracing"));
    assert_eq!(query.data.get("sql"), Some(&json!("SELECT 1")));
    // The error inside `query` marks it, and only it.
    assert_eq!(query.status, Some(SpanStatus::InternalError));
    assert_ne!(load.status, Some(SpanStatus::InternalError));
    assert_nested(tx);

    let events = events(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(trace_of(&events[0]).0, query.span_id, "linked to its span");
}

#[test]
fn events_and_outgoing_headers_follow_the_current_span() {
    let mut seen = None;
    let envelopes = run(traced(), || {
        let span = info_span!("checkout");
        let entered = span.enter();
        let hub = Hub::current();
        let headers: Vec<(&str, String)> = hub.iter_trace_propagation_headers().collect();
        let current = hub.current_span().expect("the span is current");
        seen = Some((headers, current.span_id()));
        vigil_core::capture_message("inside", vigil_core::protocol::Level::Error);
        drop(entered);
        // Exited: the scope's own trace again.
        assert!(Hub::current().current_span().is_none());
        vigil_core::capture_message("outside", vigil_core::protocol::Level::Error);
    });
    let (headers, span_id) = seen.unwrap();
    assert_eq!(headers[0].0, "sentry-trace");
    assert!(headers[0].1.contains(&span_id.to_string()), "{headers:?}");
    let events = events(&envelopes);
    assert_eq!(trace_of(&events[0]).0, span_id);
    assert_ne!(trace_of(&events[1]).0, span_id);
    let tx = &transactions(&envelopes)[0];
    assert_eq!(root_span_id(tx), span_id);
}

/// The current span is found through the registry under any stack built
/// on `tracing_subscriber::registry()`: other layers around it, and the
/// layer behind a per-layer filter.
#[test]
fn the_current_span_is_found_in_layered_stacks() {
    use tracing_subscriber::filter::LevelFilter;
    let stacks = [
        tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(LevelFilter::TRACE)
                .with(vigil_tracing::layer())
                .with(LevelFilter::TRACE),
        ),
        tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(vigil_tracing::layer().with_filter(LevelFilter::INFO)),
        ),
    ];
    for dispatch in stacks {
        let mut inner = None;
        let envelopes = vigil_core::test::with_captured_envelopes_options(
            || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let _outer = info_span!("outer").entered();
                    // Not recorded by the layer (DEBUG): the current span
                    // is its nearest traced ancestor.
                    let _quiet = tracing::debug_span!("quiet").entered();
                    let _leaf = info_span!("leaf").entered();
                    inner = Hub::current().current_span().map(|s| s.span_id());
                    vigil_core::capture_message("inside", vigil_core::protocol::Level::Error);
                });
            },
            traced(),
        );
        let tx = &transactions(&envelopes)[0];
        let leaf = tx
            .spans
            .iter()
            .find(|s| s.description.as_deref() == Some("leaf"));
        let leaf = leaf.expect("the leaf span");
        assert_eq!(leaf.parent_span_id, Some(root_span_id(tx)));
        assert_eq!(inner, Some(leaf.span_id));
        assert_eq!(trace_of(&events(&envelopes)[0]).0, leaf.span_id);
    }
}

/// In a sampled-out trace the spans keep distinct ids, events and headers
/// carry the innermost one and the decision, and nothing is sent but the
/// event.
#[test]
fn an_unsampled_trace_still_links_events_and_headers() {
    let mut seen = None;
    let options = ClientOptions::new().traces_sampler(|_| 0.0);
    let envelopes = run(options, || {
        let _root = info_span!("root").entered();
        let root = Hub::current().current_span().expect("the root");
        let _child = info_span!("child").entered();
        let hub = Hub::current();
        let child = hub.current_span().expect("the child");
        assert!(!child.is_sampled());
        assert_eq!(child.trace_id(), root.trace_id());
        assert_ne!(child.span_id(), root.span_id());
        let headers: Vec<(&str, String)> = hub.iter_trace_propagation_headers().collect();
        seen = Some((headers, child.trace_id(), child.span_id()));
        vigil_core::capture_message("inside", vigil_core::protocol::Level::Error);
    });
    let (headers, trace_id, span_id) = seen.unwrap();
    assert_eq!(
        headers[0],
        ("sentry-trace", format!("{trace_id}-{span_id}-0"))
    );
    assert!(transactions(&envelopes).is_empty());
    let events = events(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(trace_of(&events[0]).0, span_id);
}

#[test]
fn an_instrumented_future_moves_between_workers() {
    let dispatch = dispatch();
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let hub = Hub::current();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            runtime.block_on(async {
                let work = async {
                    let mut threads = Vec::new();
                    for step in 0..10 {
                        let child = info_span!("step", step);
                        async {
                            threads.push(std::thread::current().id());
                            tokio::task::yield_now().await;
                        }
                        .instrument(child)
                        .await;
                        // Spawned work makes the runtime move this task.
                        tokio::spawn(async {}).await.unwrap();
                    }
                    threads
                }
                .instrument(tracing::dispatcher::with_default(&dispatch, || {
                    info_span!("job")
                }))
                .with_subscriber(dispatch.clone())
                .bind_hub(hub.clone());
                let threads = tokio::spawn(work).await.unwrap();
                assert_eq!(threads.len(), 10);
            });
        },
        traced(),
    );
    let transactions = transactions(&envelopes);
    assert_eq!(transactions.len(), 1, "{envelopes:#?}");
    let tx = &transactions[0];
    assert_eq!(tx.name.as_deref(), Some("job"));
    assert_eq!(tx.spans.len(), 10);
    let root = root_span_id(tx);
    let mut steps: Vec<i64> = tx
        .spans
        .iter()
        .map(|s| {
            assert_eq!(s.parent_span_id, Some(root));
            s.data["step"].as_i64().unwrap()
        })
        .collect();
    steps.sort_unstable();
    assert_eq!(steps, (0..10).collect::<Vec<_>>());
    assert_nested(tx);
}

#[test]
fn concurrent_requests_keep_their_spans_apart() {
    const REQUESTS: usize = 2_000;
    let dispatch = dispatch();
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let main = Hub::current();
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap();
            runtime.block_on(async {
                let tasks: Vec<_> = (0..REQUESTS)
                    .map(|i| {
                        // A hub per request, as the tower layer makes.
                        let hub = Arc::new(Hub::new_from_top(&main));
                        let request = async move {
                            let db = info_span!("db", request = i);
                            async {
                                tokio::task::yield_now().await;
                                let _render = info_span!("render", request = i).entered();
                            }
                            .instrument(db)
                            .await;
                            tokio::task::yield_now().await;
                        };
                        // The request's span is created under its hub, as a
                        // server's would be.
                        let span = Hub::run(hub.clone(), || {
                            tracing::dispatcher::with_default(&dispatch, || {
                                info_span!("request", request = i)
                            })
                        });
                        let request = request
                            .instrument(span)
                            .with_subscriber(dispatch.clone())
                            .bind_hub(hub);
                        tokio::spawn(request)
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            });
        },
        traced(),
    );
    let transactions = transactions(&envelopes);
    assert_eq!(transactions.len(), REQUESTS);
    let mut seen = vec![false; REQUESTS];
    for tx in &transactions {
        let Context::Trace(trace) = &tx.contexts["trace"] else {
            panic!("a trace context");
        };
        let request = trace.data["request"].as_u64().unwrap() as usize;
        assert!(!seen[request], "request {request} twice");
        seen[request] = true;
        assert_eq!(tx.spans.len(), 2, "{:#?}", tx.spans);
        let db = span(tx, "db");
        let render = span(tx, "render");
        assert_eq!(db.parent_span_id, Some(trace.span_id));
        assert_eq!(render.parent_span_id, Some(db.span_id));
        for s in &tx.spans {
            assert_eq!(
                s.data["request"],
                Value::from(request),
                "a span of another request"
            );
            assert_eq!(s.trace_id, trace.trace_id);
        }
        assert_nested(tx);
    }
}

#[test]
fn spans_closed_out_of_order_neither_panic_nor_corrupt() {
    let envelopes = run(traced(), || {
        let root = info_span!("root");
        let child = root.in_scope(|| info_span!("child"));
        let grandchild = child.in_scope(|| info_span!("grandchild"));
        // Never entered, closed before its parent; the parent closes
        // before its own child, which outlives the transaction.
        drop(grandchild);
        let late = root.in_scope(|| info_span!("late"));
        drop(root);
        drop(child);
        drop(late);
        // The next root span is a transaction of its own.
        let _next = info_span!("next").entered();
    });
    let transactions = transactions(&envelopes);
    let names: Vec<_> = transactions
        .iter()
        .map(|t| t.name.clone().unwrap())
        .collect();
    // `root` closes once every span inside it did (tracing keeps a parent
    // open while children hold it), so all its spans are in it.
    assert_eq!(names, ["root", "next"]);
    let root = &transactions[0];
    let mut spans: Vec<_> = root
        .spans
        .iter()
        .map(|s| s.description.clone().unwrap())
        .collect();
    spans.sort();
    assert_eq!(spans, ["child", "grandchild", "late"]);
    assert_eq!(
        span(root, "grandchild").parent_span_id,
        Some(span(root, "child").span_id)
    );
    assert_nested(root);
}

#[test]
fn spans_of_another_hub_are_not_parents() {
    let envelopes = run(traced(), || {
        let _server = info_span!("server").entered();
        let request_hub = Arc::new(Hub::new_from_top(Hub::current()));
        Hub::run(request_hub, || {
            let _handler = info_span!("handler").entered();
            let _query = info_span!("query").entered();
        });
    });
    let mut names: Vec<_> = transactions(&envelopes)
        .iter()
        .map(|t| (t.name.clone().unwrap(), t.spans.len()))
        .collect();
    names.sort();
    // The request's spans make their own transaction, not spans of the
    // server's.
    assert_eq!(names, [("handler".to_owned(), 1), ("server".to_owned(), 0)]);
}

#[test]
fn unsampled_and_untraced_spans_send_nothing() {
    let sampled_out = run(ClientOptions::new().traces_sampler(|_| 0.0), || {
        process_order("acme");
    });
    assert!(transactions(&sampled_out).is_empty());
    assert_eq!(events(&sampled_out).len(), 1, "the error is still captured");
    let untraced = run(ClientOptions::new(), || process_order("acme"));
    assert!(transactions(&untraced).is_empty());
    assert_eq!(events(&untraced).len(), 1);
}

#[test]
fn the_transaction_filter_chooses_the_roots() {
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(vigil_tracing::layer().transaction_filter(|md| md.name() == "wanted")),
    );
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            tracing::dispatcher::with_default(&dispatch, || {
                info_span!("unwanted").in_scope(|| {
                    let _child = info_span!("child").entered();
                });
                info_span!("wanted").in_scope(|| {
                    let _child = info_span!("child").entered();
                });
            });
        },
        traced(),
    );
    let transactions = transactions(&envelopes);
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].name.as_deref(), Some("wanted"));
    assert_eq!(transactions[0].spans.len(), 1);
}

#[test]
fn a_span_exited_on_another_thread_corrupts_nothing() {
    let dispatch = dispatch();
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let hub = Hub::current();
            tracing::dispatcher::with_default(&dispatch, || {
                let root = info_span!("root");
                let id = root.id().unwrap();
                // Entered here, exited on another thread (what tracing's
                // registry tolerates; `Span::enter` guards cannot do it).
                dispatch.enter(&id);
                let moved = (dispatch.clone(), id.clone(), hub.clone());
                std::thread::spawn(move || {
                    let (dispatch, id, hub) = moved;
                    Hub::run(hub, || dispatch.exit(&id));
                })
                .join()
                .unwrap();
                let _child = info_span!("child").entered();
                vigil_core::capture_message("inside", vigil_core::protocol::Level::Error);
                drop(_child);
                dispatch.exit(&id);
                drop(root);
            });
        },
        traced(),
    );
    let transactions = transactions(&envelopes);
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0];
    assert_eq!(tx.name.as_deref(), Some("root"));
    assert_eq!(tx.spans.len(), 1);
    let child = span(tx, "child");
    assert_eq!(child.parent_span_id, Some(root_span_id(tx)));
    assert_eq!(trace_of(&events(&envelopes)[0]).0, child.span_id);
}

#[test]
fn a_span_that_outlives_its_transaction_is_dropped_quietly() {
    let envelopes = run(traced(), || {
        let hub = Hub::current();
        // A transaction on the scope, as the tower layer sets one.
        let transaction = hub.start_transaction(vigil_core::TransactionContext::new(
            "GET /orders",
            "http.server",
        ));
        hub.configure_scope(|scope| {
            scope.set_span(Some(vigil_core::TransactionOrSpan::from(
                transaction.clone(),
            )));
        });
        let background = info_span!("background");
        let inside = info_span!("in_time");
        drop(inside);
        hub.configure_scope(|scope| scope.set_span(None));
        transaction.finish();
        // Closes after the transaction was sent.
        drop(background);
    });
    let transactions = transactions(&envelopes);
    assert_eq!(transactions.len(), 1);
    let names: Vec<_> = transactions[0]
        .spans
        .iter()
        .map(|s| s.description.clone().unwrap())
        .collect();
    assert_eq!(names, ["in_time"]);
}
