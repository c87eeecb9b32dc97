//! The span current for a hub outside its scope. An integration that
//! tracks the current span itself (the `tracing` layer: the current
//! `tracing` span on this thread) registers where to find it, so that
//! events and outgoing headers follow it without the integration writing
//! the hub's scope on every enter and exit.

use std::sync::OnceLock;

use crate::hub::Hub;
use crate::transaction::TransactionOrSpan;

/// Finds the span current on this thread for `hub`, if the integration
/// knows one that belongs to `hub`.
pub type ActiveSpanSource = fn(&Hub) -> Option<TransactionOrSpan>;

static SOURCE: OnceLock<ActiveSpanSource> = OnceLock::new();

/// Registers `source` (the first registration wins; an integration
/// registers when it is built).
pub fn register_active_span_source(source: ActiveSpanSource) {
    let _ = SOURCE.set(source);
}

/// The span the registered source finds for `hub`.
pub(crate) fn active_span(hub: &Hub) -> Option<TransactionOrSpan> {
    let source = SOURCE.get()?;
    crate::panic_guard::call_guarded("the active span source", None, || source(hub)).flatten()
}

impl Hub {
    /// The span that events captured on this hub now belong to, and whose
    /// trace outgoing headers carry: the span an integration tracks as
    /// current on this thread (with `vigil-tracing`'s layer, the current
    /// `tracing` span, when it was created under this hub), else the top
    /// scope's ([`Scope::set_span`](crate::Scope::set_span)).
    pub fn current_span(&self) -> Option<TransactionOrSpan> {
        active_span(self).or_else(|| self.top_scope().get_span())
    }
}
