//! The proof of per-request isolation (a binary of its own: it binds a
//! client to the process's main hub).
//!
//! An axum app on a multi-threaded tokio runtime with 2 workers serves
//! 10,000 requests over real HTTP/1.1 on 127.0.0.1, 200 in flight (200
//! keep-alive connections with 50 requests each). Each request sets its
//! own tag, user and 3 breadcrumbs, awaits several times (tokio sleeps of
//! 0–2 ms and `yield_now`, so requests interleave on the same threads),
//! spawns a child task with `vigil_core::spawn` that captures too, and
//! captures an event. Every one of the 20,000 events must carry exactly
//! its own request's tag, user, breadcrumbs, transaction and request data;
//! afterwards neither the main hub nor any worker thread's hub may hold
//! anything. The second test does the same while another OS thread keeps
//! updating a counter tag on the global scope. The third runs with tracing
//! on: every request continues its own trace (a distinct `sentry-trace`
//! per request) and is a transaction with two child spans, one started in
//! the handler and one in the spawned task; every span and event must land
//! in its own request's trace and transaction.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use vigil_core::protocol::{Breadcrumb, Envelope, EnvelopeItem, Event, Level, Transaction, User};
use vigil_core::{Client, ClientOptions, Hub, Transport, TransportContext};
use vigil_tower::VigilLayer;

const REQUESTS: u64 = 10_000;
const CONNECTIONS: u64 = 200;
const ROUTES: u64 = 10;
/// Upper bound for the whole client run.
const DEADLINE: Duration = Duration::from_secs(180);

/// The tests of this binary share the main hub: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// The last counter value the global-scope writer has finished setting.
static PUBLISHED: AtomicU64 = AtomicU64::new(0);

/// Records events in memory. (Not `vigil_core::test::TestTransport`: that
/// one also writes every envelope to `$VIGIL_ENVELOPE_DUMP_DIR` when set,
/// which the CI suite sets, and 40,000 files would only slow the oracles
/// down.)
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<Event>>,
    transactions: Mutex<Vec<Transaction>>,
}

impl Transport for Recorder {
    fn send_envelope(&self, envelope: Envelope) {
        let mut events = self.events.lock().unwrap_or_else(PoisonError::into_inner);
        for item in envelope.into_items() {
            match item {
                EnvelopeItem::Event(event) => events.push(*event),
                EnvelopeItem::Transaction(transaction) => self
                    .transactions
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(*transaction),
                _ => {}
            }
        }
    }
}

/// Binds a client with a recording transport to the main hub, as `init`
/// would, with transactions sampled at `traces_sample_rate`.
fn bind_recording_client(traces_sample_rate: f32) -> Arc<Recorder> {
    let recorder = Arc::new(Recorder::default());
    let for_factory = recorder.clone();
    let options = ClientOptions {
        dsn: Some(vigil_core::test::TEST_DSN.parse().expect("a DSN")),
        transport: Some(Arc::new(move |_: &TransportContext<'_>| {
            for_factory.clone() as Arc<dyn Transport>
        })),
        traces_sample_rate,
        ..ClientOptions::default()
    };
    Hub::main().bind_client(Some(Arc::new(Client::new(options))));
    recorder
}

/// What a hub's top scope holds; all empty when nothing leaked into it.
#[derive(Debug, Default, PartialEq)]
struct Leftovers {
    tags: BTreeMap<vigil_core::protocol::SmolStr, vigil_core::protocol::SmolStr>,
    user: Option<User>,
    breadcrumbs: usize,
    transaction: Option<String>,
    span: bool,
}

fn leftovers(hub: &Hub) -> Leftovers {
    hub.configure_scope(|scope| Leftovers {
        tags: scope
            .tags()
            .iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
        user: scope.user().cloned(),
        breadcrumbs: scope.breadcrumbs().len(),
        transaction: scope.transaction().map(str::to_owned),
        span: scope.get_span().is_some(),
    })
}

/// An await point: a tokio sleep of 0, 1 or 2 ms or a `yield_now`, chosen
/// by request and step, followed by a `yield_now`.
async fn pause(id: u64, step: u64) {
    match (id + step) % 4 {
        0 => tokio::time::sleep(Duration::ZERO).await,
        1 => tokio::time::sleep(Duration::from_millis(1)).await,
        2 => tokio::time::sleep(Duration::from_millis(2)).await,
        _ => tokio::task::yield_now().await,
    }
    tokio::task::yield_now().await;
}

/// Captures `message`, returning the published global counter just before
/// and just after.
fn capture_between(message: String) -> (u64, u64) {
    let lo = PUBLISHED.load(Ordering::SeqCst);
    vigil_core::capture_message(&message, Level::Info);
    let hi = PUBLISHED.load(Ordering::SeqCst);
    (lo, hi)
}

/// The trace id request `id` sends (distinct per request, never zero).
fn trace_of(id: u64) -> String {
    format!("{:032x}", id + 1)
}

/// A child span of the scope's current span, when tracing is on.
fn child_span(op: &str, description: String) -> Option<vigil_core::Span> {
    vigil_core::configure_scope(|scope| scope.get_span())
        .map(|parent| parent.start_child(op, &description))
}

async fn handler(Path(id): Path<u64>) -> String {
    let work = child_span("work", format!("work {id}"));
    vigil_core::configure_scope(|scope| {
        scope.set_tag("req", id);
        scope.set_user(Some(User {
            id: Some(id.to_string()),
            ..User::default()
        }));
    });
    for step in 0..3 {
        pause(id, step).await;
        vigil_core::add_breadcrumb(Breadcrumb::message(format!("{id}/{step}")));
    }
    let child = vigil_core::spawn(async move {
        pause(id, 3).await;
        let span = child_span("child", format!("child {id}"));
        let bounds = capture_between(format!("child {id}"));
        pause(id, 4).await;
        if let Some(span) = span {
            span.finish();
        }
        bounds
    });
    pause(id, 5).await;
    let (lo, hi) = capture_between(format!("request {id}"));
    pause(id, 6).await;
    if let Some(work) = work {
        work.finish();
    }
    let (child_lo, child_hi) = child.await.expect("the child task ends");
    format!("{lo} {hi} {child_lo} {child_hi}")
}

fn app() -> Router {
    let mut router = Router::new();
    for route in 0..ROUTES {
        router = router.route(&format!("/r{route}/{{id}}"), get(handler));
    }
    router.layer(VigilLayer::new())
}

/// Reads one HTTP/1.1 response with a `Content-Length`; returns status and
/// body.
async fn read_response(reader: &mut BufReader<TcpStream>) -> (u16, String) {
    let mut line = String::new();
    reader.read_line(&mut line).await.expect("a status line");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line, got {line:?}"));
    let mut length = 0;
    loop {
        line.clear();
        reader.read_line(&mut line).await.expect("a header line");
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("a length");
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.expect("the body");
    (status, String::from_utf8(body).expect("utf-8"))
}

/// One keep-alive connection sending requests `conn`, `conn + CONNECTIONS`,
/// ... in turn. Returns `(id, response body)` pairs.
async fn connection(addr: SocketAddr, conn: u64) -> Vec<(u64, String)> {
    let stream = TcpStream::connect(addr).await.expect("connects");
    stream.set_nodelay(true).expect("nodelay");
    let mut reader = BufReader::new(stream);
    let mut out = Vec::new();
    let mut request = String::new();
    for id in (conn..REQUESTS).step_by(CONNECTIONS as usize) {
        request.clear();
        let route = id % ROUTES;
        write!(
            request,
            "GET /r{route}/{id}?n={id} HTTP/1.1\r\nHost: {addr}\r\nX-Req: {id}\r\n\
             Authorization: Bearer secret-{id}\r\nsentry-trace: {}-{:016x}-1\r\n\r\n",
            trace_of(id),
            id + 1
        )
        .expect("formats");
        reader
            .get_mut()
            .write_all(request.as_bytes())
            .await
            .expect("writes");
        let (status, body) = read_response(&mut reader).await;
        assert_eq!(status, 200, "request {id}: {body}");
        out.push((id, body));
    }
    out
}

/// Sends all requests from a current-thread runtime on this thread.
fn run_clients(addr: SocketAddr) -> HashMap<u64, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a client runtime");
    runtime.block_on(async move {
        let all = async {
            let mut tasks = tokio::task::JoinSet::new();
            for conn in 0..CONNECTIONS {
                tasks.spawn(connection(addr, conn));
            }
            let mut bodies = HashMap::new();
            while let Some(result) = tasks.join_next().await {
                bodies.extend(result.expect("a client task"));
            }
            bodies
        };
        tokio::time::timeout(DEADLINE, all)
            .await
            .expect("all requests answered in time")
    })
}

struct Outcome {
    events: Vec<Event>,
    transactions: Vec<Transaction>,
    bodies: HashMap<u64, String>,
    workers: Vec<Leftovers>,
    port: u16,
}

/// Serves the app on a 2-worker runtime, sends every request, shuts down.
fn serve_and_send(recorder: &Recorder) -> Outcome {
    let workers = Arc::new(Mutex::new(Vec::new()));
    let on_stop = workers.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_stop(move || {
            // Whatever a request left on this thread's own hub.
            let left = leftovers(&Hub::current());
            on_stop
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(left);
        })
        .build()
        .expect("a server runtime");
    let listener = runtime
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("binds");
    let addr = listener.local_addr().expect("an address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = runtime.spawn(async move {
        axum::serve(listener, app())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let started = Instant::now();
    let bodies = run_clients(addr);
    eprintln!(
        "{REQUESTS} requests over {CONNECTIONS} connections answered in {:.2?}",
        started.elapsed()
    );
    let _ = stop.send(());
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(30), server).await })
        .expect("the server stops in time")
        .expect("the server task")
        .expect("serves");
    runtime.shutdown_timeout(Duration::from_secs(10));
    let workers = std::mem::take(&mut *workers.lock().unwrap_or_else(PoisonError::into_inner));
    let events = std::mem::take(
        &mut *recorder
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    let transactions = std::mem::take(
        &mut *recorder
            .transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    Outcome {
        events,
        transactions,
        bodies,
        workers,
        port: addr.port(),
    }
}

/// Collects mismatches instead of stopping at the first.
#[derive(Default)]
struct Problems {
    count: usize,
    shown: String,
}

impl Problems {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.count += 1;
            if self.count <= 20 {
                self.shown.push_str(&what());
                self.shown.push('\n');
            }
        }
    }

    fn assert_none(&self) {
        assert!(
            self.count == 0,
            "{} isolation problems; the first ones:\n{}",
            self.count,
            self.shown
        );
    }
}

/// Checks that every event carries exactly its own request's data; with
/// `global`, also a global counter value between the ones published just
/// before and just after its capture. Returns the global values seen.
fn check_events(outcome: &Outcome, global: bool) -> Vec<u64> {
    let mut problems = Problems::default();
    problems.check(outcome.bodies.len() == REQUESTS as usize, || {
        format!("{} responses", outcome.bodies.len())
    });
    problems.check(outcome.events.len() == 2 * REQUESTS as usize, || {
        format!("{} events, expected {}", outcome.events.len(), 2 * REQUESTS)
    });
    let mut seen: HashMap<(bool, u64), usize> = HashMap::new();
    let mut global_values = Vec::new();
    for event in &outcome.events {
        let message = event.message.as_deref().unwrap_or("");
        let (is_child, id) = match message.split_once(' ') {
            Some(("request", id)) => (false, id.parse::<u64>().ok()),
            Some(("child", id)) => (true, id.parse::<u64>().ok()),
            _ => (false, None),
        };
        let Some(id) = id else {
            problems.check(false, || format!("unexpected event {message:?}"));
            continue;
        };
        *seen.entry((is_child, id)).or_default() += 1;

        // Tags: exactly the request's own (plus the global counter).
        let mut tags = event.tags.clone();
        if global {
            let value = tags.remove("global").and_then(|v| v.parse::<u64>().ok());
            let bounds = outcome.bodies.get(&id).map(|body| {
                let n: Vec<u64> = body.split(' ').filter_map(|s| s.parse().ok()).collect();
                if is_child { (n[2], n[3]) } else { (n[0], n[1]) }
            });
            match (value, bounds) {
                (Some(v), Some((lo, hi))) => {
                    global_values.push(v);
                    problems.check(lo <= v && v <= hi + 1, || {
                        format!("{message}: global counter {v} outside {lo}..={}", hi + 1)
                    });
                }
                _ => problems.check(false, || format!("{message}: no global counter: {tags:?}")),
            }
        }
        let expected_tags = BTreeMap::from([("req".into(), id.to_string().into())]);
        problems.check(tags == expected_tags, || {
            format!("{message}: tags {tags:?}")
        });

        // User: exactly the request's.
        let expected_user = User {
            id: Some(id.to_string()),
            ..User::default()
        };
        problems.check(event.user.as_ref() == Some(&expected_user), || {
            format!("{message}: user {:?}", event.user)
        });

        // Breadcrumbs: exactly the request's three, in order.
        let crumbs: Vec<&str> = event
            .breadcrumbs
            .iter()
            .map(|c| c.message.as_deref().unwrap_or("?"))
            .collect();
        let expected_crumbs = [format!("{id}/0"), format!("{id}/1"), format!("{id}/2")];
        problems.check(crumbs == expected_crumbs, || {
            format!("{message}: breadcrumbs {crumbs:?}")
        });

        // Transaction: the request's route.
        let route = id % ROUTES;
        let expected_transaction = if cfg!(feature = "axum") {
            format!("GET /r{route}/{{id}}")
        } else {
            format!("GET /r{route}/{id}")
        };
        problems.check(
            event.transaction.as_deref() == Some(&*expected_transaction),
            || format!("{message}: transaction {:?}", event.transaction),
        );

        // Request data: the request's URL, query and headers.
        match &event.request {
            Some(request) => {
                let url = format!("http://127.0.0.1:{}/r{route}/{id}", outcome.port);
                let query = format!("n={id}");
                let ok = request.method.as_deref() == Some("GET")
                    && request.url.as_deref() == Some(&*url)
                    && request.query_string.as_deref() == Some(&*query)
                    && request.headers.get("x-req") == Some(&id.to_string())
                    && request.headers.get("authorization").map(String::as_str)
                        == Some("[Filtered]")
                    && request
                        .headers
                        .get("sentry-trace")
                        .is_some_and(|t| t.starts_with(&trace_of(id)))
                    && request.headers.len() == 4
                    && request.cookies.is_none()
                    && request.env.is_empty();
                problems.check(ok, || format!("{message}: request {request:?}"));
            }
            None => problems.check(false, || format!("{message}: no request data")),
        }
    }
    for id in 0..REQUESTS {
        for is_child in [false, true] {
            let n = seen.get(&(is_child, id)).copied().unwrap_or(0);
            problems.check(n == 1, || {
                format!("{n} events for request {id} (child: {is_child})")
            });
        }
    }
    problems.assert_none();
    global_values
}

/// Checks that nothing was left on the main hub or any worker's hub.
fn check_nothing_left(outcome: &Outcome, recorder: &Recorder) {
    assert!(
        outcome.workers.len() >= 2,
        "on_thread_stop ran for {} threads",
        outcome.workers.len()
    );
    for (n, left) in outcome.workers.iter().enumerate() {
        assert_eq!(*left, Leftovers::default(), "worker thread {n}");
    }
    let main = Hub::main();
    assert_eq!(leftovers(&main), Leftovers::default(), "the main hub");
    main.capture_message("main after", Level::Info);
    let events = std::mem::take(
        &mut *recorder
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert!(event.tags.is_empty(), "{:?}", event.tags);
    assert!(event.user.is_none(), "{:?}", event.user);
    assert!(event.breadcrumbs.is_empty());
    assert!(event.transaction.is_none());
    assert!(event.request.is_none());
}

#[test]
fn ten_thousand_concurrent_requests_stay_isolated() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let recorder = bind_recording_client(0.0);
    let outcome = serve_and_send(&recorder);
    check_events(&outcome, false);
    assert!(outcome.transactions.is_empty(), "tracing is off");
    check_nothing_left(&outcome, &recorder);
    eprintln!("isolation test took {:.2?}", started.elapsed());
}

#[test]
fn ten_thousand_traced_requests_keep_their_spans_and_events_in_their_own_trace() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let recorder = bind_recording_client(1.0);
    let outcome = serve_and_send(&recorder);
    check_events(&outcome, false);
    check_traces(&outcome);
    check_nothing_left(&outcome, &recorder);
    eprintln!("traced isolation test took {:.2?}", started.elapsed());
}

/// Checks that every request is one transaction in its own trace, with
/// exactly its own two spans as children, and that both of its events
/// carry that trace and the transaction's span.
fn check_traces(outcome: &Outcome) {
    let mut problems = Problems::default();
    problems.check(outcome.transactions.len() == REQUESTS as usize, || {
        format!(
            "{} transactions, expected {REQUESTS}",
            outcome.transactions.len()
        )
    });
    // Request id -> the transaction's span id.
    let mut span_of: HashMap<u64, String> = HashMap::new();
    for transaction in &outcome.transactions {
        let trace = serde_json::to_value(&transaction.contexts["trace"]).expect("a trace");
        let trace_id = trace["trace_id"].as_str().unwrap_or("");
        let Some(id) = u64::from_str_radix(trace_id, 16)
            .ok()
            .and_then(|n| n.checked_sub(1))
        else {
            problems.check(false, || format!("transaction with trace {trace_id:?}"));
            continue;
        };
        let span_id = trace["span_id"].as_str().unwrap_or("").to_owned();
        problems.check(
            trace["parent_span_id"] == format!("{:016x}", id + 1),
            || {
                format!(
                    "request {id}: transaction parent {}",
                    trace["parent_span_id"]
                )
            },
        );
        let url = transaction
            .request
            .as_ref()
            .and_then(|r| r.url.as_deref())
            .unwrap_or("");
        problems.check(url.ends_with(&format!("/{id}")), || {
            format!("request {id}: transaction of {url:?}")
        });
        let mut descriptions: Vec<&str> = transaction
            .spans
            .iter()
            .map(|s| s.description.as_deref().unwrap_or("?"))
            .collect();
        descriptions.sort_unstable();
        problems.check(
            descriptions == [format!("child {id}"), format!("work {id}")],
            || format!("request {id}: spans {descriptions:?}"),
        );
        for span in &transaction.spans {
            problems.check(
                span.trace_id.to_string() == trace_id
                    && span.parent_span_id.map(|p| p.to_string()).as_deref() == Some(&*span_id),
                || format!("request {id}: span {span:?} outside its transaction"),
            );
        }
        problems.check(span_of.insert(id, span_id).is_none(), || {
            format!("request {id}: two transactions")
        });
    }
    for event in &outcome.events {
        let message = event.message.as_deref().unwrap_or("");
        let Some(id) = message
            .split_once(' ')
            .and_then(|(_, id)| id.parse::<u64>().ok())
        else {
            continue;
        };
        let trace = serde_json::to_value(&event.contexts["trace"]).expect("a trace");
        problems.check(trace["trace_id"] == trace_of(id), || {
            format!("{message}: trace {}", trace["trace_id"])
        });
        problems.check(
            span_of
                .get(&id)
                .is_some_and(|span| trace["span_id"] == **span),
            || {
                format!(
                    "{message}: span {} is not its transaction's",
                    trace["span_id"]
                )
            },
        );
    }
    problems.assert_none();
}

#[test]
fn isolation_holds_while_the_global_scope_changes() {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let recorder = bind_recording_client(0.0);

    // Another OS thread keeps counting on the global scope.
    vigil_core::configure_global_scope(|scope| scope.set_tag("global", "0"));
    PUBLISHED.store(0, Ordering::SeqCst);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                vigil_core::configure_global_scope(|scope| scope.set_tag("global", n));
                PUBLISHED.store(n, Ordering::SeqCst);
                std::thread::sleep(Duration::from_micros(100));
            }
            n
        })
    };

    let outcome = serve_and_send(&recorder);
    stop.store(true, Ordering::Relaxed);
    let updates = writer.join().expect("the writer ends");
    vigil_core::configure_global_scope(|scope| scope.remove_tag("global"));

    let mut values = check_events(&outcome, true);
    values.sort_unstable();
    values.dedup();
    eprintln!(
        "the global counter was set {updates} times; events saw {} distinct values",
        values.len()
    );
    assert!(
        values.len() > 10,
        "the global scope changed too little during the run to prove anything: {values:?}"
    );
    check_nothing_left(&outcome, &recorder);
    eprintln!("global-scope isolation test took {:.2?}", started.elapsed());
}
