//! The stack-trace integrations.

use vigil_core::protocol::Event;
use vigil_core::{ClientOptions, Integration};

use crate::convert::{current_stacktrace, current_thread};
use crate::in_app::process_stacktrace;

/// Attaches the capturing thread's stack trace to message events when
/// [`ClientOptions::attach_stacktrace`] is on.
///
/// An event that has neither `exception` nor `threads` (what
/// `capture_message` produces) gets one `threads` entry for the calling
/// thread: `{"id": .., "name": .., "current": true, "stacktrace": ..}`.
///
/// Sentry accepts such a stack trace either in `threads` or in a synthetic
/// exception (`protocol.md` §3.5). Vigil uses `threads`: the event stays a
/// message event (its title is the message, not an invented exception
/// type), and grouping still uses the in-app frames. Events that already
/// carry an exception or threads are left alone.
///
/// Name: `attach-stacktrace`. On by default in the `vigil` crate.
///
/// ```
/// use vigil_backtrace::AttachStacktraceIntegration;
/// use vigil_core::ClientOptions;
/// let options = ClientOptions { attach_stacktrace: true, ..Default::default() }
///     .integration(AttachStacktraceIntegration::new());
/// let events = vigil_core::test::with_captured_events_options(|| {
///     vigil_core::capture_message("hello", vigil_core::protocol::Level::Info);
/// }, options);
/// let thread = &events[0].threads.values[0];
/// assert_eq!(thread.current, Some(true));
/// assert!(!thread.stacktrace.as_ref().unwrap().frames.is_empty());
/// ```
#[derive(Debug, Default, Clone, Copy)]
#[non_exhaustive]
pub struct AttachStacktraceIntegration;

impl AttachStacktraceIntegration {
    /// The integration.
    pub fn new() -> AttachStacktraceIntegration {
        AttachStacktraceIntegration
    }
}

impl Integration for AttachStacktraceIntegration {
    fn name(&self) -> &'static str {
        "attach-stacktrace"
    }

    fn process_event(&self, mut event: Event, options: &ClientOptions) -> Option<Event> {
        if options.attach_stacktrace
            && event.exception.is_empty()
            && event.threads.is_empty()
            && let Some(stacktrace) = current_stacktrace(options)
        {
            let mut thread = current_thread();
            thread.current = Some(true);
            thread.stacktrace = Some(stacktrace);
            event.threads.values.push(thread);
        }
        Some(event)
    }
}

/// Applies the in-app rules ([`process_stacktrace`]) to every stack trace
/// an event already carries, in its exceptions and threads, e.g. frames
/// built by other integrations or by hand. Frames with `in_app` set keep
/// it.
///
/// Name: `process-stacktrace`. On by default in the `vigil` crate.
#[derive(Debug, Default, Clone, Copy)]
#[non_exhaustive]
pub struct ProcessStacktraceIntegration;

impl ProcessStacktraceIntegration {
    /// The integration.
    pub fn new() -> ProcessStacktraceIntegration {
        ProcessStacktraceIntegration
    }
}

impl Integration for ProcessStacktraceIntegration {
    fn name(&self) -> &'static str {
        "process-stacktrace"
    }

    fn process_event(&self, mut event: Event, options: &ClientOptions) -> Option<Event> {
        let exceptions = event
            .exception
            .values
            .iter_mut()
            .filter_map(|e| e.stacktrace.as_mut());
        let threads = event
            .threads
            .values
            .iter_mut()
            .filter_map(|t| t.stacktrace.as_mut());
        for stacktrace in exceptions.chain(threads) {
            process_stacktrace(stacktrace, options);
        }
        Some(event)
    }
}
