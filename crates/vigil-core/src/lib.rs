//! The core of Vigil: hubs, scopes, the client and its capture pipeline,
//! and the transport contract.
//!
//! Applications use the `vigil` crate (package `vigil-telemetry`), which
//! re-exports everything here and adds `init` and the default transport.
//! This crate is for integration and library authors who want the API
//! without the HTTP stack.
//!
//! # Concepts
//! - A [`Scope`] holds data merged into every event: tags, user, contexts,
//!   extra, level, fingerprint, transaction, breadcrumbs, event processors
//!   and attachments.
//! - A [`Hub`] holds a stack of scopes and a [`Client`]. Every thread has a
//!   current hub ([`Hub::current`]); the free functions ([`capture_message`],
//!   [`configure_scope`], ...) act on it.
//! - A [`Client`] turns an event plus scope into an envelope (the pipeline
//!   is: scope data, scope event processors, integrations, `before_send`,
//!   `sample_rate`) and hands it to a [`Transport`].
//! - Every dropped event is counted by reason in the client's
//!   [`LossRecorder`].
//! - Every scope belongs to a distributed trace, its
//!   [`PropagationContext`]: continued from incoming headers
//!   ([`Hub::continue_trace`]) or started here, carried on by
//!   [`Scope::iter_trace_propagation_headers`]. Every event carries it.
//! - A [`Transaction`] ([`start_transaction`]) and its [`Span`]s time the
//!   work; made the scope's span ([`Scope::set_span`]), they are what
//!   events and outgoing headers carry. Sampling, `before_send_transaction`
//!   and `ignore_transactions` apply when it finishes, and every dropped
//!   transaction and span is counted.
//! - A release-health session ([`start_session`], [`SessionMode`]) counts
//!   how a run of the program, or a request to a server, went: `exited`,
//!   with errors, or `crashed`. It lives on the scope and is shared by the
//!   scopes copied from it.
//!
//! # Panics in user code
//! A closure the caller hands to a synchronous call ([`configure_scope`],
//! [`with_scope`], [`Hub::run`], [`configure_global_scope`]) may panic: the
//! panic reaches the caller after the hub was left as it was. A callback
//! the SDK runs on its own (`before_send`, processors, samplers,
//! integrations, transports) runs under [`call_guarded`]: its panic is
//! reported on stderr and what it handled is dropped and counted.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("concurrency.md")]

mod api;
mod breadcrumbs;
mod client;
mod diagnostics;
mod error;
mod future;
mod global;
mod hub;
mod integration;
mod logger;
pub mod metrics;
mod monitor;
mod options;
mod panic_guard;
pub mod privacy;
mod propagation;
mod reports;
mod scope;
mod scrubber;
mod session;
mod spotlight;
mod suppress;
mod tags;
mod transaction;
mod transport;

#[cfg(feature = "test")]
pub mod test;

pub use crate::api::{
    add_breadcrumb, capture_check_in, capture_error, capture_event, capture_feedback,
    capture_message, configure_scope, end_session, end_session_with_status, flush, last_event_id,
    push_scope, start_session, with_scope,
};
pub use crate::breadcrumbs::IntoBreadcrumbs;
pub use crate::client::{Client, SDK_NAME, SDK_VERSION, USER_AGENT};
pub use crate::error::{event_from_error, event_from_panic, parse_type_from_debug};
#[cfg(feature = "tokio")]
pub use crate::future::spawn;
pub use crate::future::{HubFuture, HubFutureExt, with_scope_async};
pub use crate::global::configure_global_scope;
pub use crate::hub::{Hub, RequestSessionGuard, ScopeGuard};
pub use crate::integration::Integration;
#[doc(hidden)]
pub use crate::logger::__log_record;
pub use crate::monitor::{MonitorGuard, monitor, monitor_result};
pub use crate::options::{
    BeforeCallback, ClientOptions, IntoClientOptions, IntoDsn, TracesSampler,
};
pub use crate::panic_guard::call_guarded;
pub use crate::propagation::{
    InvalidTargetPattern, PropagationContext, TraceHeaders, TracePropagationTarget,
};
pub use crate::reports::LossRecorder;
pub use crate::scope::Scope;
pub use crate::scrubber::EventScrubber;
pub use crate::session::{SessionMode, SessionStatus};
pub use crate::spotlight::{DEFAULT_SPOTLIGHT_URL, Spotlight};
pub use crate::suppress::{ReentrancyGuard, is_sdk_target, is_sdk_thread};
pub use crate::tags::Tags;
pub use crate::transaction::{
    Span, Transaction, TransactionContext, TransactionOrSpan, start_transaction,
};
pub use crate::transport::{DeliveryStats, Transport, TransportContext, TransportFactory};

/// The release of the crate being built, as `Some("name@version")` from
/// its `Cargo.toml` (an `Option<Cow<'static, str>>`, for
/// `ClientOptions { release: release_name!(), .. }` or
/// `ClientOptions::new().maybe_release(release_name!())`).
///
/// ```
/// let release = vigil_core::release_name!();
/// assert_eq!(release.as_deref(), Some(concat!("vigil-core@", env!("CARGO_PKG_VERSION"))));
/// ```
#[macro_export]
macro_rules! release_name {
    () => {
        ::std::option::Option::Some(::std::borrow::Cow::<'static, str>::Borrowed(concat!(
            env!("CARGO_PKG_NAME"),
            "@",
            env!("CARGO_PKG_VERSION")
        )))
    };
}

/// The wire types (re-export of `vigil-protocol`).
pub use vigil_protocol as protocol;

/// Plumbing for the `vigil` crate and the transports; not API.
#[doc(hidden)]
pub mod __private {
    pub use crate::diagnostics::debug_enabled;
    pub use crate::hub::{
        ActiveSpanSource, any_client, bind_client_to_main, register_active_span_source,
    };
}
