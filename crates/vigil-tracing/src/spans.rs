//! `tracing` spans as Sentry spans: starting one under the right parent,
//! its name, op and data, finishing it, and finding the current one for
//! the hub's capture path.

use std::cell::RefCell;
use std::sync::Arc;

use tracing_core::Metadata;
use tracing_core::span::Id;
use vigil_core::protocol::Value;
use vigil_core::{Hub, TransactionContext, TransactionOrSpan};

use crate::visit::FieldValues;

/// The origin of the spans and transactions the layer makes.
const ORIGIN: &str = "auto.tracing";

/// Fields that give the Sentry op instead of becoming data, first found
/// wins.
const OP_FIELDS: [&str; 2] = ["sentry.op", "op"];
/// Fields that give the Sentry name (a span's description, a
/// transaction's name) instead of becoming data, first found wins.
const NAME_FIELDS: [&str; 2] = ["sentry.name", "otel.name"];

/// Whether `key` names the span rather than describes it.
pub(crate) fn is_naming_field(key: &str) -> bool {
    OP_FIELDS.contains(&key) || NAME_FIELDS.contains(&key)
}

/// The first of `keys` that `fields` has as text.
fn text_field<'a>(fields: &'a FieldValues, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|key| fields.get(key).and_then(Value::as_str))
        .filter(|text| !text.is_empty())
}

/// The op (`sentry.op` / `op`, else the span's target) and the name
/// (`sentry.name` / `otel.name`, else the span's name: the function's name
/// for `#[instrument]`).
fn op_and_name<'a>(metadata: &'a Metadata<'_>, fields: &'a FieldValues) -> (&'a str, &'a str) {
    let op = text_field(fields, &OP_FIELDS).unwrap_or_else(|| metadata.target());
    let name = text_field(fields, &NAME_FIELDS).unwrap_or_else(|| metadata.name());
    (op, name)
}

/// Starts the Sentry span of a new `tracing` span created under `hub`: a
/// child of `parent`, else of the hub's current span (the request's
/// transaction, say), else, for a root span `roots` accepts, a transaction
/// continuing the hub's trace. `None` when tracing is off for the hub's
/// client, or for a root span that starts no transaction.
pub(crate) fn start(
    hub: &Hub,
    metadata: &Metadata<'_>,
    fields: &FieldValues,
    parent: Option<TransactionOrSpan>,
    roots: impl FnOnce() -> bool,
) -> Option<TransactionOrSpan> {
    let (op, name) = op_and_name(metadata, fields);
    // A traced ancestor means tracing was on when the trace began: its
    // child needs no look at the client.
    let parent = match parent {
        Some(parent) => Some(parent),
        None => {
            let client = hub.client()?;
            if !client.is_enabled() || !client.options().is_tracing_enabled() {
                return None;
            }
            hub.current_span()
        }
    };
    let span = match parent {
        Some(parent) => {
            let child = parent.start_child(op, name);
            if child.is_sampled() {
                child.set_origin(ORIGIN);
            }
            TransactionOrSpan::from(child)
        }
        None if roots() => {
            let mut ctx = TransactionContext::continue_from_propagation_context(
                name,
                op,
                &hub.propagation_context(),
            );
            ctx.set_origin(ORIGIN);
            TransactionOrSpan::from(hub.start_transaction(ctx))
        }
        None => return None,
    };
    set_data(&span, fields);
    Some(span)
}

/// Adds `fields` to the span's data (the naming fields excepted); nothing
/// for a span that is not sampled.
pub(crate) fn set_data(span: &TransactionOrSpan, fields: &FieldValues) {
    if !span.is_sampled() {
        return;
    }
    for (key, value) in fields.iter() {
        if !is_naming_field(key) {
            span.set_data(key, value.clone());
        }
    }
}

/// Finishes the Sentry span of a closed `tracing` span: a transaction with
/// `hub` current, so that it takes that hub's scope data.
pub(crate) fn finish(hub: &Arc<Hub>, span: TransactionOrSpan) {
    match span {
        TransactionOrSpan::Transaction(transaction) => {
            Hub::run(hub.clone(), || transaction.finish());
        }
        span @ TransactionOrSpan::Span(_) => span.finish(),
    }
}

thread_local! {
    /// The traced spans entered on this thread and not yet exited,
    /// innermost last, with the address of the hub each was created under
    /// (compared, never dereferenced). `tracing` enters and exits spans per
    /// thread, so this is this thread's view of the current span, kept
    /// without touching any hub's scope.
    static ENTERED: RefCell<Vec<(Id, usize, TransactionOrSpan)>> = const { RefCell::new(Vec::new()) };
}

/// Records that the span `id` with Sentry span `sentry`, created under
/// `hub`, was entered on this thread.
pub(crate) fn entered(id: &Id, hub: &Arc<Hub>, sentry: &TransactionOrSpan) {
    let hub = Arc::as_ptr(hub) as usize;
    let _ = ENTERED.try_with(|entered| {
        if let Ok(mut entered) = entered.try_borrow_mut() {
            entered.push((id.clone(), hub, sentry.clone()));
        }
    });
}

/// Records that the span `id` was exited on this thread: its innermost
/// entry goes, wherever it is (spans may be exited out of order).
pub(crate) fn exited(id: &Id) {
    let _ = ENTERED.try_with(|entered| {
        if let Ok(mut entered) = entered.try_borrow_mut()
            && let Some(at) = entered.iter().rposition(|(entry, _, _)| entry == id)
        {
            entered.remove(at);
        }
    });
}

/// The active span source the layer registers with `vigil-core`: the
/// Sentry span of the innermost traced span entered on this thread that
/// was created under `hub`.
pub(crate) fn active_span(hub: &Hub) -> Option<TransactionOrSpan> {
    let hub = std::ptr::from_ref(hub) as usize;
    ENTERED
        .try_with(|entered| {
            let entered = entered.try_borrow().ok()?;
            entered
                .iter()
                .rev()
                .find(|(_, of, _)| *of == hub)
                .map(|(_, _, sentry)| sentry.clone())
        })
        .ok()
        .flatten()
}
