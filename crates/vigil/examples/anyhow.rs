//! Capturing an `anyhow::Error`: the whole chain, root cause first, and
//! the backtrace anyhow captured (run with `RUST_LIB_BACKTRACE=1`).
//!
//! ```sh
//! RUST_LIB_BACKTRACE=1 cargo run -p vigil-telemetry --features anyhow --example anyhow
//! ```
//!
//! Without `SENTRY_DSN` the envelope goes to a file sink in the temporary
//! directory and the event's JSON is printed. With `SENTRY_DSN` set it is
//! sent to that server.

use anyhow::Context;
use vigil::ClientOptions;
use vigil::protocol::Envelope;

fn read_settings(path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
}

fn start() -> anyhow::Result<String> {
    read_settings("/nonexistent/settings.toml").context("starting the service")
}

fn main() {
    let sink = std::env::temp_dir().join("vigil-example-anyhow");
    let _ = std::fs::remove_dir_all(&sink);
    let to_server = std::env::var("SENTRY_DSN").is_ok_and(|d| !d.trim().is_empty());
    let guard = if to_server {
        vigil::init(ClientOptions::new())
    } else {
        let options = ClientOptions::new().transport(vigil::transports::file_sink(&sink));
        vigil::init(("http://example@localhost/1", options))
    };

    if let Err(err) = start() {
        println!("error: {err:#}");
        let id = vigil::anyhow::capture_anyhow(&err);
        println!("captured event {id}");
    }

    drop(guard);
    if to_server {
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(&sink)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for file in files {
        let bytes = std::fs::read(&file).expect("readable envelope");
        let envelope = Envelope::from_slice(&bytes).expect("a valid envelope");
        if let Some(event) = envelope.event() {
            println!("{}", serde_json::to_string_pretty(event).expect("JSON"));
        }
    }
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none()
        && std::env::var_os("RUST_BACKTRACE").is_none()
    {
        println!("(no stack trace: run with RUST_LIB_BACKTRACE=1 to capture one)");
    }
}
