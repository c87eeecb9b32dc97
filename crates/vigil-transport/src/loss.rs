//! Counting what the transports drop in the client's [`LossRecorder`].
//! Client reports are never counted: they are the SDK's own bookkeeping.

use vigil_core::LossRecorder;
use vigil_core::protocol::{DataCategory, DiscardReason, Envelope, EnvelopeItem};

/// `(category, quantity)` of each item of `envelope` that would be
/// counted if it were dropped (client reports excepted).
pub(crate) fn countable_items(envelope: &Envelope) -> Vec<(DataCategory, u64)> {
    envelope
        .items()
        .iter()
        .filter(|i| !matches!(i, EnvelopeItem::ClientReport(_)))
        .map(|i| (i.category(), i.quantity()))
        .collect()
}

/// Records every item of `envelope` as dropped for `reason` (client
/// reports excepted).
pub(crate) fn record_items(recorder: &LossRecorder, envelope: &Envelope, reason: DiscardReason) {
    for item in envelope.items() {
        record_item(recorder, item, reason);
    }
}

/// Records one dropped item (client reports excepted).
pub(crate) fn record_item(recorder: &LossRecorder, item: &EnvelopeItem, reason: DiscardReason) {
    if !matches!(item, EnvelopeItem::ClientReport(_)) {
        recorder.record(reason, item.category(), item.quantity());
    }
}

/// Records items given as `(category, quantity)` (see
/// [`countable_items`]) as dropped for `reason`.
pub(crate) fn record_counts(
    recorder: &LossRecorder,
    items: Vec<(DataCategory, u64)>,
    reason: DiscardReason,
) {
    for (category, quantity) in items {
        recorder.record(reason, category, quantity);
    }
}
