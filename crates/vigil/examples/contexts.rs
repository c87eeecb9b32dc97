//! The contexts integration: every event carries the `os`, `rust`,
//! `device` and `app` contexts; `server_name` only with
//! `send_default_pii`.
//!
//! ```sh
//! cargo run -p vigil-telemetry --example contexts
//! VIGIL_EXAMPLE_PII=1 cargo run -p vigil-telemetry --example contexts   # adds server_name
//! ```
//!
//! Without `SENTRY_DSN` the envelope goes to a file sink in the temporary
//! directory and the event's contexts are printed as JSON. With
//! `SENTRY_DSN` set it is sent to that server.

use vigil::protocol::Envelope;
use vigil::{ClientOptions, Level};

fn main() {
    let sink = std::env::temp_dir().join("vigil-example-contexts");
    let _ = std::fs::remove_dir_all(&sink);
    let to_server = std::env::var("SENTRY_DSN").is_ok_and(|d| !d.trim().is_empty());
    let options = ClientOptions {
        send_default_pii: std::env::var_os("VIGIL_EXAMPLE_PII").is_some(),
        ..ClientOptions::default()
    };
    let guard = if to_server {
        vigil::init(options)
    } else {
        let options = options.transport(vigil::transports::file_sink(&sink));
        vigil::init(("http://example@localhost/1", options))
    };

    vigil::capture_message("where am I running?", Level::Info);

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
            let json = serde_json::to_value(event).expect("JSON");
            println!("{}", file.display());
            println!("server_name: {}", json["server_name"]);
            println!(
                "contexts: {}",
                serde_json::to_string_pretty(&json["contexts"]).expect("JSON")
            );
        }
    }
}
