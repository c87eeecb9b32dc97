//! Vigil for outgoing HTTP requests made with [`reqwest`] through
//! [`reqwest-middleware`](reqwest_middleware).
//!
//! [`VigilMiddleware`] makes every request:
//! - a child span of the current span (op `http.client`, description
//!   `GET https://api.example.com/items`), with the method, the URL without
//!   query, fragment and credentials, the query and fragment apart, the
//!   response's status code and, when the response says it, its size; the
//!   span's status follows the response's status code, and a request that
//!   fails (connection refused, timeout) marks it `internal_error` or
//!   `deadline_exceeded`;
//! - carry the trace on: the `sentry-trace` and `baggage` headers (and W3C
//!   `traceparent` with `propagate_traceparent`) of the span, or of the
//!   hub's trace without a current span, when the URL matches
//!   [`trace_propagation_targets`](vigil_core::ClientOptions::trace_propagation_targets)
//!   (never to the DSN's host and port); headers the request already has are kept;
//! - leave an `http` breadcrumb (method, URL, status code; level `error`
//!   for a 5xx or a failure, `warning` for a 4xx).
//!
//! Without an enabled client the middleware only calls the next one. The
//! span exists only while a span is current on the calling task's hub (a
//! request's transaction from `vigil-tower`, a `tracing` span with
//! `vigil-tracing`'s layer, or one set with `Scope::set_span`); the
//! headers and the breadcrumb do not need one.
//!
//! ```no_run
//! use reqwest_middleware::ClientBuilder;
//! use vigil_reqwest::VigilMiddleware;
//!
//! # async fn run() -> Result<(), reqwest_middleware::Error> {
//! let client = ClientBuilder::new(reqwest::Client::new())
//!     .with(VigilMiddleware::new())
//!     .build();
//! let response = client.get("http://inventory.internal/items/42").send().await?;
//! # let _ = response;
//! # Ok(())
//! # }
//! ```
//!
//! # Other HTTP clients
//!
//! Any client can carry the trace on with
//! [`Hub::trace_propagation_headers_for`](vigil_core::Hub::trace_propagation_headers_for),
//! which applies `trace_propagation_targets`; for example with `ureq`:
//!
//! ```ignore
//! let url = "http://inventory.internal/items/42";
//! let mut request = ureq::get(url);
//! if let Some(headers) = vigil_core::Hub::current().trace_propagation_headers_for(url) {
//!     for (name, value) in headers {
//!         request = request.header(name, value);
//!     }
//! }
//! let response = request.call()?;
//! ```
//!
//! and with a `hyper` (or any `http`) request, before sending it:
//!
//! ```
//! let mut request = http::Request::get("http://inventory.internal/items/42")
//!     .body(())
//!     .unwrap();
//! let url = request.uri().to_string();
//! if let Some(headers) = vigil_core::Hub::current().trace_propagation_headers_for(&url) {
//!     for (name, value) in headers {
//!         request.headers_mut().insert(name, value.parse().unwrap());
//!     }
//! }
//! ```
//!
//! To time such a request as a span, start one from
//! [`Hub::current_span`](vigil_core::Hub::current_span) with
//! `start_child("http.client", ...)` and use its
//! [`iter_headers`](vigil_core::TransactionOrSpan::iter_headers).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod middleware;
mod url;

pub use crate::middleware::VigilMiddleware;
