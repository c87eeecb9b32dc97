//! The operations of the suite, each written once per SDK, and the child
//! process that measures one of them.
//!
//! Every operation runs in a child process of its own (`vigil-bench op
//! OP`), so the global hub of each SDK starts fresh and no operation sees
//! state left by another. Inside the child both SDKs are initialised side
//! by side; they share no global state (each has its own process hub,
//! thread-local hub and client), which is what lets the harness alternate
//! their batches within one process.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::actix;
use crate::alloc;
use crate::harness::{self, Config};
use crate::logs;
use crate::spans;
use crate::threads;
use crate::traces;
use crate::transports::{Mode, Observed, SentryTransport, VigilTransport};

/// The DSN both SDKs are initialised with (nothing is sent over the
/// network: the bench transports keep envelopes in memory).
const DSN: &str = "https://public@example.invalid/1";

/// Iterations of each operation counted by the allocator.
const ALLOC_ITERATIONS: u64 = 1_000;

/// Warm-up iterations before a callgrind run (uncounted).
const CALLGRIND_WARMUP: u64 = 300;

/// One operation of the suite.
#[derive(Debug)]
pub(crate) struct OpSpec {
    /// Short id, used on the command line (`op1` .. `op9`; an `r` suffix
    /// marks the realistic variant of an operation, e.g. `op9r`).
    pub(crate) id: &'static str,
    /// What it does.
    pub(crate) title: &'static str,
    /// Iterations per callgrind run (`None`: not run under callgrind).
    pub(crate) callgrind_n: Option<u64>,
}

/// The operations, in table order.
pub(crate) const OPS: [OpSpec; 35] = [
    OpSpec {
        id: "op1",
        title: "configure_scope + set_tag",
        callgrind_n: Some(20_000),
    },
    OpSpec {
        id: "op1r",
        title: "op1, scope with 2 tags + 6 tag changes",
        callgrind_n: Some(20_000),
    },
    OpSpec {
        id: "op2",
        title: "with_scope (push, set_tag, pop)",
        callgrind_n: Some(20_000),
    },
    OpSpec {
        id: "op2r",
        title: "op2, scope with 2 tags + 6 tag changes",
        callgrind_n: Some(20_000),
    },
    OpSpec {
        id: "op3",
        title: "add_breadcrumb (100 kept)",
        callgrind_n: Some(20_000),
    },
    OpSpec {
        id: "op4",
        title: "capture_message, serializing",
        callgrind_n: Some(1_000),
    },
    OpSpec {
        id: "op5",
        title: "capture_message, dropping",
        callgrind_n: Some(1_000),
    },
    OpSpec {
        id: "op6",
        title: "capture_message, no client",
        callgrind_n: Some(100_000),
    },
    OpSpec {
        id: "op6r",
        title: "capture_message, client bound then unbound",
        callgrind_n: Some(100_000),
    },
    OpSpec {
        id: "op7",
        title: "Hub::current()",
        callgrind_n: Some(100_000),
    },
    OpSpec {
        id: "op8",
        title: "capture_message, 2 threads",
        callgrind_n: None,
    },
    OpSpec {
        id: "op9",
        title: "request (hub, 3 tags, 5 crumbs, 1/10 capture)",
        callgrind_n: Some(2_000),
    },
    OpSpec {
        id: "op9r",
        title: "request, realistic (2 global tags, request id + 2 tags, 5 crumbs, 1/10 capture)",
        callgrind_n: Some(2_000),
    },
    OpSpec {
        id: "tx1",
        title: "transaction + 10 spans, serializing",
        callgrind_n: Some(1_000),
    },
    OpSpec {
        id: "tx2",
        title: "span start + finish (sampled transaction)",
        callgrind_n: Some(20_000),
    },
    OpSpec {
        id: "tx3",
        title: "iter_trace_propagation_headers (tx as span)",
        callgrind_n: Some(20_000),
    },
    OpSpec {
        id: "tx4",
        title: "capture_message in a transaction, serializing",
        callgrind_n: Some(1_000),
    },
    OpSpec {
        id: "tx5",
        title: "tower request, traced (1/10 capture)",
        callgrind_n: Some(1_000),
    },
    OpSpec {
        id: "tx1u",
        title: "tx1, transaction sampled out",
        callgrind_n: Some(5_000),
    },
    OpSpec {
        id: "tx5u",
        title: "tx5, transactions sampled out",
        callgrind_n: Some(2_000),
    },
    OpSpec {
        id: "ts1",
        title: "#[instrument] fn (3 fields), child span",
        callgrind_n: Some(10_000),
    },
    OpSpec {
        id: "ts2",
        title: "tracing span tree, 5 levels, serializing",
        callgrind_n: Some(2_000),
    },
    OpSpec {
        id: "ts3",
        title: "instrumented future, 10 polls, child span",
        callgrind_n: Some(5_000),
    },
    OpSpec {
        id: "ts1u",
        title: "ts1, trace sampled out",
        callgrind_n: Some(10_000),
    },
    OpSpec {
        id: "ts2u",
        title: "ts2, trace sampled out",
        callgrind_n: Some(5_000),
    },
    OpSpec {
        id: "ts3u",
        title: "ts3, trace sampled out",
        callgrind_n: Some(5_000),
    },
    OpSpec {
        id: "rs0",
        title: "tower request, untraced, no sessions (1/10 capture)",
        callgrind_n: Some(2_000),
    },
    OpSpec {
        id: "rs1",
        title: "rs0 with request-mode sessions",
        callgrind_n: Some(2_000),
    },
    OpSpec {
        id: "ax1",
        title: "actix-web request, untraced (request id tag, 1/10 5xx error)",
        callgrind_n: Some(2_000),
    },
    OpSpec {
        id: "ax2",
        title: "ax1, traced (a transaction per request)",
        callgrind_n: Some(1_000),
    },
    OpSpec {
        id: "lg1",
        title: "logger_info! (2 attributes, 1 argument), batched",
        callgrind_n: Some(5_000),
    },
    OpSpec {
        id: "lg2",
        title: "log::info! (1 key-value) into the log integration",
        callgrind_n: Some(5_000),
    },
    OpSpec {
        id: "lg3",
        title: "tracing::info! (1 field) into the log layer",
        callgrind_n: Some(5_000),
    },
    OpSpec {
        id: "lg2f",
        title: "log::debug!, filtered out by the logger",
        callgrind_n: Some(100_000),
    },
    OpSpec {
        id: "lg3f",
        title: "tracing::debug!, filtered out by the layer",
        callgrind_n: Some(100_000),
    },
];

/// Which SDK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sdk {
    Vigil,
    Sentry,
}

impl Sdk {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Sdk::Vigil => "vigil",
            Sdk::Sentry => "sentry",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Sdk> {
        match s {
            "vigil" => Some(Sdk::Vigil),
            "sentry" => Some(Sdk::Sentry),
            _ => None,
        }
    }
}

/// What the child does with the operation it set up.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Action {
    /// Time both SDKs interleaved, then count allocations.
    Measure(Config),
    /// Run one SDK's operation `n` times inside the callgrind-toggled loop.
    Callgrind { sdk: Sdk, n: u64 },
}

/// Both SDKs initialised with the bench transports (or neither).
pub(crate) struct Env {
    _vigil: Option<vigil::InitGuard>,
    _sentry: Option<sentry::ClientInitGuard>,
    pub(crate) vigil_seen: Arc<Observed>,
    pub(crate) sentry_seen: Arc<Observed>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").finish_non_exhaustive()
    }
}

/// Whether the SDKs record transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tracing {
    /// No `traces_sample_rate`, no `traces_sampler` (the suite's
    /// default). Vigil records no transactions; `sentry` neither.
    Off,
    /// `traces_sample_rate = 1.0`: every transaction is sampled.
    Sampled,
    /// A `traces_sampler` that answers 0.0: tracing is on and every
    /// transaction is sampled out (and counted as such). A rate of 0.0
    /// would not do: for Vigil it means tracing off, for `sentry` tracing
    /// on at rate 0.
    Unsampled,
}

/// What the main hub's scope holds once both SDKs are initialised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BaseScope {
    /// [`standard_scope`]: 5 tags, a user and 20 breadcrumbs.
    Standard,
    /// [`service_scope`]: the 2 tags a service sets at start-up, no user,
    /// no breadcrumbs (the realistic variants start from it).
    Service,
}

/// Initialises both SDKs with a transport in `mode` (`None`: no SDK is
/// initialised, both stay disabled) and, when initialised, fills the
/// standard scope on both. Tracing is off.
pub(crate) fn setup(mode: Option<Mode>) -> Env {
    setup_traced(mode, Tracing::Off)
}

/// [`setup`] with tracing as `tracing` says.
pub(crate) fn setup_traced(mode: Option<Mode>, tracing: Tracing) -> Env {
    setup_from(mode, tracing, BaseScope::Standard, Sessions::Off)
}

/// Whether the SDKs track release-health sessions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sessions {
    /// Neither does (`sentry`'s default; Vigil's `auto_session_tracking`
    /// turned off), so that every other op compares the same work.
    Off,
    /// Both count requests: Vigil's defaults (`auto_session_tracking`,
    /// `SessionMode::Auto`: request mode once the tower layer serves),
    /// `sentry` with `auto_session_tracking` and `SessionMode::Request`.
    Requests,
}

/// [`setup_traced`], filling the main scope as `base` says, with sessions
/// as `sessions` says.
pub(crate) fn setup_from(
    mode: Option<Mode>,
    tracing: Tracing,
    base: BaseScope,
    sessions: Sessions,
) -> Env {
    setup_full(mode, tracing, base, sessions, false)
}

/// [`setup`] (the standard scope, tracing off) with Vigil's `enable_logs`
/// on, for the structured-log operations. `sentry` 0.49 needs nothing: its
/// (deprecated) `enable_logs` is on by default.
pub(crate) fn setup_logs(mode: Mode) -> Env {
    setup_full(
        Some(mode),
        Tracing::Off,
        BaseScope::Standard,
        Sessions::Off,
        true,
    )
}

/// [`setup_from`], with Vigil's `enable_logs` set to `logs`.
fn setup_full(
    mode: Option<Mode>,
    tracing: Tracing,
    base: BaseScope,
    sessions: Sessions,
    logs: bool,
) -> Env {
    let vigil_seen = Arc::new(Observed::default());
    let sentry_seen = Arc::new(Observed::default());
    let Some(mode) = mode else {
        return Env {
            _vigil: None,
            _sentry: None,
            vigil_seen,
            sentry_seen,
        };
    };
    let seen = vigil_seen.clone();
    let options = vigil::ClientOptions::new()
        .release("bench@1.0.0")
        .default_integrations(false)
        .transport(
            move |_: &vigil::TransportContext<'_>| -> Arc<dyn vigil::Transport> {
                Arc::new(VigilTransport::new(mode, seen.clone()))
            },
        );
    let options = match tracing {
        Tracing::Off => options,
        Tracing::Sampled => options.traces_sample_rate(1.0),
        Tracing::Unsampled => options.traces_sampler(|_| 0.0),
    }
    .auto_session_tracking(sessions == Sessions::Requests)
    .enable_logs(logs);
    let vigil_guard = vigil::init((DSN, options));
    assert!(vigil_guard.is_enabled(), "vigil did not initialise");

    let mut options = sentry::ClientOptions::default();
    options.release = Some("bench@1.0.0".into());
    options.default_integrations = false;
    if sessions == Sessions::Requests {
        options.auto_session_tracking = true;
        options.session_mode = sentry::SessionMode::Request;
    }
    options.transport = Some(Arc::new(Arc::new(SentryTransport::new(
        mode,
        sentry_seen.clone(),
    ))));
    let options = match tracing {
        Tracing::Off => options,
        Tracing::Sampled => options.traces_sample_rate(1.0),
        Tracing::Unsampled => options.traces_sampler(|_| 0.0),
    };
    let sentry_guard = sentry::init((DSN, options));
    assert!(sentry_guard.is_enabled(), "sentry did not initialise");

    match base {
        BaseScope::Standard => standard_scope(),
        BaseScope::Service => service_scope(),
    }
    Env {
        _vigil: Some(vigil_guard),
        _sentry: Some(sentry_guard),
        vigil_seen,
        sentry_seen,
    }
}

const TAGS: [(&str, &str); 5] = [
    ("service", "checkout"),
    ("region", "eu-west-1"),
    ("version", "1.4.2"),
    ("host", "web-03"),
    ("tenant", "acme"),
];

/// The scope every operation starts from: 5 tags, a user and 20
/// breadcrumbs, the same on both SDKs.
fn standard_scope() {
    vigil::configure_scope(|scope| {
        for (k, v) in TAGS {
            scope.set_tag(k, v);
        }
        scope.set_user(Some(vigil::User {
            id: Some("42".into()),
            email: Some("jane@example.com".into()),
            username: Some("jane".into()),
            ..Default::default()
        }));
    });
    sentry::configure_scope(|scope| {
        for (k, v) in TAGS {
            scope.set_tag(k, v);
        }
        scope.set_user(Some(sentry::User {
            id: Some("42".into()),
            email: Some("jane@example.com".into()),
            username: Some("jane".into()),
            ..Default::default()
        }));
    });
    for i in 0..20 {
        vigil::add_breadcrumb(vigil_crumb(format!("GET /api/items/{i} -> 200")));
        sentry::add_breadcrumb(sentry_crumb(format!("GET /api/items/{i} -> 200")));
    }
}

/// The tags a service sets once at start-up: the first 2 of [`TAGS`].
const SERVICE_TAGS: [(&str, &str); 2] = [TAGS[0], TAGS[1]];

/// The scope the realistic variants start from: [`SERVICE_TAGS`] only,
/// the same on both SDKs.
fn service_scope() {
    vigil::configure_scope(|scope| {
        for (k, v) in SERVICE_TAGS {
            scope.set_tag(k, v);
        }
    });
    sentry::configure_scope(|scope| {
        for (k, v) in SERVICE_TAGS {
            scope.set_tag(k, v);
        }
    });
}

/// The tags op1r and op2r set on the scope before they are measured, each
/// in a `configure_scope` call of its own: 6 changes, more than a scope
/// keeps beside its shared list in Vigil.
const TAG_CHANGES: [(&str, &str); 6] = [
    ("tenant", "acme"),
    ("plan", "enterprise"),
    ("feature", "checkout-v2"),
    ("locale", "en-GB"),
    ("shard", "7"),
    ("user_tier", "pro"),
];

/// Sets each of [`TAG_CHANGES`] on the current scope of both SDKs, one
/// `configure_scope` call per tag.
fn change_tags() {
    for (k, v) in TAG_CHANGES {
        vigil::configure_scope(|scope| scope.set_tag(k, v));
        sentry::configure_scope(|scope| scope.set_tag(k, v));
    }
}

/// Unbinds the client from the current hub of both SDKs (the main hub, on
/// the thread that initialised them), leaving both initialised but with
/// no client to capture with.
fn unbind_clients() {
    vigil::Hub::current().bind_client(None);
    sentry::Hub::current().bind_client(None);
    assert!(
        vigil::Hub::current().client().is_none(),
        "vigil kept a client"
    );
    assert!(
        sentry::Hub::current().client().is_none(),
        "sentry kept a client"
    );
}

// Both breadcrumbs are built field by field: `..Default::default()` would
// allocate (and drop) a default `ty` string first.
pub(crate) fn vigil_crumb(message: String) -> vigil::Breadcrumb {
    vigil::Breadcrumb {
        timestamp: SystemTime::now(),
        ty: "http".into(),
        category: Some("request".into()),
        message: Some(message),
        data: BTreeMap::new(),
        level: vigil::Level::Info,
        event_id: None,
    }
}

pub(crate) fn sentry_crumb(message: String) -> sentry::Breadcrumb {
    sentry::Breadcrumb {
        timestamp: SystemTime::now(),
        ty: "http".into(),
        category: Some("request".into()),
        message: Some(message),
        data: sentry::protocol::Map::new(),
        level: sentry::Level::Info,
    }
}

pub(crate) const MESSAGE: &str = "something went wrong";

pub(crate) fn vigil_capture() {
    black_box(vigil::capture_message(
        black_box(MESSAGE),
        vigil::Level::Error,
    ));
}

pub(crate) fn sentry_capture() {
    black_box(sentry::capture_message(
        black_box(MESSAGE),
        sentry::Level::Error,
    ));
}

/// One request: a fresh hub from the current one, 3 tags, 5 breadcrumbs,
/// and a captured message every 10th request.
fn vigil_request(i: &mut u64) {
    *i += 1;
    let capture = (*i).is_multiple_of(10);
    let hub = Arc::new(vigil::Hub::new_from_top(vigil::Hub::current()));
    vigil::Hub::run(hub, || {
        vigil::configure_scope(|scope| {
            scope.set_tag("route", "/api/items/{id}");
            scope.set_tag("method", "GET");
            scope.set_tag("status", "500");
        });
        for _ in 0..5 {
            vigil::add_breadcrumb(vigil_crumb("SELECT * FROM items WHERE id = $1".into()));
        }
        if capture {
            vigil_capture();
        }
    });
}

fn sentry_request(i: &mut u64) {
    *i += 1;
    let capture = (*i).is_multiple_of(10);
    let hub = Arc::new(sentry::Hub::new_from_top(sentry::Hub::current()));
    sentry::Hub::run(hub, || {
        sentry::configure_scope(|scope| {
            scope.set_tag("route", "/api/items/{id}");
            scope.set_tag("method", "GET");
            scope.set_tag("status", "500");
        });
        for _ in 0..5 {
            sentry::add_breadcrumb(sentry_crumb("SELECT * FROM items WHERE id = $1".into()));
        }
        if capture {
            sentry_capture();
        }
    });
}

/// One realistic request: a fresh hub from the current one (the main hub,
/// holding [`SERVICE_TAGS`]), 3 tags (a request id unique to the request
/// and 2 constant ones), 5 breadcrumbs, and a captured message every 10th
/// request.
fn vigil_request_realistic(i: &mut u64) {
    *i += 1;
    let capture = (*i).is_multiple_of(10);
    let request_id = format!("{:016x}", *i);
    let hub = Arc::new(vigil::Hub::new_from_top(vigil::Hub::current()));
    vigil::Hub::run(hub, || {
        vigil::configure_scope(|scope| {
            scope.set_tag("request_id", request_id);
            scope.set_tag("route", "/api/items/{id}");
            scope.set_tag("method", "GET");
        });
        for _ in 0..5 {
            vigil::add_breadcrumb(vigil_crumb("SELECT * FROM items WHERE id = $1".into()));
        }
        if capture {
            vigil_capture();
        }
    });
}

fn sentry_request_realistic(i: &mut u64) {
    *i += 1;
    let capture = (*i).is_multiple_of(10);
    let request_id = format!("{:016x}", *i);
    let hub = Arc::new(sentry::Hub::new_from_top(sentry::Hub::current()));
    sentry::Hub::run(hub, || {
        sentry::configure_scope(|scope| {
            scope.set_tag("request_id", request_id);
            scope.set_tag("route", "/api/items/{id}");
            scope.set_tag("method", "GET");
        });
        for _ in 0..5 {
            sentry::add_breadcrumb(sentry_crumb("SELECT * FROM items WHERE id = $1".into()));
        }
        if capture {
            sentry_capture();
        }
    });
}

/// The environment of op1, op2 and their realistic variants: the standard
/// scope, or (`op1r`, `op2r`) the service scope after 6 tag changes.
fn scope_env(op: &str) -> Env {
    if matches!(op, "op1r" | "op2r") {
        let env = setup_from(
            Some(Mode::Serialize),
            Tracing::Off,
            BaseScope::Service,
            Sessions::Off,
        );
        change_tags();
        env
    } else {
        setup(Some(Mode::Serialize))
    }
}

/// Sets up `op` and performs `action` on it; returns the child's report.
pub(crate) fn run(op: &str, action: Action) -> Value {
    let mut report = match op {
        "op1" | "op1r" => {
            let _env = scope_env(op);
            drive(
                action,
                || vigil::configure_scope(|s| s.set_tag("op", "configure")),
                || sentry::configure_scope(|s| s.set_tag("op", "configure")),
            )
        }
        "op2" | "op2r" => {
            let _env = scope_env(op);
            drive(
                action,
                || {
                    black_box(vigil::with_scope(
                        |s| s.set_tag("op", "with_scope"),
                        || black_box(1),
                    ));
                },
                || {
                    black_box(sentry::with_scope(
                        |s| s.set_tag("op", "with_scope"),
                        || black_box(1),
                    ));
                },
            )
        }
        "op3" => {
            let _env = setup(Some(Mode::Serialize));
            let mut report = drive(
                action,
                || vigil::add_breadcrumb(vigil_crumb("GET /api/items -> 200".into())),
                || sentry::add_breadcrumb(sentry_crumb("GET /api/items -> 200".into())),
            );
            // What both pay without any SDK: building the breadcrumb and
            // dropping one (the evicted oldest).
            floor(
                action,
                &mut report,
                || drop(black_box(vigil_crumb("GET /api/items -> 200".into()))),
                || drop(black_box(sentry_crumb("GET /api/items -> 200".into()))),
            );
            report
        }
        "op4" | "op5" => {
            let mode = if op == "op4" {
                Mode::Serialize
            } else {
                Mode::Drop
            };
            let env = setup(Some(mode));
            let mut report = drive(action, vigil_capture, sentry_capture);
            if matches!(action, Action::Measure(_)) {
                report["vigil_envelopes"] = json!(env.vigil_seen.envelopes.load(Ordering::Relaxed));
                report["sentry_envelopes"] =
                    json!(env.sentry_seen.envelopes.load(Ordering::Relaxed));
                if mode == Mode::Serialize {
                    env.vigil_seen.keep_next();
                    vigil_capture();
                    env.sentry_seen.keep_next();
                    sentry_capture();
                    report["vigil_event"] = describe(env.vigil_seen.take_kept());
                    report["sentry_event"] = describe(env.sentry_seen.take_kept());
                }
            }
            report
        }
        "op6" | "op6r" => {
            // op6r: both initialised, then the client unbound.
            let _env = if op == "op6" {
                setup(None)
            } else {
                let env = setup(Some(Mode::Serialize));
                unbind_clients();
                env
            };
            let mut report = drive(action, vigil_capture, sentry_capture);
            // The loop and `black_box` traffic around the call, no SDK.
            let empty = || {
                black_box(black_box(MESSAGE).len());
                black_box([0u8; 16]);
            };
            floor(action, &mut report, empty, empty);
            report
        }
        "op7" => {
            let _env = setup(Some(Mode::Serialize));
            drive(
                action,
                || {
                    black_box(vigil::Hub::current());
                },
                || {
                    black_box(sentry::Hub::current());
                },
            )
        }
        "op8" => {
            let _env = setup(Some(Mode::Serialize));
            match action {
                Action::Measure(config) => threads::measure(config),
                Action::Callgrind { .. } => json!({"skipped": "threads"}),
            }
        }
        "op9" => {
            let env = setup(Some(Mode::Serialize));
            requests(action, &env, vigil_request, sentry_request)
        }
        "op9r" => {
            let env = setup_from(
                Some(Mode::Serialize),
                Tracing::Off,
                BaseScope::Service,
                Sessions::Off,
            );
            requests(
                action,
                &env,
                vigil_request_realistic,
                sentry_request_realistic,
            )
        }
        "scope-mem" => {
            let _env = setup(Some(Mode::Serialize));
            scope_memory()
        }
        tx if tx.starts_with("tx") => traces::run(tx, action),
        ts if ts.starts_with("ts") => spans::run(ts, action),
        "rs0" | "rs1" => traces::run(op, action),
        "ax1" | "ax2" => actix::run(op, action),
        lg if lg.starts_with("lg") => logs::run(lg, action),
        other => panic!("unknown operation {other}"),
    };
    report["op"] = json!(op);
    report
}

/// Drives op9 or op9r: `vigil` and `sentry` each perform one request,
/// numbered by the counter they increment. When measuring, 10 more
/// requests each (one captures) show the event each SDK sent.
fn requests<V: FnMut(&mut u64), S: FnMut(&mut u64)>(
    action: Action,
    env: &Env,
    mut vigil: V,
    mut sentry: S,
) -> Value {
    let mut vi = 0;
    let mut si = 0;
    let mut report = drive(action, || vigil(&mut vi), || sentry(&mut si));
    if matches!(action, Action::Measure(_)) {
        env.vigil_seen.keep_next();
        env.sentry_seen.keep_next();
        for _ in 0..10 {
            vigil(&mut vi);
            sentry(&mut si);
        }
        report["vigil_event"] = describe(env.vigil_seen.take_kept());
        report["sentry_event"] = describe(env.sentry_seen.take_kept());
    }
    report
}

/// Adds the time of `vigil` and `sentry` as `vigil_floor_ns` and
/// `sentry_floor_ns`: the part of an operation's time that is not the
/// SDK's (building its input, the loop).
pub(crate) fn floor<V: FnMut(), S: FnMut()>(
    action: Action,
    report: &mut Value,
    vigil: V,
    sentry: S,
) {
    if let Action::Measure(config) = action {
        let t = harness::time_pair(config, vigil, sentry);
        report["vigil_floor_ns"] = json!(t.vigil_ns);
        report["sentry_floor_ns"] = json!(t.sentry_ns);
    }
}

/// Times (or runs under callgrind) one operation of each SDK.
pub(crate) fn drive<V: FnMut(), S: FnMut()>(action: Action, mut vigil: V, mut sentry: S) -> Value {
    match action {
        Action::Measure(config) => {
            let t = harness::time_pair(config, &mut vigil, &mut sentry);
            let ((), va) = alloc::measure(|| {
                harness::run_batch(ALLOC_ITERATIONS, &mut vigil);
            });
            let ((), sa) = alloc::measure(|| {
                harness::run_batch(ALLOC_ITERATIONS, &mut sentry);
            });
            let per = |x: u64| x as f64 / ALLOC_ITERATIONS as f64;
            json!({
                "vigil_ns": t.vigil_ns,
                "sentry_ns": t.sentry_ns,
                "ratio": t.ratio,
                "ratio_p25": t.ratio_iqr.0,
                "ratio_p75": t.ratio_iqr.1,
                "vigil_bytes": per(va.bytes),
                "vigil_allocs": per(va.allocs),
                "sentry_bytes": per(sa.bytes),
                "sentry_allocs": per(sa.allocs),
            })
        }
        Action::Callgrind { sdk, n } => {
            match sdk {
                Sdk::Vigil => {
                    harness::run_batch(CALLGRIND_WARMUP, &mut vigil);
                    harness::vigil_bench_measured_loop(n, &mut vigil);
                }
                Sdk::Sentry => {
                    harness::run_batch(CALLGRIND_WARMUP, &mut sentry);
                    harness::vigil_bench_measured_loop(n, &mut sentry);
                }
            }
            json!({"sdk": sdk.name(), "n": n})
        }
    }
}

/// Memory of a pushed scope after one breadcrumb, when the parent holds
/// 20: bytes allocated by `push_scope` + `add_breadcrumb` (the breadcrumb
/// itself is built before counting starts). Measured after one warm-up
/// push/pop, so a hub's stack has room for a second layer.
fn scope_memory() -> Value {
    fn once<G>(push: impl Fn() -> G, add: impl Fn()) -> alloc::AllocStats {
        drop(push());
        let (guard, stats) = alloc::measure(|| {
            let guard = push();
            add();
            guard
        });
        drop(guard);
        stats
    }
    let crumb = std::cell::Cell::new(Some(vigil_crumb("GET /api/items/20 -> 200".into())));
    let v = once(vigil::push_scope, || {
        vigil::add_breadcrumb(crumb.take().expect("one breadcrumb"));
    });
    let crumb = std::cell::Cell::new(Some(sentry_crumb("GET /api/items/20 -> 200".into())));
    let s = once(
        || sentry::Hub::current().push_scope(),
        || {
            sentry::add_breadcrumb(crumb.take().expect("one breadcrumb"));
        },
    );
    json!({
        "vigil_bytes": v.bytes,
        "vigil_allocs": v.allocs,
        "vigil_net": v.net(),
        "sentry_bytes": s.bytes,
        "sentry_allocs": s.allocs,
        "sentry_net": s.net(),
    })
}

/// A short description of the event in a serialized envelope, to show
/// that both SDKs sent the same data.
fn describe(envelope: Option<Vec<u8>>) -> Value {
    let Some(bytes) = envelope else {
        return json!(null);
    };
    if std::env::var_os("VIGIL_BENCH_DUMP").is_some() {
        eprintln!("{}", String::from_utf8_lossy(&bytes));
    }
    let event = bytes
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice::<Value>(line).ok())
        .find(|v| v.get("event_id").is_some() && v.get("platform").is_some());
    let Some(event) = event else {
        return json!({"envelope_bytes": bytes.len(), "event": "not found"});
    };
    let crumbs = event["breadcrumbs"]
        .get("values")
        .unwrap_or(&event["breadcrumbs"])
        .as_array()
        .map_or(0, Vec::len);
    json!({
        "envelope_bytes": bytes.len(),
        "tags": event["tags"].as_object().map_or(0, |t| t.len()),
        "user": event.get("user").is_some(),
        "breadcrumbs": crumbs,
        "contexts": event["contexts"].as_object().map(|c| c.keys().cloned().collect::<Vec<_>>()),
    })
}
