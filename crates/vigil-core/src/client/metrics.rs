//! Trace metrics of a client: the trace, span and default attributes
//! filled in, `before_send_metric`, and batches of at most 100 metrics
//! sent as one `trace_metric` item (see [`batcher`](super::batcher)).

use std::borrow::Cow;

use vigil_protocol::{DataCategory, DiscardReason, LogAttribute, Metric};

use crate::client::Client;
use crate::panic_guard::call_guarded;
use crate::scope::Scope;
use crate::transaction::TransactionOrSpan;

impl Client {
    /// Captures a trace metric: sets its trace and span (`span`'s, else
    /// the scope's trace and no span), adds the default attributes it has
    /// not set, runs `before_send_metric`, and adds it to the batch.
    ///
    /// With [`enable_metrics`](crate::ClientOptions::enable_metrics) off
    /// it does nothing. Dropped, and counted as `trace_metric` and
    /// `trace_metric_byte`: a metric whose value is not finite (reason
    /// `internal_sdk_error`: JSON cannot carry it), one
    /// `before_send_metric` drops or panics on (`before_send`), and what
    /// the transport cannot take.
    pub fn capture_metric(
        &self,
        mut metric: Metric,
        scope: Option<&Scope>,
        span: Option<&TransactionOrSpan>,
    ) {
        let Some(batcher) = self.metrics.as_ref().filter(|_| self.is_enabled()) else {
            return;
        };
        if !self.options.enable_metrics {
            return;
        }
        if !metric.value.is_finite() {
            crate::vigil_debug!(
                "metric {:?} dropped: its value {} is not a finite number",
                metric.name,
                metric.value
            );
            self.record_metric_loss(DiscardReason::InternalSdkError, metric.approximate_size());
            return;
        }
        self.fill_metric(&mut metric, scope, span);
        if let Some(before_send_metric) = &self.options.before_send_metric {
            let size = metric.approximate_size();
            match call_guarded("before_send_metric", None, || before_send_metric(metric)) {
                Some(Some(kept)) => metric = kept,
                _ => {
                    self.record_metric_loss(DiscardReason::BeforeSend, size);
                    return;
                }
            }
        }
        if let Err(metric) = batcher.push(metric) {
            // Closed meanwhile: the transport would drop it the same way.
            self.record_metric_loss(DiscardReason::QueueOverflow, metric.approximate_size());
        }
    }

    fn record_metric_loss(&self, reason: DiscardReason, size: u64) {
        self.recorder.record(reason, DataCategory::TraceMetric, 1);
        self.recorder
            .record(reason, DataCategory::TraceMetricByte, size);
    }

    /// The trace, the span and the default attributes a metric has not set.
    fn fill_metric(
        &self,
        metric: &mut Metric,
        scope: Option<&Scope>,
        span: Option<&TransactionOrSpan>,
    ) {
        match (span, scope) {
            (Some(span), _) => {
                metric.trace_id = span.trace_id();
                metric.span_id = Some(span.span_id());
            }
            (None, Some(scope)) => metric.trace_id = scope.propagation_context().trace_id(),
            (None, None) => {}
        }
        let attributes = &mut metric.attributes;
        self.default_attributes(scope, |key, value| {
            attributes
                .entry(Cow::Borrowed(key))
                .or_insert_with(|| LogAttribute::from(value));
        });
    }
}
