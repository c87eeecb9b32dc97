//! sentry-python (PyPI `sentry-sdk`, in the tools venv that
//! `../shared/interop/lib/tools-venv.sh` makes) for the interop tests:
//! the venv's python, the test scripts, and `trace_server.py` run as a
//! downstream service. Included with `#[path]` by the tests that need it,
//! next to `mod common`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use crate::common;

/// How long a Python process may take to start or answer.
pub(crate) const PYTHON_TIMEOUT: Duration = Duration::from_secs(60);

/// The python of the tools venv (sentry-sdk), made by the shared script.
pub(crate) fn tools_python(dir: &Path) -> PathBuf {
    let python = common::bash(&dir.join("lib/tools-venv.sh"), &[], &[]);
    PathBuf::from(python.trim())
}

/// A script of `tests/python`.
pub(crate) fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// `trace_server.py` running; killed when dropped (it also exits when its
/// stdin, held here, closes).
pub(crate) struct PythonServer {
    child: Child,
    _stdin: ChildStdin,
    pub(crate) addr: SocketAddr,
}

impl PythonServer {
    /// Starts the server with sentry-python's `traces_sample_rate` set to
    /// `rate` and waits for its port.
    pub(crate) fn start(python: &Path, rate: &str) -> PythonServer {
        let mut child = Command::new(python)
            .arg(script("trace_server.py"))
            .arg(rate)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts trace_server.py");
        let stdin = child.stdin.take().expect("a stdin");
        let stdout = child.stdout.take().expect("a stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(PYTHON_TIMEOUT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("trace_server.py printed no port within {PYTHON_TIMEOUT:?}");
            }
        };
        let port = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .and_then(|p| u16::try_from(p).ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("trace_server.py printed {line:?} instead of its port (see its stderr above)");
        };
        PythonServer {
            child,
            _stdin: stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
