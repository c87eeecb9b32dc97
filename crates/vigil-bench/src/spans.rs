//! The `tracing` span operations (`ts1` .. `ts3u`): `tracing` spans turned
//! into Sentry spans by each SDK's layer, Vigil's `vigil_tracing::layer()`
//! against `sentry_tracing::layer()` (0.49).
//!
//! The work is written once: `#[instrument]`ed functions and an
//! instrumented future, which only emit `tracing` spans. What turns them
//! into Sentry spans is the subscriber they run under, one per SDK: a
//! `tracing_subscriber::registry()` with that SDK's layer and nothing else
//! ([`Subscribers`]). Both SDKs start from the suite's standard scope and
//! serializing transport, and trace with `traces_sample_rate = 1.0`, or,
//! in the `u` variants, with a `traces_sampler` answering 0.0 (see
//! [`Tracing`]).
//!
//! After timing, each op runs its work once more on both SDKs with the
//! envelopes kept, and reports what each sent (`vigil_work`,
//! `sentry_work`: transactions, the span tree with each span's depth,
//! description and op, the fields as data, and the SDK's current span as
//! seen from inside the instrumented code) and the compared fields in
//! which they differ (`work_differs`).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::future::Future;
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

use serde_json::{Value, json};
use tracing::dispatcher::DefaultGuard;
use tracing::span::EnteredSpan;
use tracing::{Dispatch, Instrument, info_span, instrument};
use tracing_subscriber::layer::SubscriberExt;

use crate::ops::{Action, Env, Sdk, Tracing, drive, setup_traced};
use crate::transports::{Mode, Observed};

/// Name of the transaction that holds the running root span (`ts1`,
/// `ts3`).
const TX_NAME: &str = "process-order";
/// Op of that transaction.
const TX_OP: &str = "task";
/// `ts1`, `ts3`: child spans started under one running root before root
/// and transaction are replaced (both SDKs keep at most 1000 spans per
/// transaction).
const SPANS_PER_ROOT: u32 = 100;
/// The `order_id` field of every span.
const ORDER_ID: u64 = 4_711;
/// The `customer` field of the `ts1` and `ts3` spans.
const CUSTOMER: &str = "acme";
/// The fields the bench gives its spans: what both SDKs must send as span
/// data (the rest of a span's data is the SDK's own).
const FIELDS: [&str; 4] = ["order_id", "customer", "express", "route"];
/// Polls of the `ts3` future: `Pending` until the last.
const POLLS: u8 = 10;
/// Child spans the same-work check of `ts1` and `ts3` starts under one
/// root.
const CHECK_CALLS: usize = 3;

/// Sets up `op` and performs `action` on it; returns the child's report.
pub(crate) fn run(op: &str, action: Action) -> Value {
    let measuring = matches!(action, Action::Measure(_));
    let tracing = if op.ends_with('u') {
        Tracing::Unsampled
    } else {
        Tracing::Sampled
    };
    let env = setup_traced(Some(Mode::Serialize), tracing);
    let subscribers = Subscribers::new();
    let mut report = match op.trim_end_matches('u') {
        "ts1" => under_root(
            action,
            &env,
            &subscribers,
            call_instrumented,
            probe_instrumented,
        ),
        "ts2" => tree(action, &env, &subscribers),
        "ts3" => under_root(action, &env, &subscribers, poll_instrumented, probe_future),
        other => panic!("unknown operation {other}"),
    };
    if measuring {
        report["note"] = json!(note(op));
    }
    report
}

/// What differs between the two SDKs' work in `op`, for the suite's
/// report.
fn note(op: &str) -> &'static str {
    match op {
        "ts1" | "ts3" => {
            "names: both use the span's name as description; the op is `sentry.op` (Vigil \
             also `op`), else Vigil the target, sentry-tracing `target::name`. Both put the \
             fields as data; sentry-tracing also adds sentry.tracing.target, code.module.name, \
             code.file.path and code.line.number to every span. On each enter sentry-tracing \
             creates a Hub (Hub::new_from_top) with the span on its scope and switches the \
             thread to it (a HubSwitchGuard in a thread-local HashMap keyed by span id), and \
             takes the parent from Hub::current()'s scope; Vigil does nothing on enter and \
             exit (the current span, when asked for, is read from the registry), touching no \
             hub, and takes the parent from the nearest traced ancestor under the same hub. ts3 enters the span 11 times per \
             op (10 polls and the drop of the inner future). sentry-tracing is its legacy \
             combined layer (deprecated in 0.49.5 for SpanLayer + per-layer filters), the \
             counterpart of vigil_tracing::layer(): the same INFO span filter, no \
             per-layer filter"
        }
        "ts2" => {
            "names as in ts1 (the root's name is the transaction's name on both; op: Vigil the \
             target, sentry-tracing `target::name`); sentry-tracing adds its 4 code/target \
             attributes to the data of every span (so its transaction is bigger) and sets \
             origin auto.tracing on the transaction; per enter, a Hub created and switched to \
             (sentry-tracing) against nothing (Vigil). The transaction carries \
             the scope's data on both; Vigil also writes what tx1's note lists (span status \
             and origin, DSC, RFC 3339 timestamps)"
        }
        "ts1u" | "ts3u" => {
            "the trace is sampled out on both. Vigil still visits the fields (kept with the \
             span, for events inside it) but its unsampled span keeps only its ids (no names, \
             no data, no allocation of its own); sentry-tracing sets the fields and its 4 attributes as \
             data on the unsampled span, still creates and switches a Hub per enter, and \
             sentry keeps the finished unsampled spans in their transaction until it ends. \
             Names and parents as in ts1"
        }
        "ts2u" => {
            "the root's transaction is sampled out on both (no transaction sent); otherwise \
             as ts1u: sentry-tracing sets data and switches hubs on unsampled spans, Vigil \
             does neither"
        }
        _ => "",
    }
}

// The subscribers.

/// Each SDK's subscriber (a registry with only that SDK's layer), and
/// which of them is this thread's default.
///
/// The harness runs one SDK's closure many times in a row (a batch), then
/// the other's. Each closure calls [`Subscribers::select`] first: one
/// `Cell` compare per call, the same for both SDKs. The default changes
/// only on the first call of a batch: one `set_default` per batch of
/// thousands of calls in the timings, and none inside the callgrind loop
/// (it happens in the warm-up).
pub(crate) struct Subscribers {
    /// Vigil's: a registry + `vigil_tracing::layer()` for the `ts*` ops.
    vigil: Dispatch,
    /// `sentry`'s: a registry + `sentry_tracing::layer()` for the `ts*`
    /// ops.
    sentry: Dispatch,
    /// Whose subscriber is the default now.
    current: Cell<Option<Sdk>>,
    /// Keeps it the default until replaced.
    guard: RefCell<Option<DefaultGuard>>,
}

impl Subscribers {
    /// Both subscribers, neither the default yet.
    fn new() -> Subscribers {
        Subscribers::of(
            Dispatch::new(tracing_subscriber::registry().with(vigil_tracing::layer())),
            Dispatch::new(tracing_subscriber::registry().with(sentry_layer())),
        )
    }

    /// The given subscribers of Vigil and `sentry`, neither the default
    /// yet.
    pub(crate) fn of(vigil: Dispatch, sentry: Dispatch) -> Subscribers {
        Subscribers {
            vigil,
            sentry,
            current: Cell::new(None),
            guard: RefCell::new(None),
        }
    }

    /// Makes `sdk`'s subscriber this thread's default, unless it is.
    #[inline]
    pub(crate) fn select(&self, sdk: Sdk) {
        if self.current.get() != Some(sdk) {
            self.switch(sdk);
        }
    }

    /// Replaces the default subscriber with `sdk`'s.
    #[cold]
    #[inline(never)]
    fn switch(&self, sdk: Sdk) {
        // The old guard goes first: dropping it restores the default it
        // replaced, which would otherwise undo the new one.
        drop(self.guard.take());
        let dispatch = match sdk {
            Sdk::Vigil => &self.vigil,
            Sdk::Sentry => &self.sentry,
        };
        self.guard
            .replace(Some(tracing::dispatcher::set_default(dispatch)));
        self.current.set(Some(sdk));
    }
}

/// `sentry_tracing::layer()`: the counterpart of `vigil_tracing::layer()`
/// (spans, events as breadcrumbs and events, the INFO span filter in the
/// layer). 0.49.5 deprecates it for `SpanLayer` and friends with
/// per-layer filters, which add the registry's per-layer filtering to
/// every span.
#[expect(
    deprecated,
    reason = "the combined layer is the counterpart of Vigil's"
)]
fn sentry_layer() -> sentry_tracing::SentryLayer<tracing_subscriber::Registry> {
    sentry_tracing::layer()
}

// The work, written once: it emits `tracing` spans only.

/// `ts1`: an `#[instrument]`ed function with 3 fields: its span is
/// created, entered, exited and closed.
#[instrument]
fn load_order(order_id: u64, customer: &str, express: bool) -> u64 {
    black_box(order_id)
}

/// One `ts1` operation.
fn call_instrumented() {
    black_box(load_order(
        black_box(ORDER_ID),
        black_box(CUSTOMER),
        black_box(true),
    ));
}

/// A future that is `Pending` on its first [`POLLS`] - 1 polls and ready
/// on the last (it wakes no one: the caller polls it again at once).
struct Polls {
    /// Polls left before it is ready.
    left: u8,
}

impl Future for Polls {
    type Output = u8;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u8> {
        self.left -= 1;
        if self.left == 0 {
            Poll::Ready(POLLS)
        } else {
            Poll::Pending
        }
    }
}

/// One `ts3` operation: a [`Polls`] future instrumented with a span of 3
/// fields, polled [`POLLS`] times with a no-op waker, then dropped (which
/// closes the span).
fn poll_instrumented() {
    let span = info_span!(
        "poll_items",
        order_id = black_box(ORDER_ID),
        customer = black_box(CUSTOMER),
        express = black_box(true)
    );
    let mut future = pin!(Polls { left: POLLS }.instrument(span));
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 1..POLLS {
        assert!(
            future.as_mut().poll(&mut cx).is_pending(),
            "polled too soon"
        );
    }
    let Poll::Ready(polls) = future.as_mut().poll(&mut cx) else {
        panic!("not ready after {POLLS} polls");
    };
    black_box(polls);
}

/// The `ts1` call in the check, also reporting what `look` sees inside
/// it (the SDK's current span).
#[instrument(name = "load_order", skip(look))]
fn probe_call(order_id: u64, customer: &str, express: bool, look: &dyn Fn() -> Value) -> Value {
    look()
}

/// `ts1` in the check: one call of [`probe_call`].
fn probe_instrumented(look: &dyn Fn() -> Value) -> Value {
    probe_call(ORDER_ID, CUSTOMER, true, look)
}

/// `ts3` in the check: a future instrumented as in [`poll_instrumented`]
/// that reports what `look` sees inside it, polled once.
fn probe_future(look: &dyn Fn() -> Value) -> Value {
    let span = info_span!(
        "poll_items",
        order_id = ORDER_ID,
        customer = CUSTOMER,
        express = true
    );
    let mut future = pin!(async { look() }.instrument(span));
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(inside) => inside,
        Poll::Pending => panic!("the probe never waits"),
    }
}

/// `ts2` in the check, after the kept tree: a root span shaped as
/// [`handle_order`] reporting what `look` sees inside it.
#[instrument(name = "handle_order", skip(look))]
fn probe_root(order_id: u64, look: &dyn Fn() -> Value) -> Value {
    look()
}

/// The span Vigil sees as current: whether a transaction or a span, and
/// whether sampled.
fn vigil_current() -> Value {
    match vigil::Hub::current().current_span() {
        Some(vigil::TransactionOrSpan::Transaction(t)) => {
            json!({"current": "transaction", "sampled": t.is_sampled()})
        }
        Some(span) => json!({"current": "span", "sampled": span.is_sampled()}),
        None => json!({"current": null}),
    }
}

/// The span `sentry` sees as current (the current hub's scope), as
/// [`vigil_current`].
#[expect(
    deprecated,
    reason = "is_sampled is exact with tracing on, as here (0.49.5 deprecates it for traces without tracing)"
)]
fn sentry_current() -> Value {
    match sentry::configure_scope(|scope| scope.get_span()) {
        Some(sentry::TransactionOrSpan::Transaction(t)) => {
            json!({"current": "transaction", "sampled": t.is_sampled()})
        }
        Some(span) => json!({"current": "span", "sampled": span.is_sampled()}),
        None => json!({"current": null}),
    }
}

/// The tracing root span of `ts1` and `ts3`, entered.
fn root_span() -> EnteredSpan {
    info_span!("handle_request", route = "/api/orders/{id}").entered()
}

/// `ts2`, level 1 of 5: the root span, a transaction.
#[instrument]
fn handle_order(order_id: u64) -> u64 {
    validate_order(order_id)
}

/// `ts2`, level 2.
#[instrument]
fn validate_order(order_id: u64) -> u64 {
    reserve_stock(order_id)
}

/// `ts2`, level 3.
#[instrument]
fn reserve_stock(order_id: u64) -> u64 {
    charge_payment(order_id)
}

/// `ts2`, level 4.
#[instrument]
fn charge_payment(order_id: u64) -> u64 {
    send_receipt(order_id)
}

/// `ts2`, level 5.
#[instrument]
fn send_receipt(order_id: u64) -> u64 {
    black_box(order_id)
}

/// One `ts2` operation: the 5-level tree, all closed; the root's
/// transaction is finished and sent (serialized) when the root closes.
fn span_tree() {
    black_box(handle_order(black_box(ORDER_ID)));
}

// ts1, ts3: spans under a running root.

/// The running root on Vigil: a transaction as the scope's span, and the
/// tracing root span ([`root_span`]) entered under it, a child of the
/// transaction.
struct VigilRoot {
    /// The transaction, dropped unfinished (unsent) when replaced.
    transaction: vigil::Transaction,
    /// The root span, entered.
    root: Option<EnteredSpan>,
    /// Child spans started under it.
    spans: u32,
}

impl VigilRoot {
    /// Starts the transaction and enters the root span (Vigil's
    /// subscriber must be the default).
    fn start() -> VigilRoot {
        let transaction = vigil::start_transaction(vigil::TransactionContext::new(TX_NAME, TX_OP));
        vigil::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
        VigilRoot {
            transaction,
            root: Some(root_span()),
            spans: 0,
        }
    }

    /// Counts one more child span, first replacing root and transaction
    /// when [`SPANS_PER_ROOT`] have been started under them.
    fn next(&mut self) {
        if self.spans == SPANS_PER_ROOT {
            drop(self.root.take());
            *self = VigilRoot::start();
        }
        self.spans += 1;
    }

    /// Closes the root span and finishes the transaction, which sends it.
    fn finish(self) {
        let VigilRoot {
            transaction, root, ..
        } = self;
        drop(root);
        transaction.finish();
    }
}

/// The running root on `sentry`, as [`VigilRoot`].
struct SentryRoot {
    /// The transaction, dropped unfinished (unsent) when replaced.
    transaction: sentry::Transaction,
    /// The root span, entered.
    root: Option<EnteredSpan>,
    /// Child spans started under it.
    spans: u32,
}

impl SentryRoot {
    /// Starts the transaction and enters the root span (sentry's
    /// subscriber must be the default).
    fn start() -> SentryRoot {
        let transaction =
            sentry::start_transaction(sentry::TransactionContext::new(TX_NAME, TX_OP));
        sentry::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
        SentryRoot {
            transaction,
            root: Some(root_span()),
            spans: 0,
        }
    }

    /// As [`VigilRoot::next`]. The root span is exited before the new
    /// transaction is set, so that it goes on the main hub's scope (on
    /// exit sentry-tracing switches back to the hub current before the
    /// enter).
    fn next(&mut self) {
        if self.spans == SPANS_PER_ROOT {
            drop(self.root.take());
            *self = SentryRoot::start();
        }
        self.spans += 1;
    }

    /// As [`VigilRoot::finish`].
    fn finish(self) {
        let SentryRoot {
            transaction, root, ..
        } = self;
        drop(root);
        transaction.finish();
    }
}

/// `ts1`, `ts3` (and their `u` variants): `work` (one child span) under
/// a running root, replaced every [`SPANS_PER_ROOT`] spans; the
/// replacement's cost is in the time, 1/100 per op. Nothing is sent while
/// timing. The check runs `work` [`CHECK_CALLS`] - 1 times and `probe`
/// (the same span, reporting the SDK's current span inside it) once under
/// a fresh root, and then finishes it: one transaction each (none when
/// unsampled).
fn under_root(
    action: Action,
    env: &Env,
    subscribers: &Subscribers,
    work: fn(),
    probe: fn(&dyn Fn() -> Value) -> Value,
) -> Value {
    subscribers.select(Sdk::Vigil);
    let mut vigil = VigilRoot::start();
    subscribers.select(Sdk::Sentry);
    let mut sentry = SentryRoot::start();
    let mut report = drive(
        action,
        || {
            subscribers.select(Sdk::Vigil);
            vigil.next();
            work();
        },
        || {
            subscribers.select(Sdk::Sentry);
            sentry.next();
            work();
        },
    );
    // The running roots go before the check, whose roots must not be
    // their children.
    subscribers.select(Sdk::Vigil);
    drop(vigil);
    subscribers.select(Sdk::Sentry);
    drop(sentry);
    if matches!(action, Action::Measure(_)) {
        envelope_counts(&mut report, env);
        check(
            &mut report,
            env,
            || {
                subscribers.select(Sdk::Vigil);
                let root = VigilRoot::start();
                for _ in 1..CHECK_CALLS {
                    work();
                }
                let inside = probe(&vigil_current);
                root.finish();
                inside
            },
            || {
                subscribers.select(Sdk::Sentry);
                let root = SentryRoot::start();
                for _ in 1..CHECK_CALLS {
                    work();
                }
                let inside = probe(&sentry_current);
                root.finish();
                inside
            },
        );
    }
    report
}

/// `ts2` (and `ts2u`): [`span_tree`], a transaction per op, sent and
/// serialized (sampled) or counted as sampled out (`ts2u`).
fn tree(action: Action, env: &Env, subscribers: &Subscribers) -> Value {
    let mut report = drive(
        action,
        || {
            subscribers.select(Sdk::Vigil);
            span_tree();
        },
        || {
            subscribers.select(Sdk::Sentry);
            span_tree();
        },
    );
    if matches!(action, Action::Measure(_)) {
        envelope_counts(&mut report, env);
        check(
            &mut report,
            env,
            || {
                subscribers.select(Sdk::Vigil);
                span_tree();
                probe_root(ORDER_ID, &vigil_current)
            },
            || {
                subscribers.select(Sdk::Sentry);
                span_tree();
                probe_root(ORDER_ID, &sentry_current)
            },
        );
    }
    report
}

// The same-work check.

/// Envelopes each transport received while the op was timed.
fn envelope_counts(report: &mut Value, env: &Env) {
    report["vigil_envelopes"] = json!(
        env.vigil_seen
            .envelopes
            .load(std::sync::atomic::Ordering::Relaxed)
    );
    report["sentry_envelopes"] = json!(
        env.sentry_seen
            .envelopes
            .load(std::sync::atomic::Ordering::Relaxed)
    );
}

/// Runs `vigil` and `sentry` once each, keeping the first envelope each
/// sends, and adds what each sent (`inside`: the current span each
/// reported from inside its work) and where they differ to `report`.
fn check(
    report: &mut Value,
    env: &Env,
    mut vigil: impl FnMut() -> Value,
    mut sentry: impl FnMut() -> Value,
) {
    let kept = |seen: &Observed, work: &mut dyn FnMut() -> Value| {
        seen.keep(1);
        let inside = work();
        seen.keep(0);
        let mut d = describe(&seen.take_all_kept());
        d["inside"] = inside;
        d
    };
    let v = kept(&env.vigil_seen, &mut vigil);
    let s = kept(&env.sentry_seen, &mut sentry);
    report["work_differs"] = json!(differences(&v, &s));
    report["vigil_work"] = v;
    report["sentry_work"] = s;
}

/// The transactions in `envelopes`: counts, and the first one's name, op,
/// scope data and span tree. `tree` lists each span as `depth
/// description` (depth 1: a child of the transaction's root span),
/// `ops` their ops in the same order, `fields` the bench's fields each
/// carries as data, `sdk_data` the other data keys of any span.
fn describe(envelopes: &[Vec<u8>]) -> Value {
    let mut transactions = Vec::new();
    let mut items = BTreeMap::<String, usize>::new();
    for bytes in envelopes {
        if std::env::var_os("VIGIL_BENCH_DUMP").is_some() {
            eprintln!("{}", String::from_utf8_lossy(bytes));
        }
        let mut lines = bytes
            .split(|&b| b == b'\n')
            .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
            .skip(1);
        while let (Some(item), Some(payload)) = (lines.next(), lines.next()) {
            let kind = item["type"].as_str().unwrap_or("?").to_owned();
            *items.entry(kind.clone()).or_default() += 1;
            if kind == "transaction" {
                transactions.push(payload);
            }
        }
    }
    let mut d = json!({
        "envelopes": envelopes.len(),
        "items": items,
        "transactions": transactions.len(),
        "bytes": envelopes.iter().map(Vec::len).sum::<usize>(),
    });
    let Some(t) = transactions.first() else {
        return d;
    };
    let trace = &t["contexts"]["trace"];
    let spans = t["spans"].as_array().cloned().unwrap_or_default();
    let parents: BTreeMap<&str, &str> = spans
        .iter()
        .filter_map(|s| Some((s["span_id"].as_str()?, s["parent_span_id"].as_str()?)))
        .collect();
    let depth = |span: &Value| {
        let mut depth = 1;
        let mut parent = span["parent_span_id"].as_str();
        while let Some(p) = parent.filter(|p| Some(*p) != trace["span_id"].as_str()) {
            depth += 1;
            parent = parents.get(p).copied();
            if depth > spans.len() {
                break;
            }
        }
        depth
    };
    let mut rows: Vec<(usize, String, Value, Value)> = spans
        .iter()
        .map(|s| {
            let fields: serde_json::Map<String, Value> = s["data"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            (
                depth(s),
                s["description"].as_str().unwrap_or("").to_owned(),
                s["op"].clone(),
                Value::Object(fields),
            )
        })
        .collect();
    rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let mut sdk_data: Vec<&str> = spans
        .iter()
        .filter_map(|s| s["data"].as_object())
        .flat_map(|data| data.keys().map(String::as_str))
        .filter(|k| !FIELDS.contains(k))
        .collect();
    sdk_data.sort_unstable();
    sdk_data.dedup();
    d["transaction"] = json!({
        "name": t["transaction"],
        "op": trace["op"],
        "tags": t["tags"].as_object().map_or(0, |m| m.len()),
        "user": t.get("user").is_some_and(|u| !u.is_null()),
        "breadcrumbs": t["breadcrumbs"]
            .get("values")
            .unwrap_or(&t["breadcrumbs"])
            .as_array()
            .map_or(0, Vec::len),
        "spans": spans.len(),
    });
    d["tree"] = json!(
        rows.iter()
            .map(|(depth, description, _, _)| format!("{depth} {description}"))
            .collect::<Vec<_>>()
    );
    d["ops"] = json!(rows.iter().map(|row| row.2.clone()).collect::<Vec<_>>());
    d["fields"] = json!(rows.iter().map(|row| row.3.clone()).collect::<Vec<_>>());
    d["sdk_data"] = json!(sdk_data);
    d
}

/// The compared fields in which two descriptions differ: the counts, the
/// transaction's name, scope data and span count, the span tree, the
/// fields and the current span inside the work; not the ops (named by different conventions, see the note),
/// the SDKs' own data keys or the bytes.
fn differences(vigil: &Value, sentry: &Value) -> Vec<String> {
    let mut differs = Vec::new();
    for field in ["transactions", "tree", "fields", "inside"] {
        if vigil[field] != sentry[field] {
            differs.push(field.to_owned());
        }
    }
    for field in ["name", "tags", "user", "breadcrumbs", "spans"] {
        if vigil["transaction"][field] != sentry["transaction"][field] {
            differs.push(format!("transaction.{field}"));
        }
    }
    differs
}
