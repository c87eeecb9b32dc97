//! Fault test: overload. A child process captures 1,000,000 events as fast
//! as it can from two threads while the server takes 5 ms per response
//! (disk queue off).
//!
//! - Memory stays bounded: the child's peak resident set (`VmHWM`) stays
//!   under [`MAX_PEAK_RSS_MIB`].
//! - Nothing deadlocks: the child finishes within [`TIME_LIMIT`].
//! - Every drop is counted: accepted by the server + counted by the client
//!   == captured, exactly.
//!
//! A second, smaller run (2 × 10,000 captures) does the same with the disk
//! queue on and bounded to 500 envelopes: memory stays bounded, the
//! capturing threads write what the full queue cannot take, the bound
//! drops the oldest as `cache_overflow`, and accepted + counted + left on
//! disk == captured.

#![cfg(feature = "http")]

use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use vigil::protocol::DataCategory;
use vigil::transports::{HttpTransport, HttpTransportOptions};
use vigil::{ClientOptions, Level, Transport, TransportContext};
use vigil_test::process::{self, ChildProcess};
use vigil_test::{LoopbackServer, Reply};

const TEST: &str = "a_million_captures_against_a_slow_server";
const THREADS: usize = 2;
const PER_THREAD: usize = 500_000;
const DSN: &str = "VIGIL_FAULT_DSN";
/// The child's peak resident memory must stay under this. A debug test
/// binary starts at about 10 MiB; the queue holds 100 small envelopes.
const MAX_PEAK_RSS_MIB: u64 = 64;
/// The child must be done within this (no deadlock, bounded shutdown).
const TIME_LIMIT: Duration = Duration::from_secs(120);

const DIR: &str = "VIGIL_FAULT_DIR";
const DISK_TEST: &str = "disk_queue_overload_stays_bounded";
const DISK_PER_THREAD: usize = 10_000;
const DISK_MAX_COUNT: usize = 500;

static TRANSPORT: OnceLock<Arc<HttpTransport>> = OnceLock::new();

fn overload(per_thread: usize) {
    let mut http = HttpTransportOptions::new()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(1))
        .max_attempts(2)
        .backoff(Duration::from_millis(10), Duration::from_millis(100))
        .proxy_from_env(false);
    if let Ok(dir) = std::env::var(DIR) {
        http = http
            .disk_queue_with(vigil_transport::DiskQueueOptions::new(dir).max_count(DISK_MAX_COUNT));
    }
    let options = ClientOptions::new()
        .try_dsn(&process::env(DSN))
        .unwrap()
        .default_integrations(false)
        .shutdown_timeout(Duration::from_secs(5))
        .transport(move |ctx: &TransportContext<'_>| -> Arc<dyn Transport> {
            let transport = HttpTransport::with_options(ctx, http.clone());
            let _ = TRANSPORT.set(Arc::clone(&transport));
            transport
        });
    let guard = vigil::init(options);
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                let mut captured = 0u64;
                for i in 0..per_thread {
                    let id = vigil::capture_message(&format!("overload {t}/{i}"), Level::Error);
                    if !id.is_nil() {
                        captured += 1;
                    }
                }
                captured
            })
        })
        .collect();
    let captured: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    process::emit_stat("capture_ms", start.elapsed().as_millis() as u64);
    let close = Instant::now();
    let drained = guard.close();
    process::emit_stat("close_ms", close.elapsed().as_millis() as u64);
    process::emit_stat("drained", u64::from(drained));
    process::emit_stat("captured", captured);
    process::emit_delivery_stats(&TRANSPORT.get().unwrap().stats());
}

#[test]
fn a_million_captures_against_a_slow_server() {
    if let Some(role) = process::role() {
        assert_eq!(role, "overload");
        return overload(PER_THREAD);
    }
    let started = Instant::now();
    let server = LoopbackServer::start();
    server.set_default(Reply::ok().delay(Duration::from_millis(5)));
    let child = ChildProcess::spawn(TEST, "overload", &[(DSN, server.dsn())]).finish(TIME_LIMIT);

    let captured = child.stat("captured");
    let accepted = server.accepted_event_ids().len() as u64;
    let counted = child.dropped_by_reason(DataCategory::Error);
    let counted_total: u64 = counted.values().sum();
    let peak_mib = child.stat("vm_hwm_kib") / 1024;
    eprintln!(
        "[fault_overload] captured {captured} in {} ms from {THREADS} threads; close took {} ms \
         (drained: {}); accepted {accepted}, counted {counted:?}; duplicates {}; \
         peak RSS {peak_mib} MiB; total {:?}",
        child.stat("capture_ms"),
        child.stat("close_ms"),
        child.stat("drained") == 1,
        server.duplicate_deliveries(),
        started.elapsed()
    );
    assert_eq!(captured, (THREADS * PER_THREAD) as u64);
    assert_eq!(
        accepted + counted_total,
        captured,
        "accepted + counted == captured"
    );
    assert_eq!(child.stat("events_sent"), accepted);
    assert!(child.stat("vm_hwm_kib") > 0, "VmHWM was read");
    assert!(
        peak_mib < MAX_PEAK_RSS_MIB,
        "peak RSS {peak_mib} MiB >= {MAX_PEAK_RSS_MIB} MiB"
    );
}

#[test]
fn disk_queue_overload_stays_bounded() {
    if let Some(role) = process::role() {
        assert_eq!(role, "overload");
        return overload(DISK_PER_THREAD);
    }
    let started = Instant::now();
    let server = LoopbackServer::start();
    server.set_default(Reply::ok().delay(Duration::from_millis(5)));
    let dir = tempfile::tempdir().unwrap();
    let env = [
        (DSN, server.dsn()),
        (DIR, dir.path().to_string_lossy().into_owned()),
    ];
    let child = ChildProcess::spawn(DISK_TEST, "overload", &env).finish(TIME_LIMIT);

    let captured = child.stat("captured");
    let accepted = server.accepted_event_ids().len() as u64;
    let counted = child.dropped_by_reason(DataCategory::Error);
    let counted_total: u64 = counted.values().sum();
    let left = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".envelope"))
        .count() as u64;
    let peak_mib = child.stat("vm_hwm_kib") / 1024;
    eprintln!(
        "[fault_overload] disk queue: captured {captured} in {} ms; close took {} ms; accepted \
         {accepted}, counted {counted:?}, left on disk {left}; duplicates {}; peak RSS {peak_mib} \
         MiB; total {:?}",
        child.stat("capture_ms"),
        child.stat("close_ms"),
        server.duplicate_deliveries(),
        started.elapsed()
    );
    assert_eq!(captured, (THREADS * DISK_PER_THREAD) as u64);
    assert_eq!(
        accepted + counted_total + left,
        captured,
        "accepted + counted + left on disk == captured"
    );
    assert!(left <= DISK_MAX_COUNT as u64);
    assert_eq!(counted.get("queue_overflow"), None, "{counted:?}");
    assert!(counted.get("cache_overflow").copied().unwrap_or(0) > 0);
    assert!(peak_mib < MAX_PEAK_RSS_MIB, "peak RSS {peak_mib} MiB");
}
