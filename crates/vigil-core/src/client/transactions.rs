//! The client's transaction pipeline: scope data, defaults,
//! `ignore_transactions`, the event scrubber, `before_send_transaction`, the 1 MiB limit, the
//! envelope with the trace's DSC, the transport. Every drop is counted for
//! the transaction and its spans.

use std::sync::Arc;

use vigil_protocol::{DataCategory, DiscardReason, Envelope, Transaction, limits};

use crate::client::{Client, CommonFields};
use crate::panic_guard::call_guarded;
use crate::propagation::FrozenDsc;
use crate::scope::Scope;

impl Client {
    /// Counts `quantity` items of `category` as dropped for `reason`.
    pub(crate) fn record_loss(&self, reason: DiscardReason, category: DataCategory, quantity: u64) {
        self.recorder.record(reason, category, quantity);
    }

    /// Counts a dropped transaction: one `transaction`, and its spans plus
    /// itself as `span`.
    fn record_transaction_loss(&self, reason: DiscardReason, spans: usize) {
        self.record_loss(reason, DataCategory::Transaction, 1);
        self.record_loss(reason, DataCategory::Span, spans as u64 + 1);
    }

    /// Sends a finished, sampled transaction with `scope`'s data and the
    /// trace's `dsc` (see the module docs). Transactions do not go through
    /// `before_send` nor the scopes' event processors.
    pub(crate) fn capture_transaction(
        &self,
        mut transaction: Box<Transaction>,
        scope: Option<&Scope>,
        dsc: &FrozenDsc,
    ) {
        let Some(transport) = self.transport() else {
            return;
        };
        let global = crate::global::snapshot();
        for scope in scope.into_iter().chain(global.as_deref()) {
            scope.apply_to_transaction(&mut transaction);
        }
        self.fill_common_defaults(CommonFields {
            release: &mut transaction.release,
            environment: &mut transaction.environment,
            dist: &mut transaction.dist,
            server_name: &mut transaction.server_name,
            sdk: &mut transaction.sdk,
            platform: &mut transaction.platform,
        });
        let name = transaction.name.as_deref().unwrap_or("");
        if self
            .options
            .ignore_transactions
            .iter()
            .any(|pattern| matches_pattern(pattern, name))
        {
            crate::vigil_debug!("transaction {name:?} ignored (ignore_transactions)");
            self.record_transaction_loss(DiscardReason::EventProcessor, transaction.spans.len());
            return;
        }
        if let Some(scrubber) = &self.options.event_scrubber {
            scrubber.scrub_transaction(&mut transaction, self.options.send_default_pii);
        }
        if let Some(before) = &self.options.before_send_transaction {
            let spans = transaction.spans.len();
            match call_guarded("before_send_transaction", None, || before(*transaction)) {
                Some(Some(kept)) => {
                    transaction = Box::new(kept);
                    let removed = spans.saturating_sub(transaction.spans.len());
                    if removed > 0 {
                        self.record_loss(
                            DiscardReason::BeforeSend,
                            DataCategory::Span,
                            removed as u64,
                        );
                    }
                }
                _ => {
                    self.record_transaction_loss(DiscardReason::BeforeSend, spans);
                    return;
                }
            }
        }
        let shed = limits::fit_transaction(&mut transaction);
        if shed > 0 {
            crate::vigil_debug!("{shed} spans dropped to keep the transaction under 1 MiB");
            self.record_loss(DiscardReason::BufferOverflow, DataCategory::Span, shed);
        }
        crate::vigil_debug!(
            "transaction {:?} ({} spans, trace {}) queued",
            transaction.name.as_deref().unwrap_or(""),
            transaction.spans.len(),
            dsc.trace_id.map(|t| t.to_string()).unwrap_or_default()
        );
        let mut envelope = Envelope::from_transaction(transaction);
        envelope.headers_mut().trace = Some(Arc::clone(dsc.header()));
        self.fill_envelope_headers(&mut envelope);
        transport.send_envelope(envelope);
    }
}

/// Whether `name` matches an `ignore_transactions` entry: equal to it,
/// with each `*` in the entry matching any run of characters.
fn matches_pattern(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::matches_pattern;

    #[test]
    fn patterns_match_whole_names_with_stars_for_any_run() {
        assert!(matches_pattern("GET /health", "GET /health"));
        assert!(!matches_pattern("GET /health", "GET /healthz"));
        assert!(!matches_pattern("GET /health", "xGET /health"));
        assert!(matches_pattern("GET /static/*", "GET /static/app.js"));
        assert!(matches_pattern("GET /static/*", "GET /static/"));
        assert!(!matches_pattern("GET /static/*", "POST /static/a"));
        assert!(matches_pattern("*/health", "GET /health"));
        assert!(matches_pattern("GET */v1/*", "GET /api/v1/users"));
        assert!(!matches_pattern("GET */v1/*", "GET /api/v2/users"));
        assert!(matches_pattern("*", "anything"));
        assert!(matches_pattern("a*a", "aa"));
        assert!(!matches_pattern("a*a", "a"));
        assert!(matches_pattern("", ""));
        assert!(!matches_pattern("", "x"));
    }
}
