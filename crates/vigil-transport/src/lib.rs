//! Transports for Vigil: the blocking HTTP transport that sends envelopes
//! to Sentry, and a file sink.
//!
//! A transport takes envelopes from a client and delivers them somewhere
//! (see the [`Transport`] contract). Both transports here hand every
//! envelope to one background thread named `vigil-transport` through a
//! bounded queue, so capturing never waits for I/O, and both count
//! everything they drop in the client's [`LossRecorder`](vigil_core::LossRecorder).
//!
//! - [`HttpTransport`] (factory [`http`]) posts gzipped envelopes to the
//!   DSN's envelope endpoint with `ureq`, honours the server's rate limits,
//!   retries network failures with jittered back-off, and sends client
//!   reports. [`HttpTransport::stats`] returns a [`DeliveryStats`]
//!   snapshot. Its table of failure handling is the reference for what
//!   happens when delivery goes wrong.
//! - [`FileTransport`] (factory [`file_sink`]) writes each envelope to its
//!   own file.
//!
//! # Usage
//! ```
//! use std::time::Duration;
//! use vigil_core::ClientOptions;
//! use vigil_transport::{HttpTransport, HttpTransportOptions};
//!
//! // The defaults: 5 s to connect, 15 s per request, 3 attempts.
//! let options = ClientOptions::new()
//!     .dsn("https://public@example.invalid/1")?
//!     .transport(vigil_transport::http());
//!
//! // Shorter timeouts, more retries.
//! let options = options.transport(HttpTransport::factory_with(
//!     HttpTransportOptions::new()
//!         .connect_timeout(Duration::from_secs(2))
//!         .timeout(Duration::from_secs(5))
//!         .max_attempts(5),
//! ));
//! # let _ = options;
//! # Ok::<(), vigil_core::protocol::DsnError>(())
//! ```
//!
//! # Queue, flush and shutdown
//! The queue holds [`ClientOptions::transport_queue_size`](vigil_core::ClientOptions::transport_queue_size)
//! envelopes (100 by default). When it is full, new envelopes are dropped
//! and counted as `queue_overflow`. `flush(timeout)` returns whether every
//! envelope queued before it was handled (delivered or dropped and
//! counted) within `timeout`; `shutdown(timeout)` does the same and stops
//! the thread, never waiting past `timeout` (a thread stuck in a request is
//! left to finish on its own). Envelopes sent after shutdown are dropped
//! and counted as `queue_overflow`.
//!
//! # Feature flags
//! - `rustls` (default): TLS through rustls with the webpki root
//!   certificates.
//! - `native-tls`: TLS through the platform's library instead; when this
//!   feature is on it is used even if `rustls` is on too.
//!
//! No `ureq`, `rustls` or `http` type appears in this crate's API.
//!
//! # Proxies
//! By default the HTTP transport uses the proxy named by `ALL_PROXY`,
//! `HTTPS_PROXY` or `HTTP_PROXY` (checked in this order, each also in
//! lowercase), skipping the hosts listed in `NO_PROXY`; see
//! [`HttpTransportOptions::proxy_from_env`].
//!
//! # Diagnostics
//! With `debug: true` in the client options the transports print what they
//! do to stderr (requests, failures, `X-Sentry-Error` and error bodies,
//! rate limits, drops). The DSN's secret key is never printed.

mod file;
mod http;
mod rate_limit;
mod stats;
mod worker;

pub use crate::file::{FileTransport, file_sink};
pub use crate::http::{HttpTransport, HttpTransportOptions, http};
pub use vigil_core::DeliveryStats;

#[cfg(doc)]
use vigil_core::Transport;
