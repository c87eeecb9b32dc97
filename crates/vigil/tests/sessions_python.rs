//! Release health, differential against the official Python SDK (PyPI
//! `sentry-sdk`, in the tools venv that `../shared/interop/lib/tools-venv.sh`
//! makes): the same scenario, run by both SDKs in real processes, must end
//! every session in the same state.
//!
//! The scenario has two processes per SDK, each one application session:
//!
//! - `main`: init with a release, one handled error, a clean exit (Vigil:
//!   the `init` guard is dropped; Python: the interpreter ends, and its
//!   `atexit` integration ends the session and closes the client).
//! - `crash`: init with a release, then an unhandled error that ends the
//!   process (Vigil: a panic on the test thread, captured by the panic
//!   integration; Python: an uncaught exception, captured by the
//!   `excepthook` integration).
//!
//! Vigil runs in children of this test binary (`VIGIL_SESSIONS_CHILD_ROLE`
//! selects the role, like `panic_hook.rs`), with a transport that writes
//! every envelope to its own file as it is sent (so nothing is lost when the
//! process ends right after) and records it for the oracles. Python runs
//! `tests/python/sessions_scenario.py`, whose transport keeps the envelopes
//! in memory and prints them at exit.
//!
//! # What sentry-python sends, and the normalization
//!
//! sentry-python (2.75.0) starts no session at `init` even with
//! `auto_session_tracking=True` (that option covers the request sessions of
//! its web integrations), so the script starts the application session
//! right after `init`, as Vigil's `init` does. It then sends **one** update
//! per session, when the session ends: capturing an event only changes the
//! session object, and the update is queued by `end_session` (called by the
//! `atexit` integration) and flushed by the client's `close`. That update
//! has `init: true`, no `seq` and no `duration`, and the crash update
//! travels in its own envelope after the crash event's.
//!
//! Vigil sends the `init` update (`ok`, 0 errors, `seq` 0) at start, an
//! `ok` update with the first error in that error's envelope, and the
//! terminal update (`exited` at close, or `crashed` in the envelope of the
//! crash event), as the session spec asks.
//!
//! The intermediate `ok` updates are therefore Vigil's alone by design of
//! the reference SDK, not a difference in counting: the comparison drops
//! every `ok` update, on both sides, and requires the remaining sequences
//! of `(status, errors)` to be equal (ids, timestamps, `seq` and `duration`
//! ignored). Everything else is asserted exactly, per SDK: one session per
//! process, `init` on its first update only, exactly one terminal update
//! and nothing after it, the release and environment, the events (one
//! handled error in `main`, one unhandled error in `crash`) and the exit
//! status. Vigil's full sequence is also checked against the spec:
//! `main` sends `(ok, 0, init)`, `(ok, 1)` with the error event,
//! `(exited, 1)` with a duration; `crash` sends `(ok, 0, init)`, then
//! `(crashed, 1)` with a duration in the crash event's envelope.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil::protocol::{Envelope, EnvelopeItem, SessionStatus, SessionUpdate};

/// The environment variable choosing the child's role.
const ROLE: &str = "VIGIL_SESSIONS_CHILD_ROLE";
/// The environment variable naming the directory the child writes its
/// envelopes into.
const OUT_DIR: &str = "VIGIL_SESSIONS_CHILD_OUT";
/// The release both SDKs report.
const RELEASE: &str = "sessions-differential@1.0.0";
/// How long any child process may run.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);
/// The prefix of the script's header line.
const PY_HEADER: &str = "SESSIONS-SCENARIO-PY ";
/// The prefix of the script's envelope lines.
const PY_ENVELOPE: &str = "SESSIONS-SCENARIO-PY-ENVELOPE ";
/// Environment variables either SDK would read as options.
const SDK_ENV: [&str; 7] = [
    "SENTRY_DSN",
    "SENTRY_RELEASE",
    "SENTRY_ENVIRONMENT",
    "SENTRY_SAMPLE_RATE",
    "SENTRY_DEBUG",
    "SENTRY_TRACE",
    "SENTRY_BAGGAGE",
];

// ----- child side -------------------------------------------------------

/// The entry point of the Vigil child processes; does nothing unless
/// started by one of the tests below.
#[test]
#[ignore = "child-process role of the sessions_python tests; they run it"]
fn child_process_entry() {
    match std::env::var(ROLE).as_deref() {
        Ok("main") => child_main(),
        Ok("crash") => child_crash(),
        _ => {}
    }
}

/// Writes every envelope, as it is sent, to its own numbered file in a
/// directory, and records it so the oracles see it.
struct FileTransport {
    /// Where the files go.
    dir: PathBuf,
    /// The next file's number.
    next: AtomicUsize,
    /// The oracles' copy (dumped when `VIGIL_ENVELOPE_DUMP_DIR` is set).
    recorded: vigil::test::TestTransport,
}

impl vigil::Transport for FileTransport {
    fn send_envelope(&self, envelope: Envelope) {
        let bytes = envelope.to_vec().expect("the envelope serializes");
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        std::fs::write(self.dir.join(format!("{n:04}.envelope")), bytes)
            .expect("the envelope file is written");
        vigil::Transport::send_envelope(&self.recorded, envelope);
    }
}

/// `vigil::init` with the release, session tracking, the default
/// integrations (the panic integration among them) and a [`FileTransport`]
/// writing into the directory the parent names.
fn init_child() -> vigil::InitGuard {
    let dir = std::env::var_os(OUT_DIR).expect("the parent names a directory");
    let transport = Arc::new(FileTransport {
        dir: PathBuf::from(dir),
        next: AtomicUsize::new(0),
        recorded: vigil::test::TestTransport::default(),
    });
    let options = vigil::ClientOptions::new()
        .try_dsn(vigil::test::TEST_DSN)
        .expect("a valid DSN")
        .release(RELEASE)
        // sentry-python's default; Vigil's `init` defaults to `development`
        // in a debug build (as sentry-rust does).
        .environment("production")
        .auto_session_tracking(true)
        .transport(move |_: &vigil::TransportContext<'_>| {
            transport.clone() as Arc<dyn vigil::Transport>
        });
    let guard = vigil::init(options);
    assert!(guard.is_enabled(), "init with a DSN must enable the SDK");
    guard
}

/// Role `main`: one handled error, then a clean exit (the guard dropped).
fn child_main() {
    let guard = init_child();
    let error = "not a number"
        .parse::<u32>()
        .expect_err("not a number does not parse");
    vigil::capture_error(&error);
    drop(guard);
}

/// Role `crash`: a panic that ends the process.
fn child_crash() {
    let _guard = init_child();
    crash();
}

/// Panics: the unhandled error of the `crash` role.
#[inline(never)]
fn crash() -> ! {
    panic!("unhandled crash in the child process");
}

// ----- parent side ------------------------------------------------------

/// `../shared/interop`, next to the workspace. `None` (after a loud
/// `SKIPPED` line naming `what`) only when `../shared` does not exist
/// outside CI; once `../shared` is there, a missing script fails.
fn interop_dir(what: &str) -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if !shared.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared is required in CI but {} is missing",
            shared.display()
        );
        eprintln!(
            "\n\n*** SKIPPED {what}: {} not found (../shared is missing) ***\n",
            shared.display()
        );
        return None;
    }
    let dir = shared.join("interop");
    assert!(
        dir.join("lib/tools-venv.sh").is_file(),
        "{} lacks lib/tools-venv.sh",
        dir.display()
    );
    Some(dir)
}

/// The python of the tools venv (sentry-sdk), made by the shared script.
fn tools_python(dir: &Path) -> PathBuf {
    let mut command = Command::new("bash");
    command.arg(dir.join("lib/tools-venv.sh"));
    let out = run(command);
    assert!(
        out.status.success(),
        "tools-venv.sh failed ({}):\n{}\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    PathBuf::from(out.stdout.trim())
}

/// What a child process left: its exit status and its output.
struct Finished {
    /// How it ended.
    status: ExitStatus,
    /// Its stdout, lossily decoded.
    stdout: String,
    /// Its stderr, lossily decoded.
    stderr: String,
}

/// Runs `command` to its end, at most [`CHILD_TIMEOUT`] (then it is killed
/// and the test fails with its output). The pipes are read on threads so a
/// chatty child cannot block.
fn run(mut command: Command) -> Finished {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + CHILD_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits for the child") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{command:?} did not end within {CHILD_TIMEOUT:?}:\n{}\n{}",
                stdout.join().unwrap_or_default(),
                stderr.join().unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(20));
    };
    Finished {
        status,
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    }
}

/// What one envelope carried, reduced to what the comparison needs.
#[derive(Debug)]
struct Sent {
    /// The item types, in order.
    types: Vec<String>,
    /// The `session` items.
    sessions: Vec<SessionUpdate>,
    /// The `event` items, as JSON.
    events: Vec<Value>,
}

/// One SDK's run of one role.
struct SdkRun {
    /// The SDK and its version, for messages.
    sdk: String,
    /// What the process sent, envelope by envelope, in order.
    envelopes: Vec<Sent>,
    /// How the process ended.
    status: ExitStatus,
    /// The `session` payloads as JSON, for the log (Python's as it wrote
    /// them).
    raw_sessions: Vec<String>,
    /// The process's stderr, for messages.
    stderr: String,
}

/// Runs the Vigil child for `role` and reads the envelopes it wrote.
fn run_vigil(role: &str) -> SdkRun {
    let out_dir = tempfile::tempdir().expect("a temporary directory");
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command
        .args([
            "child_process_entry",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env(OUT_DIR, out_dir.path())
        .env_remove("RUST_BACKTRACE");
    for name in SDK_ENV {
        command.env_remove(name);
    }
    let finished = run(command);
    let mut files: Vec<PathBuf> = std::fs::read_dir(out_dir.path())
        .expect("the envelope directory")
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    files.sort();
    let mut raw_sessions = Vec::new();
    let envelopes = files
        .iter()
        .map(|file| {
            let bytes = std::fs::read(file).expect("an envelope file");
            let envelope = Envelope::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{}: not an envelope: {e}", file.display()));
            let mut sent = Sent {
                types: Vec::new(),
                sessions: Vec::new(),
                events: Vec::new(),
            };
            for item in envelope.items() {
                sent.types.push(item.ty().to_owned());
                match item {
                    EnvelopeItem::Session(update) => {
                        raw_sessions
                            .push(serde_json::to_string(update).expect("the update serializes"));
                        sent.sessions.push((**update).clone());
                    }
                    EnvelopeItem::Event(event) => sent
                        .events
                        .push(serde_json::to_value(event).expect("the event serializes")),
                    _ => {}
                }
            }
            sent
        })
        .collect();
    SdkRun {
        sdk: format!("vigil {}", env!("CARGO_PKG_VERSION")),
        envelopes,
        status: finished.status,
        raw_sessions,
        stderr: finished.stderr,
    }
}

/// Runs `tests/python/sessions_scenario.py` for `role` and reads the
/// envelopes it printed.
fn run_python(python: &Path, role: &str) -> SdkRun {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/sessions_scenario.py");
    let mut command = Command::new(python);
    command
        .arg(&script)
        .args([role, RELEASE])
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for name in SDK_ENV {
        command.env_remove(name);
    }
    let finished = run(command);
    let context = || format!("stdout:\n{}\nstderr:\n{}", finished.stdout, finished.stderr);
    let header: Value = finished
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix(PY_HEADER))
        .map(|json| serde_json::from_str(json).expect("a JSON header"))
        .unwrap_or_else(|| panic!("the script printed no header; {}", context()));
    assert_eq!(header["role"], role, "{}", context());
    assert_eq!(
        header["session_started_by_init"],
        false,
        "sentry-sdk now starts a session at init: revisit the script; {}",
        context()
    );
    let mut raw_sessions = Vec::new();
    let envelopes = finished
        .stdout
        .lines()
        .filter_map(|line| line.strip_prefix(PY_ENVELOPE))
        .map(|json| {
            let envelope: Value = serde_json::from_str(json).expect("a JSON envelope line");
            let mut sent = Sent {
                types: Vec::new(),
                sessions: Vec::new(),
                events: Vec::new(),
            };
            for item in envelope["items"].as_array().expect("an item list") {
                let ty = item["type"].as_str().expect("an item type");
                sent.types.push(ty.to_owned());
                let payload = item["payload"].clone();
                match ty {
                    "session" => {
                        raw_sessions.push(payload.to_string());
                        let update = serde_json::from_value(payload.clone()).unwrap_or_else(|e| {
                            panic!("Python's session item does not parse ({e}): {payload}")
                        });
                        sent.sessions.push(update);
                    }
                    "event" => sent.events.push(payload),
                    _ => {}
                }
            }
            sent
        })
        .collect();
    SdkRun {
        sdk: format!(
            "sentry-python {}",
            header["version"].as_str().unwrap_or("(unknown version)")
        ),
        envelopes,
        status: finished.status,
        raw_sessions,
        stderr: finished.stderr,
    }
}

/// Whether an event has an exception whose mechanism says it was not
/// handled (a crash).
fn is_unhandled(event: &Value) -> bool {
    event["exception"]["values"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|exception| exception["mechanism"]["handled"] == false)
}

/// A session update's `(status, errors)`.
fn state(update: &SessionUpdate) -> (SessionStatus, u64) {
    (update.status, update.errors)
}

/// One session update and where it travelled.
struct Placed<'a> {
    /// The update.
    update: &'a SessionUpdate,
    /// The events of the update's envelope.
    events: &'a [Value],
}

impl SdkRun {
    /// The session updates in the order they were sent, checking what both
    /// SDKs must do alike: one application session, `init` on its first
    /// update only, exactly one terminal update and nothing after it, the
    /// release and the environment, no aggregates.
    fn session(&self) -> Vec<Placed<'_>> {
        let sdk = &self.sdk;
        let placed: Vec<Placed<'_>> = self
            .envelopes
            .iter()
            .flat_map(|sent| {
                sent.sessions.iter().map(|update| Placed {
                    update,
                    events: &sent.events,
                })
            })
            .collect();
        assert!(
            !self
                .envelopes
                .iter()
                .flat_map(|s| &s.types)
                .any(|t| t == "sessions"),
            "{sdk}: application mode sends no aggregates: {:#?}",
            self.envelopes
        );
        let first = placed
            .first()
            .unwrap_or_else(|| panic!("{sdk} sent no session update; stderr:\n{}", self.stderr));
        let sid = first.update.session_id;
        for (i, p) in placed.iter().enumerate() {
            let update = p.update;
            assert_eq!(update.session_id, sid, "{sdk}: one session per process");
            assert_eq!(update.init, i == 0, "{sdk}: init on the first update only");
            assert_eq!(update.attrs.release, RELEASE, "{sdk}");
            assert_eq!(
                update.attrs.environment.as_deref(),
                Some("production"),
                "{sdk}"
            );
        }
        let terminal: Vec<usize> = placed
            .iter()
            .enumerate()
            .filter(|(_, p)| p.update.status != SessionStatus::Ok)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(
            terminal,
            [placed.len() - 1],
            "{sdk}: exactly one terminal update, the last: {:?}",
            self.states()
        );
        placed
    }

    /// Every session update's `(status, errors)`, in order.
    fn states(&self) -> Vec<(SessionStatus, u64)> {
        self.envelopes
            .iter()
            .flat_map(|sent| sent.sessions.iter().map(state))
            .collect()
    }

    /// The events sent, in order.
    fn events(&self) -> Vec<&Value> {
        self.envelopes.iter().flat_map(|s| &s.events).collect()
    }
}

/// The normalized sequence the SDKs must agree on: the `(status, errors)`
/// of every update but the `ok` ones (see the module's doc for why).
fn normalized(placed: &[Placed<'_>]) -> Vec<(SessionStatus, u64)> {
    placed
        .iter()
        .map(|p| state(p.update))
        .filter(|(status, _)| *status != SessionStatus::Ok)
        .collect()
}

/// Runs `role` with both SDKs (at the same time); `None` when skipped.
fn run_both(role: &str) -> Option<(SdkRun, SdkRun)> {
    let dir = interop_dir(&format!("the sentry-python session differential ({role})"))?;
    let started = Instant::now();
    let (vigil, python) = thread::scope(|s| {
        let vigil = s.spawn(|| run_vigil(role));
        let python = run_python(&tools_python(&dir), role);
        (vigil.join().expect("the Vigil run"), python)
    });
    eprintln!(
        "role `{role}`: both processes ran in {:?}",
        started.elapsed()
    );
    for run in [&vigil, &python] {
        eprintln!("  {}: all updates {:?}", run.sdk, run.states());
        for raw in &run.raw_sessions {
            eprintln!("  {} session payload: {raw}", run.sdk);
        }
    }
    Some((vigil, python))
}

/// The normalized sequences of both runs, after the per-SDK checks; they
/// must be equal.
fn compare(vigil: &SdkRun, python: &SdkRun) {
    let (v, p) = (vigil.session(), python.session());
    let (vn, pn) = (normalized(&v), normalized(&p));
    eprintln!("  normalized: {} {vn:?}, {} {pn:?}", vigil.sdk, python.sdk);
    assert_eq!(
        vn,
        pn,
        "{} and {} disagree on the session's end (all updates: {:?} vs {:?})",
        vigil.sdk,
        python.sdk,
        vigil.states(),
        python.states()
    );
}

/// Role `main`: both sessions end `exited` with one error; Vigil's
/// updates on the way are the spec's.
#[test]
fn a_handled_error_and_a_clean_exit_end_the_session_as_sentry_python_does() {
    let Some((vigil, python)) = run_both("main") else {
        return;
    };
    assert!(vigil.status.success(), "stderr:\n{}", vigil.stderr);
    assert!(python.status.success(), "stderr:\n{}", python.stderr);
    for run in [&vigil, &python] {
        let events = run.events();
        assert_eq!(events.len(), 1, "{}: one error event", run.sdk);
        assert!(!is_unhandled(events[0]), "{}: a handled error", run.sdk);
    }
    compare(&vigil, &python);

    // Vigil, against the spec: start, first error (in its event's
    // envelope), clean end with a duration.
    let placed = vigil.session();
    let states: Vec<_> = placed.iter().map(|p| state(p.update)).collect();
    assert_eq!(
        states,
        [
            (SessionStatus::Ok, 0),
            (SessionStatus::Ok, 1),
            (SessionStatus::Exited, 1)
        ]
    );
    let sequences: Vec<_> = placed.iter().map(|p| p.update.sequence).collect();
    assert_eq!(sequences, [Some(0), Some(1), Some(2)]);
    let with_event: Vec<_> = placed.iter().map(|p| p.events.len()).collect();
    assert_eq!(
        with_event,
        [0, 1, 0],
        "the first error's update travels with it"
    );
    let durations: Vec<_> = placed.iter().map(|p| p.update.duration.is_some()).collect();
    assert_eq!(durations, [false, false, true]);
}

/// Role `crash`: both sessions end `crashed` with one error; Vigil's
/// crash update travels with the crash event.
#[test]
fn an_unhandled_crash_ends_the_session_as_sentry_python_does() {
    let Some((vigil, python)) = run_both("crash") else {
        return;
    };
    // A Rust panic ends the test with 101; an uncaught Python exception
    // ends the interpreter with 1.
    assert_eq!(vigil.status.code(), Some(101), "stderr:\n{}", vigil.stderr);
    assert_eq!(python.status.code(), Some(1), "stderr:\n{}", python.stderr);
    for run in [&vigil, &python] {
        let events = run.events();
        assert_eq!(events.len(), 1, "{}: one crash event", run.sdk);
        assert!(is_unhandled(events[0]), "{}: handled=false", run.sdk);
    }
    compare(&vigil, &python);

    // Vigil, against the spec: start, then the crash in the crash event's
    // envelope, with a duration; nothing after it (the guard dropped while
    // unwinding sends no `exited`).
    let placed = vigil.session();
    let states: Vec<_> = placed.iter().map(|p| state(p.update)).collect();
    assert_eq!(
        states,
        [(SessionStatus::Ok, 0), (SessionStatus::Crashed, 1)]
    );
    let crash = &placed[1];
    assert!(
        crash.events.iter().any(is_unhandled),
        "Vigil's crash update travels with the crash event"
    );
    assert_eq!(crash.update.sequence, Some(1));
    assert!(crash.update.duration.is_some());

    // Reported, not required: sentry-python queues the crash update and
    // sends it at exit, in an envelope of its own.
    let python_placed = python.session();
    let together = python_placed
        .last()
        .is_some_and(|p| p.events.iter().any(is_unhandled));
    eprintln!("  sentry-python's crash update in the crash event's envelope: {together}");
}
