//! A hand-written JSON writer for the event and transaction payloads, the
//! log and trace-metric items, and the envelope headers: the fast path
//! behind [`Envelope`](crate::Envelope) writing and the size limits.
//!
//! Serializing an event or a transaction through `serde_json` scans every
//! byte of every string for escapes, object keys, hex ids and timestamps
//! included, and the size limits measured the same JSON in a second such
//! pass. The writers here produce exactly the bytes `serde_json::to_vec`
//! produces for the derived `Serialize` impls, but write the keys as
//! literal bytes, copy ids and timestamps in without a scan, and escape
//! the other strings a block of bytes at a time. The same writing code
//! also *counts* the bytes without writing them ([`JsonSize`]), which is
//! how the size limits measure a transaction.
//!
//! Parts that are rare in a transaction or an event (the contexts other
//! than `trace`) and numbers (those inside free JSON values such as
//! `extra` and `data`, an event's float timestamp, line numbers) are
//! handed to `serde_json`. When counting, those parts and the free
//! values are measured by the limits' own rule (`limits::json_size`: a
//! float counts as the longer of its JSON and `Display` forms), so a count
//! is never less than what is written.
//!
//! The derived `Serialize` impls stay the reference: users and tests call
//! them, and the property test in `tests` checks that these writers agree
//! with them byte for byte.

mod debug_meta;
mod escape;
mod event;
mod exception;
mod headers;
mod interfaces;
mod object;
mod sink;
mod telemetry;
mod transaction;

pub(crate) use self::escape::escaped_size;
use self::sink::{JsonBuffer, JsonSize};
use crate::context::Context;
use crate::envelope::EnvelopeHeaders;
use crate::event::Event;
use crate::log::Log;
use crate::metric::Metric;
use crate::span::Span;
use crate::transaction::Transaction;

/// Appends the JSON of `event` to `out`: the bytes of
/// `serde_json::to_writer(out, event)`.
///
/// # Errors
/// As [`write_transaction`].
pub(crate) fn write_event(event: &Event, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let mut buffer = JsonBuffer::new(out);
    event::write_event(event, &mut buffer);
    buffer.finish()
}

/// Appends the JSON of `transaction` to `out`: the bytes of
/// `serde_json::to_writer(out, transaction)`.
///
/// # Errors
/// An error of a part written through `serde_json` (none of the protocol's
/// types fails in practice); `out` then holds incomplete JSON.
pub(crate) fn write_transaction(
    transaction: &Transaction,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let mut buffer = JsonBuffer::new(out);
    transaction::write_transaction(transaction, &mut buffer);
    buffer.finish()
}

/// Appends the payload of a `log` item holding `logs` to `out`: the bytes
/// of `serde_json::to_writer` for `{"items": logs}`.
///
/// # Errors
/// As [`write_transaction`].
pub(crate) fn write_log_container(
    logs: &[Log],
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let mut buffer = JsonBuffer::new(out);
    telemetry::write_container(logs, &mut buffer, |out, log| telemetry::write_log(log, out));
    buffer.finish()
}

/// Appends the payload of a `trace_metric` item holding `metrics` to
/// `out`: the bytes of `serde_json::to_writer` for `{"items": metrics}`.
///
/// # Errors
/// As [`write_transaction`].
pub(crate) fn write_metric_container(
    metrics: &[Metric],
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let mut buffer = JsonBuffer::new(out);
    telemetry::write_container(metrics, &mut buffer, |out, metric| {
        telemetry::write_metric(metric, out);
    });
    buffer.finish()
}

/// Appends the JSON of `headers` to `out`: the bytes of
/// `serde_json::to_writer(out, headers)`.
///
/// # Errors
/// As [`write_transaction`].
pub(crate) fn write_envelope_headers(
    headers: &EnvelopeHeaders,
    out: &mut Vec<u8>,
) -> Result<(), serde_json::Error> {
    let mut buffer = JsonBuffer::new(out);
    headers::write_envelope_headers(headers, &mut buffer);
    buffer.finish()
}

/// The size of `transaction`'s JSON, counted as [`JsonSize`] counts.
pub(crate) fn transaction_size(transaction: &Transaction) -> usize {
    measure(|out| transaction::write_transaction(transaction, out))
}

/// The size of the JSON list of `spans`, counted as [`JsonSize`] counts.
pub(crate) fn spans_size(spans: &[Span]) -> usize {
    measure(|out| transaction::write_spans(spans, out))
}

/// The size of `span`'s JSON, counted as [`JsonSize`] counts.
pub(crate) fn span_size(span: &Span) -> usize {
    measure(|out| transaction::write_span(span, out))
}

/// The size of `context`'s JSON, counted as [`JsonSize`] counts.
pub(crate) fn context_size(context: &Context) -> usize {
    measure(|out| interfaces::write_context(context, out))
}

/// Runs `write` into a [`JsonSize`] and returns the count.
fn measure(write: impl FnOnce(&mut JsonSize)) -> usize {
    let mut size = JsonSize::default();
    write(&mut size);
    size.bytes()
}

#[cfg(test)]
mod tests;
