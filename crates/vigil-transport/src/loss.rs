//! Counting what the transports drop in the client's [`LossRecorder`].
//! Client reports are never counted: they are the SDK's own bookkeeping.
//! Each item counts what dropping it loses ([`EnvelopeItem::outcomes`]): a
//! transaction, for instance, is one `transaction` and its spans plus one
//! `span`.

use vigil_core::LossRecorder;
use vigil_core::protocol::{DataCategory, DiscardReason, Envelope, EnvelopeItem};

/// `(category, quantity)` of what would be counted if `envelope` were
/// dropped: the outcomes of each item, client reports excepted.
pub(crate) fn countable_items(envelope: &Envelope) -> Vec<(DataCategory, u64)> {
    envelope
        .items()
        .filter(|i| !matches!(i, EnvelopeItem::ClientReport(_)))
        .flat_map(EnvelopeItem::outcomes)
        .collect()
}

/// Records every item of `envelope` as dropped for `reason` (client
/// reports excepted).
pub(crate) fn record_items(recorder: &LossRecorder, envelope: &Envelope, reason: DiscardReason) {
    for item in envelope.items() {
        record_item(recorder, item, reason);
    }
}

/// Records one dropped item, every category it loses (client reports
/// excepted).
pub(crate) fn record_item(recorder: &LossRecorder, item: &EnvelopeItem, reason: DiscardReason) {
    if !matches!(item, EnvelopeItem::ClientReport(_)) {
        for (category, quantity) in item.outcomes() {
            recorder.record(reason, category, quantity);
        }
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

#[cfg(test)]
mod tests {
    use vigil_core::protocol::{ClientReport, Span, Transaction};

    use super::*;

    fn transaction_envelope() -> Envelope {
        let transaction = Transaction {
            spans: vec![Span::default(); 3],
            ..Default::default()
        };
        let mut envelope = Envelope::from_transaction(transaction);
        envelope.add_item(ClientReport::new(std::time::SystemTime::now(), Vec::new()));
        envelope
    }

    #[test]
    fn a_transaction_counts_itself_and_its_spans_plus_one() {
        let envelope = transaction_envelope();
        assert_eq!(
            countable_items(&envelope),
            [(DataCategory::Transaction, 1), (DataCategory::Span, 4)]
        );
        let recorder = LossRecorder::new();
        record_items(&recorder, &envelope, DiscardReason::SendError);
        let reason = DiscardReason::SendError;
        assert_eq!(recorder.total(reason, DataCategory::Transaction), 1);
        assert_eq!(recorder.total(reason, DataCategory::Span), 4);
        assert_eq!(recorder.total(reason, DataCategory::Internal), 0);
        assert_eq!(recorder.total_dropped(), 5);
    }
}
