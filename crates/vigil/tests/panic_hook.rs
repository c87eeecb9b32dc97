//! The panic integration, proven in real child processes: this test binary
//! runs itself again (`VIGIL_TEST_CHILD_ROLE` selects what the child does),
//! and the parent checks what the child delivered and how it exited.
//!
//! - `http`: `vigil::init(dsn)` with the default HTTP transport against a
//!   loopback server run by the test; a named thread panics, and `main`
//!   resumes the panic (the hook does not run again); the server must have
//!   received the fatal event, with the tag of the scope the panic left,
//!   received the fatal event before the process exits with 101 (flushed
//!   by the `init` guard dropped while `main` unwinds).
//! - `stall`: a thread panics with the server accepting connections but
//!   never answering; the hook must return at once, not after the flush
//!   timeout.
//! - `hostile`: `before_send` panics while the hook captures, and a
//!   thread-local's destructor captures and panics during thread teardown;
//!   the process must neither abort nor capture recursively.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use vigil::protocol::{Envelope, EnvelopeItem};

const ROLE: &str = "VIGIL_TEST_CHILD_ROLE";
const DSN: &str = "VIGIL_TEST_CHILD_DSN";

// ----- child side -------------------------------------------------------

/// The entry point of the child processes; does nothing unless started by
/// one of the tests below.
#[test]
#[ignore = "child-process role of the panic_hook tests; they run it"]
fn child_process_entry() {
    match std::env::var(ROLE).as_deref() {
        Ok("http") => child_http(),
        Ok("stall") => child_stall(),
        Ok("hostile") => child_hostile(),
        _ => {}
    }
}

#[inline(never)]
fn fail_in_worker() {
    panic!("boom from the worker thread");
}

fn child_http() {
    let dsn = std::env::var(DSN).expect("the parent passes a DSN");
    let guard = vigil::init(dsn.as_str());
    assert!(guard.is_enabled(), "init with a DSN must enable the SDK");
    let worker = thread::Builder::new()
        .name("vigil-test-worker".into())
        .spawn(|| {
            // The scope is popped while the panic unwinds, before the
            // capture thread builds the event: its data must be there.
            vigil::with_scope(|scope| scope.set_tag("request", "r-1"), fail_in_worker);
        })
        .unwrap();
    let payload = worker.join().unwrap_err();
    // Unwinding `main` drops the guard, which waits for the capture and
    // flushes.
    let _guard = guard;
    std::panic::resume_unwind(payload);
}

fn child_stall() {
    let dsn = std::env::var(DSN).expect("the parent passes a DSN");
    let _guard = vigil::init((
        dsn.as_str(),
        vigil::ClientOptions::new().shutdown_timeout(Duration::from_secs(3)),
    ));
    let started = Instant::now();
    let worker = thread::Builder::new()
        .name("vigil-test-worker".into())
        .spawn(fail_in_worker)
        .unwrap();
    assert!(worker.join().is_err());
    println!("PANIC-HANDLED-IN-MS {}", started.elapsed().as_millis());
    // The guard's close then waits for the blackholed server, bounded.
}

/// Prints every event as one `VIGIL-EVENT <json>` line on stdout (and
/// records the envelope, so the oracles see it).
#[derive(Default)]
struct StdoutTransport {
    recorded: vigil::test::TestTransport,
}

impl vigil::Transport for StdoutTransport {
    fn send_envelope(&self, envelope: Envelope) {
        vigil::Transport::send_envelope(&self.recorded, envelope.clone());
        for item in envelope.items() {
            if let EnvelopeItem::Event(event) = item {
                let json = serde_json::to_string(event).unwrap();
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "VIGIL-EVENT {json}");
                let _ = out.flush();
            }
        }
    }
}

struct CapturesWhenDropped;

impl Drop for CapturesWhenDropped {
    fn drop(&mut self) {
        vigil::capture_message("captured during TLS teardown", vigil::Level::Warning);
        let caught = std::panic::catch_unwind(|| panic!("panic during TLS teardown"));
        assert!(caught.is_err());
    }
}

thread_local! {
    static NOISY: CapturesWhenDropped = const { CapturesWhenDropped };
}

fn child_hostile() {
    let options = vigil::ClientOptions::new()
        .transport(|_: &vigil::TransportContext<'_>| {
            Arc::new(StdoutTransport::default()) as Arc<dyn vigil::Transport>
        })
        .before_send(|event| {
            if event
                .exception
                .values
                .iter()
                .any(|e| e.value.as_deref() == Some("trigger a panic in before_send"))
            {
                panic!("before_send exploded");
            }
            Some(event)
        });
    let _guard = vigil::init(("http://public@127.0.0.1:9/1", options));
    // 1. A panic whose capture panics in user code (before_send).
    let first = thread::Builder::new()
        .name("vigil-before-send".into())
        .spawn(|| panic!("trigger a panic in before_send"))
        .unwrap();
    let payload = first.join().unwrap_err();
    // 2. Capturing and panicking while the thread's locals are destroyed.
    thread::Builder::new()
        .name("vigil-tls-worker".into())
        .spawn(|| NOISY.with(|_| ()))
        .unwrap()
        .join()
        .unwrap();
    println!("CHILD-DONE");
    std::panic::resume_unwind(payload);
}

// ----- parent side ------------------------------------------------------

fn run_child(role: &str, dsn: Option<&str>) -> Output {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "child_process_entry",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, role)
        .env_remove("SENTRY_DSN")
        .env_remove("RUST_BACKTRACE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(dsn) = dsn {
        command.env(DSN, dsn);
    }
    let mut child = command.spawn().expect("the test binary runs again");
    // Read the pipes on threads so a chatty child cannot block.
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let err = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the child did not exit within 60 s");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// A loopback HTTP server answering 200 to every request and keeping the
/// bodies (gunzipped when `Content-Encoding: gzip`).
struct Server {
    port: u16,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (bodies.clone(), stop.clone());
        let deadline = Instant::now() + Duration::from_secs(90);
        let thread = thread::spawn(move || {
            while !s.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Some(body) = serve(stream) {
                            b.lock().unwrap().push(body);
                        }
                    }
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Server {
            port,
            bodies,
            stop,
            thread: Some(thread),
        }
    }

    fn envelopes(&self) -> Vec<Envelope> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| Envelope::from_slice(b).expect("a valid envelope"))
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request and answers 200. Returns the (decoded) body.
fn serve(stream: TcpStream) -> Option<Vec<u8>> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut length = None;
    let mut chunked = false;
    let mut gzip = false;
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        let value = value.trim();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse::<usize>().ok(),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "content-encoding" => gzip = value.eq_ignore_ascii_case("gzip"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line).ok()?;
            let size = usize::from_str_radix(line.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length.unwrap_or(0), 0);
        reader.read_exact(&mut body).ok()?;
    }
    let mut stream = stream;
    let _ = stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    if gzip {
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut decoded)
            .ok()?;
        Some(decoded)
    } else {
        Some(body)
    }
}

fn events_in(envelopes: &[Envelope]) -> Vec<Value> {
    envelopes
        .iter()
        .filter_map(Envelope::event)
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

fn exception_value(event: &Value) -> Option<&str> {
    event["exception"]["values"][0]["value"].as_str()
}

#[test]
fn a_panic_on_a_named_thread_reaches_the_server_before_exit() {
    let server = Server::start();
    let dsn = format!("http://public@127.0.0.1:{}/1", server.port);
    let started = Instant::now();
    let output = run_child("http", Some(&dsn));
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The normal exit of a panicking Rust program, not an abort.
    assert_eq!(output.status.code(), Some(101), "stderr:\n{stderr}");
    // The previous (default) hook still ran, after ours.
    assert!(
        stderr.contains("thread 'vigil-test-worker'")
            && stderr.contains("boom from the worker thread"),
        "stderr:\n{stderr}"
    );

    let envelopes = server.envelopes();
    // Recorded so the oracles check what the server received.
    let recorded = vigil::test::TestTransport::new();
    for envelope in &envelopes {
        vigil::Transport::send_envelope(&*recorded, envelope.clone());
    }
    let events = events_in(&envelopes);
    let event = events
        .iter()
        .find(|e| exception_value(e) == Some("boom from the worker thread"))
        .unwrap_or_else(|| {
            panic!(
                "the server received no panic event (transport wired into vigil::init?); \
                 {} request(s); child stderr:\n{stderr}",
                envelopes.len()
            )
        });
    assert_eq!(event["level"], "fatal");
    assert_eq!(event["tags"]["request"], "r-1", "the scope at the panic");
    let exception = &event["exception"]["values"][0];
    assert_eq!(exception["type"], "panic");
    assert_eq!(
        exception["mechanism"],
        serde_json::json!({"type": "panic", "handled": false})
    );
    let thread = &event["threads"]["values"][0];
    assert_eq!(thread["name"], "vigil-test-worker");
    assert_eq!(thread["crashed"], true);
    assert_eq!(thread["current"], true);
    assert_eq!(exception["thread_id"], thread["id"]);
    assert!(thread.get("stacktrace").is_none(), "not repeated");
    let frames = exception["stacktrace"]["frames"].as_array().unwrap();
    let innermost = frames.last().unwrap();
    assert_eq!(innermost["function"], "panic_hook::fail_in_worker");
    assert_eq!(innermost["in_app"], true);
    assert_eq!(innermost["filename"], "vigil/tests/panic_hook.rs");
    // The hook's own frames and the panic runtime are trimmed (the
    // callers' `vigil::with_scope` stays: it is where the code ran).
    assert!(frames.iter().all(|f| {
        let name = f["function"].as_str().unwrap_or("");
        !name.starts_with("vigil::integrations")
            && !name.starts_with("vigil_backtrace")
            && !name.starts_with("core::panicking")
    }));
    assert!(
        frames.iter().any(|f| f["function"]
            .as_str()
            .is_some_and(|n| n.starts_with("vigil_core::hub"))
            || f["function"]
                .as_str()
                .is_some_and(|n| n.starts_with("vigil::"))),
        "the caller's with_scope frame: {frames:#?}"
    );
    let integrations = &event["sdk"]["integrations"];
    assert!(integrations.as_array().unwrap().contains(&"panic".into()));
    eprintln!("child ran and delivered in {took:?}");
}

#[test]
fn panics_inside_the_capture_and_during_tls_teardown_do_not_abort() {
    let output = run_child("hostile", None);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(101),
        "killed by a signal means aborted; stderr:\n{stderr}"
    );
    assert!(
        stdout.contains("CHILD-DONE"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The panicking before_send dropped that event and was reported...
    assert!(
        stderr.contains("[vigil] before_send panicked: before_send exploded"),
        "{stderr}"
    );
    let events: Vec<Value> = stdout
        .lines()
        // libtest may have printed "test child_process_entry ... " first.
        .filter_map(|l| l.split_once("VIGIL-EVENT ").map(|(_, json)| json))
        .map(|json| serde_json::from_str(json).unwrap())
        .collect();
    // ...and neither that panic nor the one it caused became an event.
    assert!(!events.iter().any(|e| {
        matches!(
            exception_value(e),
            Some("trigger a panic in before_send" | "before_send exploded")
        )
    }));
    // Both captures from the thread-local destructor arrived.
    let message = events
        .iter()
        .find(|e| e["message"] == "captured during TLS teardown")
        .unwrap_or_else(|| panic!("no message from the TLS destructor; stdout:\n{stdout}"));
    assert_eq!(message["level"], "warning");
    let panic = events
        .iter()
        .find(|e| exception_value(e) == Some("panic during TLS teardown"))
        .expect("the panic in the TLS destructor");
    assert_eq!(panic["threads"]["values"][0]["name"], "vigil-tls-worker");
    assert_eq!(
        panic["exception"]["values"][0]["mechanism"]["handled"],
        false
    );
    assert_eq!(events.len(), 2, "{events:#?}");
}

/// A thread's panic is captured without waiting for a server that accepts
/// connections and never answers: the panicking thread goes on at once
/// (it waited for the flush, `shutdown_timeout` = 3 s here, before; what
/// it waits for now is the capture, mostly symbolizing the stack trace:
/// about 0.65 s in a debug build).
#[test]
fn a_panic_off_the_main_thread_does_not_wait_for_the_network() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Accepts and holds every connection, reading nothing.
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dsn = format!("http://public@127.0.0.1:{port}/1");
    let output = run_child("stall", Some(&dsn));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let handled_ms: u64 = stdout
        .lines()
        .find_map(|l| l.split("PANIC-HANDLED-IN-MS ").nth(1))
        .unwrap_or_else(|| panic!("the child printed no timing; stderr:\n{stderr}"))
        .trim()
        .parse()
        .unwrap();
    assert!(
        handled_ms < 2_500,
        "the panicking thread waited {handled_ms} ms; stderr:\n{stderr}"
    );
    eprintln!("a panic off the main thread was handled in {handled_ms} ms");
}
