//! Helpers shared by the tests: an actix system per test, captured
//! envelopes, and the JSON of what was sent.

use std::future::Future;

use serde_json::Value;
use vigil_core::ClientOptions;
use vigil_core::protocol::Envelope;

/// Runs `future` to completion on an actix system of its own on this
/// thread, so requests arrive while this thread's current hub is the
/// test's.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}

/// Runs the future `make` returns under a fresh hub with a recording
/// client (the given options) and returns the envelopes sent.
pub(crate) fn envelopes<F, M>(options: ClientOptions, make: M) -> Vec<Envelope>
where
    M: FnOnce() -> F,
    F: Future,
{
    vigil_core::test::with_captured_envelopes_options(
        || {
            block_on(make());
        },
        options,
    )
}

/// The events of `envelopes`, as the JSON sent.
pub(crate) fn events_json(envelopes: &[Envelope]) -> Vec<Value> {
    envelopes
        .iter()
        .filter_map(Envelope::event)
        .map(|e| serde_json::to_value(e).expect("an event serializes"))
        .collect()
}

/// The transactions of `envelopes`, as the JSON sent.
pub(crate) fn transactions_json(envelopes: &[Envelope]) -> Vec<Value> {
    envelopes
        .iter()
        .filter_map(Envelope::transaction)
        .map(|t| serde_json::to_value(t).expect("a transaction serializes"))
        .collect()
}

/// Tracing on, every transaction sampled.
pub(crate) fn traced() -> ClientOptions {
    ClientOptions::new().traces_sample_rate(1.0)
}
