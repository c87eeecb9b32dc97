#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]
//!
//! # API overview
//!
//! - [`init`] / [`try_init`] create the client; the returned [`InitGuard`]
//!   flushes and closes it when dropped.
//! - [`configure_scope`], [`with_scope`] and [`push_scope`] manage scope
//!   data; [`capture_event`], [`capture_message`] and [`capture_error`]
//!   send events; [`capture_feedback`] sends what a user reports
//!   ([`protocol::Feedback`]); [`add_breadcrumb`] records breadcrumbs.
//! - [`logger_info!`] and its siblings send structured logs;
//!   [`metrics::counter`], [`metrics::gauge`] and
//!   [`metrics::distribution`] send trace metrics; [`monitor`] and
//!   [`capture_check_in`] send cron check-ins.
//! - [`Hub`], [`Scope`] and [`Client`] are the building blocks behind the
//!   free functions.
//! - [`protocol`] holds the wire types.
//! - `init` installs the default integrations, each behind a feature that is
//!   on by default: [`PanicIntegration`] (`panic`), [`ContextsIntegration`]
//!   (`contexts`), [`AttachStacktraceIntegration`] and
//!   [`ProcessStacktraceIntegration`] (`backtrace`), `DebugImagesIntegration`
//!   (`debug-images`: the loaded images in `debug_meta`, for server-side
//!   symbolication of stripped binaries). Set
//!   [`ClientOptions::default_integrations`] to `false` to install none of
//!   them; an integration of the same name in
//!   [`ClientOptions::integrations`] replaces the default one.

mod defaults;
mod init;

// The guides in `docs/` are not part of the crate's documentation (the
// README links them), but their examples are compiled and run as doctests.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../../docs/usage.md")]
    mod usage {}
    #[doc = include_str!("../../../docs/disk-queue.md")]
    mod disk_queue {}
    #[doc = include_str!("../../../docs/tracing.md")]
    mod tracing {}
    #[doc = include_str!("../../../docs/release-health.md")]
    mod release_health {}
    #[doc = include_str!("../../../docs/logs.md")]
    mod logs {}
    #[doc = include_str!("../../../docs/metrics.md")]
    mod metrics {}
    #[doc = include_str!("../../../docs/features.md")]
    mod features {}
    #[doc = include_str!("../../../docs/failures.md")]
    mod failures {}
    #[doc = include_str!("../../../docs/privacy.md")]
    mod privacy {}
    #[doc = include_str!("../../../docs/concurrency.md")]
    mod concurrency {}
    #[doc = include_str!("../../../docs/performance.md")]
    mod performance {}
    #[doc = include_str!("../../../MIGRATING.md")]
    mod migrating {}
}
pub mod integrations;

// This crate: `init` and the default integrations.
pub use crate::defaults::apply_defaults;
pub use crate::init::{InitError, InitGuard, init, try_init};
#[cfg(feature = "contexts")]
pub use crate::integrations::contexts::ContextsIntegration;
#[cfg(feature = "debug-images")]
pub use crate::integrations::debug_images::DebugImagesIntegration;
#[cfg(feature = "panic")]
pub use crate::integrations::panic::PanicIntegration;

// vigil-core: hubs, scopes, the client and the API.
#[cfg(feature = "tokio")]
pub use vigil_core::spawn;
pub use vigil_core::{
    BeforeCallback, Client, ClientOptions, DeliveryStats, EventScrubber, Hub, HubFuture,
    HubFutureExt, Integration, IntoBreadcrumbs, IntoClientOptions, IntoDsn, LossRecorder,
    PropagationContext, Scope, ScopeGuard, SessionMode, SessionStatus, Span, Spotlight, Tags,
    TraceHeaders, TracePropagationTarget, TracesSampler, Transaction, TransactionContext,
    TransactionOrSpan, Transport, TransportContext, TransportFactory, add_breadcrumb,
    capture_error, capture_event, capture_message, configure_global_scope, configure_scope,
    end_session, end_session_with_status, event_from_error, flush, last_event_id,
    parse_type_from_debug, push_scope, release_name, start_session, start_transaction, with_scope,
    with_scope_async,
};

// User feedback: `capture_feedback(Feedback::new("..."))`; the type is
// `protocol::Feedback`.
pub use vigil_core::capture_feedback;

// Cron monitors: check-ins and the job wrappers that send them.
pub use vigil_core::{MonitorGuard, capture_check_in, monitor, monitor_result};

// Structured logs: `logger_info!(key = value, "message {}", arg)` and
// siblings (see `vigil_core`'s `logger_log!`).
pub use vigil_core::{
    logger_debug, logger_error, logger_fatal, logger_info, logger_log, logger_trace, logger_warn,
};

// Trace metrics: `metrics::counter("name", 1).capture()` and siblings.
pub use vigil_core::metrics;

// vigil-protocol (through vigil-core): the wire types most code names.
pub use vigil_core::protocol::{
    self, Breadcrumb, Breadcrumbs, Envelope, Event, EventId, Level, SmolStr, User,
};

/// The types the reference SDK groups as `sentry::types`: the DSN and its
/// parts, and [`Uuid`](types::Uuid).
pub mod types {
    /// The wire types (the same module as [`crate::protocol`]).
    pub use vigil_core::protocol;
    pub use vigil_core::protocol::{Dsn, DsnError, ProjectId, Scheme, Uuid};
}

// vigil-backtrace: stack traces.
#[cfg(feature = "backtrace")]
pub use vigil_backtrace::{
    AttachStacktraceIntegration, ProcessStacktraceIntegration, current_stacktrace,
};

/// Transports: where envelopes go.
///
/// - [`http`](transports::http) / [`HttpTransport`](transports::HttpTransport)
///   (feature `http`, the default of `init`): gzipped envelopes to the
///   DSN's server from a background thread, with rate limits, retries and
///   client reports.
/// - [`file_sink`](transports::file_sink) / [`FileTransport`](transports::FileTransport):
///   one file per envelope in a directory, for running without a server.
/// - [`console`](transports::console): every envelope printed in a few
///   lines ([`describe`](transports::describe)), then handed on if asked
///   (`console().then(http())`).
/// - [`SpotlightTransport`](transports::SpotlightTransport): the copy to
///   Spotlight that the `spotlight` option adds.
#[cfg(feature = "http")]
pub mod transports {
    /// Why a root-certificate bundle cannot be used (any TLS feature).
    #[cfg(any(
        feature = "rustls",
        feature = "rustls-no-provider",
        feature = "platform-verifier",
        feature = "native-tls"
    ))]
    pub use vigil_transport::InvalidCertificates;
    pub use vigil_transport::{
        ConsoleSink, DiskQueueOptions, Durability, FileTransport, HttpTransport,
        HttpTransportOptions, InvalidProxy, SpotlightTransport, console, describe, file_sink, http,
    };
}

/// The `log` integration (feature `log`): see [`vigil_log`].
#[cfg(feature = "log")]
pub use vigil_log as log;

/// The `slog` integration (feature `slog`): see [`vigil_slog`].
#[cfg(feature = "slog")]
pub use vigil_slog as slog;

/// The `tracing` integration (feature `tracing`): see [`vigil_tracing`].
#[cfg(feature = "tracing")]
pub use vigil_tracing as tracing;

/// Per-request hubs for tower services (feature `tower`): see [`vigil_tower`].
#[cfg(feature = "tower")]
pub use vigil_tower as tower;

/// Per-request hubs for actix-web 4 (feature `actix`): see [`vigil_actix`].
#[cfg(feature = "actix")]
pub use vigil_actix as actix;
/// `anyhow` errors with their backtraces (feature `anyhow`): see [`vigil_anyhow`].
#[cfg(feature = "anyhow")]
pub use vigil_anyhow as anyhow;
/// `eyre` reports with `color-eyre`'s backtraces (feature `eyre`): see [`vigil_eyre`].
#[cfg(feature = "eyre")]
pub use vigil_eyre as eyre;

/// Outgoing `reqwest` requests as spans, with the trace carried on
/// (feature `reqwest`): see [`vigil_reqwest`].
#[cfg(feature = "reqwest")]
pub use vigil_reqwest as reqwest;

/// OpenTelemetry side by side (feature `opentelemetry`): see
/// [`vigil_opentelemetry`].
#[cfg(feature = "opentelemetry")]
pub use vigil_opentelemetry as opentelemetry;

/// Test support: run code under a fresh hub bound to a recording
/// transport and inspect what it captured (feature `test`).
#[cfg(feature = "test")]
pub mod test {
    pub use vigil_core::test::*;
}
