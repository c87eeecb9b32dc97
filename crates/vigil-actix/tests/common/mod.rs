//! What the end-to-end tests share: finding `../shared/interop` (the
//! scripts that install and run third-party software), running its
//! scripts, an actix-web server on a thread of its own, and a plain
//! HTTP/1.1 client. Included by the end-to-end tests with `mod common`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use actix_web::dev::ServerHandle;

/// `../shared/interop`, next to the workspace. `None` (after a loud
/// `SKIPPED` line naming `what`) only when `../shared` does not exist
/// outside CI; once `../shared` is there, a missing script fails.
pub(crate) fn interop_dir(what: &str, script: &str) -> Option<PathBuf> {
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
        dir.join(script).is_file(),
        "{} lacks {script}",
        dir.display()
    );
    Some(dir)
}

/// Runs `bash script args` with `env`: its stdout, or a description of the
/// failure with both outputs.
pub(crate) fn try_bash(
    script: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    if !out.status.success() {
        return Err(format!(
            "{} {args:?} failed ({}):\n{}\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8(out.stdout).expect("the script prints UTF-8"))
}

/// [`try_bash`], panicking with both outputs when it fails.
pub(crate) fn bash(script: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    try_bash(script, args, env).unwrap_or_else(|failure| panic!("{failure}"))
}

/// An actix-web server run by an actix system on a thread of its own;
/// stopped when dropped.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    handle: ServerHandle,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Server {
    /// Runs the server `make` builds (it binds it and returns its address
    /// and the running server) on an actix system of its own.
    pub(crate) fn start<M>(make: M) -> Server
    where
        M: FnOnce() -> (SocketAddr, actix_web::dev::Server) + Send + 'static,
    {
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let (addr, server) = make();
                started_tx
                    .send((addr, server.handle()))
                    .expect("the test waits");
                server.await
            })
        });
        let (addr, handle) = started_rx.recv().expect("the server starts");
        Server {
            addr,
            handle,
            thread: Some(thread),
        }
    }

    /// Stops the server gracefully and waits for its thread.
    pub(crate) fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(thread) = self.thread.take() {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(self.handle.stop(true));
            thread
                .join()
                .expect("the server thread")
                .expect("the server ran");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Sends `request` (a whole HTTP/1.1 request with `Connection: close`)
/// and returns the raw response.
pub(crate) fn send(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("a timeout");
    stream.write_all(request.as_bytes()).expect("writes");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("the app answers within 20 s");
    response
}

/// The value of header `name` in a raw response.
pub(crate) fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response
        .split("\r\n\r\n")
        .next()?
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}
