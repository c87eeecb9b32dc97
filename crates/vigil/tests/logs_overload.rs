//! Overload of structured logs: a child process writes 1,000,000 logs with
//! `vigil::logger_info!` as fast as it can from two threads, through the
//! real HTTP transport, to a loopback server that takes 5 ms per response
//! (disk queue off), then closes its `init` guard.
//!
//! - Memory stays bounded: the child's peak resident set (`VmHWM`) stays
//!   under [`MAX_PEAK_RSS_MIB`], although far more logs are written than
//!   the server can take in that time.
//! - Capture never blocks: every single `logger_info!` call is timed; the
//!   99th percentile stays under [`MAX_P99`], the longest under
//!   [`MAX_CAPTURE`] (p50, p99.9, the calls of 10 ms or more and the
//!   capturing threads' context switches are reported too). And the writers outrun the server, so the transport's queue
//!   overflows (counted as `queue_overflow`): a capture that waited for
//!   the network would have had every batch delivered instead.
//! - Every log is accounted for: the logs in the `log` items the server
//!   accepted (each one distinct, none delivered twice) + the logs the
//!   client counted as dropped (`log_item`, every reason) == produced,
//!   exactly. The server counts the logs of each item and checks them
//!   against the item header's `item_count`.
//! - Nothing deadlocks: the child finishes within [`TIME_LIMIT`].

#![cfg(feature = "http")]

use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use vigil::protocol::{DataCategory, EnvelopeItem, ItemContainer};
use vigil::transports::{HttpTransport, HttpTransportOptions};
use vigil::{ClientOptions, Transport, TransportContext};
use vigil_test::process::{self, ChildProcess};
use vigil_test::{LoopbackServer, Reply};

const TEST: &str = "a_million_logs_in_a_burst_from_two_threads";
const THREADS: usize = 2;
const PER_THREAD: usize = 500_000;
const PRODUCED: u64 = (THREADS * PER_THREAD) as u64;
const DSN: &str = "VIGIL_LOGS_OVERLOAD_DSN";
/// The child's peak resident memory must stay under this. Measured: about
/// 32 MiB in a debug build (the binary, the transport's queue of at most
/// 100 envelopes of 100 logs, one batch, the latency histograms of 0.8
/// MiB). Keeping the burst would take far more: the logs dropped alone
/// count about 600 MB as `log_byte`. So 128 MiB is ample margin over
/// what is measured and still fails on any buffer that grows with the
/// burst.
const MAX_PEAK_RSS_MIB: u64 = 128;
/// The longest single `logger_info!` call allowed. A call does no I/O: it
/// builds the log, takes the batcher's lock and, every 100th call, hands
/// the full batch to the transport's bounded queue without waiting (or
/// counts it dropped): p50 about 5 us, p99 about 150 us in a debug build.
/// The maximum is another matter on a 2-core machine running other builds
/// and tests: measured 17 to 44 ms at a load average of 4, but 0.3 to 2.7 s
/// at a load average of 5 to 6 (another overload test running alongside),
/// with the capturing threads both preempted (about 15,000 times) and
/// sleeping (about 8,000 voluntary switches: waits for a lock the other
/// capturing thread holds, then for a core). So the bound on the maximum
/// only catches a capture stuck for good (waiting for the network or a
/// deadlock); [`MAX_P99`] is the tight bound, and the drops prove that no
/// capture waits for the transport (see the test).
const MAX_CAPTURE: Duration = Duration::from_secs(10);
/// The 99th percentile of the capture times allowed: about 30 times what
/// is measured (130 to 200 us), and below the 5 ms the server takes per
/// envelope, so that batches handed over by waiting for the network (one
/// call in 100) would fail it.
const MAX_P99: Duration = Duration::from_millis(5);
/// The child must be done within this (no deadlock, bounded shutdown).
const TIME_LIMIT: Duration = Duration::from_secs(120);
/// The histogram of capture times: one bucket per microsecond up to this,
/// the last one for everything slower.
const HISTOGRAM_US: usize = 100_000;

static TRANSPORT: OnceLock<Arc<HttpTransport>> = OnceLock::new();

/// One thread's capture times: a microsecond histogram and the exact
/// longest.
struct Latencies {
    buckets: Vec<u32>,
    max: Duration,
    /// The thread's (voluntary, involuntary) context switches: a capturing
    /// thread that sleeps (on a lock, on a full queue) switches voluntarily;
    /// one that is preempted, involuntarily.
    switches: (u64, u64),
}

/// This thread's context switches so far (zeros where
/// `/proc/thread-self/status` does not exist).
fn context_switches() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/thread-self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    };
    (
        field("voluntary_ctxt_switches:"),
        field("nonvoluntary_ctxt_switches:"),
    )
}

impl Latencies {
    fn new() -> Latencies {
        Latencies {
            buckets: vec![0; HISTOGRAM_US + 1],
            max: Duration::ZERO,
            switches: (0, 0),
        }
    }

    fn record(&mut self, took: Duration) {
        let us = usize::try_from(took.as_micros()).unwrap_or(HISTOGRAM_US);
        self.buckets[us.min(HISTOGRAM_US)] += 1;
        self.max = self.max.max(took);
    }

    fn merge(&mut self, other: &Latencies) {
        for (mine, theirs) in self.buckets.iter_mut().zip(&other.buckets) {
            *mine += theirs;
        }
        self.max = self.max.max(other.max);
        self.switches.0 += other.switches.0;
        self.switches.1 += other.switches.1;
    }

    /// How many calls took 10 ms or more.
    fn slow(&self) -> u64 {
        self.buckets[10_000..].iter().map(|&n| u64::from(n)).sum()
    }

    /// The smallest whole microsecond that at least `fraction` of the calls
    /// took no longer than (rounded up to the bucket's end).
    fn percentile_us(&self, fraction: f64) -> u64 {
        let total: u64 = self.buckets.iter().map(|&n| u64::from(n)).sum();
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss,
            reason = "a rank among at most a few million calls"
        )]
        let rank = ((total as f64) * fraction).ceil() as u64;
        let mut seen = 0u64;
        for (us, &n) in self.buckets.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return us as u64 + 1;
            }
        }
        HISTOGRAM_US as u64
    }
}

/// The child: writes the logs, closes the client, reports.
fn overload() {
    let http = HttpTransportOptions::new()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(1))
        .max_attempts(2)
        .backoff(Duration::from_millis(10), Duration::from_millis(100))
        .proxy_from_env(false);
    let options = ClientOptions::new()
        .try_dsn(&process::env(DSN))
        .unwrap()
        .default_integrations(false)
        // Generous: what the queue holds at the end is sent in well under a
        // second at 5 ms per envelope.
        .shutdown_timeout(Duration::from_secs(30))
        .transport(move |ctx: &TransportContext<'_>| -> Arc<dyn Transport> {
            let transport = HttpTransport::with_options(ctx, http.clone());
            let _ = TRANSPORT.set(Arc::clone(&transport));
            transport
        });
    let guard = vigil::init(options);
    let client = Arc::clone(guard.client().expect("init made a client"));
    let start = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                let mut latencies = Latencies::new();
                for i in 0..PER_THREAD {
                    let seq = (t * PER_THREAD + i) as u64;
                    let before = Instant::now();
                    vigil::logger_info!(
                        overload.seq = seq,
                        overload.thread = t,
                        "overload log {} of thread {}",
                        i,
                        t
                    );
                    latencies.record(before.elapsed());
                }
                latencies.switches = context_switches();
                latencies
            })
        })
        .collect();
    let mut latencies = Latencies::new();
    for t in threads {
        latencies.merge(&t.join().unwrap());
    }
    process::emit_stat("capture_ms", start.elapsed().as_millis() as u64);
    process::emit_stat("produced", PRODUCED);
    process::emit_stat("capture_max_us", latencies.max.as_micros() as u64);
    process::emit_stat("capture_p99_us", latencies.percentile_us(0.99));
    process::emit_stat("capture_p999_us", latencies.percentile_us(0.999));
    process::emit_stat("capture_p50_us", latencies.percentile_us(0.50));
    process::emit_stat("capture_slow", latencies.slow());
    process::emit_stat("voluntary_switches", latencies.switches.0);
    process::emit_stat("involuntary_switches", latencies.switches.1);
    let close = Instant::now();
    let drained = guard.close();
    process::emit_stat("close_ms", close.elapsed().as_millis() as u64);
    process::emit_stat("drained", u64::from(drained));
    process::emit_stat(
        "envelopes_sent",
        TRANSPORT.get().unwrap().stats().envelopes_sent,
    );
    process::emit_delivery_stats(&client.delivery_stats());
}

/// What the server accepted: `log` items, the logs in them, and each log's
/// `overload.seq` (to prove that none was delivered twice).
#[derive(Debug, Default)]
struct Received {
    envelopes: u64,
    items: u64,
    logs: u64,
    /// Logs whose item header's `item_count` disagreed with the payload.
    item_count_mismatches: u64,
    duplicates: u64,
    /// Client reports (the drops the client counted, sent along).
    client_reports: u64,
    other_items: u64,
}

fn count_received(server: &LoopbackServer) -> Received {
    let mut seen = vec![false; PER_THREAD * THREADS];
    let mut received = Received::default();
    server.with_requests(|requests| {
        for request in requests.iter().filter(|r| r.is_accepted()) {
            let Some(envelope) = request.try_envelope() else {
                panic!(
                    "not an envelope: {:?}",
                    String::from_utf8_lossy(request.body())
                );
            };
            received.envelopes += 1;
            for item in envelope.items() {
                let logs = match item {
                    EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => logs,
                    EnvelopeItem::ClientReport(_) => {
                        received.client_reports += 1;
                        continue;
                    }
                    _ => {
                        received.other_items += 1;
                        continue;
                    }
                };
                received.items += 1;
                received.logs += logs.len() as u64;
                for log in logs {
                    let seq = log.attributes["overload.seq"]
                        .0
                        .as_u64()
                        .expect("an integer seq");
                    let seq = usize::try_from(seq).expect("a small seq");
                    if std::mem::replace(&mut seen[seq], true) {
                        received.duplicates += 1;
                    }
                }
            }
            received.item_count_mismatches += item_counts(request.body())
                .zip(logs_per_item(envelope))
                .filter(|(declared, actual)| declared != actual)
                .count() as u64;
        }
    });
    received
}

/// The `item_count` of every `log` item header in a raw envelope body.
fn item_counts(body: &[u8]) -> impl Iterator<Item = u64> + '_ {
    body.split(|&b| b == b'\n')
        // Item headers only: payloads (`{"items":[..]}`) need no parsing here.
        .filter(|line| line.starts_with(br#"{"type":"#))
        .filter_map(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .filter(|header| header["type"] == "log")
        .map(|header| header["item_count"].as_u64().unwrap_or(u64::MAX))
}

/// How many logs each `log` item of `envelope` holds.
fn logs_per_item(envelope: &vigil::protocol::Envelope) -> Vec<u64> {
    envelope
        .items()
        .filter_map(|item| match item {
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs)) => Some(logs.len() as u64),
            _ => None,
        })
        .collect()
}

#[test]
fn a_million_logs_in_a_burst_from_two_threads() {
    if let Some(role) = process::role() {
        assert_eq!(role, "overload");
        return overload();
    }
    let started = Instant::now();
    let server = LoopbackServer::start();
    server.set_default(Reply::ok().delay(Duration::from_millis(5)));
    let child = ChildProcess::spawn(TEST, "overload", &[(DSN, server.dsn())]).finish(TIME_LIMIT);
    let child_done = started.elapsed();

    let received = count_received(&server);
    let counted = child.dropped_by_reason(DataCategory::LogItem);
    let counted_total: u64 = counted.values().sum();
    let counted_bytes = child.dropped_by_reason(DataCategory::LogByte);
    let peak_mib = child.stat("vm_hwm_kib") / 1024;
    let max_capture = Duration::from_micros(child.stat("capture_max_us"));
    eprintln!(
        "[logs_overload] produced {} logs in {} ms from {THREADS} threads; capture latency p50 \
         {} us, p99 {} us, p99.9 {} us, max {max_capture:?}, {} calls of 10 ms or more; capturing \
         threads switched {} times voluntarily, {} times preempted; close took {} ms (drained: {}); server accepted \
         {} envelopes with {} log items holding {} logs (duplicates {}, item_count mismatches \
         {}); counted dropped log_item {counted:?} (total {counted_total}), log_byte \
         {counted_bytes:?}; client reports sent {}; delivered + counted = {}; peak RSS {peak_mib} MiB ({} KiB); child \
         took {child_done:?}, total {:?}",
        child.stat("produced"),
        child.stat("capture_ms"),
        child.stat("capture_p50_us"),
        child.stat("capture_p99_us"),
        child.stat("capture_p999_us"),
        child.stat("capture_slow"),
        child.stat("voluntary_switches"),
        child.stat("involuntary_switches"),
        child.stat("close_ms"),
        child.stat("drained") == 1,
        received.envelopes,
        received.items,
        received.logs,
        received.duplicates,
        received.item_count_mismatches,
        received.client_reports,
        received.logs + counted_total,
        child.stat("vm_hwm_kib"),
        started.elapsed()
    );
    assert_eq!(child.stat("produced"), PRODUCED);
    assert_eq!(
        received.other_items, 0,
        "nothing but log items and client reports was sent"
    );
    assert_eq!(received.duplicates, 0, "no log was delivered twice");
    assert_eq!(
        received.item_count_mismatches, 0,
        "every item's item_count matches its logs"
    );
    assert!(received.logs > 0, "some logs got through");
    // The server takes 5 ms per envelope, 200 envelopes (20,000 logs) a
    // second; the threads write several times faster. Had a capture waited
    // for the transport, every batch would have been delivered in the end;
    // the queue overflowing instead shows that capture ran ahead of the
    // network without waiting for it.
    assert!(
        counted.get("queue_overflow").copied().unwrap_or(0) > 0,
        "the burst outran the server and the overflow was counted: {counted:?}"
    );
    assert_eq!(
        received.logs + counted_total,
        PRODUCED,
        "delivered + counted == produced"
    );
    assert_eq!(
        child.stat("envelopes_sent"),
        received.envelopes,
        "the transport's count of accepted envelopes matches the server's"
    );
    assert!(
        counted_total == 0 || !counted_bytes.is_empty(),
        "dropped logs are counted in log_byte too: {counted_bytes:?}"
    );
    assert!(child.stat("vm_hwm_kib") > 0, "VmHWM was read");
    assert!(
        peak_mib < MAX_PEAK_RSS_MIB,
        "peak RSS {peak_mib} MiB >= {MAX_PEAK_RSS_MIB} MiB"
    );
    let p99 = Duration::from_micros(child.stat("capture_p99_us"));
    assert!(
        p99 < MAX_P99,
        "99% of the logger_info! calls took up to {p99:?} (>= {MAX_P99:?})"
    );
    assert!(
        max_capture < MAX_CAPTURE,
        "the longest logger_info! call took {max_capture:?} (>= {MAX_CAPTURE:?})"
    );
}
