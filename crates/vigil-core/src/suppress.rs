//! Keeps integrations out of the SDK's own work: a per-thread flag set while
//! an integration captures (so a `log` record or `tracing` event emitted by
//! code the SDK runs meanwhile, such as `before_send`, is not captured
//! again), and a test for the SDK's own threads and crates.
//!
//! One flag is shared by every integration, so the `log` and `tracing`
//! integrations also stay out of each other's captures.

use std::cell::Cell;
use std::fmt;

thread_local! {
    /// Set while this thread is inside an integration's capture path.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread is one of the SDK's: 0 not known yet, 1 yes, 2 no.
    static SDK_THREAD: Cell<u8> = const { Cell::new(0) };
}

/// Marks this thread as inside an integration's capture path until dropped.
///
/// ```
/// use vigil_core::ReentrancyGuard;
/// let outer = ReentrancyGuard::enter().expect("not capturing yet");
/// assert!(ReentrancyGuard::is_active());
/// assert!(ReentrancyGuard::enter().is_none()); // nested: skip capturing
/// drop(outer);
/// assert!(!ReentrancyGuard::is_active());
/// ```
#[must_use = "the thread counts as capturing only while the guard lives"]
pub struct ReentrancyGuard(());

impl ReentrancyGuard {
    /// Marks the thread as capturing; `None` if it already is, or if the
    /// thread's locals are gone (the thread is shutting down).
    pub fn enter() -> Option<ReentrancyGuard> {
        let entered = CAPTURING.try_with(|c| !c.replace(true)).unwrap_or(false);
        entered.then_some(ReentrancyGuard(()))
    }

    /// Whether this thread is capturing (or cannot tell).
    pub fn is_active() -> bool {
        CAPTURING.try_with(Cell::get).unwrap_or(true)
    }
}

impl Drop for ReentrancyGuard {
    fn drop(&mut self) {
        let _ = CAPTURING.try_with(|c| c.set(false));
    }
}

impl fmt::Debug for ReentrancyGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReentrancyGuard")
    }
}

/// Whether this is one of the SDK's own threads (named `vigil-*`, such as
/// the transport worker `vigil-transport`): what libraries log or emit
/// there is the SDK's own output. `true` while the thread shuts down.
pub fn is_sdk_thread() -> bool {
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

/// Whether a `log`/`tracing` target belongs to one of the SDK's crates
/// (`vigil` or `vigil_*`, and their modules).
///
/// ```
/// assert!(vigil_core::is_sdk_target("vigil_transport::worker"));
/// assert!(!vigil_core::is_sdk_target("vigilant"));
/// assert!(!vigil_core::is_sdk_target("my_app::vigil"));
/// ```
pub fn is_sdk_target(target: &str) -> bool {
    let krate = target.split("::").next().unwrap_or(target);
    krate == "vigil" || krate.starts_with("vigil_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_thread_by_name() {
        assert!(!is_sdk_thread());
        let sdk = std::thread::Builder::new()
            .name("vigil-transport".into())
            .spawn(is_sdk_thread)
            .unwrap()
            .join()
            .unwrap();
        assert!(sdk);
    }
}
