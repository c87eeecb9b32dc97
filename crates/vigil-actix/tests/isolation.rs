//! The proof of per-request isolation (a binary of its own: it binds a
//! client to the process's main hub).
//!
//! An actix-web server with 2 workers serves 10,000 requests over real
//! HTTP/1.1 on 127.0.0.1, 200 in flight (200 keep-alive connections with
//! 50 requests each). Each request sets its own tag (its request id), user
//! and 3 breadcrumbs, awaits several times (timers of 0–2 ms and yields,
//! so requests interleave on the same worker threads), spawns a child
//! task with `vigil_core::spawn` that captures too, and captures an event.
//! Every one of the 20,000 events must carry exactly its own request's
//! tag, user, breadcrumbs, transaction and request data: 0 bleed.
//! Afterwards neither the main hub nor either worker thread's hub may hold
//! anything. The second test does the same with tracing on: every request
//! continues its own trace (a distinct `sentry-trace` per request) and is
//! a transaction with two child spans, one started in the handler and one
//! in the spawned task; every span and event must land in its own
//! request's trace and transaction.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::{App, HttpServer, web};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use vigil_actix::VigilMiddleware;
use vigil_core::protocol::{Breadcrumb, Envelope, EnvelopeItem, Event, Level, Transaction, User};
use vigil_core::{Client, ClientOptions, Hub, Transport, TransportContext};

const REQUESTS: u64 = 10_000;
const CONNECTIONS: u64 = 200;
const ROUTES: u64 = 10;
/// Upper bound for the whole client run.
const DEADLINE: Duration = Duration::from_secs(180);

/// The tests of this binary share the main hub: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Keeps what the client sends, in memory. (Not
/// `vigil_core::test::TestTransport`, which also writes every envelope to
/// `$VIGIL_ENVELOPE_DUMP_DIR` when the suite sets it: 40,000 files would
/// only slow the oracles down.)
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<Event>>,
    transactions: Mutex<Vec<Transaction>>,
}

impl Transport for Recorder {
    fn send_envelope(&self, envelope: Envelope) {
        for item in envelope.into_items() {
            match item {
                EnvelopeItem::Event(event) => self
                    .events
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(*event),
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

impl Recorder {
    fn take(&self) -> (Vec<Event>, Vec<Transaction>) {
        let events =
            std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner));
        let transactions = std::mem::take(
            &mut *self
                .transactions
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        (events, transactions)
    }
}

/// Binds a client recording into a new [`Recorder`] to the main hub, as
/// `init` would, with transactions sampled at `traces_sample_rate`.
fn bind_recording_client(traces_sample_rate: f32) -> Arc<Recorder> {
    let recorder = Arc::new(Recorder::default());
    let for_factory = Arc::clone(&recorder);
    let options = ClientOptions::new()
        .try_dsn(vigil_core::test::TEST_DSN)
        .expect("a DSN")
        .transport(move |_: &TransportContext<'_>| Arc::clone(&for_factory) as Arc<dyn Transport>)
        .traces_sample_rate(traces_sample_rate);
    Hub::main().bind_client(Some(Arc::new(Client::new(options))));
    recorder
}

/// What a hub's top scope holds; all empty when nothing leaked into it.
#[derive(Debug, Default, PartialEq)]
struct Leftovers {
    tags: usize,
    user: bool,
    breadcrumbs: usize,
    transaction: Option<String>,
    span: bool,
}

fn leftovers(hub: &Hub) -> Leftovers {
    hub.configure_scope(|scope| Leftovers {
        tags: scope.tags().iter().count(),
        user: scope.user().is_some(),
        breadcrumbs: scope.breadcrumbs().len(),
        transaction: scope.transaction().map(str::to_owned),
        span: scope.get_span().is_some(),
    })
}

/// An await point chosen by request and step: a timer of 0, 1 or 2 ms or
/// a yield, then a yield.
async fn pause(id: u64, step: u64) {
    match (id + step) % 4 {
        0 => actix_web::rt::time::sleep(Duration::ZERO).await,
        1 => actix_web::rt::time::sleep(Duration::from_millis(1)).await,
        2 => actix_web::rt::time::sleep(Duration::from_millis(2)).await,
        _ => actix_web::rt::task::yield_now().await,
    }
    actix_web::rt::task::yield_now().await;
}

/// The trace id request `id` sends (distinct per request, never zero).
fn trace_of(id: u64) -> String {
    format!("{:032x}", id + 1)
}

/// A child span of the scope's current span, when tracing is on.
fn child_span(op: &str, description: &str) -> Option<vigil_core::Span> {
    vigil_core::configure_scope(|scope| scope.get_span())
        .map(|parent| parent.start_child(op, description))
}

async fn handler(path: web::Path<(u64,)>) -> String {
    let id = path.into_inner().0;
    let work = child_span("work", &format!("work {id}"));
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
        let span = child_span("child", &format!("child {id}"));
        vigil_core::capture_message(&format!("child {id}"), Level::Info);
        pause(id, 4).await;
        if let Some(span) = span {
            span.finish();
        }
    });
    pause(id, 5).await;
    vigil_core::capture_message(&format!("request {id}"), Level::Info);
    pause(id, 6).await;
    if let Some(work) = work {
        work.finish();
    }
    child.await.expect("the child task ends");
    format!("ok {id}")
}

fn app() -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let mut app = App::new().wrap(VigilMiddleware::new());
    for route in 0..ROUTES {
        app = app.route(&format!("/r{route}/{{id}}"), web::get().to(handler));
    }
    app
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

/// One keep-alive connection sending requests `conn`, `conn +
/// CONNECTIONS`, ... in turn; returns the ids answered.
async fn connection(addr: SocketAddr, conn: u64) -> Vec<u64> {
    let stream = TcpStream::connect(addr).await.expect("connects");
    stream.set_nodelay(true).expect("nodelay");
    let mut reader = BufReader::new(stream);
    let mut answered = Vec::new();
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
        assert_eq!(body, format!("ok {id}"));
        answered.push(id);
    }
    answered
}

/// Sends every request from a current-thread runtime on this thread.
fn run_clients(addr: SocketAddr) -> usize {
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
            let mut answered = 0;
            while let Some(result) = tasks.join_next().await {
                answered += result.expect("a client task").len();
            }
            answered
        };
        tokio::time::timeout(DEADLINE, all)
            .await
            .expect("all requests answered in time")
    })
}

struct Outcome {
    events: Vec<Event>,
    transactions: Vec<Transaction>,
    answered: usize,
    workers: Vec<Leftovers>,
    port: u16,
}

/// Serves the app with 2 workers on a thread of its own, sends every
/// request, stops the server.
fn serve_and_send(recorder: &Recorder) -> Outcome {
    // The current hub of each thread that built the app: the workers'.
    let worker_hubs: Arc<Mutex<Vec<Arc<Hub>>>> = Arc::default();
    let hubs = Arc::clone(&worker_hubs);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                hubs.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Hub::current());
                app()
            })
            .workers(2)
            .bind(("127.0.0.1", 0))
            .expect("binds");
            let addr = server.addrs()[0];
            let server = server.run();
            started_tx
                .send((addr, server.handle()))
                .expect("the test waits");
            server.await
        })
    });
    let (addr, handle) = started_rx.recv().expect("the server starts");

    let started = Instant::now();
    let answered = run_clients(addr);
    eprintln!(
        "{REQUESTS} requests over {CONNECTIONS} connections answered in {:.2?}",
        started.elapsed()
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(handle.stop(true));
    server
        .join()
        .expect("the server thread")
        .expect("the server ran");
    let workers: Vec<Leftovers> = worker_hubs
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|hub| leftovers(hub))
        .collect();
    let (events, transactions) = recorder.take();
    Outcome {
        events,
        transactions,
        answered,
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

/// The request id and kind (`request` or `child`) of an event's message.
fn id_of(event: &Event) -> Option<(bool, u64)> {
    match event.message.as_deref()?.split_once(' ')? {
        ("request", id) => Some((false, id.parse().ok()?)),
        ("child", id) => Some((true, id.parse().ok()?)),
        _ => None,
    }
}

/// Checks that every event carries exactly its own request's data.
fn check_events(outcome: &Outcome) {
    let mut problems = Problems::default();
    problems.check(outcome.answered == REQUESTS as usize, || {
        format!("{} responses", outcome.answered)
    });
    problems.check(outcome.events.len() == 2 * REQUESTS as usize, || {
        format!("{} events, expected {}", outcome.events.len(), 2 * REQUESTS)
    });
    let mut seen: HashMap<(bool, u64), usize> = HashMap::new();
    for event in &outcome.events {
        let message = event.message.as_deref().unwrap_or("");
        let Some((is_child, id)) = id_of(event) else {
            problems.check(false, || format!("unexpected event {message:?}"));
            continue;
        };
        *seen.entry((is_child, id)).or_default() += 1;

        // The tag: exactly the request's own id.
        let tags: BTreeMap<String, String> = event
            .tags
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        problems.check(
            tags == BTreeMap::from([("req".to_owned(), id.to_string())]),
            || format!("{message}: tags {tags:?}"),
        );
        // The user: exactly the request's.
        let expected_user = User {
            id: Some(id.to_string()),
            ..User::default()
        };
        problems.check(event.user.as_ref() == Some(&expected_user), || {
            format!("{message}: user {:?}", event.user)
        });
        // The breadcrumbs: exactly the request's three, in order.
        let crumbs: Vec<&str> = event
            .breadcrumbs
            .iter()
            .map(|c| c.message.as_deref().unwrap_or("?"))
            .collect();
        problems.check(
            crumbs == [format!("{id}/0"), format!("{id}/1"), format!("{id}/2")],
            || format!("{message}: breadcrumbs {crumbs:?}"),
        );
        // The transaction: the request's route pattern.
        let route = id % ROUTES;
        let expected_transaction = format!("GET /r{route}/{{id}}");
        problems.check(
            event.transaction.as_deref() == Some(&*expected_transaction),
            || format!("{message}: transaction {:?}", event.transaction),
        );
        // The request data: the request's URL, query and headers.
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
                    && request.env.is_empty()
                    && request.data.is_none();
                problems.check(ok, || format!("{message}: request {request:?}"));
            }
            None => problems.check(false, || format!("{message}: no request data")),
        }
        // The trace: the one the request sent.
        let trace = serde_json::to_value(&event.contexts["trace"]).expect("a trace");
        problems.check(trace["trace_id"] == trace_of(id), || {
            format!("{message}: trace {}", trace["trace_id"])
        });
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
}

/// Checks that every request is one transaction in its own trace, with
/// exactly its own two spans, and that both of its events carry that
/// trace and the transaction's span.
fn check_traces(outcome: &Outcome) {
    let mut problems = Problems::default();
    problems.check(outcome.transactions.len() == REQUESTS as usize, || {
        format!(
            "{} transactions, expected {REQUESTS}",
            outcome.transactions.len()
        )
    });
    let mut span_of: HashMap<u64, String> = HashMap::new();
    for transaction in &outcome.transactions {
        let json = serde_json::to_value(transaction).expect("serializes");
        let trace = &json["contexts"]["trace"];
        let trace_id = trace["trace_id"].as_str().unwrap_or("");
        let Some(id) = u64::from_str_radix(trace_id, 16)
            .ok()
            .and_then(|n| n.checked_sub(1))
        else {
            problems.check(false, || format!("transaction with trace {trace_id:?}"));
            continue;
        };
        let route = id % ROUTES;
        problems.check(
            json["transaction"] == format!("GET /r{route}/{{id}}")
                && json["transaction_info"]["source"] == "route"
                && trace["op"] == "http.server"
                && trace["status"] == "ok"
                && trace["parent_span_id"] == format!("{:016x}", id + 1)
                && trace["data"]["http.response.status_code"] == 200,
            || format!("request {id}: transaction {json}"),
        );
        let url = json["request"]["url"].as_str().unwrap_or("");
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
        let span_id = trace["span_id"].as_str().unwrap_or("").to_owned();
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
        let Some((_, id)) = id_of(event) else {
            continue;
        };
        let trace = serde_json::to_value(&event.contexts["trace"]).expect("a trace");
        problems.check(
            span_of
                .get(&id)
                .is_some_and(|span| trace["span_id"] == **span),
            || {
                format!(
                    "request {id}: event span {} is not its transaction's",
                    trace["span_id"]
                )
            },
        );
    }
    problems.assert_none();
}

/// Checks that nothing was left on the main hub or any worker's hub.
fn check_nothing_left(outcome: &Outcome, recorder: &Recorder) {
    assert!(
        outcome.workers.len() >= 2,
        "the app was built on {} threads",
        outcome.workers.len()
    );
    for (n, left) in outcome.workers.iter().enumerate() {
        assert_eq!(*left, Leftovers::default(), "worker thread {n}");
    }
    let main = Hub::main();
    assert_eq!(leftovers(&main), Leftovers::default(), "the main hub");
    main.capture_message("main after", Level::Info);
    let (events, _) = recorder.take();
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
    check_events(&outcome);
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
    check_events(&outcome);
    check_traces(&outcome);
    check_nothing_left(&outcome, &recorder);
    eprintln!("traced isolation test took {:.2?}", started.elapsed());
}
