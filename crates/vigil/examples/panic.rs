//! The panic integration: a panic on a worker thread becomes a fatal event
//! with the panic message, the thread and the stack trace.
//!
//! ```sh
//! cargo run -p vigil-telemetry --example panic
//! ```
//!
//! Without `SENTRY_DSN` the envelopes go to a file sink in the temporary
//! directory and the JSON of each event is printed. With `SENTRY_DSN` set
//! they are sent to that server.

use std::path::Path;
use std::thread;

use vigil::ClientOptions;
use vigil::protocol::Envelope;

#[derive(Debug)]
struct Config {
    retries: u32,
}

fn parse_config(text: &str) -> Config {
    let retries = text
        .strip_prefix("retries=")
        .and_then(|v| v.parse().ok())
        .expect("the configuration sets `retries=<number>`");
    Config { retries }
}

fn main() {
    let sink = std::env::temp_dir().join("vigil-example-panic");
    let _ = std::fs::remove_dir_all(&sink);
    let to_server = std::env::var("SENTRY_DSN").is_ok_and(|d| !d.trim().is_empty());
    let options =
        ClientOptions::new().release(concat!("panic-example@", env!("CARGO_PKG_VERSION")));
    let guard = if to_server {
        vigil::init(options)
    } else {
        // The file sink needs a DSN for the envelope headers only.
        let options = options.transport(vigil::transports::file_sink(&sink));
        vigil::init(("http://example@localhost/1", options))
    };

    // The default panic hook still prints its message after Vigil's.
    let worker = thread::Builder::new()
        .name("config-loader".into())
        .spawn(|| parse_config("retries=three"))
        .expect("a thread");
    match worker.join() {
        Ok(config) => println!("loaded {config:?} (retries: {})", config.retries),
        Err(_) => println!("the config-loader thread panicked; the event was sent before it ended"),
    }

    drop(guard);
    if !to_server {
        print_events(&sink);
    }
}

fn print_events(dir: &Path) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    println!("\n{} envelope(s) in {}", files.len(), dir.display());
    for file in files {
        let bytes = std::fs::read(&file).expect("readable envelope");
        let envelope = Envelope::from_slice(&bytes).expect("a valid envelope");
        if let Some(event) = envelope.event() {
            println!("{}", serde_json::to_string_pretty(event).expect("JSON"));
        }
    }
}
