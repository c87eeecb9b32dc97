//! Feeds `log` records to Vigil and prints the events it would send.
//!
//! Needs no DSN: the events are captured by the test transport of
//! `vigil_core::test`. Run with
//! `cargo run -p vigil-log --example log --features kv` (without `kv` the
//! key-values are left out).

use log::{Level, LevelFilter, Log, Metadata, Record};
use vigil_log::{LogFilter, VigilLogger};

/// The application's own logger: prints to stderr.
struct Stderr;

impl Log for Stderr {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= Level::Info
    }

    fn log(&self, record: &Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!(
                "{:<5} {}: {}",
                record.level(),
                record.target(),
                record.args()
            );
        }
    }

    fn flush(&self) {}
}

fn main() {
    // Errors become events and also breadcrumbs for the events after them;
    // warnings and info become breadcrumbs.
    VigilLogger::with_dest(Stderr)
        .dest_max_level(LevelFilter::Info)
        .filter(|md| match md.level() {
            Level::Error => LogFilter::Event | LogFilter::Breadcrumb,
            Level::Warn | Level::Info => LogFilter::Breadcrumb,
            Level::Debug | Level::Trace => LogFilter::Ignore,
        })
        .filter_max_level(LevelFilter::Info)
        .install()
        .expect("no other logger is installed");

    // With a real DSN this would be `let _guard = vigil::init(..)` and the
    // code below; here the events are kept in memory instead.
    let events = vigil_core::test::with_captured_events(|| {
        log::info!(target: "shop::http", "GET /cart");
        log::debug!("not captured: below the filter's level");
        #[cfg(feature = "kv")]
        log::warn!(target: "shop::db", elapsed_ms = 1250, table = "carts"; "slow query");
        #[cfg(not(feature = "kv"))]
        log::warn!(target: "shop::db", "slow query");
        log::error!(target: "shop::payment", "card declined for order {}", 1017);
        log::error!(target: "shop::http", "request failed");
    });

    for event in &events {
        println!(
            "{}",
            serde_json::to_string_pretty(event).expect("events serialize")
        );
    }
}
