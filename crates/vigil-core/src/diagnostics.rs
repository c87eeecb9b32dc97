//! SDK diagnostics: printed to stderr when `debug` is on, never through
//! `log` or `tracing` (the SDK must not capture its own output).

use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Turns diagnostics on (a client with `debug: true` was created).
pub(crate) fn enable() {
    DEBUG.store(true, Ordering::Relaxed);
}

/// Whether diagnostics are on.
#[doc(hidden)]
pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// Prints a diagnostic line to stderr when a client with `debug: true`
/// exists. Arguments are type-checked even when off.
#[doc(hidden)]
#[macro_export]
macro_rules! vigil_debug {
    ($($arg:tt)*) => {
        if $crate::__private::debug_enabled() {
            ::std::eprintln!("[vigil] {}", ::std::format_args!($($arg)*));
        }
    };
}
