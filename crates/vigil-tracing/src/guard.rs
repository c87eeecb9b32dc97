//! Keeps the layer out of the SDK's own work: a per-thread reentrancy
//! flag, the SDK's threads and crates, and user callbacks that panic.
//!
//! The reentrancy flag and the SDK thread/target tests are vigil-core's,
//! shared by every integration.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) use vigil_core::{
    ReentrancyGuard as Reentrancy, is_sdk_target, is_sdk_thread as on_sdk_thread,
};

/// Runs a user callback; a panic is reported on stderr once per layer and
/// turned into `None`.
pub(crate) fn guarded<R>(what: &str, warned: &AtomicBool, f: impl FnOnce() -> R) -> Option<R> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => Some(r),
        Err(_) => {
            if !warned.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "[vigil] the tracing {what} panicked; such events are not captured (reported once)"
                );
            }
            None
        }
    }
}
