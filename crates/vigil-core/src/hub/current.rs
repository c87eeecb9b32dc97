//! Which hub is current: the main hub, each thread's hub, switching hubs
//! for a closure or a poll, and the disabled fast path.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use crate::client::Client;
use crate::hub::Hub;
use crate::hub::stack::lock;
use crate::propagation::PropagationContext;
use crate::scope::Scope;

/// Two counts in one word, so that the disabled fast path is one relaxed
/// load: the high half counts the live handles that bind a client to a
/// hub's layer, the low half the enabled clients (made with a DSN and a
/// transport, not yet closed or dropped). While either half is zero no
/// hub has an enabled client, now: every API call returns at once, also
/// after a client was unbound or closed.
static ACTIVITY: AtomicU64 = AtomicU64::new(0);

/// One bound handle, in [`ACTIVITY`]'s high half.
const ONE_BOUND: u64 = 1 << 32;
/// One enabled client, in [`ACTIVITY`]'s low half.
const ONE_ENABLED: u64 = 1;

static MAIN: LazyLock<Arc<Hub>> =
    LazyLock::new(|| Arc::new(Hub::new(None, Arc::new(Scope::new()))));

thread_local! {
    static CURRENT: RefCell<Option<Arc<Hub>>> = const { RefCell::new(None) };
}

/// Whether an enabled client may be bound somewhere: `false` means that
/// none is (the disabled fast path); `true` that the hub must be asked.
#[inline]
pub fn any_client() -> bool {
    let activity = ACTIVITY.load(Ordering::Relaxed);
    activity >= ONE_BOUND && !activity.is_multiple_of(ONE_BOUND)
}

/// Counts a handle binding a client to a layer, while it lives.
pub(super) fn count_bound(live: bool) {
    if live {
        ACTIVITY.fetch_add(ONE_BOUND, Ordering::Relaxed);
    } else {
        ACTIVITY.fetch_sub(ONE_BOUND, Ordering::Relaxed);
    }
}

/// Counts an enabled client, from its creation to its close or drop.
pub(crate) fn count_enabled(enabled: bool) {
    if enabled {
        ACTIVITY.fetch_add(ONE_ENABLED, Ordering::Relaxed);
    } else {
        ACTIVITY.fetch_sub(ONE_ENABLED, Ordering::Relaxed);
    }
}

/// The main hub, for the fallback of thread hubs.
pub(super) fn main_hub() -> &'static Hub {
    &MAIN
}

impl Hub {
    /// The hub of a thread that has none: the main hub's client and a copy
    /// of its top scope, with a trace of its own. The copy is the thread's own down to the
    /// breadcrumb list, so the reference counts a capture touches are not
    /// shared with other threads.
    fn new_thread_hub() -> Hub {
        let (client, scope) = {
            let mut stack = lock(&MAIN.stack);
            let top = stack.top_mut();
            super::fold_tags_for_copies(&mut top.scope);
            (top.client.clone(), top.scope.clone())
        };
        let mut own = (*scope).clone();
        own.breadcrumbs.detach();
        // A thread is a unit of work of its own: its own trace.
        own.propagation = Arc::new(PropagationContext::new());
        let client = client.map(|bound| bound.client().clone());
        let hub = Hub::new(client, Arc::new(own));
        hub.follows_main.store(true, Ordering::Relaxed);
        hub
    }

    /// The main hub: the one `init` binds the client to, and the one new
    /// threads fork from.
    pub fn main() -> Arc<Hub> {
        MAIN.clone()
    }

    /// The current hub of this thread (see the type docs for what a new
    /// thread gets). While the thread's locals are being destroyed this is
    /// the main hub.
    #[inline]
    pub fn current() -> Arc<Hub> {
        let existing = CURRENT.try_with(|cell| cell.borrow().clone());
        match existing {
            Ok(Some(hub)) => hub,
            _ => Hub::with_current(Arc::clone),
        }
    }

    /// Calls `f` with the current hub without cloning it (the reference
    /// SDK's name for [`Hub::with_current`]).
    pub fn with<F: FnOnce(&Arc<Hub>) -> R, R>(f: F) -> R {
        Hub::with_current(f)
    }

    /// Calls `f` with the current hub without cloning it.
    pub fn with_current<F: FnOnce(&Arc<Hub>) -> R, R>(f: F) -> R {
        let hub = CURRENT.try_with(|cell| {
            if let Some(hub) = &*cell.borrow() {
                return hub.clone();
            }
            let hub = Arc::new(Hub::new_thread_hub());
            *cell.borrow_mut() = Some(hub.clone());
            hub
        });
        match hub {
            Ok(hub) => f(&hub),
            Err(_) => f(&MAIN),
        }
    }

    /// Calls `f` with the current hub if it has an enabled client
    /// ([`Hub::is_active`]); returns `R::default()` without calling it
    /// otherwise.
    pub fn with_active<F: FnOnce(&Arc<Hub>) -> R, R: Default>(f: F) -> R {
        match Hub::current_active() {
            Some(hub) => f(&hub),
            None => R::default(),
        }
    }

    /// The current hub if it has an enabled client ([`Hub::is_active`]).
    /// While no enabled client is bound anywhere this is one atomic load,
    /// and no thread hub is created.
    pub fn current_active() -> Option<Arc<Hub>> {
        if !any_client() {
            return None;
        }
        let hub = Hub::current();
        hub.is_active().then_some(hub)
    }

    /// Runs `f` with `hub` as this thread's current hub, restoring the
    /// previous one afterwards. A panic in `f` propagates to the caller,
    /// after the previous hub has been restored.
    pub fn run<F: FnOnce() -> R, R>(hub: Arc<Hub>, f: F) -> R {
        let _guard = SwitchGuard::new(hub);
        f()
    }
}

/// Makes a hub current for this thread until dropped. Not `Send`.
pub(crate) struct SwitchGuard {
    previous: Option<Option<Arc<Hub>>>,
    _not_send: PhantomData<*const ()>,
}

impl SwitchGuard {
    pub(crate) fn new(hub: Arc<Hub>) -> SwitchGuard {
        let previous = CURRENT.try_with(|cell| cell.borrow_mut().replace(hub)).ok();
        SwitchGuard {
            previous,
            _not_send: PhantomData,
        }
    }
}

impl Drop for SwitchGuard {
    fn drop(&mut self) {
        if let Some(previous) = self.previous.take() {
            // The thread may be shutting down; then there is nothing to restore.
            // The replaced hub is dropped after the borrow ends: its drop may
            // run user code (captured closures) that touches the SDK.
            let replaced =
                CURRENT.try_with(|cell| std::mem::replace(&mut *cell.borrow_mut(), previous));
            drop(replaced);
        }
    }
}

impl fmt::Debug for SwitchGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SwitchGuard").finish_non_exhaustive()
    }
}

/// Binds `client` to the main hub and makes the main hub current for the
/// calling thread (what `init` does). If the calling thread runs under a
/// hub of its own (via [`Hub::run`]), the client is bound there too.
/// Reached through `__private` by the `vigil` crate's `init`.
pub fn bind_client_to_main(client: Arc<Client>) {
    MAIN.bind_client(Some(client.clone()));
    let _ = CURRENT.try_with(|cell| {
        let mut current = cell.borrow_mut();
        match &*current {
            Some(hub) if !hub.follows_main.load(Ordering::Relaxed) && !Arc::ptr_eq(hub, &MAIN) => {
                hub.bind_client(Some(client));
            }
            _ => *current = Some(MAIN.clone()),
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::any_client;
    use crate::client::Client;
    use crate::hub::Hub;
    use crate::options::ClientOptions;
    use crate::scope::Scope;
    use crate::test::TestTransport;
    use crate::transport::{Transport, TransportContext};

    fn enabled_client() -> Arc<Client> {
        let transport = TestTransport::new();
        Arc::new(Client::new(ClientOptions {
            dsn: Some("https://public@example.invalid/1".parse().expect("valid")),
            transport: Some(Arc::new(move |_: &TransportContext<'_>| {
                transport.clone() as Arc<dyn Transport>
            })),
            ..ClientOptions::default()
        }))
    }

    /// The fast path answers "no client" whenever no hub has an enabled
    /// client now: before any is bound, after unbinding, after closing,
    /// after dropping, and with only disabled clients bound. (The only
    /// test of this crate's unit tests that binds clients: the counts are
    /// process-wide.)
    #[test]
    fn the_disabled_path_follows_what_is_bound_now() {
        assert!(!any_client(), "nothing bound yet");
        let client = enabled_client();
        let hub = Hub::new(Some(client.clone()), Arc::new(Scope::new()));
        assert!(any_client(), "an enabled client is bound");
        let pushed = hub.push_scope();
        assert!(any_client());
        drop(pushed);
        hub.bind_client(None);
        assert!(!any_client(), "unbound");
        hub.bind_client(Some(client.clone()));
        assert!(any_client(), "bound again");
        client.close(None);
        assert!(!any_client(), "closed while bound");

        let disabled = Arc::new(Client::new(ClientOptions::default()));
        let other = Hub::new(Some(disabled.clone()), Arc::new(Scope::new()));
        assert!(!any_client(), "only disabled clients bound");
        drop(other);

        let client = enabled_client();
        hub.bind_client(Some(client.clone()));
        assert!(any_client());
        drop(hub);
        assert!(!any_client(), "the hub holding it dropped");
        let hub = Hub::new(Some(client.clone()), Arc::new(Scope::new()));
        assert!(any_client());
        drop(client);
        assert!(any_client(), "the hub still holds the client");
        drop(hub);
        assert!(!any_client(), "everything dropped");
        let client = enabled_client();
        assert!(!any_client(), "an enabled client bound nowhere");
        // A disabled client bound on one hub while an enabled one is bound
        // nowhere: the counts cannot tell, so the hub is asked (and
        // answers correctly).
        let other = Hub::new(Some(disabled), Arc::new(Scope::new()));
        assert!(any_client());
        assert!(!other.is_active());
        drop(other);
        drop(client);
        assert!(!any_client());
    }
}
