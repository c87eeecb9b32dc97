//! Structured logs of a client: defaults filled in, `before_send_log`,
//! and batches of at most 100 logs sent as one `log` item (see
//! [`batcher`](super::batcher)).

use std::collections::btree_map::Entry;

use vigil_protocol::{DataCategory, DiscardReason, Log, LogAttribute, PARENT_SPAN_ID, TraceId};

use crate::client::Client;
use crate::panic_guard::call_guarded;
use crate::scope::Scope;
use crate::transaction::TransactionOrSpan;

impl Client {
    /// Captures a structured log: fills the trace (`span`'s, else the
    /// scope's), the span, and the default attributes, runs
    /// `before_send_log`, and adds it to the batch. Logs are sent in
    /// batches (see the module docs); a dropped one is counted as
    /// `log_item` and `log_byte`.
    pub fn capture_log(
        &self,
        mut log: Log,
        scope: Option<&Scope>,
        span: Option<&TransactionOrSpan>,
    ) {
        let Some(batcher) = self.logs.as_ref().filter(|_| self.is_enabled()) else {
            return;
        };
        self.fill_log(&mut log, scope, span);
        if let Some(before_send_log) = &self.options.before_send_log {
            let size = log.approximate_size();
            match call_guarded("before_send_log", None, || before_send_log(log)) {
                Some(Some(kept)) => log = kept,
                _ => {
                    self.record_log_loss(DiscardReason::BeforeSend, size);
                    return;
                }
            }
        }
        if let Err(log) = batcher.push(log) {
            // Closed meanwhile: the transport would drop it the same way.
            self.record_log_loss(DiscardReason::QueueOverflow, log.approximate_size());
        }
    }

    fn record_log_loss(&self, reason: DiscardReason, size: u64) {
        self.recorder.record(reason, DataCategory::LogItem, 1);
        self.recorder.record(reason, DataCategory::LogByte, size);
    }

    /// The trace, the span and the default attributes a log has not set.
    fn fill_log(&self, log: &mut Log, scope: Option<&Scope>, span: Option<&TransactionOrSpan>) {
        if log.trace_id.is_none() {
            log.trace_id = Some(match (span, scope) {
                (Some(span), _) => span.trace_id(),
                (None, Some(scope)) => scope.propagation_context().trace_id(),
                (None, None) => TraceId::new(),
            });
        }
        let attributes = &mut log.attributes;
        if let Some(span) = span
            && !attributes.contains_key(PARENT_SPAN_ID)
        {
            attributes.insert(
                PARENT_SPAN_ID.to_owned(),
                LogAttribute::from(span.span_id().to_string()),
            );
        }
        // One lookup per default: a log rarely sets one itself.
        self.default_attributes(scope, |key, value| {
            if let Entry::Vacant(slot) = attributes.entry(key.to_owned()) {
                slot.insert(LogAttribute::from(value));
            }
        });
    }
}
