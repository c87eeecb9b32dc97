//! The tracing operations (`tx1` .. `tx5u`), each written once per SDK:
//! transactions and spans, outgoing headers, an error inside a
//! transaction, and a traced request through each SDK's tower layer.
//!
//! Both SDKs start from the suite's standard scope and serializing
//! transport, and trace with `traces_sample_rate = 1.0`, or, in the
//! sampled-out variants (`tx1u`, `tx5u`), with a `traces_sampler` that
//! answers 0.0 (see [`Tracing`]). Where the two SDKs do different work for
//! the same call, the op's docs below say so.
//!
//! After timing, each op runs its work once more on both SDKs with the
//! envelopes kept, and reports what each sent (`vigil_work`,
//! `sentry_work`) and the fields in which they differ (`work_differs`).

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use serde_json::{Value, json};
use tower::{Layer, Service};

use crate::ops::{
    Action, BaseScope, Env, Sessions, Tracing, drive, sentry_capture, sentry_crumb, setup_from,
    setup_traced, vigil_capture, vigil_crumb,
};
use crate::transports::{Mode, Observed};

const TX_NAME: &str = "process-order";
const TX_OP: &str = "task";
const SPAN_OP: &str = "db.query";
const QUERY: &str = "SELECT * FROM items WHERE id = $1";
/// Child spans of the transaction of `tx1`.
const SPANS: usize = 10;
/// `tx2`: spans finished on one transaction before it is replaced.
const SPANS_PER_TRANSACTION: u32 = 100;
/// `tx5`: one request in this many captures an error.
pub(crate) const CAPTURE_EVERY: u64 = 10;

/// Fields of an envelope item that must be the same for both SDKs (the
/// rest of a description is shown for information).
const COMPARED: [&str; 7] = [
    "type",
    "tags",
    "user",
    "breadcrumbs",
    "spans",
    "request",
    "in_transaction",
];

/// Sets up `op` and performs `action` on it; returns the child's report.
pub(crate) fn run(op: &str, action: Action) -> Value {
    let measuring = matches!(action, Action::Measure(_));
    let mut report = measure(op, action);
    if measuring {
        report["note"] = json!(note(op));
    }
    report
}

/// What differs between the two SDKs' work in `op`, for the suite's
/// report.
fn note(op: &str) -> &'static str {
    match op {
        "tx1" | "tx2" => {
            "Vigil writes about 20% more: every span also carries status and origin, the \
             transaction type, platform and transaction_info, the envelope header dsn, sdk \
             and the full sampling context (also release, environment, sample_rand, \
             transaction name; sentry 0.49: trace_id, public_key, sample_rate, sampled); \
             sentry writes start timestamps as float seconds, Vigil every timestamp as \
             RFC 3339"
        }
        "tx1u" => {
            "both count the transaction and its spans as sampled out; sentry keeps the \
             finished spans of the unsampled transaction until it ends (to count them), \
             Vigil counts them without keeping them"
        }
        "tx3" => {
            "Vigil gives sentry-trace and baggage, sentry 0.49 gives sentry-trace only: \
             formatting the baggage header is work only Vigil does"
        }
        "tx4" => {
            "Vigil's event envelope carries the trace's sampling context in its trace \
             header; sentry 0.49 sends none with events"
        }
        "tx5" | "tx5u" => {
            "VigilLayer (defaults) also names the scope's transaction (events get \
             `transaction`), puts http.request.method and url in the trace data (of the \
             transaction and of the events inside it), and records an http breadcrumb per \
             response (on a hub dropped right after); Vigil's event envelopes carry the \
             sampling context, sentry 0.49's none; the request data holds the same headers \
             (Vigil puts the query in query_string, sentry in the url)"
        }
        "rs0" | "rs1" => {
            "tracing off. rs1: Vigil counts each request as a session with its defaults \
             (VigilLayer starts and ends it); sentry-tower 0.49 starts no session itself, so \
             its handler calls sentry::start_session() first and sentry::end_session() last, \
             with session_mode Request; both aggregate per minute. VigilLayer also names the \
             scope's transaction and records an http breadcrumb per response"
        }
        _ => "",
    }
}

fn measure(op: &str, action: Action) -> Value {
    let measuring = matches!(action, Action::Measure(_));
    match op {
        // A transaction with 10 child spans (each started and finished),
        // finished and sent: sampling, ids, timestamps, the scope's data,
        // serialization.
        "tx1" | "tx1u" => {
            let tracing = if op == "tx1" {
                Tracing::Sampled
            } else {
                Tracing::Unsampled
            };
            let env = setup_traced(Some(Mode::Serialize), tracing);
            let mut report = drive(action, vigil_transaction, sentry_transaction);
            if measuring {
                envelope_counts(&mut report, &env);
                check(&mut report, &env, 1, vigil_transaction, sentry_transaction);
            }
            report
        }
        // One child span started and finished on a running sampled
        // transaction. The transaction is replaced (dropped unfinished, so
        // unsent, on both SDKs) every 100 spans, which keeps both below
        // their span limits (1000 each); the replacement's cost is in the
        // time, 1/100 per span.
        "tx2" => {
            let env = setup_traced(Some(Mode::Serialize), Tracing::Sampled);
            let mut vigil = VigilRunning::start();
            let mut sentry = SentryRunning::start();
            let mut report = drive(action, || vigil.span(), || sentry.span());
            if measuring {
                // A fresh transaction each, 3 spans, finished.
                let mut vigil = VigilRunning::start();
                let mut sentry = SentryRunning::start();
                check(
                    &mut report,
                    &env,
                    1,
                    move || {
                        for _ in 0..3 {
                            vigil.span();
                        }
                        vigil.transaction.clone().finish();
                    },
                    move || {
                        for _ in 0..3 {
                            sentry.span();
                        }
                        sentry.transaction.clone().finish();
                    },
                );
            }
            report
        }
        // The outgoing headers of a request made while a sampled
        // transaction is the scope's span, collected into a `Vec`, through
        // `configure_scope` on both SDKs. Vigil gives `sentry-trace` and
        // `baggage` (the trace's sampling context: trace id, public key,
        // sample rate, decision, sample_rand, release, environment,
        // transaction name); `sentry` 0.49 gives `sentry-trace` only, so
        // Vigil formats a second, longer header.
        "tx3" => {
            let env = setup_traced(Some(Mode::Serialize), Tracing::Sampled);
            let (vigil_tx, sentry_tx) = transactions_as_spans();
            let mut report = drive(
                action,
                || {
                    black_box(vigil_headers());
                },
                || {
                    black_box(sentry_headers());
                },
            );
            if measuring {
                let vigil_trace = vigil_tx.trace_id().to_string();
                let sentry_trace = sentry_tx.get_trace_context().trace_id.to_string();
                let v = describe_headers(&vigil_headers(), &vigil_trace);
                let s = describe_headers(&sentry_headers(), &sentry_trace);
                report["work_differs"] = json!(
                    ["names", "sentry_trace_in_transaction"]
                        .into_iter()
                        .filter(|field| v[field] != s[field])
                        .collect::<Vec<_>>()
                );
                report["vigil_work"] = v;
                report["sentry_work"] = s;
                envelope_counts(&mut report, &env);
            }
            report
        }
        // `capture_message` at error level while a sampled transaction is
        // the scope's span: the event carries the transaction's trace and
        // span. Vigil's event envelope also carries the trace's sampling
        // context in its `trace` header; `sentry` 0.49 sends none with
        // events.
        "tx4" => {
            let env = setup_traced(Some(Mode::Serialize), Tracing::Sampled);
            let (vigil_tx, sentry_tx) = transactions_as_spans();
            let mut report = drive(action, vigil_capture, sentry_capture);
            if measuring {
                // One more event each, then the transaction finished (and
                // sent), to show that the event belongs to it.
                check(
                    &mut report,
                    &env,
                    2,
                    move || {
                        vigil_capture();
                        vigil_tx.clone().finish();
                    },
                    move || {
                        sentry_capture();
                        sentry_tx.clone().finish();
                    },
                );
            }
            report
        }
        // A request through each SDK's tower layer with tracing on: a hub
        // per request, the request's data, a transaction per request
        // (`http.server`, named `GET /api/items/42`), sent when the
        // response is ready. See `vigil_app` and `sentry_app`.
        "tx5" | "tx5u" => {
            let tracing = if op == "tx5" {
                Tracing::Sampled
            } else {
                Tracing::Unsampled
            };
            let env = setup_traced(Some(Mode::Serialize), tracing);
            let mut vigil = vigil_app();
            let mut sentry = sentry_app();
            let (mut vi, mut si) = (0u64, 0u64);
            let mut report = drive(
                action,
                || serve(&mut vigil, &mut vi),
                || serve(&mut sentry, &mut si),
            );
            if measuring {
                envelope_counts(&mut report, &env);
                // Ten requests each, one of which captures: ten
                // transactions and one event (one event when unsampled).
                check(
                    &mut report,
                    &env,
                    11,
                    move || {
                        for _ in 0..CAPTURE_EVERY {
                            serve(&mut vigil, &mut vi);
                        }
                    },
                    move || {
                        for _ in 0..CAPTURE_EVERY {
                            serve(&mut sentry, &mut si);
                        }
                    },
                );
            }
            report
        }
        // A request through each SDK's tower layer, tracing off, without
        // (rs0) and with (rs1) request-mode sessions: rs1 - rs0 is what a
        // session costs per request.
        "rs0" | "rs1" => {
            let sessions = if op == "rs1" {
                Sessions::Requests
            } else {
                Sessions::Off
            };
            let env = setup_from(
                Some(Mode::Serialize),
                Tracing::Off,
                BaseScope::Standard,
                sessions,
            );
            let mut vigil = vigil_app();
            let mut sentry = sentry_untraced_app(sessions);
            let (mut vi, mut si) = (0u64, 0u64);
            let mut report = drive(
                action,
                || serve(&mut vigil, &mut vi),
                || serve(&mut sentry, &mut si),
            );
            if measuring {
                envelope_counts(&mut report, &env);
                check(
                    &mut report,
                    &env,
                    1,
                    move || {
                        for _ in 0..CAPTURE_EVERY {
                            serve(&mut vigil, &mut vi);
                        }
                    },
                    move || {
                        for _ in 0..CAPTURE_EVERY {
                            serve(&mut sentry, &mut si);
                        }
                    },
                );
            }
            report
        }
        other => panic!("unknown operation {other}"),
    }
}

// tx1: a transaction with 10 child spans.

fn vigil_transaction() {
    let transaction = vigil::start_transaction(vigil::TransactionContext::new(TX_NAME, TX_OP));
    for _ in 0..SPANS {
        transaction.start_child(SPAN_OP, QUERY).finish();
    }
    transaction.finish();
}

fn sentry_transaction() {
    let transaction = sentry::start_transaction(sentry::TransactionContext::new(TX_NAME, TX_OP));
    for _ in 0..SPANS {
        transaction.start_child(SPAN_OP, QUERY).finish();
    }
    transaction.finish();
}

// tx2: spans on a running transaction.

/// A running Vigil transaction and the spans finished on it.
struct VigilRunning {
    transaction: vigil::Transaction,
    spans: u32,
}

impl VigilRunning {
    fn start() -> VigilRunning {
        VigilRunning {
            transaction: vigil::start_transaction(vigil::TransactionContext::new(TX_NAME, TX_OP)),
            spans: 0,
        }
    }

    fn span(&mut self) {
        if self.spans == SPANS_PER_TRANSACTION {
            *self = VigilRunning::start();
        }
        self.transaction.start_child(SPAN_OP, QUERY).finish();
        self.spans += 1;
    }
}

/// A running `sentry` transaction and the spans finished on it.
struct SentryRunning {
    transaction: sentry::Transaction,
    spans: u32,
}

impl SentryRunning {
    fn start() -> SentryRunning {
        SentryRunning {
            transaction: sentry::start_transaction(sentry::TransactionContext::new(TX_NAME, TX_OP)),
            spans: 0,
        }
    }

    fn span(&mut self) {
        if self.spans == SPANS_PER_TRANSACTION {
            *self = SentryRunning::start();
        }
        self.transaction.start_child(SPAN_OP, QUERY).finish();
        self.spans += 1;
    }
}

// tx3 and tx4: a transaction as the scope's span.

/// Starts a transaction on each SDK and makes it the current scope's span.
fn transactions_as_spans() -> (vigil::Transaction, sentry::Transaction) {
    let vigil_tx = vigil::start_transaction(vigil::TransactionContext::new(TX_NAME, TX_OP));
    vigil::configure_scope(|scope| scope.set_span(Some(vigil_tx.clone().into())));
    let sentry_tx = sentry::start_transaction(sentry::TransactionContext::new(TX_NAME, TX_OP));
    sentry::configure_scope(|scope| scope.set_span(Some(sentry_tx.clone().into())));
    (vigil_tx, sentry_tx)
}

fn vigil_headers() -> Vec<(&'static str, String)> {
    vigil::configure_scope(|scope| scope.iter_trace_propagation_headers().collect())
}

fn sentry_headers() -> Vec<(&'static str, String)> {
    sentry::configure_scope(|scope| scope.iter_trace_propagation_headers().collect())
}

/// Names and lengths of `headers`, and whether `sentry-trace` names the
/// trace `trace_id` and says "sampled".
fn describe_headers(headers: &[(&str, String)], trace_id: &str) -> Value {
    let sentry_trace = headers
        .iter()
        .find(|(name, _)| *name == "sentry-trace")
        .map(|(_, value)| value.as_str());
    json!({
        "names": headers.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        "headers": headers
            .iter()
            .map(|(name, value)| format!("{name} ({} B)", value.len()))
            .collect::<Vec<_>>(),
        "sentry_trace_in_transaction": sentry_trace
            .is_some_and(|v| v.starts_with(trace_id) && v.ends_with("-1")),
    })
}

// tx5: a request through the tower layers.

/// The request: a path, a host and three more headers, one of them a
/// request id unique to the request (both SDKs copy the headers into the
/// event's and the transaction's request data).
fn request(i: u64) -> http::Request<()> {
    http::Request::get("/api/items/42?page=2")
        .header(http::header::HOST, "example.com")
        .header(http::header::USER_AGENT, "bench-client/1.0")
        .header(http::header::ACCEPT, "application/json")
        .header("x-request-id", format!("{i:016x}"))
        .body(())
        .expect("a valid request")
}

/// Whether the handler captures an error for `request`: one request in
/// [`CAPTURE_EVERY`], by its id.
fn captures(request: &http::Request<()>) -> bool {
    request
        .headers()
        .get("x-request-id")
        .and_then(|id| u64::from_str_radix(id.to_str().ok()?, 16).ok())
        .is_some_and(|id| id % CAPTURE_EVERY == 0)
}

async fn vigil_handler(request: http::Request<()>) -> Result<http::Response<()>, Infallible> {
    vigil::configure_scope(|scope| scope.set_tag("handler", "get_item"));
    vigil::add_breadcrumb(vigil_crumb(QUERY.into()));
    if captures(&request) {
        vigil_capture();
    }
    Ok(http::Response::new(()))
}

async fn sentry_handler(request: http::Request<()>) -> Result<http::Response<()>, Infallible> {
    sentry::configure_scope(|scope| scope.set_tag("handler", "get_item"));
    sentry::add_breadcrumb(sentry_crumb(QUERY.into()));
    if captures(&request) {
        sentry_capture();
    }
    Ok(http::Response::new(()))
}

/// The handler behind `VigilLayer` with its defaults. Besides what
/// `sentry`'s layers do, it names the scope's transaction (events get
/// `transaction: "GET /api/items/42"`), puts `http.request.method` and
/// `url` in the trace data (of the transaction and of the events inside
/// it), and records an `http` breadcrumb when the response is ready (on a
/// hub dropped right after, so no event here shows it).
fn vigil_app() -> impl Service<http::Request<()>, Response = http::Response<()>, Error = Infallible>
{
    vigil_tower::VigilLayer::new().layer(tower::service_fn(vigil_handler))
}

/// The handler behind `NewSentryLayer::new_from_top()` (a hub per
/// request) and `SentryHttpLayer::new().enable_transaction()` (the
/// request's data, a transaction per request), the order `sentry-tower`'s
/// docs give.
fn sentry_app() -> impl Service<http::Request<()>, Response = http::Response<()>, Error = Infallible>
{
    let http_layer = sentry_tower::SentryHttpLayer::new().enable_transaction();
    sentry_tower::NewSentryLayer::<http::Request<()>>::new_from_top()
        .layer(http_layer.layer(tower::service_fn(sentry_handler)))
}

/// [`sentry_handler`] in a request-mode session: sentry-tower 0.49
/// starts none itself, so the handler does, as its users must.
async fn sentry_session_handler(
    request: http::Request<()>,
) -> Result<http::Response<()>, Infallible> {
    sentry::start_session();
    let response = sentry_handler(request).await;
    sentry::end_session();
    response
}

/// `sentry-tower`'s layers without a transaction (tracing is off), the
/// handler in a session when `sessions` says so.
fn sentry_untraced_app(
    sessions: Sessions,
) -> tower::util::BoxService<http::Request<()>, http::Response<()>, Infallible> {
    let hub_layer = sentry_tower::NewSentryLayer::<http::Request<()>>::new_from_top();
    let http_layer = sentry_tower::SentryHttpLayer::new();
    match sessions {
        Sessions::Off => tower::util::BoxService::new(
            hub_layer.layer(http_layer.layer(tower::service_fn(sentry_handler))),
        ),
        Sessions::Requests => tower::util::BoxService::new(
            hub_layer.layer(http_layer.layer(tower::service_fn(sentry_session_handler))),
        ),
    }
}

/// Sends request number `*i + 1` through `app`, as a server would: wait
/// until the service is ready, call it, poll the response future. The
/// handlers never wait, so one poll with a no-op waker completes it.
fn serve<S>(app: &mut S, i: &mut u64)
where
    S: Service<http::Request<()>, Response = http::Response<()>, Error = Infallible>,
{
    *i += 1;
    let mut cx = Context::from_waker(Waker::noop());
    assert!(app.poll_ready(&mut cx).is_ready(), "a service_fn is ready");
    let response = complete(app.call(request(*i)));
    black_box(response.expect("the handlers do not fail"));
}

/// The output of `future`, which must complete on its first poll.
pub(crate) fn complete<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the bench handlers never wait"),
    }
}

// The same-work check.

/// Envelopes each transport received while the op was timed.
pub(crate) fn envelope_counts(report: &mut Value, env: &Env) {
    report["vigil_envelopes"] = json!(env.vigil_seen.envelopes.load(Ordering::Relaxed));
    report["sentry_envelopes"] = json!(env.sentry_seen.envelopes.load(Ordering::Relaxed));
}

/// Runs `vigil` and `sentry` once each, keeping up to `keep` envelopes of
/// each, and adds what each sent and where they differ to `report`.
pub(crate) fn check(
    report: &mut Value,
    env: &Env,
    keep: usize,
    mut vigil: impl FnMut(),
    mut sentry: impl FnMut(),
) {
    let kept = |seen: &Observed, work: &mut dyn FnMut()| {
        seen.keep(keep);
        work();
        seen.keep(0);
        describe_envelopes(&seen.take_all_kept())
    };
    let v = kept(&env.vigil_seen, &mut vigil);
    let s = kept(&env.sentry_seen, &mut sentry);
    report["work_differs"] = json!(differences(&v, &s));
    report["vigil_work"] = v;
    report["sentry_work"] = s;
}

/// The items of `envelopes` described (first event, first transaction),
/// with counts and the keys of each envelope's `trace` header (the DSC).
fn describe_envelopes(envelopes: &[Vec<u8>]) -> Value {
    let mut events = Vec::new();
    let mut transactions = Vec::new();
    let mut dsc: Vec<Vec<String>> = Vec::new();
    let keys = |map: &Value| {
        map.as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>())
    };
    for bytes in envelopes {
        if std::env::var_os("VIGIL_BENCH_DUMP").is_some() {
            eprintln!("{}", String::from_utf8_lossy(bytes));
        }
        let mut lines = bytes
            .split(|&b| b == b'\n')
            .filter_map(|line| serde_json::from_slice::<Value>(line).ok());
        let header = lines.next().unwrap_or(Value::Null);
        let dsc_keys = keys(&header["trace"]).unwrap_or_default();
        if !dsc.contains(&dsc_keys) {
            dsc.push(dsc_keys);
        }
        while let (Some(item), Some(payload)) = (lines.next(), lines.next()) {
            match item["type"].as_str() {
                Some("event") => events.push(payload),
                Some("transaction") => transactions.push(payload),
                _ => {}
            }
        }
    }
    let span_of = |t: &Value| {
        let trace = &t["contexts"]["trace"];
        (trace["trace_id"].clone(), trace["span_id"].clone())
    };
    let describe = |kind: &str, payload: &Value| {
        let trace = &payload["contexts"]["trace"];
        let (trace_id, span_id) = span_of(payload);
        let mut d = json!({
            "type": kind,
            "tags": payload["tags"].as_object().map_or(0, |t| t.len()),
            "user": payload.get("user").is_some_and(|u| !u.is_null()),
            "breadcrumbs": payload["breadcrumbs"]
                .get("values")
                .unwrap_or(&payload["breadcrumbs"])
                .as_array()
                .map_or(0, Vec::len),
            "spans": payload["spans"].as_array().map_or(0, Vec::len),
            "request": payload.get("request").is_some_and(|r| !r.is_null()),
            "contexts": keys(&payload["contexts"]),
            "trace_data": keys(&trace["data"]),
            "transaction": payload["transaction"],
        });
        if kind == "event" {
            // Inside a transaction: the event's trace and span are those of
            // a transaction sent alongside.
            d["in_transaction"] = json!(
                !trace_id.is_null()
                    && transactions
                        .iter()
                        .any(|t| span_of(t) == (trace_id.clone(), span_id.clone()))
            );
        }
        d
    };
    json!({
        "envelopes": envelopes.len(),
        "events": events.len(),
        "transactions": transactions.len(),
        "bytes": envelopes.iter().map(Vec::len).sum::<usize>(),
        "dsc": dsc,
        "event": events.first().map(|e| describe("event", e)),
        "transaction": transactions.first().map(|t| describe("transaction", t)),
    })
}

/// The compared fields in which two descriptions differ.
fn differences(vigil: &Value, sentry: &Value) -> Vec<String> {
    let mut differs = Vec::new();
    for count in ["envelopes", "events", "transactions"] {
        if vigil[count] != sentry[count] {
            differs.push(count.to_owned());
        }
    }
    for item in ["event", "transaction"] {
        for field in COMPARED {
            if vigil[item][field] != sentry[item][field] {
                differs.push(format!("{item}.{field}"));
            }
        }
    }
    differs
}
