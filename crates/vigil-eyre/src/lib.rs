//! Vigil integration for [`eyre`]: report an [`eyre::Report`] with its
//! whole cause chain and, when the report's handler captured one that
//! Vigil can read, its backtrace.
//!
//! ```
//! use eyre::WrapErr;
//! use vigil_eyre::capture_eyre;
//!
//! fn load() -> eyre::Result<String> {
//!     std::fs::read_to_string("/does/not/exist").wrap_err("reading the configuration")
//! }
//!
//! let events = vigil_core::test::with_captured_events(|| {
//!     if let Err(report) = load() {
//!         capture_eyre(&report);
//!     }
//! });
//! let values = &events[0].exception.values;
//! assert_eq!(values.len(), 2); // root cause first
//! assert_eq!(values[1].value.as_deref(), Some("reading the configuration"));
//! let mechanism = values[1].mechanism.as_ref().unwrap();
//! assert_eq!((mechanism.ty.as_str(), mechanism.handled), ("generic", Some(true)));
//! ```
//!
//! The event is built like one of `vigil-anyhow`'s: the exceptions are the
//! report's chain as [`vigil_core::event_from_error`] builds them from the
//! error the report wraps, and a backtrace goes to the outermost exception
//! (the report itself).
//!
//! # Backtraces
//!
//! Where `eyre` keeps a backtrace depends on the report handler installed
//! when the report was created.
//!
//! **`color-eyre`** (cargo feature `color-eyre`, on by default). After
//! `color_eyre::install()` (or a `color_eyre::config::HookBuilder`'s
//! `install`), every report's handler is a [`color_eyre::Handler`][Handler]. It
//! captures a [`backtrace::Backtrace`](vigil_backtrace::backtrace::Backtrace)
//! when the report is created if `RUST_LIB_BACKTRACE` (or, when that is
//! unset, `RUST_BACKTRACE`) is set to anything but `0`; it reads the
//! variables anew for each report. Vigil downcasts
//! [`Report::handler`](eyre::Report::handler) to `color_eyre::Handler`,
//! converts [`Handler::backtrace`][Handler::backtrace] with
//! [`vigil_backtrace::backtrace_to_stacktrace`] (the current client's
//! in-app rules) and attaches it to the outermost exception. The frames of
//! the capture at the innermost end are removed: `backtrace`'s,
//! `color-eyre`'s hook, `eyre`'s constructors (`eyre!`, `wrap_err`, the
//! `?` conversion into a `Report`, ...) and the standard library's glue
//! between them, so the last frame is the function that created the
//! report. The downcast needs the application's `color-eyre` to be the
//! same semver-compatible release as this crate's (0.6); a report whose
//! handler is of another `color-eyre` gets no stack trace.
//!
//! **`eyre`'s default handler** ([`eyre::DefaultHandler`], and any other
//! handler). It captures a [`std::backtrace::Backtrace`] under the same
//! variables (Rust 1.65 or newer), but keeps it in a private field, and
//! `eyre` 0.6 has no public way to reach it: `Report` has no `backtrace`
//! method, and the handler's `Debug` output shows only
//! `Some(Backtrace { ... })`. Its text appears only inside the report's
//! own `{:?}` output, whose format is the handler's business, and Vigil
//! does not scrape it. Events from such reports carry the chain without
//! an exception stack trace. With
//! [`ClientOptions::attach_stacktrace`] on (and
//! [`vigil_backtrace::AttachStacktraceIntegration`], which the `vigil`
//! crate installs by default), they get the stack of the thread that
//! *captured* the report in `threads` instead: where `capture_eyre` was
//! called, not where the error happened.
//!
//! Why the feature is on by default: it is cheap. It adds two small
//! crates, `color-eyre` and `owo-colors` (about a second of a debug build
//! on two cores), to what `eyre` and `vigil-backtrace` build anyway
//! (`backtrace`, `indenter`, `once_cell`), and an application that uses
//! `color-eyre` then gets its backtraces without having to know about a
//! feature. `color-eyre` depends on `eyre` with its default features, so
//! the feature also turns on `eyre`'s `auto-install` and `track-caller`.
//! Applications that never install `color-eyre` can leave it out with
//! `default-features = false`.
//!
//! [Handler]: https://docs.rs/color-eyre/0.6/color_eyre/struct.Handler.html
//! [Handler::backtrace]: https://docs.rs/color-eyre/0.6/color_eyre/struct.Handler.html#method.backtrace
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "color-eyre")]
mod trim;

use eyre::Report;
use vigil_core::protocol::{Event, EventId, Stacktrace};
use vigil_core::{ClientOptions, Hub};

/// Builds an error event from an [`eyre::Report`].
///
/// The exceptions are the report's chain, root cause first, exactly as
/// [`vigil_core::event_from_error`] builds them for the error the report
/// wraps (the outermost carries the mechanism
/// `{"type": "generic", "handled": true}`; types come from each error's
/// `Debug` output, as for any `dyn Error`). With the `color-eyre` feature
/// and a report made under `color-eyre`'s handler, the outermost also gets
/// the handler's backtrace as its stack trace, without the frames of
/// `eyre`'s and `color-eyre`'s constructors and with the in-app rules of
/// the current client applied (the defaults without a client). See the
/// [crate docs](crate#backtraces) for other handlers.
///
/// ```
/// let event = vigil_eyre::event_from_eyre(&eyre::eyre!("disk full"));
/// assert_eq!(event.exception.values.len(), 1);
/// assert_eq!(event.exception.values[0].value.as_deref(), Some("disk full"));
/// ```
pub fn event_from_eyre(report: &Report) -> Event {
    match Hub::with_current(|hub| hub.client()) {
        Some(client) => event_with_options(report, client.options()),
        None => event_with_options(report, &ClientOptions::default()),
    }
}

fn event_with_options(report: &Report, options: &ClientOptions) -> Event {
    let error: &(dyn std::error::Error + Send + Sync + 'static) = report.as_ref();
    let mut event = vigil_core::event_from_error(error);
    if let (Some(stacktrace), Some(outermost)) = (
        report_stacktrace(report, options),
        event.exception.values.last_mut(),
    ) {
        outermost.stacktrace = Some(stacktrace);
    }
    event
}

/// The stack trace of the backtrace the report's handler captured, when
/// the handler is one whose backtrace is reachable.
#[cfg(feature = "color-eyre")]
fn report_stacktrace(report: &Report, options: &ClientOptions) -> Option<Stacktrace> {
    let handler = report.handler().downcast_ref::<color_eyre::Handler>()?;
    let mut stacktrace = vigil_backtrace::backtrace_to_stacktrace(handler.backtrace()?, options)?;
    trim::trim_constructors(&mut stacktrace.frames);
    (!stacktrace.frames.is_empty()).then_some(stacktrace)
}

/// Without the `color-eyre` feature no handler's backtrace is reachable.
#[cfg(not(feature = "color-eyre"))]
fn report_stacktrace(_report: &Report, _options: &ClientOptions) -> Option<Stacktrace> {
    None
}

/// Captures an [`eyre::Report`] on the current hub (see
/// [`event_from_eyre`]). Returns the event id, or the nil id when the SDK
/// is disabled or the event was dropped.
pub fn capture_eyre(report: &Report) -> EventId {
    Hub::with_active(|hub| hub.capture_eyre(report))
}

/// Seals [`EyreHubExt`]: the trait is public but unnameable outside this
/// crate, so no other type can implement the extension.
mod private {
    pub trait Sealed {}

    impl Sealed for vigil_core::Hub {}
}

/// `eyre` support on a specific [`Hub`]. Sealed: implemented for `Hub`
/// only.
///
/// ```
/// use vigil_eyre::EyreHubExt;
/// let events = vigil_core::test::with_captured_events(|| {
///     vigil_core::Hub::current().capture_eyre(&eyre::eyre!("disk full"));
/// });
/// assert_eq!(events[0].exception.values[0].value.as_deref(), Some("disk full"));
/// ```
pub trait EyreHubExt: private::Sealed {
    /// Captures an [`eyre::Report`] on this hub, with this hub's client's
    /// in-app rules (see [`event_from_eyre`]). Returns the event id, or
    /// the nil id when the hub has no client or the event was dropped.
    fn capture_eyre(&self, report: &Report) -> EventId;
}

impl EyreHubExt for Hub {
    fn capture_eyre(&self, report: &Report) -> EventId {
        let Some(client) = self.client() else {
            return EventId::nil();
        };
        self.capture_event(event_with_options(report, client.options()))
    }
}
