//! Measures what one capture costs the capturing thread with the disk queue
//! off, on (`Durability::Buffered`) and on in `Durability::Sync` mode. Not
//! a check, a measurement: ignored by default. Run it (release numbers are
//! the ones that matter) with
//!
//! ```text
//! cargo test --release -p vigil-telemetry --test fault_sync_cost -- --ignored --nocapture
//! ```
//!
//! Captures are paced (one every 2 ms) so that the in-memory queue never
//! fills: this is the steady-state cost, not the cost under overload. Each
//! mode runs in its own child process against a loopback server that
//! answers at once; the disk queue lives in the system's temp directory.

#![cfg(feature = "http")]

use std::time::{Duration, Instant};

use vigil::transports::{HttpTransport, HttpTransportOptions};
use vigil::{ClientOptions, Level};
use vigil_test::LoopbackServer;
use vigil_test::process::{self, ChildProcess};
use vigil_transport::{DiskQueueOptions, Durability};

const TEST: &str = "measure_capture_cost";
const CAPTURES: usize = 1_000;
const DSN: &str = "VIGIL_FAULT_DSN";
const DIR: &str = "VIGIL_FAULT_DIR";

fn measure(mode: &str) {
    let mut http = HttpTransportOptions::new().proxy_from_env(false);
    match mode {
        "off" => {}
        "buffered" => http = http.disk_queue(process::env(DIR)),
        "sync" => {
            http = http.disk_queue_with(
                DiskQueueOptions::new(process::env(DIR)).durability(Durability::Sync),
            );
        }
        _ => panic!("unknown mode {mode}"),
    }
    let options = ClientOptions::new()
        .try_dsn(&process::env(DSN))
        .unwrap()
        .transport(HttpTransport::factory_with(http));
    let guard = vigil::init(options);
    let mut micros = Vec::with_capacity(CAPTURES);
    for i in 0..CAPTURES {
        let start = Instant::now();
        vigil::capture_message(&format!("cost {i}"), Level::Error);
        micros.push(start.elapsed().as_secs_f64() * 1e6);
        std::thread::sleep(Duration::from_millis(2));
    }
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q) as usize];
    process::emit_stat("median_ns", (at(0.5) * 1000.0) as u64);
    process::emit_stat("p90_ns", (at(0.9) * 1000.0) as u64);
    process::emit_stat("p99_ns", (at(0.99) * 1000.0) as u64);
    drop(guard);
}

#[test]
#[ignore = "a measurement, not a check: run with --ignored --nocapture"]
fn measure_capture_cost() {
    if let Some(mode) = process::role() {
        return measure(&mode);
    }
    let server = LoopbackServer::start();
    println!(
        "capture cost, {CAPTURES} paced captures per mode ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    for mode in ["off", "buffered", "sync"] {
        let dir = tempfile::tempdir().unwrap();
        let env = [
            (DSN, server.dsn()),
            (DIR, dir.path().to_string_lossy().into_owned()),
        ];
        let child = ChildProcess::spawn(TEST, mode, &env).finish(Duration::from_secs(120));
        println!(
            "disk queue {mode:>8}: median {:>8.1} µs, p90 {:>8.1} µs, p99 {:>8.1} µs",
            child.stat("median_ns") as f64 / 1000.0,
            child.stat("p90_ns") as f64 / 1000.0,
            child.stat("p99_ns") as f64 / 1000.0,
        );
    }
}
