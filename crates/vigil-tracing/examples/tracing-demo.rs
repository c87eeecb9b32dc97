//! `tracing` spans as a transaction and `tracing` events as structured
//! logs, with `SpanLayer` and `LogLayer` next to a formatter.
//!
//! Without a DSN nothing is sent; with `debug` on, the SDK prints what it
//! would do. Run with `cargo run -p vigil-tracing --example tracing-demo`.

use std::thread;
use std::time::Duration;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;
use vigil::tracing::{LogLayer, SpanLayer};

fn main() {
    tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer())
        .with(SpanLayer::new().with_filter(LevelFilter::INFO))
        .with(LogLayer::new().with_filter(LevelFilter::INFO))
        .try_init()
        .unwrap();

    let _vigil = vigil::init(
        vigil::ClientOptions::new()
            .maybe_release(vigil::release_name!())
            .traces_sample_rate(1.0)
            .debug(true),
    );

    tracing::debug!("starting up (not a log: below INFO)");
    tracing::info!(workers = 2, "starting up");

    handle_batch(7);
    thread::sleep(Duration::from_millis(100));
}

/// A transaction with a child span per item, and logs inside them.
#[tracing::instrument]
fn handle_batch(batch: u32) {
    tracing::warn!(pending = 3, "batch is late");

    let worker = thread::spawn(move || {
        process_item("first");
        tracing::error!(batch, "worker gave up");
    });
    worker.join().unwrap();

    process_item("second");
}

#[tracing::instrument]
fn process_item(name: &str) {
    thread::sleep(Duration::from_millis(20));
    tracing::info!(name, "item done");
}
