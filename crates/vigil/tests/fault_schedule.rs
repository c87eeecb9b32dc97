//! Fault test: 20,000 events through a server that misbehaves on a fixed
//! schedule (500s, connection resets, closed connections, garbage
//! responses, hanging responses, `429` with `Retry-After`, and three
//! restarts of the server), once with the disk queue on and once with it
//! off.
//!
//! - Disk queue on: nothing is lost. Every captured event is accepted by
//!   the server, or answered `429` (the server counts those), or dropped
//!   for a reason the protocol gives (`send_error` for the 500s,
//!   `ratelimit_backoff` while rate limited) and counted; nothing is
//!   counted as `network_error`, `queue_overflow` or `cache_overflow`.
//! - Disk queue off: the books balance exactly: accepted + answered `429`
//!   + counted (every reason) == captured.
//!
//! Each scenario runs in a child process (`vigil::init` binds the process
//! hub) against the loopback server, which the parent restarts on
//! schedule.

#![cfg(feature = "http")]

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use vigil::protocol::{DataCategory, DiscardReason};
use vigil::transports::{HttpTransport, HttpTransportOptions};
use vigil::{ClientOptions, Level, Transport, TransportContext};
use vigil_test::process::{self, ChildProcess};
use vigil_test::{LoopbackServer, Reply};
use vigil_transport::DiskQueueOptions;

const EVENTS: usize = 20_000;
/// Captures per second: about what a debug build delivers, so that the
/// faults meet a steady stream rather than a queue that is simply full.
const RATE: u64 = 1_000;
const DSN: &str = "VIGIL_FAULT_DSN";
const DIR: &str = "VIGIL_FAULT_DIR";
/// The server is stopped this long after the child started, for this
/// long.
const RESTARTS: [(Duration, Duration); 3] = [
    (Duration::from_secs(4), Duration::from_millis(500)),
    (Duration::from_secs(10), Duration::from_millis(1_000)),
    (Duration::from_secs(16), Duration::from_millis(300)),
];

static TRANSPORT: OnceLock<Arc<HttpTransport>> = OnceLock::new();

/// The reply to the `k`-th request.
fn scheduled(k: usize) -> Reply {
    match k {
        700 | 9_000 => Reply::hang(),
        3_000 | 13_000 => Reply::status(429).header("Retry-After", "1"),
        _ if k % 211 == 17 => Reply::status(500),
        _ if k % 173 == 31 => Reply::reset(),
        _ if k % 157 == 41 => Reply::close(),
        _ if k % 199 == 53 => Reply::garbage(b"HTTP/1.1 2\x00\x00 garbage\r\n\r\n".to_vec()),
        _ if k % 401 == 7 => Reply::ok().delay(Duration::from_millis(30)),
        _ => Reply::ok(),
    }
}

fn child() {
    let disk = std::env::var(DIR).is_ok();
    let mut http = HttpTransportOptions::new()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_millis(800))
        .max_attempts(2)
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .proxy_from_env(false);
    if disk {
        http = http.disk_queue_with(
            DiskQueueOptions::new(process::env(DIR))
                .max_count(EVENTS)
                .drain_interval(Duration::ZERO),
        );
    }
    let options = ClientOptions::new()
        .try_dsn(&process::env(DSN))
        .unwrap()
        .default_integrations(false)
        .transport_queue_size(1_000)
        .shutdown_timeout(Duration::from_secs(10))
        .transport(move |ctx: &TransportContext<'_>| -> Arc<dyn Transport> {
            let transport = HttpTransport::with_options(ctx, http.clone());
            let _ = TRANSPORT.set(Arc::clone(&transport));
            transport
        });
    let guard = vigil::init(options);
    let transport = TRANSPORT.get().unwrap();
    let start = Instant::now();
    for i in 0..EVENTS {
        let id = vigil::capture_message(&format!("scheduled event {i}"), Level::Error);
        assert!(!id.is_nil());
        process::emit_id(id);
        let due = start + Duration::from_micros(i as u64 * 1_000_000 / RATE);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            thread::sleep(wait);
        }
    }
    process::emit_stat("capture_ms", start.elapsed().as_millis() as u64);
    if disk {
        // Everything stored must go out before the process ends.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !(transport.flush(Duration::from_secs(1)) && transport.disk_queue_len() == Some(0)) {
            assert!(
                Instant::now() < deadline,
                "disk queue not drained: {:?}",
                transport.disk_queue_len()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
    assert!(guard.close());
    process::emit_stat("total_ms", start.elapsed().as_millis() as u64);
    process::emit_delivery_stats(&transport.stats());
}

/// Runs one scenario and returns the child and the server.
fn run(test: &str, disk: bool) -> (ChildProcess, LoopbackServer) {
    let server = Arc::new(LoopbackServer::start());
    server.script((0..EVENTS * 2).map(scheduled));
    let dir = tempfile::tempdir().unwrap();
    let mut env = vec![(DSN, server.dsn())];
    if disk {
        env.push((DIR, dir.path().to_string_lossy().into_owned()));
    }
    let done = Arc::new(AtomicBool::new(false));
    let restarter = {
        let server = Arc::clone(&server);
        let done = Arc::clone(&done);
        let start = Instant::now();
        thread::spawn(move || {
            for (at, down) in RESTARTS {
                while start.elapsed() < at {
                    if done.load(Ordering::SeqCst) {
                        return;
                    }
                    thread::sleep(Duration::from_millis(5));
                }
                let requests = server.request_count();
                server.stop();
                thread::sleep(down);
                server.restart().unwrap();
                eprintln!(
                    "[fault_schedule] server down for {down:?} after {at:?} ({requests} requests)"
                );
            }
        })
    };
    let child = ChildProcess::spawn(test, "schedule", &env).finish(Duration::from_secs(120));
    done.store(true, Ordering::SeqCst);
    restarter.join().unwrap();
    if disk {
        assert_eq!(
            std::fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".envelope"))
                .count(),
            0,
            "the disk queue ends empty"
        );
    }
    let server = Arc::try_unwrap(server).unwrap();
    (child, server)
}

/// Checks the books and prints them.
fn account(name: &str, child: &ChildProcess, server: &LoopbackServer) -> BTreeMap<String, u64> {
    let captured: HashSet<_> = child.ids().iter().copied().collect();
    assert_eq!(captured.len(), EVENTS);
    let accepted = server.accepted_event_ids();
    let answered_429 = server.rate_limited_event_ids();
    assert!(accepted.is_subset(&captured) && answered_429.is_subset(&captured));
    let counted = child.dropped_by_reason(DataCategory::Error);
    let counted_total: u64 = counted.values().sum();
    let statuses = server.with_requests(|requests| {
        let mut statuses = BTreeMap::new();
        for r in requests {
            *statuses.entry(r.status).or_insert(0u64) += 1;
        }
        statuses
    });
    eprintln!(
        "[fault_schedule] {name}: captured {EVENTS} in {} ms, done after {} ms; accepted {}, \
         answered 429 {}, counted {counted:?} (total {counted_total}); duplicates {}; \
         {} requests by status (0 = no answer) {statuses:?}; events_sent {}",
        child.stat("capture_ms"),
        child.stat("total_ms"),
        accepted.len(),
        answered_429.len(),
        server.duplicate_deliveries(),
        server.request_count(),
        child.stat("events_sent"),
    );
    assert_eq!(
        accepted.len() as u64 + answered_429.len() as u64 + counted_total,
        EVENTS as u64,
        "accepted + answered 429 + counted == captured"
    );
    counted
}

#[test]
fn schedule_with_the_disk_queue_loses_nothing() {
    if process::role().is_some() {
        return child();
    }
    let (child, server) = run("schedule_with_the_disk_queue_loses_nothing", true);
    let counted = account("disk queue on", &child, &server);
    for reason in [
        DiscardReason::NetworkError,
        DiscardReason::QueueOverflow,
        DiscardReason::CacheOverflow,
        DiscardReason::InternalSdkError,
    ] {
        assert!(
            !counted.contains_key(reason.as_str()),
            "nothing may be lost to {reason}: {counted:?}"
        );
    }
    // Only the 500s and the rate limits may drop anything.
    assert!(counted.get("send_error").copied().unwrap_or(0) > 0);
    // A response lost when the server stopped right after sending it is
    // sent again: at most one duplicate per restart.
    assert!(server.duplicate_deliveries() <= RESTARTS.len());
}

#[test]
fn schedule_without_the_disk_queue_counts_every_loss() {
    if process::role().is_some() {
        return child();
    }
    let (child, server) = run("schedule_without_the_disk_queue_counts_every_loss", false);
    let counted = account("disk queue off", &child, &server);
    assert!(
        counted.get("network_error").copied().unwrap_or(0) > 0,
        "the faults cost events without the disk queue: {counted:?}"
    );
}
