//! The hub: a stack of scopes with a client.
//!
//! - [`stack`]: the layers and the guards that pop them;
//! - [`current`]: the main hub, each thread's current hub, switching hubs;
//! - here: the hub's API (capture, scopes, breadcrumbs, binding clients).

mod active_span;
mod check_in;
mod current;
mod feedback;
mod propagation;
mod session;
mod stack;

use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use vigil_protocol::{Event, EventId, Level};

use crate::breadcrumbs::IntoBreadcrumbs;
use crate::client::Client;
use crate::panic_guard::call_guarded;
use crate::scope::Scope;

pub use self::active_span::{ActiveSpanSource, register_active_span_source};
pub(crate) use self::current::{SwitchGuard, count_enabled};
pub use self::current::{any_client, bind_client_to_main};
pub use self::session::RequestSessionGuard;
pub use self::stack::ScopeGuard;
use self::stack::{Bound, Layer, PopOnDrop, Stack, lock};

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
///
/// # Panics in closures
/// A closure passed to [`configure_scope`](Hub::configure_scope),
/// [`with_scope`](Hub::with_scope) or [`Hub::run`] is the caller's code: a
/// panic inside propagates to the caller, after the hub was left as it was
/// before the call (the closure's changes are discarded, a pushed scope is
/// popped, the previous hub is current again). Callbacks the SDK runs on
/// its own (`before_breadcrumb`, `before_send`, event processors) are
/// caught instead, reported on stderr and counted.
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
            .field("depth", &stack.depth())
            .field("client", &stack.top().client)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// A hub with one scope layer.
    pub fn new(client: Option<Arc<Client>>, scope: Arc<Scope>) -> Hub {
        Hub::with_bound(client.map(|c| Arc::new(Bound::new(c))), scope)
    }

    fn with_bound(client: Option<Arc<Bound>>, scope: Arc<Scope>) -> Hub {
        Hub {
            stack: Arc::new(Mutex::new(Stack::new(client, scope))),
            last_event_id: Mutex::new(None),
            follows_main: AtomicBool::new(false),
        }
    }

    /// A new hub sharing the client and a copy of the top scope of `other`.
    /// Changes on either hub afterwards do not reach the other.
    pub fn new_from_top<H: AsRef<Hub>>(other: H) -> Hub {
        let other = other.as_ref();
        let (client, scope) = {
            let mut stack = lock(&other.stack);
            let top = stack.top_mut();
            fold_tags_for_copies(&mut top.scope);
            (top.client.clone(), top.scope.clone())
        };
        let hub = Hub::with_bound(client, scope);
        hub.follows_main.store(
            other.follows_main.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        hub
    }

    /// The client of the top scope (for an implicitly created thread hub
    /// without one: the main hub's client).
    pub fn client(&self) -> Option<Arc<Client>> {
        self.bound().map(|bound| bound.client().clone())
    }

    /// Whether this hub has an enabled client: the one answer to "is a
    /// client active here?". The API's free functions do nothing on a hub
    /// that is not active.
    pub fn is_active(&self) -> bool {
        let stack = lock(&self.stack);
        self.with_resolved_client(stack.top(), |client| client.is_some_and(|c| c.is_enabled()))
    }

    /// The hub's hold on the client that captures here.
    fn bound(&self) -> Option<Arc<Bound>> {
        let stack = lock(&self.stack);
        self.with_resolved_client(stack.top(), |client| client.cloned())
    }

    /// Calls `f` with the client that captures here, given this hub's top
    /// layer (read under this hub's lock): the layer's own client or, for
    /// an implicitly created thread hub without one, the main hub's. The
    /// main hub's lock is then taken inside this hub's; that order is the
    /// only one: the main hub never takes another hub's lock while holding
    /// its own.
    fn with_resolved_client<R>(&self, top: &Layer, f: impl FnOnce(Option<&Arc<Bound>>) -> R) -> R {
        let main = current::main_hub();
        match &top.client {
            Some(own) => f(Some(own)),
            None if self.follows_main.load(Ordering::Relaxed) && !std::ptr::eq(self, main) => {
                f(lock(&main.stack).top().client.as_ref())
            }
            None => f(None),
        }
    }

    /// The top scope (shared, not copied).
    pub(crate) fn top_scope(&self) -> Arc<Scope> {
        lock(&self.stack).top().scope.clone()
    }

    /// Binds a client to the top scope (`None` unbinds). The hub stops
    /// falling back to the main hub's client.
    pub fn bind_client(&self, client: Option<Arc<Client>>) {
        self.follows_main.store(false, Ordering::Relaxed);
        let client = client.map(|c| Arc::new(Bound::new(c)));
        let mut stack = lock(&self.stack);
        let top = stack.top_mut();
        top.client = client;
        top.version += 1;
    }

    /// Captures the event `make` builds (only built when a client is bound)
    /// with the top scope's data, reading the stack once.
    fn capture_with(&self, make: impl FnOnce() -> Event) -> EventId {
        let Some((client, scope)) = self.client_and_capture_scope() else {
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

    /// The client that captures here and the scope an event is captured
    /// with (the top scope, reading the stack once), or `None` without a
    /// client.
    fn client_and_capture_scope(&self) -> Option<(Arc<Bound>, Arc<Scope>)> {
        let (client, scope) = self.client_and_top_scope()?;
        // A span an integration tracks as current (a `tracing` span) wins
        // over the scope's own: the event is captured in a copy carrying it.
        let scope = match active_span::active_span(self) {
            Some(span) if !scope.span.as_ref().is_some_and(|s| s.same_as(&span)) => {
                let mut with_span = (*scope).clone();
                with_span.span = Some(span);
                Arc::new(with_span)
            }
            _ => scope,
        };
        Some((client, scope))
    }

    /// The client that captures here and the top scope, reading the stack
    /// once; `None` without a client.
    pub(in crate::hub) fn client_and_top_scope(&self) -> Option<(Arc<Bound>, Arc<Scope>)> {
        let (client, scope) = {
            let stack = lock(&self.stack);
            let top = stack.top();
            (
                self.with_resolved_client(top, |c| c.cloned()),
                top.scope.clone(),
            )
        };
        Some((client?, scope))
    }

    /// Captures an event with the top scope's data. Returns its id, or the
    /// nil id when it was dropped or no client is bound.
    pub fn capture_event(&self, event: Event) -> EventId {
        self.capture_with(|| event)
    }

    /// Captures a structured log with the top scope's trace, span and user
    /// (see [`Client::capture_log`]); without a client it is dropped. The
    /// `logger_info!` and sibling macros build and capture one.
    pub fn capture_log(&self, log: vigil_protocol::Log) {
        let Some((client, scope)) = self.client_and_top_scope() else {
            return;
        };
        let span = active_span::active_span(self).or_else(|| scope.get_span());
        client.capture_log(log, Some(&scope), span.as_ref());
    }

    /// Captures a trace metric with the top scope's trace, the active span
    /// and the scope's user (see [`Client::capture_metric`]); without a
    /// client it is dropped. [`metrics::counter`](crate::metrics::counter)
    /// and its siblings build one; their `capture` calls this on the
    /// current hub.
    pub fn capture_metric(&self, metric: impl Into<vigil_protocol::Metric>) {
        let Some((client, scope)) = self.client_and_top_scope() else {
            return;
        };
        let span = active_span::active_span(self).or_else(|| scope.get_span());
        client.capture_metric(metric.into(), Some(&scope), span.as_ref());
    }

    /// Captures a message at `level`.
    pub fn capture_message(&self, message: &str, level: Level) -> EventId {
        self.capture_with(|| Event::from_message(message, level))
    }

    /// Captures an error with its whole `source()` chain (see
    /// [`event_from_error`](crate::event_from_error)).
    pub fn capture_error<E: Error + ?Sized>(&self, error: &E) -> EventId {
        self.capture_with(|| crate::error::event_from_error(error))
    }

    /// The id of the last event this hub sent.
    pub fn last_event_id(&self) -> Option<EventId> {
        *self
            .last_event_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Pushes a scope inheriting everything from the current top; dropping
    /// the guard pops it and reverts every change made in it.
    pub fn push_scope(&self) -> ScopeGuard {
        let id = self.push_layer(None::<fn(&mut Scope)>);
        ScopeGuard::new(self.stack.clone(), id)
    }

    /// Pushes a layer holding the top scope, or a copy of it changed by
    /// `config`, which runs with no lock held (a panic inside propagates,
    /// and nothing is pushed). Returns the layer's id.
    fn push_layer(&self, config: Option<impl FnOnce(&mut Scope)>) -> u64 {
        let (client, top_scope) = {
            let mut stack = lock(&self.stack);
            let top = stack.top_mut();
            fold_tags_for_copies(&mut top.scope);
            (top.client.clone(), top.scope.clone())
        };
        let scope = match config {
            None => top_scope,
            Some(config) => {
                // The layer still holds `top_scope`: this copies it, straight
                // into the new layer's allocation.
                let mut scope = top_scope;
                let edited = Arc::make_mut(&mut scope);
                if let Some(client) = &client {
                    edited.max_breadcrumbs = Some(client.options().max_breadcrumbs);
                }
                config(edited);
                scope
            }
        };
        lock(&self.stack).push(client, scope)
    }

    /// Pushes a scope, configures it with `scope_config`, runs `callback`
    /// in it and pops it.
    ///
    /// The configuration runs on the new scope before it is pushed, with
    /// no lock held. A panic in either closure propagates to the caller;
    /// the scope is popped (or, for a panicking configuration, never
    /// pushed) first.
    pub fn with_scope<C, F, R>(&self, scope_config: C, callback: F) -> R
    where
        C: FnOnce(&mut Scope),
        F: FnOnce() -> R,
    {
        let id = self.push_layer(Some(scope_config));
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
    /// of changes are kept, field by field. If the closure panics, its
    /// changes are discarded and the panic propagates to the caller; the
    /// scope stays as it was and usable.
    pub fn configure_scope<F, R>(&self, f: F) -> R
    where
        F: FnOnce(&mut Scope) -> R,
    {
        let (base, id, version, max) = {
            let stack = lock(&self.stack);
            let top = stack.top();
            let max = top.client.as_ref().map(|c| c.options().max_breadcrumbs);
            (top.scope.clone(), top.id, top.version, max)
        };
        let mut edited = (*base).clone();
        if max.is_some() {
            edited.max_breadcrumbs = max;
        }
        let result = f(&mut edited);
        let mut stack = lock(&self.stack);
        // What the write-back replaces is dropped after the lock is released:
        // it may hold the last reference to user values (event processors).
        if let Some(layer) = stack.layer_mut(id) {
            if layer.version == version {
                drop(base);
                match Arc::get_mut(&mut layer.scope) {
                    // Nobody else holds the scope: reuse its allocation
                    // (`edited` then holds the old scope).
                    Some(scope) => std::mem::swap(scope, &mut edited),
                    None => layer.scope = Arc::new(edited),
                }
            } else {
                Arc::make_mut(&mut layer.scope).merge_changes(&base, &edited);
            }
            layer.version += 1;
        }
        drop(stack);
        // `edited`, unless it was moved into the layer, is dropped here,
        // with no lock held.
        result
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

/// Before a scope is copied (into a new hub, a request's or a thread's,
/// or into a pushed layer), writes its pending tag changes into its shared
/// list once they take half of the change slots: the copies then start
/// with every slot free, and a request or `with_scope` setting a few tags
/// of its own never rewrites the list. Fewer changes stay where they are
/// (a scope that changes one tag between copies is not rewritten each
/// time). Only the representation changes, so the layer's version stays
/// (a `configure_scope` running meanwhile writes back or merges as it
/// would have). The scope it replaces shares every user value with the
/// folded one, so dropping it here, under the hub's lock, runs no user
/// code.
pub(super) fn fold_tags_for_copies(scope: &mut Arc<Scope>) {
    if scope.tags.worth_folding() {
        let mut folded = (**scope).clone();
        folded.tags.fold();
        *scope = Arc::new(folded);
    }
}
