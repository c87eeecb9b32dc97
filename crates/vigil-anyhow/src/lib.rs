//! Vigil integration for [`anyhow`]: report an [`anyhow::Error`] with its
//! whole cause chain and, when one was captured, its backtrace.
//!
//! ```
//! use anyhow::Context;
//! use vigil_anyhow::capture_anyhow;
//!
//! fn load() -> anyhow::Result<String> {
//!     std::fs::read_to_string("/does/not/exist").context("reading the configuration")
//! }
//!
//! let events = vigil_core::test::with_captured_events(|| {
//!     if let Err(err) = load() {
//!         capture_anyhow(&err);
//!     }
//! });
//! let values = &events[0].exception.values;
//! assert_eq!(values.len(), 2); // root cause first
//! assert_eq!(values[1].value.as_deref(), Some("reading the configuration"));
//! ```
//!
//! # Backtraces
//! `anyhow` captures a [`std::backtrace::Backtrace`] when an error is
//! created, if `RUST_LIB_BACKTRACE` (or else `RUST_BACKTRACE`) is set to
//! `1` or `full`. The standard library's backtrace offers only text, so
//! Vigil parses its `Display` output into frames (see
//! [`vigil_backtrace::std_backtrace_to_stacktrace`]); they go to the
//! outermost exception, the error that was captured. Without a captured
//! backtrace the event has the chain only.
#![cfg_attr(docsrs, feature(doc_cfg))]

use anyhow::Error;
use vigil_core::protocol::{Event, EventId};
use vigil_core::{ClientOptions, Hub};

/// Builds an error event from an `anyhow::Error`.
///
/// The exceptions are the error's chain, root cause first, exactly as
/// [`vigil_core::event_from_error`] builds them (the outermost carries the
/// mechanism `{"type": "generic", "handled": true}`); the outermost also
/// gets the error's backtrace as its stack trace when one was captured,
/// with the SDK's and `anyhow`'s own frames removed and the in-app rules of
/// the current client applied (the defaults without a client).
pub fn event_from_anyhow(err: &Error) -> Event {
    match Hub::with_current(|hub| hub.client()) {
        Some(client) => event_with_options(err, client.options()),
        None => event_with_options(err, &ClientOptions::default()),
    }
}

fn event_with_options(err: &Error, options: &ClientOptions) -> Event {
    let error: &(dyn std::error::Error + Send + Sync + 'static) = err.as_ref();
    let mut event = vigil_core::event_from_error(error);
    let stacktrace = vigil_backtrace::std_backtrace_to_stacktrace(err.backtrace(), options);
    if let (Some(stacktrace), Some(outermost)) = (stacktrace, event.exception.values.last_mut()) {
        outermost.stacktrace = Some(stacktrace);
    }
    event
}

/// Captures an `anyhow::Error` on the current hub (see
/// [`event_from_anyhow`]). Returns the event id, or the nil id when the
/// SDK is disabled or the event was dropped.
pub fn capture_anyhow(err: &Error) -> EventId {
    Hub::with_active(|hub| hub.capture_anyhow(err))
}

/// Seals [`AnyhowHubExt`]: the trait is public but unnameable outside
/// this crate, so no other type can implement the extension.
mod private {
    pub trait Sealed {}

    impl Sealed for vigil_core::Hub {}
}

/// `anyhow` support on a specific [`Hub`]. Sealed: implemented for `Hub`
/// only.
///
/// ```
/// use vigil_anyhow::AnyhowHubExt;
/// let events = vigil_core::test::with_captured_events(|| {
///     vigil_core::Hub::current().capture_anyhow(&anyhow::anyhow!("disk full"));
/// });
/// assert_eq!(events[0].exception.values[0].value.as_deref(), Some("disk full"));
/// ```
pub trait AnyhowHubExt: private::Sealed {
    /// Captures an `anyhow::Error` on this hub, with this hub's client's
    /// in-app rules (see [`event_from_anyhow`]). Returns the event id, or
    /// the nil id when the hub has no client or the event was dropped.
    fn capture_anyhow(&self, err: &Error) -> EventId;
}

impl AnyhowHubExt for Hub {
    fn capture_anyhow(&self, err: &Error) -> EventId {
        let Some(client) = self.client() else {
            return EventId::nil();
        };
        self.capture_event(event_with_options(err, client.options()))
    }
}
