//! The JSON of a [`Transaction`] and its [`Span`]s, written by hand into a
//! [`JsonSink`]: byte for byte what `serde_json` writes for the derived
//! `Serialize` impls (same field order, same fields left out), with the
//! object keys as literal bytes and ids and timestamps copied in without
//! an escape scan.
//!
//! Keep these writers in step with the `#[serde(...)]` attributes of
//! `Transaction` and `Span`; the property test in `json_writer::tests`
//! compares them with `serde_json`.
//!
//! Both objects start with a field that is always written (the `type` tag,
//! `span_id`), so each following field carries its own leading comma.

use super::interfaces::{write_context, write_request, write_sdk, write_user};
use super::object::{write_list, write_map, write_opt_string};
use super::sink::JsonSink;
use crate::span::Span;
use crate::transaction::Transaction;

/// Writes `transaction` as its derived `Serialize` impl does.
pub(super) fn write_transaction<S: JsonSink>(transaction: &Transaction, out: &mut S) {
    let t = transaction;
    out.raw(br#"{"type":"transaction","event_id":"#);
    out.verbatim_string(|| t.event_id.to_hex());
    write_opt_string(out, br#","transaction":"#, &t.name);
    if let Some(info) = &t.transaction_info {
        out.raw(br#","transaction_info":{"source":"#);
        out.plain_string(info.source.as_str());
        out.raw(b"}");
    }
    out.raw(br#","platform":"#);
    out.string(&t.platform);
    out.raw(br#","start_timestamp":"#);
    out.timestamp(t.start_timestamp);
    out.raw(br#","timestamp":"#);
    out.timestamp(t.timestamp);
    write_opt_string(out, br#","release":"#, &t.release);
    write_opt_string(out, br#","dist":"#, &t.dist);
    write_opt_string(out, br#","environment":"#, &t.environment);
    write_opt_string(out, br#","server_name":"#, &t.server_name);
    if let Some(user) = &t.user {
        out.raw(br#","user":"#);
        write_user(user, out);
    }
    if let Some(request) = &t.request {
        out.raw(br#","request":"#);
        write_request(request, out);
    }
    if !t.tags.is_empty() {
        out.raw(br#","tags":"#);
        write_map(out, &t.tags, |out, value| out.string(value));
    }
    if !t.extra.is_empty() {
        out.raw(br#","extra":"#);
        write_map(out, &t.extra, |out, value| out.value(value));
    }
    if !t.contexts.is_empty() {
        out.raw(br#","contexts":"#);
        write_map(out, &t.contexts, |out, context| write_context(context, out));
    }
    if let Some(sdk) = &t.sdk {
        out.raw(br#","sdk":"#);
        write_sdk(sdk, out);
    }
    out.raw(br#","spans":"#);
    write_spans(&t.spans, out);
    out.raw(b"}");
}

/// Writes `spans` as a JSON list.
pub(super) fn write_spans<S: JsonSink>(spans: &[Span], out: &mut S) {
    write_list(out, spans, |out, span| write_span(span, out));
}

/// Writes `span` as its derived `Serialize` impl does.
pub(super) fn write_span<S: JsonSink>(span: &Span, out: &mut S) {
    out.raw(br#"{"span_id":"#);
    out.verbatim_string(|| span.span_id.to_hex());
    out.raw(br#","trace_id":"#);
    out.verbatim_string(|| span.trace_id.to_hex());
    if let Some(parent) = span.parent_span_id {
        out.raw(br#","parent_span_id":"#);
        out.verbatim_string(|| parent.to_hex());
    }
    write_opt_string(out, br#","op":"#, &span.op);
    write_opt_string(out, br#","description":"#, &span.description);
    out.raw(br#","start_timestamp":"#);
    out.timestamp(span.start_timestamp);
    if let Some(end) = span.timestamp {
        out.raw(br#","timestamp":"#);
        out.timestamp(end);
    }
    if let Some(status) = span.status {
        out.raw(br#","status":"#);
        out.plain_string(status.as_str());
    }
    if !span.tags.is_empty() {
        out.raw(br#","tags":"#);
        write_map(out, &span.tags, |out, value| out.string(value));
    }
    if !span.data.is_empty() {
        out.raw(br#","data":"#);
        write_map(out, &span.data, |out, value| out.value(value));
    }
    write_opt_string(out, br#","origin":"#, &span.origin);
    out.raw(b"}");
}
