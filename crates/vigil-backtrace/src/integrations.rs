//! The stack-trace integrations.

use vigil_core::protocol::Event;
use vigil_core::{ClientOptions, Integration};

use crate::convert::{current_stacktrace, current_thread};
use crate::in_app::process_stacktrace;

/// Attaches the capturing thread's stack trace to events that carry none
/// when [`ClientOptions::attach_stacktrace`] is on.
///
/// An event with no stack trace anywhere (a message from
/// `capture_message`, or an error from `capture_error` whose error type
/// recorded no backtrace) gets one `threads` entry for the calling thread:
/// `{"id": .., "name": .., "current": true, "stacktrace": ..}`; an error's
/// outermost exception without a `thread_id` points to it.
///
/// Sentry accepts such a stack trace either in `threads` or in a synthetic
/// exception (`protocol.md` §3.5). Vigil uses `threads`: a message event
/// stays a message event (its title is the message, not an invented
/// exception type), and grouping still uses the in-app frames. Events that
/// already carry a stack trace (in an exception or a thread) are left
/// alone.
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
///
/// // An error whose type keeps no backtrace gets the stack where it was
/// // captured.
/// let options = ClientOptions { attach_stacktrace: true, ..Default::default() }
///     .integration(AttachStacktraceIntegration::new());
/// let events = vigil_core::test::with_captured_events_options(|| {
///     let error = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
///     vigil_core::capture_error(&error);
/// }, options);
/// let thread = &events[0].threads.values[0];
/// assert_eq!(events[0].exception.values[0].thread_id, thread.id);
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
            && !has_stacktrace(&event)
            && let Some(stacktrace) = current_stacktrace(options)
        {
            let mut thread = current_thread();
            thread.current = Some(true);
            thread.stacktrace = Some(stacktrace);
            if let Some(outermost) = event.exception.values.last_mut()
                && outermost.thread_id.is_none()
            {
                outermost.thread_id.clone_from(&thread.id);
            }
            event.threads.values.push(thread);
        }
        Some(event)
    }
}

/// Whether `event` carries a stack trace, in an exception or a thread.
fn has_stacktrace(event: &Event) -> bool {
    event
        .exception
        .values
        .iter()
        .any(|e| e.stacktrace.is_some())
        || event.threads.values.iter().any(|t| t.stacktrace.is_some())
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
