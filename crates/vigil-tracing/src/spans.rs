//! `tracing` spans as Sentry spans: starting one under the right parent,
//! its name, op and data, finishing it, and finding the current one for
//! the hub's capture path.

use std::sync::Arc;

use tracing_core::Metadata;
use tracing_core::Subscriber;
use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;
use vigil_core::{Client, Hub, TransactionContext, TransactionOrSpan};

use crate::convert::TAGS_PREFIX;
use crate::engine::SpanData;
use crate::visit::{FieldValue, FieldValues};

/// The origin of the spans and transactions the layer makes.
const ORIGIN: &str = "auto.tracing";

/// Fields that give the Sentry op instead of becoming data, first found
/// wins.
const OP_FIELDS: [&str; 2] = ["sentry.op", "op"];
/// Fields that give the Sentry name (a span's description, a
/// transaction's name) instead of becoming data, first found wins.
const NAME_FIELDS: [&str; 2] = ["sentry.name", "otel.name"];
/// The field a root span continues an incoming trace from: a
/// `sentry-trace` header value.
const TRACE_FIELD: &str = "sentry.trace";

/// Whether `key` names the span (or its trace) rather than describes it.
pub(crate) fn is_naming_field(key: &str) -> bool {
    OP_FIELDS.contains(&key) || NAME_FIELDS.contains(&key) || key == TRACE_FIELD
}

/// The first of `keys` that `fields` has as text.
fn text_field<'a>(fields: &'a FieldValues, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|key| fields.get(key).and_then(FieldValue::as_str))
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

/// Starts the Sentry span of a new `tracing` span as a child of `parent`,
/// the Sentry span of its nearest traced ancestor. In a trace sampled out
/// the child keeps only its ids: no names, no data.
pub(crate) fn start_child(
    parent: &TransactionOrSpan,
    metadata: &Metadata<'_>,
    fields: &FieldValues,
) -> TransactionOrSpan {
    if !parent.is_sampled() {
        return TransactionOrSpan::from(parent.start_child("", ""));
    }
    let (op, name) = op_and_name(metadata, fields);
    let child = parent.start_child(op, name);
    child.set_origin(ORIGIN);
    let child = TransactionOrSpan::from(child);
    set_data(&child, fields);
    child
}

/// Starts the Sentry span of a new `tracing` span created under `hub`
/// (whose enabled client is `client`) that has no traced ancestor there: a
/// child of the hub's current span (the request's transaction, say), else,
/// when `roots` accepts the span, a transaction continuing the hub's
/// trace, or the trace of its `sentry.trace` field (a `sentry-trace`
/// header value) when it has one. `None` when tracing is off for the
/// client, or for a root span that starts no transaction.
pub(crate) fn start_root(
    hub: &Hub,
    client: &Client,
    metadata: &Metadata<'_>,
    fields: &FieldValues,
    roots: impl FnOnce() -> bool,
) -> Option<TransactionOrSpan> {
    if !client.options().is_tracing_enabled() {
        return None;
    }
    if let Some(parent) = hub.current_span() {
        return Some(start_child(&parent, metadata, fields));
    }
    if !roots() {
        return None;
    }
    let (op, name) = op_and_name(metadata, fields);
    let mut ctx = match text_field(fields, &[TRACE_FIELD]) {
        Some(header) => {
            TransactionContext::continue_from_headers(name, op, [("sentry-trace", header)])
        }
        None => TransactionContext::continue_from_propagation_context(
            name,
            op,
            &hub.propagation_context(),
        ),
    };
    ctx.set_origin(ORIGIN);
    let transaction = TransactionOrSpan::from(hub.start_transaction(ctx));
    set_data(&transaction, fields);
    Some(transaction)
}

/// Adds `fields` to the span's data (the naming fields excepted; text,
/// number and boolean fields named `tags.<name>` are the tag `<name>`);
/// nothing for a span that is not sampled.
pub(crate) fn set_data(span: &TransactionOrSpan, fields: &FieldValues) {
    if !span.is_sampled() {
        return;
    }
    for (key, value) in fields.iter() {
        if is_naming_field(key) {
            continue;
        }
        match (key.strip_prefix(TAGS_PREFIX), value) {
            (Some(tag), FieldValue::Text(text)) => span.set_tag(tag, text),
            (Some(_), FieldValue::Chain(_)) | (None, _) => span.set_data(key, value.to_json()),
            (Some(tag), scalar) => span.set_tag(tag, scalar.to_json()),
        }
    }
}

/// Applies the naming fields recorded after a span was created: a new
/// name (`sentry.name` / `otel.name`) and, for a span that is not a
/// transaction, a new op (`sentry.op` / `op`).
pub(crate) fn rename(span: &TransactionOrSpan, fields: &FieldValues) {
    if !span.is_sampled() {
        return;
    }
    let name = text_field(fields, &NAME_FIELDS);
    let op = text_field(fields, &OP_FIELDS);
    match span {
        TransactionOrSpan::Transaction(transaction) => {
            if let Some(name) = name {
                transaction.set_name(name);
            }
        }
        TransactionOrSpan::Span(span) => {
            if let Some(name) = name {
                span.set_description(name);
            }
            if let Some(op) = op {
                span.set_op(op);
            }
        }
    }
}

/// Finishes the Sentry span of a closed `tracing` span: a sampled
/// transaction with `hub` (the hub the span was created under) current, so
/// that it takes that hub's scope data.
pub(crate) fn finish(hub: Option<&Arc<Hub>>, span: TransactionOrSpan) {
    match (span, hub) {
        (TransactionOrSpan::Transaction(transaction), Some(hub)) if transaction.is_sampled() => {
            Hub::run(hub.clone(), || transaction.finish());
        }
        (span, _) => span.finish(),
    }
}

/// The active span source the layer registers with `vigil-core`: the
/// Sentry span of the innermost traced span that `tracing` has entered on
/// this thread (the registry's current span, then its ancestors) and that
/// was created under `hub`.
///
/// It asks the thread's default dispatcher for its
/// [`Registry`](tracing_subscriber::Registry) (every subscriber stack built
/// on `tracing_subscriber::registry()` has one), so the layer keeps no
/// state of its own on enter and exit. Inside a subscriber callback
/// `tracing` hides the dispatcher, and this finds nothing.
pub(crate) fn active_span(hub: &Hub) -> Option<TransactionOrSpan> {
    let hub = std::ptr::from_ref(hub);
    tracing_core::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let current = registry.current_span();
        let mut span = registry.span(current.id()?);
        while let Some(this) = span {
            if let Some(data) = this.extensions().get::<SpanData>()
                && std::ptr::eq(Arc::as_ptr(&data.hub), hub)
                && let Some(sentry) = &data.sentry
            {
                return Some(sentry.clone());
            }
            span = this.parent();
        }
        None
    })
}
