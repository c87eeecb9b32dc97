//! [`fit_transaction`]: a transaction trimmed to Relay's field limits and
//! made to fit [`MAX_EVENT_SIZE`] by shedding span data, then spans.

use super::MAX_EVENT_SIZE;
use super::fields::transaction::trim_transaction;
use crate::json_writer::{span_size, spans_size, transaction_size};
use crate::span::Span;
use crate::transaction::Transaction;

/// The most of the `spans` list Relay keeps: 800 KiB as it counts them
/// (observed with Relay 0.10.1: the rest of the list is cut off, with a
/// remark). Relay counts a span's JSON without its keys, so measuring
/// compact JSON with keys stays below it (by 30 bytes or more per span).
const SPANS_BYTES: usize = 800 * 1024;

/// Applies Relay's limits to `transaction` and makes it fit Sentry's 1 MiB
/// item limit; returns how many spans were dropped.
///
/// The SDK calls it before sending and counts the dropped spans in its
/// client report (reason `buffer_overflow`, category `span`).
///
/// 1. The field limits, as [`trim_event`](super::trim_event) applies them
///    to an event: the name (200 characters), release, environment, dist,
///    server name, user, request, contexts (the `trace` context's `op` and
///    `origin` included), tags and `extra`. Each span: `op` and `origin`
///    as in the `trace` context (128 characters; an `origin` with
///    characters other than `a-zA-Z0-9_.` is removed), `description` 1024
///    characters, tag values 200 characters, `data` the budget of an
///    event's `extra` (16 KiB per value, depth 7, 256 KiB in all). Relay
///    itself only cuts `op` and rejects a bad `origin`; the other span
///    limits keep one span from filling the whole 1 MiB.
/// 2. While the serialized transaction is larger than [`MAX_EVENT_SIZE`],
///    or its `spans` list larger than the 800 KiB Relay keeps of it, the
///    `data` of the spans is removed, oldest span (by `start_timestamp`)
///    first, so the newest spans keep theirs longest.
/// 3. If that is not enough, whole spans are dropped, oldest first, until
///    both fit. The spans left keep their order.
///
/// Sizes are compact JSON with each float counted as the longer of its
/// JSON and `Display` forms, never less than what is written or what
/// Relay counts. A transaction still larger than 1 MiB without spans (its
/// own tags, contexts and `extra` alone being that large) is left as it
/// is; Relay would reject it.
///
/// ```
/// use vigil_protocol::{Span, Transaction, limits};
/// let mut transaction = Transaction {
///     spans: vec![Span { description: Some("x".repeat(2000)), ..Default::default() }],
///     ..Default::default()
/// };
/// assert_eq!(limits::fit_transaction(&mut transaction), 0);
/// let description = transaction.spans[0].description.as_ref().unwrap();
/// assert_eq!(description.chars().count(), 1024);
/// ```
pub fn fit_transaction(transaction: &mut Transaction) -> u64 {
    trim_transaction(transaction);
    let spans = std::mem::take(&mut transaction.spans);
    // Everything but the spans, without the `[]` of the empty list.
    let rest = transaction_size(transaction).saturating_sub(2);
    transaction.spans = spans;
    let mut budget = SpansBudget {
        size: spans_size(&transaction.spans),
        limit: SPANS_BYTES.min(MAX_EVENT_SIZE.saturating_sub(rest)),
    };
    if budget.fits() {
        return 0;
    }
    shed_spans(&mut transaction.spans, &mut budget)
}

/// The size of a `spans` list and the most it may take.
struct SpansBudget {
    size: usize,
    limit: usize,
}

impl SpansBudget {
    fn fits(&self) -> bool {
        self.size <= self.limit
    }
}

/// Removes span data, then spans, oldest first, until `budget` fits;
/// returns how many spans were dropped.
fn shed_spans(spans: &mut Vec<Span>, budget: &mut SpansBudget) -> u64 {
    // Oldest first; the sort is stable, so equal starts keep list order.
    let mut oldest_first: Vec<usize> = (0..spans.len()).collect();
    oldest_first.sort_by_key(|&i| spans[i].start_timestamp);

    for &i in &oldest_first {
        if budget.fits() {
            return 0;
        }
        let span = &mut spans[i];
        if !span.data.is_empty() {
            let before = span_size(span);
            span.data.clear();
            budget.size -= before - span_size(span);
        }
    }

    let mut keep = vec![true; spans.len()];
    let mut left = spans.len();
    for &i in &oldest_first {
        if budget.fits() {
            break;
        }
        left -= 1;
        // A span takes its JSON and, unless it is the only one, a comma.
        budget.size -= span_size(&spans[i]) + usize::from(left > 0);
        keep[i] = false;
    }
    let dropped = spans.len() - left;
    let mut keep = keep.into_iter();
    spans.retain(|_| keep.next().unwrap_or(true));
    dropped as u64
}
