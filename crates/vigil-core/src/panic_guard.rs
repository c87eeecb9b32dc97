//! The one place where the SDK catches panics of code it runs on its own.
//!
//! Two rules decide what happens to a panic in user code:
//! - A closure the *caller* hands to a synchronous API call
//!   (`configure_scope`, `with_scope`, `Hub::run`, code between
//!   `push_scope` and the guard's drop) is the caller's code running on the
//!   caller's stack: its panic propagates to the caller, after the hub has
//!   been left consistent. That is not handled here.
//! - A callback the SDK invokes on its own (`before_send`,
//!   `before_breadcrumb`, event processors, samplers, integration hooks,
//!   `log`/`tracing` filters and mappers, transports) runs under
//!   [`call_guarded`]: its panic is caught, reported on stderr and turned
//!   into `None`, which the caller counts as a drop.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

/// Runs `f`, a callback the SDK invokes on its own, so that a panic inside
/// cannot unwind into the SDK: the panic is reported on stderr and `None`
/// is returned. The caller decides what `None` means (usually: the item is
/// dropped and counted).
///
/// With `warn_once`, only the first panic flips the flag and is reported
/// (for callbacks that run on every log record, where one line is enough);
/// without it every panic is reported: losing an event silently is worse
/// than a line of output.
///
/// This is for integration authors too: wrap user callbacks your
/// integration runs with it.
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// let warned = AtomicBool::new(false);
/// let filtered = vigil_core::call_guarded("my filter", Some(&warned), || -> bool {
///     panic!("a bug in user code")
/// });
/// assert_eq!(filtered, None);
/// assert!(warned.load(std::sync::atomic::Ordering::Relaxed));
/// assert_eq!(vigil_core::call_guarded("my mapper", None, || 2 + 2), Some(4));
/// ```
pub fn call_guarded<R>(
    what: &str,
    warn_once: Option<&AtomicBool>,
    f: impl FnOnce() -> R,
) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(payload) => {
            let report = warn_once.is_none_or(|warned| !warned.swap(true, Ordering::Relaxed));
            if report {
                let once = if warn_once.is_some() {
                    " (reported once)"
                } else {
                    ""
                };
                eprintln!(
                    "[vigil] {what} panicked: {}{once}",
                    panic_message(&*payload)
                );
            }
            None
        }
    }
}

/// The text of a panic payload (`&str` or `String`), or a placeholder.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("<non-string panic payload>")
}
