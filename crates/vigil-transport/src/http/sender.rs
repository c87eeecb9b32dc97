//! The worker side of the HTTP transport: one delivery of one envelope.
//! It has the envelope posted (gzipped, retried after network failures
//! with back-off: see [`post`](crate::http::post)), counts the outcome
//! (delivery counters or the loss recorder) and lets client reports ride
//! along.
//!
//! Without a disk queue the worker runs an [`HttpSender`] as its handler;
//! with one, the [`DiskBacklog`](crate::http::disk_backlog::DiskBacklog)
//! owns the sender and calls it for each stored envelope.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_core::protocol::{ClientReport, DataCategory, DiscardReason, Envelope, EnvelopeItem};
use vigil_core::{LossRecorder, TransportContext};

use crate::http::options::HttpTransportOptions;
use crate::http::post::{EnvelopePoster, Outcome};
use crate::loss::record_items;
use crate::rate_limit::RateLimits;
use crate::stats::DeliveryState;
use crate::worker::control::Control;
use crate::worker::handler::Handler;

/// Piggy-backed client reports are sent at most this often.
const REPORT_INTERVAL: Duration = Duration::from_secs(30);
/// After this long with an empty queue, pending client reports are sent
/// on their own.
const IDLE_INTERVAL: Duration = Duration::from_secs(60);

/// An envelope the sender tried to deliver, not accounted for yet: see
/// [`HttpSender::account`] and [`HttpSender::defer`].
pub(crate) struct Delivery {
    /// The envelope as it was sent (with the report, if one rode along).
    envelope: Envelope,
    /// The client report that rode along.
    report: Option<ClientReport>,
    /// How it ended.
    outcome: Outcome,
}

impl Delivery {
    /// Whether the server answered for good (with a status other than
    /// those of an outage); `false` after a network failure or a `502`,
    /// `503`, `504` or redirect.
    pub(crate) fn reached_server(&self) -> bool {
        !matches!(
            self.outcome,
            Outcome::NetworkError | Outcome::Unavailable { .. }
        )
    }

    /// How long the server asked to be left alone (`Retry-After` on an
    /// outage status).
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self.outcome {
            Outcome::Unavailable { retry_after } => retry_after,
            _ => None,
        }
    }
}

/// The worker side of the HTTP transport: delivers envelopes and accounts
/// for them.
pub(crate) struct HttpSender {
    poster: EnvelopePoster,
    recorder: LossRecorder,
    shared: Arc<DeliveryState>,
    send_client_reports: bool,
    /// When a client report was last taken for sending.
    last_report: Option<Instant>,
}

impl HttpSender {
    /// A sender posting to `url` for the client of `ctx`, sharing counters
    /// and limits with the transport handle through `shared`.
    pub(crate) fn new(
        ctx: &TransportContext<'_>,
        url: String,
        options: HttpTransportOptions,
        shared: Arc<DeliveryState>,
    ) -> HttpSender {
        HttpSender {
            poster: EnvelopePoster::new(ctx, url, options, Arc::clone(&shared)),
            recorder: ctx.recorder.clone(),
            shared,
            send_client_reports: ctx.options.send_client_reports,
            last_report: None,
        }
    }

    /// The transport's settings.
    pub(crate) fn options(&self) -> &HttpTransportOptions {
        self.poster.options()
    }

    /// The rate limits in force.
    pub(crate) fn limits(&self) -> &RateLimits {
        self.shared.limits()
    }

    /// Sends an envelope taken off the queue: drops its rate-limited items,
    /// then delivers the rest with a due client report and accounts for
    /// the result.
    fn send(&mut self, mut envelope: Envelope, control: &Control) {
        if envelope.is_empty() {
            return;
        }
        let now = Instant::now();
        if self.drop_rate_limited(&mut envelope, now) {
            return;
        }
        self.send_now(envelope, now, control);
    }

    /// Drops the items of `envelope` that are rate limited at `now`
    /// (counted as `ratelimit_backoff`). Returns whether nothing is left.
    pub(crate) fn drop_rate_limited(&self, envelope: &mut Envelope, now: Instant) -> bool {
        let nothing_left = self
            .limits()
            .drop_limited_items(envelope, &self.recorder, now);
        if nothing_left {
            vigil_core::vigil_debug!("envelope rate limited; not sent");
        }
        nothing_left
    }

    /// Delivers `envelope` with the client report due at `now`, making up
    /// to `max_attempts` tries, and accounts for the result.
    pub(crate) fn send_now(&mut self, envelope: Envelope, now: Instant, control: &Control) {
        let delivery =
            self.deliver_with_due_report(envelope, now, self.options().max_attempts, control);
        self.account(delivery);
    }

    /// Delivers `envelope`, adding the client report if one is due at
    /// `now`, making up to `attempts` tries on network failures. The
    /// result is accounted for by [`HttpSender::account`] or
    /// [`HttpSender::defer`].
    pub(crate) fn deliver_with_due_report(
        &mut self,
        mut envelope: Envelope,
        now: Instant,
        attempts: u32,
        control: &Control,
    ) -> Delivery {
        let report = self.attach_due_report(&mut envelope, now);
        self.deliver(envelope, report, attempts, control)
    }

    /// Delivers `envelope`, which carries `report` if that is `Some`.
    fn deliver(
        &mut self,
        mut envelope: Envelope,
        report: Option<ClientReport>,
        attempts: u32,
        control: &Control,
    ) -> Delivery {
        let outcome = self.poster.post(&mut envelope, attempts, control);
        Delivery {
            envelope,
            report,
            outcome,
        }
    }

    /// Counters on success; otherwise the report (if one rode along) is put
    /// back and every other item is recorded with the reason of the
    /// failure.
    pub(crate) fn account(&self, delivery: Delivery) {
        let Delivery {
            envelope,
            report,
            outcome,
        } = delivery;
        let reason = match outcome {
            Outcome::Accepted => {
                let events = envelope
                    .items()
                    .filter(|i| matches!(i, EnvelopeItem::Event(_)))
                    .count() as u64;
                self.shared.count_accepted(events, report.is_some());
                return;
            }
            Outcome::RateLimited => None,
            // Without a disk queue nothing can wait for the outage to end;
            // the protocol asks not to retry error statuses.
            Outcome::Rejected | Outcome::Unavailable { .. } => Some(DiscardReason::SendError),
            Outcome::NetworkError => Some(DiscardReason::NetworkError),
            Outcome::Internal => Some(DiscardReason::InternalSdkError),
        };
        if let Some(report) = &report {
            self.recorder.restore_report(report);
        }
        if let Some(reason) = reason {
            record_items(&self.recorder, &envelope, reason);
        }
    }

    /// A delivery whose envelope the caller keeps to try again later:
    /// nothing is counted, and the report that rode along (if any) is put
    /// back.
    pub(crate) fn defer(&self, delivery: Delivery) {
        if let Some(report) = &delivery.report {
            self.recorder.restore_report(report);
        }
    }

    /// Takes the pending client report if reports are on and the
    /// `internal` category is not rate limited.
    fn take_report(&mut self, now: Instant) -> Option<ClientReport> {
        if !self.send_client_reports || self.limits().is_limited(DataCategory::Internal, now) {
            return None;
        }
        let report = self.recorder.take_report()?;
        self.last_report = Some(now);
        Some(report)
    }

    /// Whether a client report may ride along again.
    fn report_due(&self, now: Instant) -> bool {
        self.last_report
            .is_none_or(|last| now.saturating_duration_since(last) >= REPORT_INTERVAL)
    }

    /// When a client report is due, takes it and adds it to `envelope`;
    /// returns it so that its counts can be put back if sending fails.
    fn attach_due_report(&mut self, envelope: &mut Envelope, now: Instant) -> Option<ClientReport> {
        if !self.report_due(now) {
            return None;
        }
        let report = self.take_report(now)?;
        envelope.add_item(report.clone());
        Some(report)
    }

    /// Sends the pending client report on its own, if there is one.
    pub(crate) fn send_pending_report(&mut self, control: &Control) {
        if let Some(report) = self.take_report(Instant::now()) {
            let mut envelope = Envelope::new();
            envelope.add_item(report.clone());
            let delivery =
                self.deliver(envelope, Some(report), self.options().max_attempts, control);
            self.account(delivery);
        }
    }

    /// Sends the pending client report on its own if one is due.
    pub(crate) fn send_report_if_due(&mut self, control: &Control) {
        if self.report_due(Instant::now()) {
            self.send_pending_report(control);
        }
    }
}

/// The sender on its own: the worker's handler when there is no disk
/// queue.
impl Handler for HttpSender {
    type Job = Envelope;

    fn handle(&mut self, envelope: Envelope, control: &Control) {
        self.send(envelope, control);
    }

    /// Sends the pending client report on its own, if there is one.
    fn flush(&mut self, control: &Control) {
        self.send_pending_report(control);
    }

    fn idle_interval(&self) -> Option<Duration> {
        self.send_client_reports.then_some(IDLE_INTERVAL)
    }

    fn idle(&mut self, control: &Control) {
        self.send_report_if_due(control);
    }
}
