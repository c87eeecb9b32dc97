//! Keeps the layer out of the SDK's own work: a per-thread reentrancy
//! flag, the SDK's threads and crates, and user callbacks that panic.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

thread_local! {
    /// Set while this thread is inside the capture path.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread is one of the SDK's: 0 not known yet, 1 yes, 2 no.
    static SDK_THREAD: Cell<u8> = const { Cell::new(0) };
}

/// The capture path is running on this thread until dropped.
pub(crate) struct Reentrancy(());

impl Reentrancy {
    /// Marks the thread as capturing; `None` if it already is (an event
    /// emitted by code the SDK runs while capturing, such as `before_send`),
    /// or if the thread's locals are gone.
    pub(crate) fn enter() -> Option<Reentrancy> {
        let entered = CAPTURING.try_with(|c| !c.replace(true)).unwrap_or(false);
        entered.then_some(Reentrancy(()))
    }

    /// Whether this thread is capturing (or cannot tell).
    pub(crate) fn active() -> bool {
        CAPTURING.try_with(Cell::get).unwrap_or(true)
    }
}

impl Drop for Reentrancy {
    fn drop(&mut self) {
        let _ = CAPTURING.try_with(|c| c.set(false));
    }
}

/// Whether this is one of the SDK's own threads (named `vigil-*`, such as
/// the transport worker `vigil-transport`): what the HTTP stack emits there
/// is the SDK's own output.
pub(crate) fn on_sdk_thread() -> bool {
    SDK_THREAD
        .try_with(|known| match known.get() {
            1 => true,
            2 => false,
            _ => {
                let sdk = std::thread::current()
                    .name()
                    .is_some_and(|name| name.starts_with("vigil-"));
                known.set(if sdk { 1 } else { 2 });
                sdk
            }
        })
        .unwrap_or(true)
}

/// Whether `target` belongs to one of the SDK's crates (`vigil` or
/// `vigil_*`, and their modules).
pub(crate) fn is_sdk_target(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    krate == "vigil" || krate.starts_with("vigil_")
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_targets() {
        assert!(is_sdk_target("vigil"));
        assert!(is_sdk_target("vigil::init"));
        assert!(is_sdk_target("vigil_transport::worker"));
        assert!(!is_sdk_target("vigilant"));
        assert!(!is_sdk_target("my_app::vigil"));
    }

    #[test]
    fn reentrancy_nests_once() {
        let outer = Reentrancy::enter().expect("not capturing yet");
        assert!(Reentrancy::active());
        assert!(Reentrancy::enter().is_none());
        drop(outer);
        assert!(!Reentrancy::active());
        assert!(Reentrancy::enter().is_some());
    }

    #[test]
    fn sdk_thread_by_name() {
        assert!(!on_sdk_thread());
        let sdk = std::thread::Builder::new()
            .name("vigil-transport".into())
            .spawn(on_sdk_thread)
            .unwrap()
            .join()
            .unwrap();
        assert!(sdk);
    }
}
