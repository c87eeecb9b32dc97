//! Limits of a span: its `op` and `origin` (shared with the `trace`
//! context, which describes the transaction's own span), description,
//! tags and data.

use crate::Map;
use smol_str::SmolStr;

use super::tags::TAG_VALUE_CHARS;
use super::trim_extra;
use crate::limits::text::{truncate_chars, truncate_opt, truncate_opt_smol};
use crate::span::Span;

/// The limit Relay puts on a span's `op` and `origin`.
const OP_CHARS: usize = 128;
/// Relay's `Summary` size; Relay itself does not cut span descriptions.
const DESCRIPTION_CHARS: usize = 1024;

/// Cuts an `op` to Relay's 128 characters.
pub(super) fn trim_op(op: &mut Option<SmolStr>) {
    truncate_opt_smol(op, OP_CHARS);
}

/// Cuts an `origin` to 128 characters and removes it unless it is made of
/// `a-zA-Z0-9_.` (Relay reports any other character as invalid data).
pub(super) fn clean_origin(origin: &mut Option<SmolStr>) {
    truncate_opt_smol(origin, OP_CHARS);
    // Bytes, not chars: every valid character is ASCII, and no byte of a
    // longer UTF-8 character is.
    let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
    if origin.as_deref().is_some_and(|o| !o.bytes().all(valid)) {
        *origin = None;
    }
}

/// Fits one span: `op` and `origin` as Relay does, the description to 1024
/// characters, tag values to 200 characters and `data` to the budget of
/// an event's `extra`.
pub(super) fn trim_span(span: &mut Span) {
    trim_op(&mut span.op);
    clean_origin(&mut span.origin);
    truncate_opt(&mut span.description, DESCRIPTION_CHARS);
    for value in span.tags.values_mut() {
        truncate_chars(value, TAG_VALUE_CHARS);
    }
    if !span.data.is_empty() {
        // Moves the entries over and back; no value is copied.
        let mut data = std::mem::take(&mut span.data).into_iter().collect();
        trim_extra(&mut data);
        span.data = data.into_iter().collect::<Map<_, _>>();
    }
}
