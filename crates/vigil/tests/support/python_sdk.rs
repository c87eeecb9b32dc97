//! Running a scenario with the official Python SDK (PyPI `sentry-sdk`, in
//! the tools venv that `../shared/interop/lib/tools-venv.sh` makes) and
//! reading what both SDKs sent, from the wire bytes, with one parser.
//! Included with `#[path = "support/python_sdk.rs"] mod python_sdk;` by the
//! differential test binaries (`logs_python`, `metrics_python`,
//! `check_ins_python`).
//!
//! A scenario script in `tests/python/` takes its arguments, keeps every
//! envelope in memory, and prints a header line `<PREFIX> {"version": ..}`
//! and then one line `<PREFIX>-ENVELOPE <base64>` per envelope, as
//! sentry-sdk serializes it for the wire (`Envelope.serialize()`).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "tools_python.rs"]
mod tools_python;

/// How long the Python process may run.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);
/// Environment variables either SDK would read as options; removed from
/// the Python process's environment.
const SDK_ENV: [&str; 7] = [
    "SENTRY_DSN",
    "SENTRY_RELEASE",
    "SENTRY_ENVIRONMENT",
    "SENTRY_SAMPLE_RATE",
    "SENTRY_DEBUG",
    "SENTRY_TRACE",
    "SENTRY_BAGGAGE",
];

/// One envelope item as it was on the wire.
pub(crate) struct WireItem {
    /// The item header.
    pub(crate) header: Value,
    /// The payload bytes.
    pub(crate) payload: Vec<u8>,
}

impl WireItem {
    /// The item's `type`.
    pub(crate) fn ty(&self) -> Option<&str> {
        self.header["type"].as_str()
    }

    /// The payload as JSON (every item of these scenarios is JSON).
    pub(crate) fn json(&self, sdk: &str) -> Value {
        serde_json::from_slice(&self.payload).unwrap_or_else(|e| {
            panic!(
                "{sdk}: a non-JSON {:?} payload ({e})",
                self.ty().unwrap_or("untyped")
            )
        })
    }
}

/// One envelope as it was on the wire.
pub(crate) struct WireEnvelope {
    /// The envelope header.
    pub(crate) header: Value,
    /// The items, in order.
    pub(crate) items: Vec<WireItem>,
}

/// One SDK's run of a scenario: the envelopes it sent, in order.
pub(crate) struct SdkEnvelopes {
    /// The SDK and its version, for messages (`vigil 0.x`,
    /// `sentry-python 2.x`).
    pub(crate) sdk: String,
    /// The envelopes, parsed from their wire bytes.
    pub(crate) envelopes: Vec<WireEnvelope>,
}

impl SdkEnvelopes {
    /// Whether this is sentry-python's run.
    pub(crate) fn is_python(&self) -> bool {
        self.sdk.starts_with("sentry-python")
    }
}

/// Splits `bytes` at the first newline (the rest after it).
fn split_line(bytes: &[u8]) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
    }
}

/// Parses an envelope in the wire format: a header line, then per item a
/// header line and a payload of `length` bytes or up to the next newline.
pub(crate) fn parse_envelope(bytes: &[u8], sdk: &str) -> WireEnvelope {
    let (line, mut rest) = split_line(bytes);
    let header: Value =
        serde_json::from_slice(line).unwrap_or_else(|e| panic!("{sdk}: bad envelope header ({e})"));
    let mut items = Vec::new();
    while !rest.is_empty() {
        let (line, after) = split_line(rest);
        if line.is_empty() {
            rest = after;
            continue;
        }
        let header: Value =
            serde_json::from_slice(line).unwrap_or_else(|e| panic!("{sdk}: bad item header ({e})"));
        let payload = match header.get("length").and_then(Value::as_u64) {
            Some(length) => {
                let length = usize::try_from(length).expect("a length");
                assert!(after.len() >= length, "{sdk}: item shorter than its length");
                let (payload, after) = after.split_at(length);
                rest = after.strip_prefix(b"\n").unwrap_or(after);
                payload
            }
            None => {
                let (payload, after) = split_line(after);
                rest = after;
                payload
            }
        };
        items.push(WireItem {
            header,
            payload: payload.to_vec(),
        });
    }
    WireEnvelope { header, items }
}

/// Runs `scenario` in-process with Vigil, on a hub of its own with
/// `options` (`vigil::test::with_captured_envelopes_options`, so its
/// envelopes also go to `$VIGIL_ENVELOPE_DUMP_DIR` for the oracles), and
/// parses what it sent from the wire bytes.
pub(crate) fn run_vigil(options: vigil::ClientOptions, scenario: impl FnOnce()) -> SdkEnvelopes {
    let sdk = format!("vigil {}", env!("CARGO_PKG_VERSION"));
    let envelopes = vigil::test::with_captured_envelopes_options(scenario, options)
        .iter()
        .map(|e| parse_envelope(&e.to_vec().expect("the envelope serializes"), &sdk))
        .collect();
    SdkEnvelopes { sdk, envelopes }
}

/// Runs `tests/python/<script>` with `python` and `args`, and parses the
/// envelopes it printed (lines prefixed `<prefix>-ENVELOPE `, after the
/// header line `<prefix> {..}` that names sentry-sdk's version).
pub(crate) fn run_python(python: &str, script: &str, prefix: &str, args: &[&str]) -> SdkEnvelopes {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let mut command = Command::new(python);
    command
        .arg(&script)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1");
    for name in SDK_ENV {
        command.env_remove(name);
    }
    let (success, stdout, stderr) = run(command);
    let context = || format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(success, "{} failed; {}", script.display(), context());
    let header_prefix = format!("{prefix} ");
    let envelope_prefix = format!("{prefix}-ENVELOPE ");
    let header: Value = stdout
        .lines()
        .find_map(|line| line.strip_prefix(&header_prefix))
        .map(|json| serde_json::from_str(json).expect("a JSON header"))
        .unwrap_or_else(|| panic!("the script printed no header; {}", context()));
    let sdk = format!(
        "sentry-python {}",
        header["version"].as_str().unwrap_or("(unknown version)")
    );
    let envelopes = stdout
        .lines()
        .filter_map(|line| line.strip_prefix(&envelope_prefix))
        .map(|b64| parse_envelope(&base64_decode(b64.trim()), &sdk))
        .collect();
    SdkEnvelopes { sdk, envelopes }
}

/// Decodes standard base64 (with padding).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c:?}"),
        }
    };
    let mut out = Vec::new();
    for chunk in text.as_bytes().chunks(4) {
        let digits: Vec<u32> = chunk
            .iter()
            .filter(|&&c| c != b'=')
            .map(|&c| value(c))
            .collect();
        let n = digits.iter().fold(0u32, |acc, d| (acc << 6) | d) << (6 * (4 - digits.len()));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..digits.len()]);
    }
    out
}

/// Runs `command` to its end, at most [`CHILD_TIMEOUT`]: whether it
/// succeeded, its stdout and its stderr.
fn run(mut command: Command) -> (bool, String, String) {
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
            panic!("{command:?} did not end within {CHILD_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    (
        status.success(),
        stdout.join().expect("stdout read"),
        stderr.join().expect("stderr read"),
    )
}

/// The python of the tools venv; `None` (after a loud `SKIPPED` line
/// naming `what`) only when `../shared` does not exist outside CI. Once
/// `../shared` is there, a missing venv script fails.
pub(crate) fn python(what: &str) -> Option<String> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if shared.is_dir() {
        let script = shared.join("interop/lib/tools-venv.sh");
        assert!(script.is_file(), "{} is missing", script.display());
        let python = tools_python::tools_python(what);
        assert!(python.is_some(), "the tools venv script exists");
        python
    } else {
        tools_python::tools_python(what)
    }
}

/// Runs a scenario with both SDKs at the same time (Python in a thread,
/// Vigil here); `None` when skipped (see [`python`]).
pub(crate) fn run_both(
    what: &str,
    python_side: impl FnOnce(&str) -> SdkEnvelopes + Send,
    vigil_side: impl FnOnce() -> SdkEnvelopes,
) -> Option<(SdkEnvelopes, SdkEnvelopes)> {
    let python = python(what)?;
    Some(thread::scope(|s| {
        let py = s.spawn(|| python_side(&python));
        let vigil = vigil_side();
        (vigil, py.join().expect("the Python run"))
    }))
}

/// Whether `text` is `len` lowercase hex digits.
pub(crate) fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}
