//! `vigil-bench delivery`: end-to-end delivery throughput of each SDK's
//! real HTTP transport against a loopback sink (see the crate docs).

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::sink;

/// Events captured per run unless given on the command line.
pub(crate) const DEFAULT_EVENTS: u64 = 20_000;

/// CPU time (user + system) of this process, from /proc/self/stat.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // Linux reports clock ticks; USER_HZ is 100 on every mainstream kernel.
    Duration::from_millis(ticks * 10)
}

/// Peak resident memory of this process in KiB, from /proc/self/status.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

pub(crate) fn delivery_child(sdk: &str, dsn: &str, events: u64) {
    let start = Instant::now();
    let (captured, flushed) = match sdk {
        "vigil" => {
            let guard = vigil::init((
                dsn,
                vigil::ClientOptions::new()
                    .release("bench@1.0.0")
                    .default_integrations(false)
                    .transport_queue_size(
                        std::env::var("VIGIL_BENCH_QUEUE")
                            .ok()
                            .and_then(|q| q.parse().ok())
                            .unwrap_or(100),
                    ),
            ));
            for i in 0..events {
                vigil::capture_message(
                    &format!("delivery benchmark event {i}"),
                    vigil::Level::Error,
                );
            }
            let flushed = guard.flush(Duration::from_secs(60));
            (events, flushed)
        }
        "sentry" => {
            let mut options = sentry::ClientOptions::default();
            options.release = Some("bench@1.0.0".into());
            options.default_integrations = false;
            let guard = sentry::init((dsn, options));
            for i in 0..events {
                sentry::capture_message(
                    &format!("delivery benchmark event {i}"),
                    sentry::Level::Error,
                );
            }
            let flushed = guard.flush(Some(Duration::from_secs(60)));
            (events, flushed)
        }
        other => panic!("unknown sdk {other}"),
    };
    let out = json!({
        "sdk": sdk,
        "captured": captured,
        "flushed": flushed,
        "wall_ms": start.elapsed().as_secs_f64() * 1000.0,
        "cpu_ms": cpu_time().as_secs_f64() * 1000.0,
        "peak_rss_kib": peak_rss_kib(),
    });
    println!("{out}");
}

fn run_child(label: &str, sdk: &str, queue: Option<u64>, events: u64) -> Value {
    let sink = sink::Sink::start();
    let dsn = format!("http://benchkey@{}/1", sink.addr);
    let exe = std::env::current_exe().expect("current exe");
    let started = Instant::now();
    let mut cmd = Command::new(exe);
    if let Some(q) = queue {
        cmd.env("VIGIL_BENCH_QUEUE", q.to_string());
    }
    let out = cmd
        .args(["delivery-child", sdk, &dsn, &events.to_string()])
        .output()
        .expect("run child");
    assert!(
        out.status.success(),
        "{sdk} child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut report: Value = serde_json::from_slice(
        out.stdout
            .split(|&b| b == b'\n')
            .find(|l| l.starts_with(b"{"))
            .unwrap_or(b"{}"),
    )
    .expect("child report");
    // Let in-flight requests land.
    std::thread::sleep(Duration::from_millis(200));
    let delivered = sink.stats.events.load(Ordering::Relaxed);
    let last = Duration::from_nanos(sink.stats.last_event_nanos.load(Ordering::Relaxed));
    // From the child's start to the last event's arrival.
    let span = last.saturating_sub(started.duration_since(sink.started));
    let secs = span.as_secs_f64().max(1e-9);
    report["label"] = json!(label);
    report["delivered"] = json!(delivered);
    report["requests"] = json!(sink.stats.requests.load(Ordering::Relaxed));
    report["delivered_per_s"] = json!(delivered as f64 / secs);
    report
}

pub(crate) fn delivery(events: u64) {
    println!("delivery benchmark: {events} events captured as fast as possible per run,");
    println!("loopback HTTP sink in this process, each SDK in a child process of its own");
    let runs = [
        run_child("vigil (queue 100, default)", "vigil", None, events),
        run_child(
            &format!("vigil (queue {events})"),
            "vigil",
            Some(events),
            events,
        ),
        run_child("sentry (default transport)", "sentry", None, events),
    ];
    println!(
        "{:<28} {:>9} {:>9} {:>12} {:>8} {:>12}",
        "run", "captured", "delivered", "delivered/s", "cpu ms", "peak RSS KiB"
    );
    for r in &runs {
        println!(
            "{:<28} {:>9} {:>9} {:>12.0} {:>8.0} {:>12}",
            r["label"].as_str().unwrap_or("?"),
            r["captured"],
            r["delivered"],
            r["delivered_per_s"].as_f64().unwrap_or(0.0),
            r["cpu_ms"].as_f64().unwrap_or(0.0),
            r["peak_rss_kib"]
        );
    }
    let reference = &runs[2];
    for r in &runs[..2] {
        let ratio = |key: &str| {
            r[key].as_f64().unwrap_or(0.0) / reference[key].as_f64().unwrap_or(1.0).max(1e-9)
        };
        println!(
            "{} / sentry: delivered/s {:.2}x, delivered {:.2}x, cpu {:.2}x, peak RSS {:.2}x",
            r["label"].as_str().unwrap_or("?"),
            ratio("delivered_per_s"),
            ratio("delivered"),
            ratio("cpu_ms"),
            ratio("peak_rss_kib")
        );
    }
}
