//! The disk queue against a hostile directory, end to end. Each round a
//! child process seeds a queue directory with hundreds of hostile files
//! named by the queue's own scheme (bit-flipped, truncated and random
//! envelopes, items claiming absurd lengths, edge values in every time
//! and number field, JSON nested past any parser's limit, empty files,
//! sparse 64 GiB files, links to a file outside, directories and FIFOs
//! under envelope names) and by other schemes (left alone), plus real
//! stored events; then it starts the HTTP transport over it.
//!
//! What must hold, per round: no panic on any thread and a clean exit
//! (crashes 0); every real event delivered; afterwards the process idles
//! (the CPU time of the SDK's threads in a 2 s window after the backlog
//! is worked through: no spin); the peak resident set stays small
//! (nothing read whole); the file outside and the foreign files are
//! untouched. The parent prints the figures: files tried, crashes, spins,
//! peak RSS.
//!
//! `VIGIL_HOSTILE_ROUNDS` sets the number of rounds (default 4).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use vigil_core::ClientOptions;
use vigil_core::protocol::{DataCategory, DiscardReason, EventId};
use vigil_test::LoopbackServer;
use vigil_test::process::{self, ChildProcess};

use crate::disk_queue::disk_options;
use crate::{event_envelope, has_all, http_client};

const SEED: &str = "VIGIL_HOSTILE_SEED";
const FILES_PER_ROUND: usize = 250;
const REAL_EVENTS: usize = 20;
/// CPU time the SDK's threads may use in the 2 s idle window (a spinning
/// thread would use all 2,000 ms).
const MAX_IDLE_CPU_MS: u64 = 100;
/// The sparse files claim 64 GiB each; reading one whole would show here.
const MAX_PEAK_RSS_MIB: u64 = 200;
const SENTINEL: &[u8] = b"a file outside the queue: never written, never deleted";

/// A small deterministic generator (xorshift64*), so a failing round can
/// be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A name of the queue's scheme, older than any real file.
fn scheme_name(rng: &mut Rng, seq: usize) -> String {
    let kind = if rng.below(2) == 0 { 'e' } else { 'x' };
    format!(
        "{:016}-{:08x}-{seq:010}-{kind}.envelope",
        1 + rng.below(1_000_000),
        rng.next() as u32
    )
}

/// An envelope with one event item whose payload is `payload`, as raw
/// bytes (the item header states the payload's length).
fn raw_event(payload: &str) -> Vec<u8> {
    format!(
        "{{\"event_id\":\"{}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{payload}\n",
        EventId::new(),
        payload.len()
    )
    .into_bytes()
}

/// Event payloads with edge values where the reader accepts numbers,
/// times and ids.
const EDGE_PAYLOADS: &[&str] = &[
    r#"{"timestamp":1e300,"message":"far future"}"#,
    r#"{"timestamp":-1e300,"message":"far past"}"#,
    r#"{"timestamp":253402300800,"start_timestamp":1e15}"#,
    r#"{"contexts":{"app":{"app_start_time":1e15}}}"#,
    r#"{"contexts":{"app":{"app_start_time":"99999-01-01T00:00:00Z"}}}"#,
    r#"{"breadcrumbs":{"values":[{"timestamp":1.8e308}]}}"#,
    r#"{"level":"\u0000","message":"\ud800"}"#,
    r#"{"event_id":"not-an-id","exception":{"values":[{"stacktrace":{"frames":[{"lineno":-1,"colno":1e20}]}}]}}"#,
    r#"{"sdk":{"name":"","version":"","integrations":[null,1,{}]}}"#,
    r#"{"extra":{"a":18446744073709551616,"b":-9223372036854775809,"c":1e400}}"#,
    r#"{"spans":[{"timestamp":1e300,"start_timestamp":-1e300,"span_id":"zz"}]}"#,
];

/// Bytes of a hostile file of `kind`.
fn hostile_bytes(rng: &mut Rng, kind: u64) -> Vec<u8> {
    let valid = event_envelope("a real event")
        .to_vec()
        .expect("an envelope serializes");
    match kind {
        // Bit flips in a valid envelope.
        0 => {
            let mut bytes = valid;
            for _ in 0..=rng.below(8) {
                let at = rng.below(bytes.len() as u64) as usize;
                bytes[at] ^= 1 << rng.below(8);
            }
            bytes
        }
        // Truncated.
        1 => {
            let len = rng.below(valid.len() as u64) as usize;
            valid[..len].to_vec()
        }
        // Random bytes.
        2 => (0..rng.below(4096)).map(|_| rng.next() as u8).collect(),
        // An item claiming an absurd length.
        3 => {
            let length = [u64::MAX, u64::MAX / 2, 1 << 40, 1 << 31][rng.below(4) as usize];
            format!("{{}}\n{{\"type\":\"event\",\"length\":{length}}}\n{{}}\n").into_bytes()
        }
        // Edge values in the fields.
        4 => raw_event(EDGE_PAYLOADS[rng.below(EDGE_PAYLOADS.len() as u64) as usize]),
        // Nested past every parser's recursion limit.
        5 => {
            let depth = 1_000 + rng.below(100_000) as usize;
            raw_event(&format!(
                "{{\"extra\":{{\"x\":{}{}}}}}",
                "[".repeat(depth),
                "]".repeat(depth)
            ))
        }
        // Empty.
        _ => Vec::new(),
    }
}

/// Seeds `queue` with hostile files; returns how many it made and the
/// foreign files (name, content) that must stay as they are.
fn seed_queue(queue: &Path, sentinel: &Path, rng: &mut Rng) -> (usize, Vec<(String, Vec<u8>)>) {
    let mut foreign = Vec::new();
    for seq in 0..FILES_PER_ROUND {
        let name = scheme_name(rng, seq);
        let path = queue.join(&name);
        match rng.below(20) {
            0..=11 => {
                let kind = rng.below(7);
                fs::write(&path, hostile_bytes(rng, kind)).unwrap();
            }
            12 => {
                let file = fs::File::create(&path).unwrap();
                file.set_len(64 << 30).expect("a sparse 64 GiB file");
            }
            13 => symlink(sentinel, &path).unwrap(),
            14 => fs::create_dir(&path).unwrap(),
            15 => {
                let made = Command::new("mkfifo").arg(&path).status();
                assert!(made.is_ok_and(|s| s.success()), "mkfifo");
            }
            16 => {
                // A valid envelope under a name of another scheme.
                let name = match rng.below(3) {
                    0 => format!("foreign-{seq}.envelope"),
                    1 => format!(".{name}.tmp.other"),
                    _ => format!("{seq}.envelope"),
                };
                let bytes = event_envelope("not ours").to_vec().unwrap();
                fs::write(queue.join(&name), &bytes).unwrap();
                foreign.push((name, bytes));
            }
            _ => {
                // A stale temporary file of the scheme, with a valid envelope.
                let bytes = event_envelope("temporary").to_vec().unwrap();
                fs::write(queue.join(format!(".{name}.tmp")), bytes).unwrap();
            }
        }
    }
    (FILES_PER_ROUND, foreign)
}

/// The CPU time (user and system) the SDK's threads (`vigil-*`) of this
/// process used, in milliseconds (the test's own server threads are not
/// counted).
fn sdk_cpu_time_ms() -> u64 {
    let mut ticks = 0;
    for task in fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .flatten()
    {
        let Ok(stat) = fs::read_to_string(task.path().join("stat")) else {
            continue; // the thread ended
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if !stat[open + 1..close].starts_with("vigil-") {
            continue;
        }
        let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
        // utime and stime (fields 14 and 15 of the file) in clock ticks
        // of 1/100 s (`USER_HZ` is 100 on Linux).
        ticks += fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    }
    ticks * 10
}

/// The regular files of the queue's scheme still in `queue`.
fn pending_regular(queue: &Path) -> usize {
    fs::read_dir(queue).map_or(0, |l| {
        l.flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .filter(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.ends_with("-e.envelope") || name.ends_with("-x.envelope")
            })
            .count()
    })
}

static PANICS: AtomicU64 = AtomicU64::new(0);

fn child_round() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        previous(info);
    }));
    let seed: u64 = process::env(SEED).parse().unwrap();
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let tmp = tempfile::tempdir().unwrap();
    let queue = tmp.path().join("queue");
    fs::create_dir(&queue).unwrap();
    fs::set_permissions(&queue, fs::Permissions::from_mode(0o700)).unwrap();
    let sentinel = tmp.path().join("sentinel");
    fs::File::create(&sentinel)
        .and_then(|mut f| f.write_all(SENTINEL))
        .unwrap();
    let (tried, foreign) = seed_queue(&queue, &sentinel, &mut rng);

    // Real stored events, newer than the hostile files: the backlog must
    // get past everything else to them.
    let server = LoopbackServer::start();
    let (client, transport) =
        http_client(&server.dsn(), ClientOptions::new(), disk_options(&queue));
    let real: Vec<EventId> = (0..REAL_EVENTS)
        .map(|i| {
            let envelope = event_envelope(&format!("real {i}"));
            let id = envelope.headers().event_id.unwrap();
            vigil_core::Transport::send_envelope(&*transport, envelope);
            id
        })
        .collect();
    let started = Instant::now();
    assert!(
        server.wait_for(Duration::from_secs(60), |r| has_all(r, &real)),
        "seed {seed}: the real events were not all delivered; stats {:?}",
        transport.stats()
    );
    // Worked through: only files that are not regular files of the scheme
    // (links, directories, FIFOs) are left.
    let deadline = Instant::now() + Duration::from_secs(30);
    while pending_regular(&queue) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let worked_through_ms = started.elapsed().as_millis() as u64;
    assert_eq!(
        pending_regular(&queue),
        0,
        "seed {seed}: stored files left behind"
    );

    let cpu_before = sdk_cpu_time_ms();
    std::thread::sleep(Duration::from_secs(2));
    let idle_cpu_ms = sdk_cpu_time_ms() - cpu_before;

    assert_eq!(fs::read(&sentinel).unwrap(), SENTINEL, "the file outside");
    for (name, bytes) in &foreign {
        assert_eq!(
            &fs::read(queue.join(name)).unwrap(),
            bytes,
            "foreign file {name}"
        );
    }
    assert!(client.close(Some(Duration::from_secs(5))));
    let stats = transport.stats();
    process::emit_stat("files_tried", tried as u64);
    process::emit_stat("delivered", real.len() as u64);
    process::emit_stat(
        "moved_aside",
        stats.dropped_count(DiscardReason::InternalSdkError, DataCategory::Error)
            + stats.dropped_count(DiscardReason::InternalSdkError, DataCategory::Default),
    );
    process::emit_stat("worked_through_ms", worked_through_ms);
    process::emit_stat("idle_cpu_ms", idle_cpu_ms);
    process::emit_stat("panics", PANICS.load(Ordering::SeqCst));
    process::emit_stat("vm_hwm_kib", process::peak_rss_kib().unwrap_or(0));
}

#[test]
fn a_hostile_queue_directory_neither_crashes_spins_nor_bloats() {
    if process::role().is_some() {
        child_round();
        return;
    }
    let rounds: u64 = std::env::var("VIGIL_HOSTILE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    let (mut tried, mut moved, mut peak_kib, mut max_idle_ms, mut spins) = (0, 0, 0, 0, 0);
    for seed in 1..=rounds {
        let child = ChildProcess::spawn(
            "hostile_dir::a_hostile_queue_directory_neither_crashes_spins_nor_bloats",
            "hostile",
            &[(SEED, seed.to_string())],
        )
        .finish(Duration::from_secs(180));
        assert_eq!(child.stat("panics"), 0, "seed {seed}: a panic");
        assert_eq!(child.stat("delivered"), REAL_EVENTS as u64);
        let idle = child.stat("idle_cpu_ms");
        if idle >= MAX_IDLE_CPU_MS {
            spins += 1;
        }
        tried += child.stat("files_tried");
        moved += child.stat("moved_aside");
        peak_kib = peak_kib.max(child.stat("vm_hwm_kib"));
        max_idle_ms = max_idle_ms.max(idle);
        eprintln!(
            "hostile_dir seed {seed}: {} files, {} moved aside, worked through in {} ms, \
             idle CPU {idle} ms / 2 s, peak RSS {} KiB",
            child.stat("files_tried"),
            child.stat("moved_aside"),
            child.stat("worked_through_ms"),
            child.stat("vm_hwm_kib")
        );
    }
    eprintln!(
        "hostile_dir: {rounds} rounds, {tried} hostile files tried, {moved} moved aside and \
         counted, crashes 0, spins {spins} (max idle CPU {max_idle_ms} ms in 2 s), peak RSS {} MiB",
        peak_kib / 1024
    );
    assert_eq!(spins, 0, "a round kept the CPU busy while idle");
    assert!(
        peak_kib / 1024 < MAX_PEAK_RSS_MIB,
        "peak RSS {} MiB",
        peak_kib / 1024
    );
}
