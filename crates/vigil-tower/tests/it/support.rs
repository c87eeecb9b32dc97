//! Helpers shared by the tests.

use std::future::Future;

use axum::body::Body;
use vigil_core::ClientOptions;
use vigil_core::protocol::{Event, Level};

/// Runs `future` to completion on a current-thread runtime on this thread,
/// so the request arrives while this thread's current hub is the test's.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(future)
}

/// Runs `future` under a fresh hub with a recording client and returns the
/// events captured.
pub(crate) fn capture<F: Future>(options: ClientOptions, future: F) -> Vec<Event> {
    vigil_core::test::with_captured_events_options(
        || {
            block_on(future);
        },
        options,
    )
}

/// [`capture`] with default options.
pub(crate) fn capture_default<F: Future>(future: F) -> Vec<Event> {
    capture(ClientOptions::default(), future)
}

/// A handler that captures one message.
pub(crate) async fn capturing_handler() -> &'static str {
    vigil_core::capture_message("in handler", Level::Info);
    "ok"
}

/// A GET request without body. A relative `uri` gets `Host: example.com`,
/// as every HTTP/1.1 client sends.
pub(crate) fn get(uri: &str) -> http::Request<Body> {
    let mut request = http::Request::get(uri);
    if uri.starts_with('/') {
        request = request.header("host", "example.com");
    }
    request.body(Body::empty()).expect("a request")
}
