//! Fault test: the server is down for a whole run of the program; a later
//! run with the same disk-queue directory delivers everything, once.
//!
//! 1. A child process captures 5,000 events with the disk queue on and the
//!    server down, then exits normally (the init guard is dropped).
//! 2. The server comes up; two child processes start on the same
//!    directory at the same time and drain it.
//! 3. Every one of the 5,000 event ids arrives, none twice, and the
//!    directory ends empty.
//!
//! Real processes and sockets: this binary runs itself again as the
//! children (`VIGIL_TEST_ROLE`), against the loopback server.

#![cfg(feature = "http")]

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use vigil::protocol::DataCategory;
use vigil::transports::{HttpTransport, HttpTransportOptions};
use vigil::{ClientOptions, Level, Transport, TransportContext};
use vigil_test::LoopbackServer;
use vigil_test::process::{self, ChildProcess};
use vigil_transport::DiskQueueOptions;

const TEST: &str = "five_thousand_events_survive_an_outage_and_a_restart";
const EVENTS: usize = 5_000;
const DSN: &str = "VIGIL_FAULT_DSN";
const DIR: &str = "VIGIL_FAULT_DIR";

static TRANSPORT: OnceLock<Arc<HttpTransport>> = OnceLock::new();

/// `vigil::init` with the HTTP transport and the disk queue in the
/// directory the parent named; the transport is kept in [`TRANSPORT`].
fn init_child() -> vigil::InitGuard {
    let http = HttpTransportOptions::new()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(2))
        .max_attempts(2)
        .backoff(Duration::from_millis(10), Duration::from_millis(200))
        .proxy_from_env(false)
        .disk_queue_with(
            DiskQueueOptions::new(process::env(DIR))
                .max_count(10_000)
                .drain_interval(Duration::from_millis(1)),
        );
    let options = ClientOptions::new()
        .try_dsn(&process::env(DSN))
        .unwrap()
        .shutdown_timeout(Duration::from_secs(10))
        .debug(std::env::var("VIGIL_FAULT_DEBUG").is_ok())
        .transport(move |ctx: &TransportContext<'_>| -> Arc<dyn Transport> {
            let transport = HttpTransport::with_options(ctx, http.clone());
            let _ = TRANSPORT.set(Arc::clone(&transport));
            transport
        });
    vigil::init(options)
}

/// Child: capture with the server down, then exit through the guard.
fn capture() {
    let guard = init_child();
    let start = Instant::now();
    for i in 0..EVENTS {
        let id = vigil::capture_message(&format!("offline event {i}"), Level::Error);
        assert!(!id.is_nil());
        process::emit_id(id);
    }
    process::emit_stat("capture_ms", start.elapsed().as_millis() as u64);
    assert!(guard.close());
    process::emit_delivery_stats(&TRANSPORT.get().unwrap().stats());
}

/// Child: start on the directory and let the transport drain it until the
/// parent says stop.
fn drain() {
    let guard = init_child();
    process::wait_for_stdin_eof();
    drop(guard);
    process::emit_delivery_stats(&TRANSPORT.get().unwrap().stats());
}

#[test]
fn five_thousand_events_survive_an_outage_and_a_restart() {
    match process::role().as_deref() {
        Some("capture") => return capture(),
        Some("drain") => return drain(),
        Some(role) => panic!("unknown role {role}"),
        None => {}
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let server = LoopbackServer::start();
    server.stop();
    let env = [
        (DSN, server.dsn()),
        (DIR, dir.path().to_string_lossy().into_owned()),
    ];

    let capture = ChildProcess::spawn(TEST, "capture", &env).finish(Duration::from_secs(60));
    let ids: HashSet<_> = capture.ids().iter().copied().collect();
    assert_eq!(ids.len(), EVENTS);
    assert!(
        capture.dropped_by_reason(DataCategory::Error).is_empty(),
        "nothing may be dropped: {:?}",
        capture.stats()
    );
    assert_eq!(capture.stat("events_sent"), 0);
    assert_eq!(stored(dir.path()), EVENTS, "everything is on disk");
    let captured_after = started.elapsed();

    server.restart().unwrap();
    let a = ChildProcess::spawn(TEST, "drain", &env);
    let b = ChildProcess::spawn(TEST, "drain", &env);
    let all_delivered = server.wait_for(Duration::from_secs(60), |requests| {
        let accepted: HashSet<_> = requests
            .iter()
            .filter(|r| r.is_accepted())
            .flat_map(|r| r.event_ids())
            .collect();
        ids.is_subset(&accepted)
    });
    let delivered_after = started.elapsed();
    let a = a.finish(Duration::from_secs(30));
    let b = b.finish(Duration::from_secs(30));

    let accepted = server.accepted_event_ids();
    let missing = ids.difference(&accepted).count();
    assert!(all_delivered, "{missing} of {EVENTS} events not delivered");
    assert_eq!(
        server.duplicate_deliveries(),
        0,
        "an event was delivered twice"
    );
    assert_eq!(accepted.len(), EVENTS);
    assert_eq!(a.stat("events_sent") + b.stat("events_sent"), EVENTS as u64);
    for child in [&a, &b] {
        assert!(
            child.dropped_by_reason(DataCategory::Error).is_empty(),
            "{:?}",
            child.stats()
        );
    }
    assert_eq!(stored(dir.path()), 0, "the directory ends empty");
    eprintln!(
        "[fault_offline_restart] captured {EVENTS} in {} ms (child), on disk after {captured_after:?}, \
         delivered by two processes ({} + {}) after {delivered_after:?}, total {:?}",
        capture.stat("capture_ms"),
        a.stat("events_sent"),
        b.stat("events_sent"),
        started.elapsed()
    );
}

/// The `.envelope` files in `dir`.
fn stored(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |l| {
        l.flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".envelope"))
            .count()
    })
}
