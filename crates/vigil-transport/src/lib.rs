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
//!   With a disk queue ([`HttpTransportOptions::disk_queue`],
//!   [`DiskQueueOptions`]) it stores every envelope before sending it, so
//!   outages and restarts lose nothing.
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
//!     .try_dsn("https://public@example.invalid/1")?
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
//! and counted as `queue_overflow` (with the disk queue on they are written
//! to disk instead; see *Disk queue*). `flush(timeout)` returns whether every
//! envelope queued before it was handled (delivered or dropped and
//! counted) within `timeout`; `shutdown(timeout)` does the same and stops
//! the thread, never waiting past `timeout` (a thread stuck in a request is
//! left to finish on its own). Envelopes sent after shutdown are dropped
//! and counted as `queue_overflow`.
//!
//! # Disk queue
//! Off by default. One line turns it on:
//!
//! ```
//! use vigil_transport::{HttpTransport, HttpTransportOptions};
//! # let dir = "/var/lib/my-app/vigil";
//! let options = vigil_core::ClientOptions::new()
//!     .try_dsn("https://public@example.invalid/1")?
//!     .transport(HttpTransport::factory_with(HttpTransportOptions::new().disk_queue(&dir)));
//! # let _ = options;
//! # Ok::<(), vigil_core::protocol::DsnError>(())
//! ```
//!
//! Then every envelope is written to its own file in that directory
//! (without `sent_at`) before it is sent, and the file is removed only
//! when the server answered for good: `2xx`, or a rejection (`4xx`, `5xx`
//! other than `502`-`504`, counted as `send_error`; `429`, counted by the
//! server). After a network failure (refused, reset, timeout, garbage), a
//! `502`, `503` or `504` (a load balancer during an outage) or a redirect,
//! the file stays, the
//! transport stops sending new envelopes (it only stores them) and tries
//! the oldest stored one now and then, with back-off up to
//! [`max_backoff`](HttpTransportOptions::max_backoff). When the server
//! answers again, and whenever the transport starts, stored envelopes are
//! sent oldest first, [`drain_interval`](DiskQueueOptions::drain_interval)
//! apart (100 ms by default), pausing while the server's rate limits hold.
//! A full in-memory queue does not drop: the capturing thread writes the
//! envelope itself and it joins the backlog.
//!
//! Guarantees:
//! - [`Durability::Buffered`] (default): once written (on the transport
//!   thread, right after the capture), an envelope survives the process
//!   crashing, being killed, or exiting before delivery. Not a power loss.
//! - [`Durability::Sync`]: when a capture of an event has returned, the
//!   event is on disk, `fsync`ed with its directory: it survives `kill -9`
//!   at any point and a power loss. The write happens on the capturing
//!   thread; see [`DiskQueueOptions`] for the measured cost.
//! - Several processes may share a directory: each file is sent by one of
//!   them (an exclusive lock per file while it is sent, and a sent file is
//!   truncated before it is removed). Delivery is at least once: a process
//!   killed during a request leaves its file, which is sent again.
//!
//! Limits: at most [`max_count`](DiskQueueOptions::max_count) (1000)
//! envelopes and [`max_bytes`](DiskQueueOptions::max_bytes) (50 MiB); when
//! full, the oldest is removed and its items counted as `cache_overflow`.
//! An envelope larger than `max_bytes` is sent without being stored. A
//! file that does not parse is moved into `corrupt/` (the newest 100 are
//! kept) and counted as `internal_sdk_error`. Rate-limited items are still
//! dropped before they are stored (`ratelimit_backoff`); rejections are
//! not retried (Sentry asks SDKs not to).
//!
//! # Feature flags: the TLS stack
//! - `rustls` (default): TLS through rustls with the ring crypto provider
//!   and Mozilla's root certificates (`webpki-roots`).
//! - `rustls-no-provider`: rustls without ring. The program installs a
//!   crypto provider (`rustls::crypto::CryptoProvider::install_default`)
//!   or passes one to [`HttpTransportOptions::rustls_crypto_provider`];
//!   without either, `https` envelopes are counted as SDK errors and
//!   stderr says why, once.
//! - `platform-verifier`: with rustls,
//!   [`HttpTransportOptions::platform_verifier`] (the operating system's
//!   trust store).
//! - `native-tls`: TLS through the platform's library instead; when this
//!   feature is on it is used even if a rustls feature is on too.
//! - None of them: the transport sends to `http://` DSNs only.
//!
//! A private CA: [`HttpTransportOptions::root_certificates_pem`] or
//! [`root_certificates_file`](HttpTransportOptions::root_certificates_file).
//! No `ureq` or `http` type appears in this crate's API; a rustls type
//! only in `rustls_crypto_provider`.
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
#![cfg_attr(docsrs, feature(doc_cfg))]

mod console;
mod file;
mod http;
mod loss;
mod rate_limit;
mod spool;
mod spotlight;
mod stats;
mod worker;

pub use crate::console::{ConsoleSink, console, describe};
pub use crate::file::{FileTransport, file_sink};
pub use crate::http::options::{HttpTransportOptions, InvalidProxy};
#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "rustls-no-provider", feature = "native-tls")))
)]
pub use crate::http::tls::InvalidCertificates;
pub use crate::http::{HttpTransport, http};
pub use crate::spool::options::{DiskQueueOptions, Durability};
pub use crate::spotlight::SpotlightTransport;
pub use vigil_core::DeliveryStats;

#[cfg(doc)]
use vigil_core::Transport;
