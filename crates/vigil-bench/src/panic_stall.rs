//! `vigil-bench panic-stall`: do panicking requests stall a server when the
//! Sentry host is unreachable?
//!
//! The requirement: a panic on a tokio worker (caught by the runtime, as in
//! an axum handler) must not block that worker to flush when the Sentry
//! host is unreachable. 100 concurrent panicking requests against a
//! blackholed DSN must leave the p99 latency of healthy requests unchanged
//! within noise.
//!
//! # The scenario
//!
//! - **Blackhole**: a `std::net::TcpListener` on `127.0.0.1:0` that is
//!   never accepted from. The kernel completes the handshake into the
//!   backlog and then nothing ever answers, as with a Sentry host behind a
//!   dropping firewall. The DSN is `http://public@127.0.0.1:<port>/1`.
//! - **SDK**: `vigil::init` with that DSN, the default integrations (the
//!   panic hook is on), a release and a `shutdown_timeout` of 200 ms. A
//!   `before_send` counts the fatal events: the panics Vigil captured.
//! - **Server**: axum served with `axum::serve` on a multi-thread tokio
//!   runtime with 2 worker threads, the router wrapped with `VigilLayer`.
//!   `GET /ok` sets a tag and answers 200; `GET /panic` panics with
//!   `boom`, which the runtime catches in the connection task, closing the
//!   connection without a response.
//! - **Panic hooks**: the default hook's message for `boom` is silenced (a
//!   hook set before `vigil::init`, which Vigil's hook chains); every other
//!   panic is printed as usual. After `init`, a probe wraps Vigil's hook:
//!   it times each call on the worker, and in the control phase skips it,
//!   as if the panic integration were off.
//! - **Load**: a second tokio runtime (2 threads of its own) with hyper
//!   HTTP/1 clients. One panicking request warms up first (the first stack
//!   trace of a process loads the binary's debug info; its hook time is
//!   printed on its own; the rounds start once Vigil captured it). Then
//!   each round has three phases:
//!   - A (baseline): 2,000 `GET /ok` over 8 keep-alive connections;
//!   - B (panics): 100 `GET /panic`, each on a connection of its own,
//!     fired at once at the start of the phase, and the load of A next to
//!     them; Vigil captures the panics;
//!   - C (control): B with Vigil's hook skipped: what 100 panics and 100
//!     new connections cost the server without any SDK work. It starts
//!     once Vigil captured B's panics (on its own thread, after their
//!     hooks returned), so it does not pay for them.
//!
//!   Five rounds, so that the spread between rounds shows the noise. It
//!   all takes about a second, plus the guard's shutdown.
//!
//! # Reading the output
//!
//! One line per phase and round: the number of healthy requests, their
//! p50, p99 and maximum latency in microseconds (client-observed, from
//! sending the request to the end of the response body), the ratio of the
//! phase's p99 to the p99 of the baseline of the same round, and for B and
//! C the panicking requests' mean end-to-end time (connect, request, panic
//! and capture on the worker, connection closed). Below it, the spread of
//! each phase's p99 and max across rounds, the median p99 of each phase,
//! and the verdict: `WITHIN NOISE` when no round's B p99 exceeds the
//! highest p99 of A and C (the phases without Vigil's hook), else `ABOVE
//! NOISE` with the number of rounds that did. The maximum
//! reacts first to a short stall of both workers: a stall that only the
//! in-flight requests wait out (8 of 2,000) raises the max, not the p99.
//!
//! Below the table: how long Vigil's hook held the worker per panic (phase
//! B, and the cold first panic), how the panicking requests ended
//! (expected: all closed without a response), and what Vigil did: panics
//! captured, events sent (none: the host never answers) and error events
//! dropped, by reason (the transport's queue holds 100 envelopes; later
//! ones are dropped as `queue_overflow`). Last, how long dropping the
//! `init` guard took.

use std::net::{SocketAddr, TcpListener as BlackholeListener};
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::runtime::Runtime;
use vigil::protocol::DataCategory;
use vigil_tower::VigilLayer;

/// Healthy requests per phase.
const HEALTHY_REQUESTS: usize = 2_000;
/// Keep-alive connections carrying the healthy requests.
const HEALTHY_CONNECTIONS: usize = 8;
/// Panicking requests fired at the start of each phase B and C.
const PANICKING_REQUESTS: usize = 100;
/// Rounds of phases A, B and C.
const ROUNDS: usize = 5;
/// Worker threads of the server's runtime.
const SERVER_WORKERS: usize = 2;
/// Worker threads of the load generator's runtime.
const LOAD_WORKERS: usize = 2;
/// The message of the handler's panic (silenced in the default hook).
const PANIC_MESSAGE: &str = "boom";
/// The SDK's `shutdown_timeout`: what dropping the guard may wait.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(200);
/// Longest wait for any one request before the benchmark gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The boxed error of a failed request.
type RequestError = Box<dyn std::error::Error + Send + Sync>;

/// A panic hook, as `std::panic::take_hook` returns it.
type PanicHook = Box<dyn Fn(&PanicHookInfo<'_>) + Send + Sync + 'static>;

/// Runs the scenario and prints the table (see the module docs).
pub(crate) fn run() {
    let started = Instant::now();
    let blackhole = BlackholeListener::bind("127.0.0.1:0").expect("binds the blackhole");
    let dsn = format!(
        "http://public@{}/1",
        blackhole.local_addr().expect("blackhole address")
    );
    silence_expected_panics();
    let panics_captured = Arc::new(AtomicU64::new(0));
    let guard = init_vigil(&dsn, panics_captured.clone());
    let probe = HookProbe::install();
    let server = Server::start();
    let load = runtime(LOAD_WORKERS, "load-generator");

    print_header(&dsn);
    let warm_up = load.block_on(panicking_request(server.addr));
    // Vigil captures off the worker: the warm-up's event (and the cold
    // load of the debug info) is done before the rounds start.
    wait_for_captures(&panics_captured, 1);
    let cold_hook = probe.take();
    let rounds: Vec<Round> = (0..ROUNDS)
        .map(|_| load.block_on(run_round(server.addr, &probe, &panics_captured)))
        .collect();
    print_rounds(&rounds);
    print_hook_times(&rounds, &cold_hook);
    print_panicking_requests(&rounds, &warm_up);
    print_vigil(&guard, &panics_captured);

    server.stop();
    load.shutdown_timeout(Duration::from_millis(100));
    let closing = Instant::now();
    drop(guard);
    println!(
        "shutdown: init guard dropped in {} ms (shutdown_timeout {} ms); whole run {:.1} s",
        closing.elapsed().as_millis(),
        SHUTDOWN_TIMEOUT.as_millis(),
        started.elapsed().as_secs_f64()
    );
    drop(blackhole);
}

/// Keeps the default panic hook from printing the expected `boom` panics;
/// any other panic is printed as usual. Set before `vigil::init`, so
/// Vigil's hook chains it.
fn silence_expected_panics() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !is_expected(info) {
            default_hook(info);
        }
    }));
}

/// Whether the panic is the `/panic` handler's.
fn is_expected(info: &PanicHookInfo<'_>) -> bool {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    message == Some(PANIC_MESSAGE)
}

/// `vigil::init` with the default integrations, counting the fatal events
/// (the captured panics) in `before_send`.
fn init_vigil(dsn: &str, panics_captured: Arc<AtomicU64>) -> vigil::InitGuard {
    let count_panics = move |event: vigil::Event| {
        if event.level == vigil::Level::Fatal {
            panics_captured.fetch_add(1, Ordering::Relaxed);
        }
        Some(event)
    };
    vigil::init((
        dsn,
        vigil::ClientOptions {
            release: Some("vigil-bench@panic-stall".into()),
            shutdown_timeout: SHUTDOWN_TIMEOUT,
            before_send: Some(Arc::new(count_panics)),
            ..Default::default()
        },
    ))
}

/// Wraps the hook `vigil::init` installed: times each call of it for an
/// expected panic, and skips it while the control phase runs.
#[derive(Default)]
struct HookProbe {
    /// The control phase: expected panics bypass Vigil's hook.
    bypass: AtomicBool,
    /// How long each call of Vigil's hook took, since the last `take`.
    durations: Mutex<Vec<Duration>>,
}

impl HookProbe {
    /// Replaces the current (Vigil's) hook with one that calls it through
    /// the probe.
    fn install() -> Arc<HookProbe> {
        let probe = Arc::new(HookProbe::default());
        let vigil_hook = std::panic::take_hook();
        let for_hook = probe.clone();
        std::panic::set_hook(Box::new(move |info| for_hook.call(&vigil_hook, info)));
        probe
    }

    /// Runs on the panicking thread: must not panic.
    fn call(&self, vigil_hook: &PanicHook, info: &PanicHookInfo<'_>) {
        if !is_expected(info) {
            vigil_hook(info);
            return;
        }
        if self.bypass.load(Ordering::Relaxed) {
            return;
        }
        let start = Instant::now();
        vigil_hook(info);
        let elapsed = start.elapsed();
        self.durations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(elapsed);
    }

    /// Sets whether expected panics skip Vigil's hook.
    fn set_bypass(&self, bypass: bool) {
        self.bypass.store(bypass, Ordering::Relaxed);
    }

    /// The hook times recorded since the last call.
    fn take(&self) -> Vec<Duration> {
        std::mem::take(
            &mut *self
                .durations
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

/// A multi-thread tokio runtime with `workers` threads named `name`.
fn runtime(workers: usize, name: &str) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .expect("builds a tokio runtime")
}

/// The axum server under test, on a runtime of its own.
struct Server {
    /// The server's runtime (2 workers).
    runtime: Runtime,
    /// Where it listens.
    addr: SocketAddr,
}

impl Server {
    /// Binds `127.0.0.1:0` and serves [`app`] on a 2-worker runtime.
    fn start() -> Server {
        let runtime = runtime(SERVER_WORKERS, "server-worker");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("binds the server");
        let addr = listener.local_addr().expect("server address");
        runtime.spawn(async move { axum::serve(listener, app()).await });
        Server { runtime, addr }
    }

    /// Stops the runtime and with it the server.
    fn stop(self) {
        self.runtime.shutdown_timeout(Duration::from_millis(100));
    }
}

/// The routes, wrapped with `VigilLayer` (its defaults: panics are left to
/// the panic integration).
fn app() -> Router {
    Router::new()
        .route("/ok", get(healthy))
        .route("/panic", get(panicking))
        .layer(VigilLayer::new())
}

/// A tiny realistic handler: a tag on the request's scope, a short body.
async fn healthy() -> &'static str {
    vigil::configure_scope(|scope| scope.set_tag("handler", "ok"));
    "ok\n"
}

/// A handler that panics with [`PANIC_MESSAGE`]; the runtime catches the
/// panic in the connection task and the connection closes without a
/// response.
async fn panicking() -> &'static str {
    panic!("boom");
}

/// What one round measured.
struct Round {
    /// Phase A: healthy latencies alone.
    baseline: Vec<Duration>,
    /// Phase B: with panics Vigil captures.
    captured: PanicPhase,
    /// Phase C: with panics that skip Vigil's hook.
    control: PanicPhase,
}

/// What a phase with panicking requests measured.
struct PanicPhase {
    /// Latencies of the healthy requests.
    healthy: Vec<Duration>,
    /// The panicking requests.
    panics: Vec<PanicOutcome>,
    /// How long each call of Vigil's hook took (none in the control).
    hook_times: Vec<Duration>,
}

/// How one panicking request ended, client-side.
struct PanicOutcome {
    /// From connecting to the end of the exchange.
    elapsed: Duration,
    /// What the client saw.
    ending: PanicEnding,
}

/// What the client saw of a panicking request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PanicEnding {
    /// The connection closed without a response (expected).
    Closed,
    /// A response arrived.
    Answered,
    /// Nothing happened within [`REQUEST_TIMEOUT`].
    TimedOut,
}

/// Phases A, B and C.
async fn run_round(addr: SocketAddr, probe: &HookProbe, panics_captured: &AtomicU64) -> Round {
    let baseline = healthy_load(addr).await;
    let before = panics_captured.load(Ordering::Relaxed);
    let captured = panic_phase(addr, probe).await;
    // The control starts once B's panics are captured (on Vigil's thread,
    // after their hooks returned), so it does not pay for them.
    wait_for_captures(panics_captured, before + PANICKING_REQUESTS as u64);
    probe.set_bypass(true);
    let control = panic_phase(addr, probe).await;
    probe.set_bypass(false);
    Round {
        baseline,
        captured,
        control,
    }
}

/// Waits (at most 10 s) until `panics_captured` reaches `target`.
fn wait_for_captures(panics_captured: &AtomicU64, target: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while panics_captured.load(Ordering::Relaxed) < target && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Fires the panicking requests, runs the healthy load next to them, and
/// waits for both.
async fn panic_phase(addr: SocketAddr, probe: &HookProbe) -> PanicPhase {
    let requests: Vec<_> = (0..PANICKING_REQUESTS)
        .map(|_| tokio::spawn(panicking_request(addr)))
        .collect();
    let healthy = healthy_load(addr).await;
    let mut panics = Vec::with_capacity(PANICKING_REQUESTS);
    for request in requests {
        panics.push(request.await.expect("panicking request task"));
    }
    PanicPhase {
        healthy,
        panics,
        hook_times: probe.take(),
    }
}

/// [`HEALTHY_REQUESTS`] `GET /ok` over [`HEALTHY_CONNECTIONS`] keep-alive
/// connections; returns every latency.
async fn healthy_load(addr: SocketAddr) -> Vec<Duration> {
    let remaining = Arc::new(AtomicUsize::new(HEALTHY_REQUESTS));
    let connections: Vec<_> = (0..HEALTHY_CONNECTIONS)
        .map(|_| tokio::spawn(healthy_connection(addr, remaining.clone())))
        .collect();
    let mut latencies = Vec::with_capacity(HEALTHY_REQUESTS);
    for connection in connections {
        latencies.extend(connection.await.expect("healthy connection task"));
    }
    latencies
}

/// One keep-alive connection sending `GET /ok` until `remaining` runs out.
async fn healthy_connection(addr: SocketAddr, remaining: Arc<AtomicUsize>) -> Vec<Duration> {
    let mut sender = connect(addr).await.expect("connects to the server");
    let mut latencies = Vec::new();
    while take_one(&remaining) {
        let start = Instant::now();
        let status = tokio::time::timeout(REQUEST_TIMEOUT, fetch(&mut sender, "/ok"))
            .await
            .expect("a healthy request answered in time")
            .expect("a healthy request succeeds");
        latencies.push(start.elapsed());
        assert_eq!(status, http::StatusCode::OK, "GET /ok");
    }
    latencies
}

/// Takes one request from the shared budget; `false` when none is left.
fn take_one(remaining: &AtomicUsize) -> bool {
    remaining
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// `GET /panic` on a connection of its own.
async fn panicking_request(addr: SocketAddr) -> PanicOutcome {
    let start = Instant::now();
    let exchange = async {
        let mut sender = connect(addr).await?;
        fetch(&mut sender, "/panic").await
    };
    let ending = match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
        Ok(Ok(_)) => PanicEnding::Answered,
        Ok(Err(_)) => PanicEnding::Closed,
        Err(_) => PanicEnding::TimedOut,
    };
    PanicOutcome {
        elapsed: start.elapsed(),
        ending,
    }
}

/// An HTTP/1 connection to `addr`, its driver spawned on the current
/// runtime.
async fn connect(addr: SocketAddr) -> Result<SendRequest<Body>, RequestError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// `GET path` on the connection, reading the whole response body.
async fn fetch(
    sender: &mut SendRequest<Body>,
    path: &str,
) -> Result<http::StatusCode, RequestError> {
    sender.ready().await?;
    let request = http::Request::get(path)
        .header(http::header::HOST, "127.0.0.1")
        .body(Body::empty())?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    axum::body::to_bytes(Body::new(response.into_body()), usize::MAX).await?;
    Ok(status)
}

/// Count, mean, p50, p99 and maximum of a set of durations.
struct Summary {
    /// How many durations.
    count: usize,
    /// The mean.
    mean: Duration,
    /// The median.
    p50: Duration,
    /// The 99th percentile.
    p99: Duration,
    /// The longest.
    max: Duration,
}

impl Summary {
    /// Summarizes `durations` (nearest-rank percentiles).
    fn of(durations: &[Duration]) -> Summary {
        let mut sorted = durations.to_vec();
        sorted.sort_unstable();
        let total: Duration = sorted.iter().sum();
        let count = u32::try_from(sorted.len().max(1)).unwrap_or(u32::MAX);
        Summary {
            count: sorted.len(),
            mean: total / count,
            p50: percentile(&sorted, 500),
            p99: percentile(&sorted, 990),
            max: sorted.last().copied().unwrap_or_default(),
        }
    }
}

/// The nearest-rank percentile `per_mille`/1000 of sorted durations.
fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted.get(rank - 1).copied().unwrap_or_default()
}

/// Microseconds, for the table.
fn micros(d: Duration) -> u128 {
    d.as_micros()
}

/// What is measured, before the table.
fn print_header(dsn: &str) {
    println!(
        "panic-stall: {PANICKING_REQUESTS} concurrent panicking requests against a blackholed DSN"
    );
    println!(
        "  DSN {dsn} (a listener never accepted from: the handshake completes, nothing answers)"
    );
    println!(
        "  server: axum, tokio multi-thread runtime with {SERVER_WORKERS} workers, VigilLayer; \
         vigil::init with default integrations (panic hook on)"
    );
    println!(
        "  load: {HEALTHY_REQUESTS} GET /ok per phase over {HEALTHY_CONNECTIONS} keep-alive \
         connections; B and C add {PANICKING_REQUESTS} GET /panic at their start, one connection each"
    );
    println!("  A: baseline; B: panics captured by Vigil; C: control, Vigil's panic hook skipped");
    println!();
}

/// Columns of the table.
const TABLE_HEADER: [&str; 8] = [
    "round", "phase", "count", "p50 us", "p99 us", "max us", "p99 /A", "panic us",
];

/// The table: one line per phase and round, then the noise line.
fn print_rounds(rounds: &[Round]) {
    print_row(&TABLE_HEADER.map(str::to_owned));
    for (i, round) in rounds.iter().enumerate() {
        let number = i + 1;
        let baseline = Summary::of(&round.baseline);
        print_row(&phase_row(number, "A baseline", &baseline, &baseline, None));
        for (name, phase) in [
            ("B captured", &round.captured),
            ("C control", &round.control),
        ] {
            let healthy = Summary::of(&phase.healthy);
            let panics: Vec<Duration> = phase.panics.iter().map(|p| p.elapsed).collect();
            let panic_mean = Summary::of(&panics).mean;
            print_row(&phase_row(
                number,
                name,
                &healthy,
                &baseline,
                Some(panic_mean),
            ));
        }
    }
    print_noise(rounds);
}

/// The cells of one line of the table.
fn phase_row(
    round: usize,
    phase: &str,
    healthy: &Summary,
    baseline: &Summary,
    panic_mean: Option<Duration>,
) -> [String; 8] {
    let ratio = healthy.p99.as_secs_f64() / baseline.p99.as_secs_f64();
    [
        round.to_string(),
        phase.to_owned(),
        healthy.count.to_string(),
        micros(healthy.p50).to_string(),
        micros(healthy.p99).to_string(),
        micros(healthy.max).to_string(),
        format!("{ratio:.2}"),
        panic_mean.map_or_else(String::new, |d| micros(d).to_string()),
    ]
}

/// One line of the table.
fn print_row(cells: &[String; 8]) {
    let [round, phase, count, p50, p99, max, ratio, panic] = cells;
    println!("{round:<6}{phase:<12}{count:>6}{p50:>9}{p99:>9}{max:>9}{ratio:>8}{panic:>10}");
}

/// The spread of each phase's p99 and max across rounds.
fn print_noise(rounds: &[Round]) {
    let spread = |healthy: fn(&Round) -> &[Duration]| {
        let summaries: Vec<Summary> = rounds.iter().map(|r| Summary::of(healthy(r))).collect();
        let range = |stat: fn(&Summary) -> Duration| {
            let values = summaries.iter().map(|s| micros(stat(s)));
            let min = values.clone().min().unwrap_or(0);
            let max = values.max().unwrap_or(0);
            format!("{min}-{max}")
        };
        format!("p99 {} max {}", range(|s| s.p99), range(|s| s.max))
    };
    println!("spread across rounds (us):");
    println!("  A {}", spread(|r| &r.baseline));
    println!("  B {}", spread(|r| &r.captured.healthy));
    println!("  C {}", spread(|r| &r.control.healthy));
    print_verdict(rounds);
}

/// Whether the healthy p99 with captured panics (B) stays within the noise:
/// at most the highest p99 of the phases without Vigil's hook (A and C).
fn print_verdict(rounds: &[Round]) {
    let p99 = |durations: &[Duration]| micros(Summary::of(durations).p99);
    let ceiling = rounds
        .iter()
        .flat_map(|r| [p99(&r.baseline), p99(&r.control.healthy)])
        .max()
        .unwrap_or(0);
    let median = |phase: fn(&Round) -> &[Duration]| {
        let mut p99s: Vec<u128> = rounds.iter().map(|r| p99(phase(r))).collect();
        p99s.sort_unstable();
        p99s.get(p99s.len() / 2).copied().unwrap_or(0)
    };
    println!(
        "median p99 (us): A {}, B {}, C {}",
        median(|r| &r.baseline),
        median(|r| &r.captured.healthy),
        median(|r| &r.control.healthy)
    );
    let captured = rounds.iter().map(|r| p99(&r.captured.healthy));
    let above = captured.filter(|&b| b > ceiling).count();
    let verdict = if above == 0 {
        "WITHIN NOISE"
    } else {
        "ABOVE NOISE"
    };
    println!(
        "verdict: {verdict}: B's p99 exceeds the highest p99 of A and C ({ceiling} us) in {above} of {} rounds",
        rounds.len()
    );
}

/// How long Vigil's hook held the panicking worker.
fn print_hook_times(rounds: &[Round], cold: &[Duration]) {
    let times: Vec<Duration> = rounds
        .iter()
        .flat_map(|r| r.captured.hook_times.iter().copied())
        .collect();
    let summary = Summary::of(&times);
    let per_phase = summary.mean * u32::try_from(PANICKING_REQUESTS).unwrap_or(u32::MAX);
    println!();
    println!(
        "Vigil's panic hook on the worker (phase B, {} calls): mean {} us, p50 {} us, p99 {} us, max {} us; \
         {} ms of worker time per 100 panics",
        summary.count,
        micros(summary.mean),
        micros(summary.p50),
        micros(summary.p99),
        micros(summary.max),
        per_phase.as_millis()
    );
    let cold = cold
        .first()
        .map_or_else(|| "not timed".to_owned(), |d| format!("{} us", micros(*d)));
    println!("  first panic of the process (warm-up, not in the table): hook {cold}");
}

/// How the panicking requests ended.
fn print_panicking_requests(rounds: &[Round], warm_up: &PanicOutcome) {
    let panics: Vec<&PanicOutcome> = rounds
        .iter()
        .flat_map(|r| r.captured.panics.iter().chain(&r.control.panics))
        .chain([warm_up])
        .collect();
    let count = |ending: PanicEnding| panics.iter().filter(|p| p.ending == ending).count();
    println!(
        "panicking requests: {} (1 warm-up + B + C); {} closed without a response (expected), \
         {} answered, {} timed out; the warm-up took {} us",
        panics.len(),
        count(PanicEnding::Closed),
        count(PanicEnding::Answered),
        count(PanicEnding::TimedOut),
        micros(warm_up.elapsed)
    );
}

/// What Vigil did with the panics.
fn print_vigil(guard: &vigil::InitGuard, panics_captured: &AtomicU64) {
    let Some(client) = guard.client() else {
        println!("vigil: disabled (no client)");
        return;
    };
    let stats = client.delivery_stats();
    let dropped: Vec<String> = stats
        .dropped
        .iter()
        .filter(|d| d.category == DataCategory::Error)
        .map(|d| format!("{} {}", d.reason, d.quantity))
        .collect();
    println!(
        "vigil: {} panics captured (1 warm-up + B), {} events sent, error events dropped: {}",
        panics_captured.load(Ordering::Relaxed),
        stats.events_sent,
        if dropped.is_empty() {
            "none".to_owned()
        } else {
            dropped.join(", ")
        }
    );
    for (thread, ms) in sdk_thread_cpu_ms() {
        println!("  CPU time of SDK thread {thread}: {ms} ms");
    }
}

/// The CPU time (user + system) of each SDK thread (`vigil-*`) of this
/// process so far, in milliseconds; empty where `/proc` is missing.
fn sdk_thread_cpu_ms() -> Vec<(String, u64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut threads = Vec::new();
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        // The SDK's threads, not the benchmark's own main thread.
        if !name.starts_with("vigil-") || name == "vigil-bench" {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        let ticks: u64 = fields
            .get(11..13)
            .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
        // Clock ticks of 1/100 s (`USER_HZ` is 100 on Linux).
        threads.push((name.to_owned(), ticks * 10));
    }
    threads.sort();
    threads
}
