//! Vigil's benchmark runner: Vigil against the crates.io `sentry` crate
//! (0.49), in the same run, on the same work. Commands: `suite`,
//! `delivery`, and `panic-stall` (Vigil alone: panicking requests against
//! an unreachable Sentry host must not stall a server), each in a section
//! below.
//!
//! # The suite
//!
//! ```sh
//! cargo run --release -p vigil-bench -- suite
//! ```
//!
//! prints a table of vigil/sentry ratios, each next to its target and
//! marked `MET` or `MISSED`, in under two minutes on 2 cores. The
//! operations:
//!
//! | op | what one operation is |
//! |---|---|
//! | op1 | `configure_scope(|s| s.set_tag(..))` |
//! | op1r | op1 on a scope that holds the 2 service tags and has since had 6 tags set, one `configure_scope` each |
//! | op2 | `with_scope(|s| s.set_tag(..), || ..)`: push, set a tag, pop |
//! | op2r | op2 on the scope of op1r |
//! | op3 | `add_breadcrumb` with the scope at its 100-breadcrumb cap |
//! | op4 | `capture_message`, transport serializing the envelope to bytes |
//! | op5 | `capture_message`, transport dropping the envelope unserialized |
//! | op6 | `capture_message` with no client bound (the disabled SDK) |
//! | op6r | `capture_message` after `init` and then `Hub::current().bind_client(None)` on both SDKs |
//! | op7 | `Hub::current()` |
//! | op8 | `capture_message` from 2 threads at once (ns per event), and Vigil's 2-thread / 1-thread throughput |
//! | op9 | a request: `Hub::new_from_top(Hub::current())` + `Hub::run`, 3 tags, 5 breadcrumbs, a capture in 1 request of 10 |
//! | op9r | op9 from the service scope (2 tags, no user, no breadcrumbs), the 3 tags a request id unique to the request (16 hex digits) + 2 constant ones |
//! | tx1 | `start_transaction` + 10 child spans (`start_child` + `finish`) + `finish`, sampled, the transaction serialized |
//! | tx2 | one `start_child` + `finish` on a running sampled transaction (replaced, unsent, every 100 spans) |
//! | tx3 | `configure_scope(\|s\| s.iter_trace_propagation_headers().collect())` with a sampled transaction as the scope's span (Vigil: `sentry-trace` + `baggage`; sentry 0.49: `sentry-trace` only) |
//! | tx4 | `capture_message` at error level with a sampled transaction as the scope's span, serializing |
//! | tx5 | an `http::Request` (unique `x-request-id`) through `VigilLayer` / `NewSentryLayer` + `SentryHttpLayer::enable_transaction()` around a `service_fn` that sets a tag, adds a breadcrumb and captures in 1 request of 10; one transaction per request, serialized |
//! | tx1u | tx1 with the transaction sampled out (a `traces_sampler` answering 0.0) |
//! | tx5u | tx5 with the transactions sampled out (a `traces_sampler` answering 0.0) |
//! | ts1 | an `#[instrument]`ed function with 3 fields called (its span created, entered, exited, closed) inside a running root span: a child span (`tracing` layers: `vigil_tracing::layer()` / `sentry_tracing::layer()`) |
//! | ts2 | a 5-level `tracing` span tree (nested `#[instrument]`ed functions, all closed); the root is a transaction, serialized |
//! | ts3 | a future `.instrument(span)`ed (3 fields) polled 10 times (`Pending` 9 times, no-op waker) inside a running root span: a child span |
//! | ts1u, ts2u, ts3u | ts1, ts2, ts3 with the trace sampled out (a `traces_sampler` answering 0.0) |
//! | rs0 | tx5's request with tracing off and no sessions (`sentry-tower` without its transaction layer) |
//! | rs1 | rs0 with request-mode sessions: Vigil's defaults; `sentry` with `auto_session_tracking`, `SessionMode::Request` and a handler calling `start_session`/`end_session` (`sentry-tower` 0.49 starts none) |
//! | ax1 | an actix-web request through `actix_web::test::call_service` into an `App` wrapped in `vigil_actix::VigilMiddleware::new()` / `sentry_actix::Sentry::new()` (0.49), whose handler sets a tag with the request's unique `x-request-id` and adds a breadcrumb; 1 request in 10 returns an `io::Error` (a 500, captured by each middleware); tracing off, no sessions |
//! | ax2 | ax1 traced: a transaction per request (`VigilMiddleware` defaults / `Sentry::with_transaction()`), serialized |
//! | lg1 | `logger_info!(user.id = i, route = "/orders", "order {} paid", i)` (`i` unique per call): one structured log into the client's batch, sent (serialized) every 100 logs |
//! | lg2 | `log::info!(user_id = i; "order {} paid", i)` into `vigil::log::VigilLogger` / `sentry_log::SentryLogger`, each with a filter answering `Log` for `info` and up, behind a forwarding logger of the bench |
//! | lg3 | `tracing::info!(user_id = i, "order {} paid", i)` into `vigil_tracing::LogLayer` / `sentry_tracing::LogLayer`, each filtered at `INFO`, in a registry of its own |
//! | lg2f, lg3f | lg2, lg3 with a `debug!` line, turned away by the logger's filter / the layer's `INFO` filter (the cost of a disabled log line) |
//!
//! plus the memory of a pushed scope after one breadcrumb when its parent
//! holds 20 (bytes allocated by `push_scope` + `add_breadcrumb`).
//!
//! Every operation except op6 and the realistic variants op1r, op2r and
//! op9r starts from the same scope on both SDKs: 5 tags, a user and 20
//! breadcrumbs. The realistic variants start from what a service sets at
//! start-up: 2 tags (`service`, `region`), no user, no breadcrumbs; each
//! sits right after its base operation in the tables. Both SDKs are initialised with the
//! same DSN, `default_integrations` off, a release, and a transport of this
//! crate ([`transports`]) that serializes each envelope to a `Vec<u8>` and
//! drops it (op5: drops it without serializing). The suite checks that
//! both sent events with the same tags, user and breadcrumbs and prints
//! the result (`same work check`).
//!
//! The tracing operations (`tx*`, module [`traces`]) trace with
//! `traces_sample_rate = 1.0`, or, sampled out, with a `traces_sampler`
//! that answers 0.0 on both SDKs (for Vigil a rate of 0.0 turns tracing
//! off, for `sentry` it does not). Their same work check compares the
//! envelopes each SDK sent (counts; tags, user, breadcrumbs, spans and
//! request data of the event and the transaction; whether the event
//! belongs to the transaction) and names the fields that differ; the
//! `note` line under it says what work differs by design.
//!
//! The `tracing` span operations (`ts*`, module [`spans`]) run the same
//! instrumented code under a subscriber per SDK: a
//! `tracing_subscriber::registry()` with only `vigil_tracing::layer()`, or
//! only `sentry_tracing::layer()` (0.49), switched once per batch. In ts1
//! and ts3 the running root is a `tracing` span, entered, a child of a
//! transaction on the scope that is replaced (dropped unfinished, unsent)
//! every 100 child spans, as in tx2. Their same work check compares the
//! transaction each SDK sent (name, scope data, span count), its span tree
//! (depth and description of each span), the fields as span data and the
//! current span seen from inside the instrumented code (a span or a
//! transaction, sampled or not), and shows the ops (named by different
//! conventions) and each SDK's own data.
//!
//! The structured-log operations (`lg*`, module [`logs`]) start from the
//! standard scope with logs on (Vigil: `enable_logs(true)`; `sentry`: its
//! default). Both SDKs batch logs and send 100 per envelope from the
//! capturing thread, so one operation in 100 pays for an envelope. The
//! `log` crate has one logger per process: lg2 installs a forwarding
//! logger that hands each record to the logger of the SDK being measured
//! (an atomic set by each operation), with `log`'s max level at `TRACE`;
//! lg3 switches subscribers once per batch, as the `ts*` ops do. Records
//! and events name their target (`shop::orders`). Their same work check
//! empties both batches, runs 100 operations per SDK, and compares the
//! logs each sent (count, levels, body against the user id attribute,
//! distinct ids, trace ids, the bench's attributes and their types); the
//! SDKs' own attributes are shown, and the note says what differs by
//! design.
//!
//! ## How it measures
//!
//! - **Time** ([`harness`]): each operation runs in a child process of its
//!   own (`vigil-bench op OPn`), where both SDKs are initialised (they share
//!   no global state). Batches of each SDK alternate, each batch sized to
//!   about `--batch-ms`; the ratio is the median of the per-round ratios,
//!   so a noisy neighbour slows both sides of a round alike. The p25-p75
//!   of the round ratios is printed next to it.
//! - **Allocations** ([`alloc`]): a counting `#[global_allocator]` around
//!   `System` counts, for the measuring thread only, the calls and bytes
//!   of 1000 iterations of each operation.
//! - **Floors**: op3, op6 and op6r also time what both SDKs' numbers
//!   contain that is not SDK work (op3: building and dropping a
//!   breadcrumb; op6, op6r: the loop and `black_box`), and print the ratio of the time above the
//!   floor, for information. ax1 and ax2 time the same requests through
//!   the same app without middleware or SDK calls (actix-web's own work,
//!   about a fifth of sentry's time per request), and are judged on the
//!   time above that floor: each middleware's per-request overhead
//!   (target <= 0.5); the table's ratio is the whole request's.
//! - **Scaling** (op8): two persistent worker threads; the same pool also
//!   times a register-only spin loop on one and two threads, the machine's
//!   current ceiling. When even that stays below the 1.7x target (busy or
//!   shared cores), the scaling verdict is `INCONCLUSIVE`, not `MISSED`.
//! - **Instructions**: when `valgrind` is on the `PATH`, the suite runs
//!   `vigil-bench callgrind OPn SDK N` under `valgrind --tool=callgrind
//!   --collect-atstart=no --toggle-collect=*vigil_bench_measured_loop*`,
//!   which counts only the N iterations (warm-up and set-up excluded), and
//!   prints instructions per operation for each SDK (op8 excepted: valgrind
//!   serializes threads). The profiles stay in
//!   `target/release/vigil-bench-callgrind/` for `callgrind_annotate`.
//!
//! ## Flags
//!
//! `suite [--rounds N] [--batch-ms MS] [--no-callgrind] [--profile] [--ops op1,op4,scope-mem]`
//!
//! - `--rounds` (default 31) and `--batch-ms` (default 25): how long each
//!   operation is timed.
//! - `--no-callgrind`: skip the instruction counts.
//! - `--profile`: after the table, print the top functions of Vigil's
//!   callgrind profile for op4, op5 and every missed operation.
//! - `--ops`: run only these operations (`--ops tx1,tx2,tx3,tx4,tx5,tx1u,tx5u`
//!   for the tracing ones, `--ops ax1,ax2` for the actix-web ones, `--ops ts1,ts2,ts3,ts1u,ts2u,ts3u` for the
//!   `tracing` span ones, `--ops lg1,lg2,lg3,lg2f,lg3f` for the
//!   structured-log ones).
//!
//! Single pieces, for profiling by hand:
//!
//! ```sh
//! vigil-bench op op4                   # one operation, JSON report
//! VIGIL_BENCH_DUMP=1 vigil-bench op op4 # ... and print both envelopes compared
//! valgrind --tool=callgrind --collect-atstart=no \
//!   --toggle-collect='*vigil_bench_measured_loop*' \
//!   target/release/vigil-bench callgrind op4 vigil 1000
//! ```
//!
//! # Delivery
//!
//! ```sh
//! cargo run --release -p vigil-bench -- delivery [EVENTS]
//! ```
//!
//! `delivery` captures EVENTS (default 20,000) events as fast as possible
//! with Vigil and with `sentry` (each with its default HTTP transport),
//! each in a child process of its own sending to a loopback sink in this
//! process, and prints delivered events per second, CPU time and peak
//! memory of each, and their ratios.
//!
//! # Panic stall
//!
//! ```sh
//! cargo run --release -q -p vigil-bench -- panic-stall
//! ```
//!
//! `panic-stall` checks that panicking requests do not stall a server when
//! the Sentry host is unreachable: an axum server (2 tokio workers,
//! `VigilLayer`, Vigil's panic hook on) with a DSN pointing at a listener
//! that never answers takes 100 concurrent panicking requests next to a
//! healthy load, and the table compares the healthy requests' p50, p99 and
//! max latency with a baseline without panics and with a control whose
//! panics skip Vigil's hook, over 5 rounds, and times Vigil's hook on the
//! worker (Vigil only; about a second). See [`panic_stall`].

mod actix;
mod alloc;
mod delivery;
mod harness;
mod logs;
mod ops;
mod panic_stall;
mod sink;
mod spans;
mod suite;
mod threads;
mod traces;
mod transports;

use std::time::Duration;

#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("suite") => suite::run(&args[1..]),
        Some("op") => {
            let op = args.get(1).map_or_else(|| usage(), String::as_str);
            let flag = |name: &str, default: u64| {
                args.iter()
                    .position(|a| a == name)
                    .and_then(|i| args.get(i + 1))
                    .map_or(default, |v| v.parse().unwrap_or_else(|_| usage()))
            };
            let config = harness::Config {
                rounds: usize::try_from(flag("--rounds", 31)).unwrap_or(31),
                batch: Duration::from_millis(flag("--batch-ms", 25)),
            };
            let report = ops::run(op, ops::Action::Measure(config));
            println!("{report}");
        }
        Some("callgrind") => {
            let op = args.get(1).map_or_else(|| usage(), String::as_str);
            let sdk = args
                .get(2)
                .and_then(|s| ops::Sdk::parse(s))
                .unwrap_or_else(|| usage());
            let n = args
                .get(3)
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| usage());
            let report = ops::run(op, ops::Action::Callgrind { sdk, n });
            println!("{report}");
        }
        Some("delivery") => {
            let events = args
                .get(1)
                .and_then(|n| n.parse().ok())
                .unwrap_or(delivery::DEFAULT_EVENTS);
            delivery::delivery(events);
        }
        Some("delivery-child") => {
            let sdk = args.get(1).expect("sdk");
            let dsn = args.get(2).expect("dsn");
            let events: u64 = args.get(3).and_then(|n| n.parse().ok()).expect("events");
            delivery::delivery_child(sdk, dsn, events);
        }
        Some("panic-stall") => panic_stall::run(),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: vigil-bench suite [--rounds N] [--batch-ms MS] [--no-callgrind] [--profile] [--ops op1,tx1,...]"
    );
    eprintln!(
        "       vigil-bench op OP [--rounds N] [--batch-ms MS]   (OP: op1..op9, op1r, op2r, op6r, op9r, tx1..tx5, tx1u, tx5u, ts1..ts3, ts1u..ts3u, rs0, rs1, ax1, ax2, lg1..lg3, lg2f, lg3f, scope-mem)"
    );
    eprintln!("       vigil-bench callgrind OP vigil|sentry N");
    eprintln!("       vigil-bench delivery [EVENTS]");
    eprintln!("       vigil-bench panic-stall");
    std::process::exit(2);
}
