//! The scope stack of a hub: its layers, and the guards that pop them.

use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::client::Client;
use crate::scope::Scope;

/// A hub's hold on its client. Layers share it by reference count, so
/// pushing scopes and capturing count on the hub's own counter, not on the
/// client's, which every thread's hub shares.
#[derive(Debug)]
pub(super) struct Bound(Arc<Client>);

impl Bound {
    /// Binds `client`; the handle is counted (for the disabled fast path)
    /// until it is dropped.
    pub(super) fn new(client: Arc<Client>) -> Bound {
        super::current::count_bound(true);
        Bound(client)
    }

    /// The bound client.
    pub(super) fn client(&self) -> &Arc<Client> {
        &self.0
    }
}

impl Drop for Bound {
    fn drop(&mut self) {
        super::current::count_bound(false);
    }
}

impl std::ops::Deref for Bound {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.0
    }
}

/// One layer of the stack: a scope and the client bound with it.
pub(super) struct Layer {
    pub(super) id: u64,
    pub(super) client: Option<Arc<Bound>>,
    pub(super) scope: Arc<Scope>,
    /// Bumped on every write, so `configure_scope` can tell whether the
    /// scope changed while its closure ran.
    pub(super) version: u64,
}

/// The layers of a hub, bottom first. The bottom layer is never removed.
pub(super) struct Stack {
    layers: Vec<Layer>,
    next_id: u64,
    warned_out_of_order: bool,
}

impl Stack {
    /// A stack of one layer.
    pub(super) fn new(client: Option<Arc<Bound>>, scope: Arc<Scope>) -> Stack {
        Stack {
            layers: vec![Layer {
                id: 0,
                client,
                scope,
                version: 0,
            }],
            next_id: 1,
            warned_out_of_order: false,
        }
    }

    pub(super) fn depth(&self) -> usize {
        self.layers.len()
    }

    pub(super) fn top(&self) -> &Layer {
        &self.layers[self.layers.len() - 1]
    }

    pub(super) fn top_mut(&mut self) -> &mut Layer {
        let last = self.layers.len() - 1;
        &mut self.layers[last]
    }

    /// The layer `id`, if it is still on the stack.
    pub(super) fn layer_mut(&mut self, id: u64) -> Option<&mut Layer> {
        self.layers.iter_mut().rev().find(|l| l.id == id)
    }

    /// Pushes a layer and returns its id.
    pub(super) fn push(&mut self, client: Option<Arc<Bound>>, scope: Arc<Scope>) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.layers.push(Layer {
            id,
            client,
            scope,
            version: 0,
        });
        id
    }
}

/// Locks a stack. No user code runs under this lock, so poisoning can only
/// come from an SDK bug; the data is still consistent.
pub(super) fn lock(stack: &Mutex<Stack>) -> MutexGuard<'_, Stack> {
    stack.lock().unwrap_or_else(PoisonError::into_inner)
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
    /// A guard that pops layer `id` of `stack`.
    pub(super) fn new(stack: Arc<Mutex<Stack>>, id: u64) -> ScopeGuard {
        ScopeGuard {
            inner: Some((stack, id)),
            _not_send: PhantomData,
        }
    }

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

/// Pops the layer `with_scope` pushed, also when its callback panics.
pub(super) struct PopOnDrop<'a> {
    pub(super) stack: &'a Mutex<Stack>,
    pub(super) id: u64,
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
