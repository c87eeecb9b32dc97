//! Fault test: `kill -9` of a capturing process, with the disk queue in
//! `Durability::Sync` mode, at random points.
//!
//! A child captures events in a loop and prints each event id once
//! `capture_message` has returned (one flushed line each). The parent
//! kills it (`SIGKILL`: no destructor, no flush, no shutdown) after a
//! random number of ids:
//!
//! 1. while the server is up but slow (envelopes are in flight, some
//!    delivered, some only on disk);
//! 2. while the server is down (everything only on disk);
//!
//! then starts a third process on the same directory with the server up.
//! Every id any child printed must be delivered. A file whose request was
//! in flight when its process died may be delivered twice (delivery is at
//! least once across crashes); the test prints how many were.

#![cfg(feature = "http")]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil::transports::{HttpTransport, HttpTransportOptions};
use vigil::{ClientOptions, Level};
use vigil_test::process::{self, ChildProcess};
use vigil_test::{LoopbackServer, Reply};
use vigil_transport::{DiskQueueOptions, Durability};

const TEST: &str = "every_printed_event_survives_kill_9";
const DSN: &str = "VIGIL_FAULT_DSN";
const DIR: &str = "VIGIL_FAULT_DIR";

fn init_child() -> vigil::InitGuard {
    let http = HttpTransportOptions::new()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(1))
        .max_attempts(2)
        .backoff(Duration::from_millis(10), Duration::from_millis(200))
        .proxy_from_env(false)
        .disk_queue_with(
            DiskQueueOptions::new(process::env(DIR))
                .max_count(20_000)
                .durability(Durability::Sync)
                .drain_interval(Duration::ZERO),
        );
    let options = ClientOptions::new()
        .try_dsn(&process::env(DSN))
        .unwrap()
        .default_integrations(false)
        .transport(HttpTransport::factory_with(http));
    vigil::init(options)
}

/// Child: capture until killed, printing each id after the capture
/// returned.
fn capture() {
    let _guard = init_child();
    for i in 0.. {
        let id = vigil::capture_message(&format!("event {i} before the kill"), Level::Error);
        assert!(!id.is_nil());
        process::emit_id(id);
    }
}

/// Child: drain the directory until the parent closes stdin.
fn drain() {
    let guard = init_child();
    process::wait_for_stdin_eof();
    drop(guard);
}

/// Runs a capturing child and kills it after `n` printed ids.
fn capture_and_kill(env: &[(&str, String)], n: usize) -> Vec<vigil::EventId> {
    let mut child = ChildProcess::spawn(TEST, "capture", env);
    assert!(
        child.read_ids(n, Duration::from_secs(30)),
        "the child printed only {} ids",
        child.ids().len()
    );
    let child = child.kill();
    child.ids().to_vec()
}

#[test]
fn every_printed_event_survives_kill_9() {
    match process::role().as_deref() {
        Some("capture") => return capture(),
        Some("drain") => return drain(),
        Some(role) => panic!("unknown role {role}"),
        None => {}
    }
    let started = Instant::now();
    let seed = std::env::var("VIGIL_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| fastrand::u64(..));
    let mut rng = fastrand::Rng::with_seed(seed);
    eprintln!("[fault_kill9] seed {seed} (set VIGIL_FAULT_SEED to replay)");

    let server = Arc::new(LoopbackServer::start());
    // Slow enough that requests are in flight when the kill comes.
    server.set_default(Reply::ok().delay(Duration::from_millis(3)));
    let dir = tempfile::tempdir().unwrap();
    let env = [
        (DSN, server.dsn()),
        (DIR, dir.path().to_string_lossy().into_owned()),
    ];

    let first_n = rng.usize(50..=1_500);
    let first = capture_and_kill(&env, first_n);
    let delivered_before_kill = server.accepted_event_ids().len();

    server.stop();
    let second_n = rng.usize(50..=1_000);
    let second = capture_and_kill(&env, second_n);

    server.restart().unwrap();
    server.set_default(Reply::ok());
    let printed: HashSet<_> = first.iter().chain(&second).copied().collect();
    let drainer = ChildProcess::spawn(TEST, "drain", &env);
    let all = server.wait_for(Duration::from_secs(60), |requests| {
        let accepted: HashSet<_> = requests
            .iter()
            .filter(|r| r.is_accepted())
            .flat_map(|r| r.event_ids())
            .collect();
        printed.is_subset(&accepted)
    });
    drainer.finish(Duration::from_secs(30));

    let accepted = server.accepted_event_ids();
    let lost: Vec<_> = printed.difference(&accepted).collect();
    eprintln!(
        "[fault_kill9] killed after {} ids (kill at {first_n}, {delivered_before_kill} delivered by then) \
         and after {} ids with the server down (kill at {second_n}); {} printed ids, {} lost, \
         {} delivered twice, {} events accepted in all (some captured after the last printed id), {:?}",
        first.len(),
        second.len(),
        printed.len(),
        lost.len(),
        server.duplicate_deliveries(),
        accepted.len(),
        started.elapsed()
    );
    assert!(all && lost.is_empty(), "lost {lost:?} (seed {seed})");
    assert!(first.len() >= first_n && second.len() >= second_n);
    // At most the requests in flight at the two kills are sent twice.
    assert!(server.duplicate_deliveries() <= 2, "seed {seed}");
}
