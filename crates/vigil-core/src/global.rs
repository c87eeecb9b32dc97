//! The global scope: data that reaches every event from every hub on every
//! thread, including hubs and threads created before it was set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use crate::scope::Scope;

struct Global {
    scope: Arc<Scope>,
    version: u64,
}

static USED: AtomicBool = AtomicBool::new(false);

static GLOBAL: LazyLock<Mutex<Global>> = LazyLock::new(|| {
    Mutex::new(Global {
        scope: Arc::new(Scope::new()),
        version: 0,
    })
});

/// The global scope, if anything was ever set on it.
pub(crate) fn snapshot() -> Option<Arc<Scope>> {
    if !USED.load(Ordering::Acquire) {
        return None;
    }
    Some(
        GLOBAL
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .scope
            .clone(),
    )
}

/// Changes the global scope: data every event merges, from every hub and
/// thread, whenever the hub's own scopes do not set the same key.
///
/// Merge order at capture is global scope, then the hub's scope stack, then
/// the event itself: the later one wins for tags, extra, contexts, user,
/// transaction and fingerprint; a level set on a hub scope wins over one
/// set on the global scope; breadcrumbs of the global scope come first.
/// Use it for process-wide facts (deployment region, build flags) that
/// must also reach threads and hubs that already exist.
///
/// Like [`Hub::configure_scope`](crate::Hub::configure_scope), the closure
/// runs with no SDK lock held and concurrent calls lose no update; a panic
/// inside discards its changes and propagates to the caller.
///
/// ```
/// use std::sync::Arc;
/// use vigil_core::{Hub, protocol::Level};
/// let events = vigil_core::test::with_captured_events(|| {
///     // A hub created before the global scope was set, used on another thread:
///     let worker = Arc::new(Hub::new_from_top(Hub::current()));
///     vigil_core::configure_global_scope(|scope| scope.set_tag("region", "eu-1"));
///     std::thread::spawn(move || {
///         Hub::run(worker, || vigil_core::capture_message("hi", Level::Info));
///     })
///     .join()
///     .unwrap();
/// });
/// assert_eq!(events[0].tags["region"], "eu-1");
/// ```
pub fn configure_global_scope<F, R>(f: F) -> R
where
    F: FnOnce(&mut Scope) -> R,
{
    let (base, version) = {
        let g = GLOBAL.lock().unwrap_or_else(PoisonError::into_inner);
        (g.scope.clone(), g.version)
    };
    let mut edited = (*base).clone();
    let result = f(&mut edited);
    let mut g = GLOBAL.lock().unwrap_or_else(PoisonError::into_inner);
    if g.version == version {
        g.scope = Arc::new(edited);
    } else {
        Arc::make_mut(&mut g.scope).merge_changes(&base, &edited);
    }
    g.version += 1;
    USED.store(true, Ordering::Release);
    result
}
