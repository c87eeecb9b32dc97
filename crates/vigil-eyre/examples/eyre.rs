//! Capturing an `eyre::Report`: the whole chain, root cause first, and,
//! under `color-eyre`'s handler, the backtrace it captured (run with
//! `RUST_LIB_BACKTRACE=1`).
//!
//! ```sh
//! RUST_LIB_BACKTRACE=1 cargo run -p vigil-eyre --example eyre
//! # eyre's default handler: the chain only
//! RUST_LIB_BACKTRACE=1 cargo run -p vigil-eyre --no-default-features --example eyre
//! ```
//!
//! No server is needed: the event goes to Vigil's recording test transport
//! and its JSON is printed.

use eyre::WrapErr;

fn read_settings(path: &str) -> eyre::Result<String> {
    std::fs::read_to_string(path).wrap_err_with(|| format!("reading {path}"))
}

fn start() -> eyre::Result<String> {
    read_settings("/nonexistent/settings.toml").wrap_err("starting the service")
}

fn main() {
    // Before any report is made: the hook is chosen once per process.
    #[cfg(feature = "color-eyre")]
    color_eyre::install().expect("the first report handler installed");

    let events = vigil_core::test::with_captured_events(|| {
        if let Err(report) = start() {
            println!("error: {report:#}");
            let id = vigil_eyre::capture_eyre(&report);
            println!("captured event {id}");
        }
    });
    for event in &events {
        println!("{}", serde_json::to_string_pretty(event).expect("JSON"));
    }
    let has_stacktrace = events
        .iter()
        .flat_map(|e| &e.exception.values)
        .any(|e| e.stacktrace.is_some());
    if !has_stacktrace {
        if cfg!(feature = "color-eyre") {
            println!("(no stack trace: run with RUST_LIB_BACKTRACE=1 to capture one)");
        } else {
            println!("(no stack trace: eyre's default handler keeps its backtrace private)");
        }
    }
}
