//! Feeds `tracing` events and spans to Vigil and prints what it would
//! send: the error event, and the request's spans as one transaction.
//!
//! Needs no DSN: the envelopes are captured by the test transport of
//! `vigil_core::test`. Run with
//! `cargo run -p vigil-tracing --example tracing`.

use std::sync::Arc;

use tracing_subscriber::prelude::*;
use vigil_core::{ClientOptions, Hub};

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
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            tracing::subscriber::with_default(subscriber, || {
                // One hub per request, as a web integration would make.
                let hub = Arc::new(Hub::new_from_top(Hub::current()));
                hub.configure_scope(|scope| scope.set_tag("request_id", "1017"));
                Hub::run(hub, || handle_request(1017, "/cart"));
            });
        },
        // Tracing on: the `request` span becomes a transaction.
        ClientOptions::new().traces_sample_rate(1.0),
    );

    for envelope in &envelopes {
        if let Some(event) = envelope.event() {
            println!(
                "{}",
                serde_json::to_string_pretty(event).expect("serializes")
            );
        }
        if let Some(transaction) = envelope.transaction() {
            println!(
                "{}",
                serde_json::to_string_pretty(transaction).expect("serializes")
            );
        }
    }
}
