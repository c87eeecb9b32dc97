//! Feeds `tracing` events to Vigil and prints the events it would send.
//!
//! Needs no DSN: the events are captured by the test transport of
//! `vigil_core::test`. Run with
//! `cargo run -p vigil-tracing --example tracing`.

use std::sync::Arc;

use tracing_subscriber::prelude::*;
use vigil_core::Hub;

fn handle_request(id: u64, path: &str) {
    let span = tracing::info_span!(target: "shop::http", "request", id, path, user = tracing::field::Empty);
    let _entered = span.enter();
    tracing::info!(target: "shop::http", method = "GET", "request received");
    span.record("user", "ada");

    let query = tracing::info_span!(target: "shop::db", "query", table = "carts");
    let _query = query.enter();
    tracing::warn!(target: "shop::db", elapsed_ms = 1250u64, "slow query");
    let err = std::io::Error::new(std::io::ErrorKind::TimedOut, "connection reset");
    tracing::error!(
        target: "shop::cart",
        error = &err as &(dyn std::error::Error + 'static),
        retries = 3,
        "cart lookup failed"
    );
}

fn main() {
    // In an application: `let _guard = vigil::init(..)` and
    // `tracing_subscriber::registry().with(vigil_tracing::layer()).init()`.
    let subscriber = tracing_subscriber::registry().with(vigil_tracing::layer());
    let events = vigil_core::test::with_captured_events(|| {
        tracing::subscriber::with_default(subscriber, || {
            // One hub per request, as a web integration would make.
            let hub = Arc::new(Hub::new_from_top(Hub::current()));
            hub.configure_scope(|scope| scope.set_tag("request_id", "1017"));
            Hub::run(hub, || handle_request(1017, "/cart"));
        });
    });

    for event in &events {
        println!(
            "{}",
            serde_json::to_string_pretty(event).expect("events serialize")
        );
    }
}
