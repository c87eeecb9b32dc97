//! The hub: a stack of scopes with a client, and the current hub of each
//! thread.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

use vigil_protocol::{Event, EventId, Level};

use crate::panic_guard::call_guarded;
use crate::{Client, IntoBreadcrumbs, Scope};

/// Set once any enabled client is bound anywhere: until then every API
/// call is a single relaxed load.
static ANY_CLIENT: AtomicBool = AtomicBool::new(false);

static MAIN: LazyLock<Arc<Hub>> =
    LazyLock::new(|| Arc::new(Hub::new(None, Arc::new(Scope::new()))));

thread_local! {
    static CURRENT: RefCell<Option<Arc<Hub>>> = const { RefCell::new(None) };
}

/// Whether any enabled client has been bound (the disabled fast path).
#[inline]
pub(crate) fn any_client() -> bool {
    ANY_CLIENT.load(Ordering::Relaxed)
}

/// A hub's hold on its client. Layers share it by reference count, so
/// pushing scopes and capturing count on the hub's own counter, not on the
/// client's, which every thread's hub shares.
#[derive(Debug)]
struct Bound(Arc<Client>);

impl std::ops::Deref for Bound {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.0
    }
}

struct Layer {
    id: u64,
    client: Option<Arc<Bound>>,
    scope: Arc<Scope>,
    /// Bumped on every write, so `configure_scope` can tell whether the
    /// scope changed while its closure ran.
    version: u64,
}

struct Stack {
    layers: Vec<Layer>,
    next_id: u64,
    warned_out_of_order: bool,
}

impl Stack {
    fn top(&self) -> &Layer {
        // The bottom layer is never removed.
        &self.layers[self.layers.len() - 1]
    }

    fn top_mut(&mut self) -> &mut Layer {
        let last = self.layers.len() - 1;
        &mut self.layers[last]
    }
}

fn lock(stack: &Mutex<Stack>) -> MutexGuard<'_, Stack> {
    // No user code runs under this lock, so poisoning can only come from an
    // SDK bug; the data is still consistent.
    stack.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Routes events to a client, merging the data of its topmost scope.
///
/// A hub holds a stack of scopes. [`push_scope`](Hub::push_scope) adds a
/// layer that starts as a copy of the one below; dropping its guard removes
/// it, reverting every change made in it.
///
/// # Threads
/// Every thread has a current hub ([`Hub::current`]). The thread that calls
/// `init` uses the main hub ([`Hub::main`]). Any other thread gets, on its
/// first SDK call, a new hub forked from the main hub's top scope at that
/// moment: it has the client and the data configured so far, and later
/// changes on either side stay on their side. A thread that made its first
/// SDK call before `init` still sends through the client bound later on the
/// main hub. Use [`Hub::run`] to make another hub current.
///
/// A hub is `Send + Sync`; concurrent use of one hub is safe and loses no
/// update (`configure_scope` merges concurrent changes field by field).
pub struct Hub {
    stack: Arc<Mutex<Stack>>,
    last_event_id: Mutex<Option<EventId>>,
    /// Created implicitly for a thread: without a client of its own it uses
    /// the main hub's client.
    follows_main: AtomicBool,
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stack = lock(&self.stack);
        f.debug_struct("Hub")
            .field("depth", &stack.layers.len())
            .field("client", &stack.top().client)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub with one scope layer.
    pub fn new(client: Option<Arc<Client>>, scope: Arc<Scope>) -> Hub {
        Hub::with_bound(client.map(|c| Arc::new(Bound(c))), scope)
    }

    fn with_bound(client: Option<Arc<Bound>>, scope: Arc<Scope>) -> Hub {
        if client.as_ref().is_some_and(|c| c.is_enabled()) {
            ANY_CLIENT.store(true, Ordering::Relaxed);
        }
        Hub {
            stack: Arc::new(Mutex::new(Stack {
                layers: vec![Layer {
                    id: 0,
                    client,
                    scope,
                    version: 0,
                }],
                next_id: 1,
                warned_out_of_order: false,
            })),
            last_event_id: Mutex::new(None),
            follows_main: AtomicBool::new(false),
        }
    }

    /// A new hub sharing the client and a copy of the top scope of `other`.
    /// Changes on either hub afterwards do not reach the other.
    pub fn new_from_top<H: AsRef<Hub>>(other: H) -> Hub {
        let other = other.as_ref();
        let (client, scope) = {
            let stack = lock(&other.stack);
            let top = stack.top();
            (top.client.clone(), top.scope.clone())
        };
        let hub = Hub::with_bound(client, scope);
        hub.follows_main.store(
            other.follows_main.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        hub
    }

    /// The hub of a thread that has none: the main hub's client and a copy
    /// of its top scope. The copy is the thread's own down to the
    /// breadcrumb list, so the reference counts a capture touches are not
    /// shared with other threads.
    fn new_thread_hub() -> Hub {
        let (client, scope) = {
            let stack = lock(&MAIN.stack);
            let top = stack.top();
            (top.client.clone(), top.scope.clone())
        };
        let mut own = (*scope).clone();
        own.breadcrumbs.detach();
        let client = client.map(|bound| bound.0.clone());
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

    /// Calls `f` with the current hub if it has an enabled client.
    pub fn with_active<F: FnOnce(&Arc<Hub>) -> R, R: Default>(f: F) -> R {
        if !any_client() {
            return R::default();
        }
        Hub::with_current(|hub| {
            if hub.is_active() {
                f(hub)
            } else {
                R::default()
            }
        })
    }

    /// Runs `f` with `hub` as this thread's current hub, restoring the
    /// previous one afterwards (also when `f` panics).
    pub fn run<F: FnOnce() -> R, R>(hub: Arc<Hub>, f: F) -> R {
        let _guard = SwitchGuard::new(hub);
        f()
    }

    /// The client of the top scope (for an implicitly created thread hub
    /// without one: the main hub's client).
    pub fn client(&self) -> Option<Arc<Client>> {
        self.bound().map(|bound| bound.0.clone())
    }

    /// The hub's hold on the client of the top scope (see `client`).
    fn bound(&self) -> Option<Arc<Bound>> {
        let own = lock(&self.stack).top().client.clone();
        self.resolve_client(own)
    }

    /// `own`, or for an implicitly created thread hub without a client of
    /// its own, the main hub's client.
    fn resolve_client(&self, own: Option<Arc<Bound>>) -> Option<Arc<Bound>> {
        if own.is_some()
            || !self.follows_main.load(Ordering::Relaxed)
            || std::ptr::eq(self, &**MAIN)
        {
            return own;
        }
        lock(&MAIN.stack).top().client.clone()
    }

    /// Whether the hub has an enabled client.
    pub fn is_active(&self) -> bool {
        self.bound().is_some_and(|c| c.is_enabled())
    }

    /// Binds a client to the top scope (`None` unbinds). The hub stops
    /// falling back to the main hub's client.
    pub fn bind_client(&self, client: Option<Arc<Client>>) {
        if client.as_ref().is_some_and(|c| c.is_enabled()) {
            ANY_CLIENT.store(true, Ordering::Relaxed);
        }
        self.follows_main.store(false, Ordering::Relaxed);
        let client = client.map(|c| Arc::new(Bound(c)));
        let mut stack = lock(&self.stack);
        let top = stack.top_mut();
        top.client = client;
        top.version += 1;
    }

    fn top(&self) -> (Option<Arc<Bound>>, Arc<Scope>) {
        let (client, scope) = {
            let stack = lock(&self.stack);
            let top = stack.top();
            (top.client.clone(), top.scope.clone())
        };
        (self.resolve_client(client), scope)
    }

    /// Captures the event `make` builds (only built when a client is bound)
    /// with the top scope's data, reading the stack once.
    fn capture_with(&self, make: impl FnOnce() -> Event) -> EventId {
        let (client, scope) = self.top();
        let Some(client) = client else {
            return EventId::nil();
        };
        let id = client.capture_boxed(Box::new(make()), Some(&scope));
        if !id.is_nil() {
            *self
                .last_event_id
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(id);
        }
        id
    }

    /// Captures an event with the top scope's data. Returns its id, or the
    /// nil id when it was dropped or no client is bound.
    pub fn capture_event(&self, event: Event) -> EventId {
        self.capture_with(|| event)
    }

    /// Captures a message at `level`.
    pub fn capture_message(&self, message: &str, level: Level) -> EventId {
        self.capture_with(|| Event::from_message(message, level))
    }

    /// Captures an error with its whole `source()` chain (see
    /// [`event_from_error`](crate::event_from_error)).
    pub fn capture_error<E: Error + ?Sized>(&self, error: &E) -> EventId {
        self.capture_with(|| crate::event_from_error(error))
    }

    /// The id of the last event this hub sent.
    pub fn last_event_id(&self) -> Option<EventId> {
        *self
            .last_event_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the top layer has an enabled client (for an implicitly
    /// created thread hub without one: the main hub's). Called with this
    /// hub's lock held; the main hub's lock is then taken inside it. That
    /// order is the only one: the main hub never takes another hub's lock
    /// while holding its own.
    fn top_is_active(&self, top: &Layer) -> bool {
        match &top.client {
            Some(client) => client.is_enabled(),
            None if self.follows_main.load(Ordering::Relaxed) && !std::ptr::eq(self, &**MAIN) => {
                lock(&MAIN.stack)
                    .top()
                    .client
                    .as_ref()
                    .is_some_and(|c| c.is_enabled())
            }
            None => false,
        }
    }

    /// Pushes a scope inheriting everything from the current top; dropping
    /// the guard pops it and reverts every change made in it.
    pub fn push_scope(&self) -> ScopeGuard {
        self.push_guarded(false)
    }

    /// [`push_scope`](Hub::push_scope) when the hub has an enabled client;
    /// a guard that pops nothing otherwise.
    pub(crate) fn push_scope_if_active(&self) -> ScopeGuard {
        self.push_guarded(true)
    }

    fn push_guarded(&self, need_active: bool) -> ScopeGuard {
        match self.push_configured(need_active, None::<fn(&mut Scope)>) {
            Some(id) => ScopeGuard {
                inner: Some((self.stack.clone(), id)),
                _not_send: PhantomData,
            },
            None => ScopeGuard::noop(),
        }
    }

    /// Pushes a layer holding a copy of the top scope changed by `config`
    /// (run with no lock held; a panic inside discards its changes).
    /// Returns the layer's id, or `None` when `need_active` and the hub has
    /// no enabled client (nothing is pushed).
    fn push_configured<C: FnOnce(&mut Scope)>(
        &self,
        need_active: bool,
        config: Option<C>,
    ) -> Option<u64> {
        let (client, top_scope) = {
            let stack = lock(&self.stack);
            let top = stack.top();
            if need_active && !self.top_is_active(top) {
                return None;
            }
            (top.client.clone(), top.scope.clone())
        };
        let scope = match config {
            None => top_scope,
            Some(config) => {
                let mut edited = (*top_scope).clone();
                if let Some(client) = &client {
                    edited.max_breadcrumbs = Some(client.options().max_breadcrumbs);
                }
                match call_guarded("with_scope configuration", None, || config(&mut edited)) {
                    Some(()) => Arc::new(edited),
                    None => top_scope,
                }
            }
        };
        let mut stack = lock(&self.stack);
        let id = stack.next_id;
        stack.next_id += 1;
        stack.layers.push(Layer {
            id,
            client,
            scope,
            version: 0,
        });
        Some(id)
    }

    /// Pushes a scope, configures it with `scope_config`, runs `callback`
    /// in it and pops it.
    ///
    /// The configuration runs on the new scope before it is pushed, with
    /// no lock held; if it panics, its changes are discarded and `callback`
    /// runs in an unchanged copy of the current scope.
    pub fn with_scope<C, F, R>(&self, scope_config: C, callback: F) -> R
    where
        C: FnOnce(&mut Scope),
        F: FnOnce() -> R,
    {
        self.with_scope_inner(false, scope_config, callback)
    }

    /// [`with_scope`](Hub::with_scope), or just `callback` when
    /// `need_active` and the hub has no enabled client.
    pub(crate) fn with_scope_inner<C, F, R>(
        &self,
        need_active: bool,
        scope_config: C,
        callback: F,
    ) -> R
    where
        C: FnOnce(&mut Scope),
        F: FnOnce() -> R,
    {
        let Some(id) = self.push_configured(need_active, Some(scope_config)) else {
            return callback();
        };
        let _pop = PopOnDrop {
            stack: &self.stack,
            id,
        };
        callback()
    }

    /// Changes the top scope for good.
    ///
    /// The closure runs on a copy with no SDK lock held (so it may capture
    /// events or configure scopes itself); the changes are then written
    /// back. If another thread changed the same scope meanwhile, both sets
    /// of changes are kept, field by field. If the closure panics its
    /// changes are discarded, the panic is reported on stderr and
    /// `R::default()` is returned.
    pub fn configure_scope<F, R>(&self, f: F) -> R
    where
        F: FnOnce(&mut Scope) -> R,
        R: Default,
    {
        self.configure_scope_inner(false, f).unwrap_or_default()
    }

    /// [`configure_scope`](Hub::configure_scope); `None` without running
    /// `f` when `need_active` and the hub has no enabled client, or when
    /// `f` panicked.
    pub(crate) fn configure_scope_inner<F, R>(&self, need_active: bool, f: F) -> Option<R>
    where
        F: FnOnce(&mut Scope) -> R,
    {
        let (base, id, version, max) = {
            let stack = lock(&self.stack);
            let top = stack.top();
            if need_active && !self.top_is_active(top) {
                return None;
            }
            let max = top.client.as_ref().map(|c| c.options().max_breadcrumbs);
            (top.scope.clone(), top.id, top.version, max)
        };
        let mut edited = (*base).clone();
        if max.is_some() {
            edited.max_breadcrumbs = max;
        }
        let result = call_guarded("configure_scope closure", None, || f(&mut edited))?;
        let mut stack = lock(&self.stack);
        // What the write-back replaces is dropped after the lock is released:
        // it may hold the last reference to user values (event processors).
        let mut replaced = None;
        if let Some(layer) = stack.layers.iter_mut().rev().find(|l| l.id == id) {
            if layer.version == version {
                drop(base);
                match Arc::get_mut(&mut layer.scope) {
                    // Nobody else holds the scope: reuse its allocation.
                    Some(scope) => replaced = Some(std::mem::replace(scope, edited)),
                    None => layer.scope = Arc::new(edited),
                }
            } else {
                Arc::make_mut(&mut layer.scope).merge_changes(&base, &edited);
            }
            layer.version += 1;
        }
        drop(stack);
        drop(replaced);
        Some(result)
    }

    /// Records breadcrumbs on the top scope, after `before_breadcrumb`
    /// (which may change or drop each one; a panic inside drops it). Does
    /// nothing without a client.
    pub fn add_breadcrumb<B: IntoBreadcrumbs>(&self, breadcrumbs: B) {
        let Some(client) = self.bound() else {
            return;
        };
        let options = client.options();
        let max = options.max_breadcrumbs;
        if max == 0 {
            return;
        }
        for crumb in breadcrumbs.into_breadcrumbs() {
            // before_breadcrumb is user code: it runs with no lock held.
            let crumb = match &options.before_breadcrumb {
                Some(before) => {
                    match call_guarded("before_breadcrumb", None, || before(crumb)).flatten() {
                        Some(c) => c,
                        None => continue,
                    }
                }
                None => crumb,
            };
            let mut stack = lock(&self.stack);
            let top = stack.top_mut();
            Arc::make_mut(&mut top.scope)
                .breadcrumbs
                .push_capped(crumb, max);
            top.version += 1;
        }
    }
}

impl AsRef<Hub> for Hub {
    fn as_ref(&self) -> &Hub {
        self
    }
}

/// Pops a pushed scope when dropped. Returned by
/// [`push_scope`](crate::push_scope).
///
/// The guard is not `Send`: a scope is pushed and popped on one thread.
///
/// ```compile_fail
/// fn assert_send<T: Send>(_: T) {}
/// assert_send(vigil_core::Hub::main().push_scope());
/// ```
///
/// Dropping guards in another order than they were created never panics:
/// the guard removes exactly its own layer.
#[must_use = "dropping the guard pops the scope at once"]
pub struct ScopeGuard {
    inner: Option<(Arc<Mutex<Stack>>, u64)>,
    _not_send: PhantomData<*const ()>,
}

impl ScopeGuard {
    /// A guard that pops nothing (the SDK is disabled).
    pub(crate) fn noop() -> ScopeGuard {
        ScopeGuard {
            inner: None,
            _not_send: PhantomData,
        }
    }
}

impl fmt::Debug for ScopeGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScopeGuard")
            .field("layer", &self.inner.as_ref().map(|(_, id)| *id))
            .finish()
    }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        if let Some((stack, id)) = self.inner.take() {
            remove_layer(&stack, id);
        }
    }
}

/// Pops the layer `with_scope` pushed.
struct PopOnDrop<'a> {
    stack: &'a Mutex<Stack>,
    id: u64,
}

impl Drop for PopOnDrop<'_> {
    fn drop(&mut self) {
        remove_layer(self.stack, self.id);
    }
}

/// Removes the layer `id` wherever it is in the stack (never the bottom
/// one). The removed scope is dropped after the lock is released.
fn remove_layer(stack: &Mutex<Stack>, id: u64) {
    let mut stack = lock(stack);
    let Some(pos) = stack.layers.iter().rposition(|l| l.id == id) else {
        return;
    };
    if pos == 0 {
        return;
    }
    let out_of_order = pos != stack.layers.len() - 1;
    let removed = stack.layers.remove(pos);
    let warn = out_of_order && !stack.warned_out_of_order;
    if warn {
        stack.warned_out_of_order = true;
    }
    drop(stack);
    drop(removed);
    if warn {
        crate::vigil_debug!("scope guards were dropped out of order; each removed its own scope");
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
