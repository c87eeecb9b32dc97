//! Tests that run their own test binary again as child processes: to kill
//! a process that captures, to restart one, to give each its own global
//! hub.
//!
//! The parent starts a child with [`ChildProcess::spawn`], naming one test
//! of the same binary and a role (in the [`ROLE`] environment variable).
//! That test calls [`role`] first: in the child it gets the role and does
//! the child's work instead of the parent's. The child reports through
//! tagged lines on its standard output ([`emit_id`], [`emit_stat`],
//! [`emit_delivery_stats`]), flushed line by line so that a killed child
//! loses nothing it printed; the parent collects them ([`ChildProcess::ids`],
//! [`ChildProcess::stat`]).
//!
//! ```no_run
//! use std::time::Duration;
//! use vigil_test::process::{self, ChildProcess};
//!
//! #[test]
//! fn survives_a_restart() {
//!     if let Some(role) = process::role() {
//!         // The child: capture, print what was captured.
//!         assert_eq!(role, "capture");
//!         process::emit_stat("captured", 1);
//!         return;
//!     }
//!     let child = ChildProcess::spawn("survives_a_restart", "capture", &[])
//!         .finish(Duration::from_secs(30));
//!     assert_eq!(child.stat("captured"), 1);
//! }
//! ```

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use vigil_core::DeliveryStats;
use vigil_protocol::{DataCategory, DiscardReason, EventId};

/// The environment variable naming a child's role; unset in the parent.
pub const ROLE: &str = "VIGIL_TEST_ROLE";

/// The role of this process when it is a child started by
/// [`ChildProcess::spawn`]; `None` in the parent.
pub fn role() -> Option<String> {
    std::env::var(ROLE).ok()
}

/// An environment variable the parent set for the child.
///
/// # Panics
/// When it is not set (or not Unicode).
#[track_caller]
pub fn env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) => value,
        Err(e) => panic!("{name}: {e}"),
    }
}

/// What starts every line a child reports: libtest may have printed
/// `test <name> ... ` on the same line before it.
const MARKER: &str = "@vigil-test ";

/// Prints one report line (after a marker the parent looks for) and
/// flushes it at once.
pub fn emit(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{MARKER}{line}");
    let _ = out.flush();
}

/// Prints `ID <id>`: an event the child captured (the parent collects them
/// in [`ChildProcess::ids`]).
pub fn emit_id(id: EventId) {
    emit(&format!("ID {id}"));
}

/// Prints `STAT <key> <value>` (the parent reads it with
/// [`ChildProcess::stat`]).
pub fn emit_stat(key: &str, value: u64) {
    emit(&format!("STAT {key} {value}"));
}

/// Prints a client's delivery statistics (`events_sent` and one
/// `dropped.<reason>.<category>` line per count, read back with
/// [`ChildProcess::dropped`]) and, where known, the process's peak
/// resident memory (`vm_hwm_kib`).
pub fn emit_delivery_stats(stats: &DeliveryStats) {
    emit_stat("events_sent", stats.events_sent);
    for d in &stats.dropped {
        emit_stat(&format!("dropped.{}.{}", d.reason, d.category), d.quantity);
    }
    if let Some(kib) = peak_rss_kib() {
        emit_stat("vm_hwm_kib", kib);
    }
}

/// The peak resident set size of this process in KiB (`VmHWM` in
/// `/proc/self/status`); `None` where that file does not exist (not
/// Linux).
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Blocks until standard input ends: in a child, until the parent calls
/// [`ChildProcess::close_stdin`] (or finishes it, or dies).
pub fn wait_for_stdin_eof() {
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
        line.clear();
    }
}

/// A child process running one test of the current test binary in a role.
///
/// Dropping it kills the child if it still runs, so a failing test leaves
/// no process behind.
#[derive(Debug)]
pub struct ChildProcess {
    name: String,
    child: std::process::Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    ids: Vec<EventId>,
    stats: BTreeMap<String, u64>,
    started: Instant,
}

impl ChildProcess {
    /// Starts the current executable running only the test `test` (its
    /// full name, e.g. `survives_a_restart`; it runs even if it is
    /// `#[ignore]`d), with [`ROLE`] set to `role`
    /// and the variables `env`. Its standard output is collected; its
    /// standard error goes to the parent's; its standard input is a pipe
    /// that stays open until [`close_stdin`](ChildProcess::close_stdin).
    ///
    /// # Panics
    /// When the process cannot be started.
    pub fn spawn(test: &str, role: &str, env: &[(&str, String)]) -> ChildProcess {
        ChildProcess::spawn_via(&[], test, role, env)
    }

    /// [`spawn`](ChildProcess::spawn) through a launcher: the command run
    /// is `launcher` followed by the test binary and its arguments (for
    /// example `unshare -rm sh -c '…; exec "$@"' sh`, to give the child a
    /// mount namespace of its own).
    ///
    /// # Panics
    /// When the process cannot be started.
    pub fn spawn_via(
        launcher: &[&str],
        test: &str,
        role: &str,
        env: &[(&str, String)],
    ) -> ChildProcess {
        let exe = match std::env::current_exe() {
            Ok(exe) => exe,
            Err(e) => panic!("cannot find the test binary: {e}"),
        };
        let mut command = match launcher.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(exe);
                command
            }
            None => Command::new(exe),
        };
        command
            .args([
                test,
                "--exact",
                "--include-ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ROLE, role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => panic!("cannot start the child {role}: {e}"),
        };
        let stdin = child.stdin.take();
        let (tx, lines) = mpsc::channel();
        if let Some(stdout) = child.stdout.take() {
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        ChildProcess {
            name: format!("{role} (pid {})", child.id()),
            child,
            stdin,
            lines,
            ids: Vec::new(),
            stats: BTreeMap::new(),
            started: Instant::now(),
        }
    }

    fn take(&mut self, line: &str) {
        let Some((_, line)) = line.split_once(MARKER) else {
            return;
        };
        if let Some(id) = line.strip_prefix("ID ") {
            if let Ok(id) = id.trim().parse() {
                self.ids.push(id);
            }
        } else if let Some(stat) = line.strip_prefix("STAT ")
            && let Some((key, value)) = stat.split_once(' ')
            && let Ok(value) = value.trim().parse()
        {
            self.stats.insert(key.to_owned(), value);
        }
    }

    /// Reads the child's output until it has printed `n` ids, at most
    /// `timeout`. Returns whether it did.
    pub fn read_ids(&mut self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.ids.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.take(&line),
                Err(_) => return false,
            }
        }
        true
    }

    /// Reads what the child printed until its output ends or `timeout`
    /// passes.
    fn read_rest(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while let Ok(line) = self
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            self.take(&line);
        }
    }

    /// Closes the child's standard input: a child in
    /// [`wait_for_stdin_eof`] goes on.
    pub fn close_stdin(&mut self) {
        self.stdin.take();
    }

    /// Kills the child at once (`SIGKILL` on Unix: no destructor, no
    /// flush) and reads everything it printed before.
    pub fn kill(mut self) -> ChildProcess {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.read_rest(Duration::from_secs(5));
        self
    }

    /// Closes the child's standard input and waits for it to exit, at most
    /// `timeout`; then reads everything it printed.
    ///
    /// # Panics
    /// When the child does not exit in time (it is killed first) or exits
    /// with a failure.
    #[track_caller]
    pub fn finish(mut self, timeout: Duration) -> ChildProcess {
        self.close_stdin();
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => panic!("cannot wait for {}: {e}", self.name),
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("child {} did not finish within {timeout:?}", self.name);
            }
            while let Ok(line) = self.lines.try_recv() {
                self.take(&line);
            }
            thread::sleep(Duration::from_millis(10));
        };
        self.read_rest(Duration::from_secs(5));
        assert!(status.success(), "child {} failed: {status}", self.name);
        eprintln!(
            "[vigil-test] child {} finished after {:?}",
            self.name,
            self.started.elapsed()
        );
        self
    }

    /// The ids the child printed with [`emit_id`] so far, in order.
    pub fn ids(&self) -> &[EventId] {
        &self.ids
    }

    /// A statistic the child printed with [`emit_stat`] (0 when it printed
    /// none).
    pub fn stat(&self, key: &str) -> u64 {
        self.stats.get(key).copied().unwrap_or(0)
    }

    /// Every statistic the child printed.
    pub fn stats(&self) -> &BTreeMap<String, u64> {
        &self.stats
    }

    /// Items of `category` the child's client counted as dropped for
    /// `reason` (from [`emit_delivery_stats`]).
    pub fn dropped(&self, reason: DiscardReason, category: DataCategory) -> u64 {
        self.stat(&format!("dropped.{reason}.{category}"))
    }

    /// Items of `category` dropped for any reason, by reason (reasons with
    /// no drops left out).
    pub fn dropped_by_reason(&self, category: DataCategory) -> BTreeMap<String, u64> {
        DiscardReason::ALL
            .into_iter()
            .map(|reason| (reason.to_string(), self.dropped(reason, category)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
