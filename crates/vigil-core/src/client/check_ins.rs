//! Cron monitor check-ins of a client: defaults filled in,
//! `before_send_check_in`, Relay's limits, one envelope per check-in.

use vigil_protocol::{CheckIn, CheckInId, DataCategory, DiscardReason, Envelope, TraceId};

use super::Client;
use crate::panic_guard::call_guarded;
use crate::scope::Scope;
use crate::transaction::TransactionOrSpan;

/// Sentry keeps this many characters of a monitor slug.
const MAX_SLUG_CHARS: usize = 50;
/// Relay rejects a check-in whose environment is longer.
const MAX_ENVIRONMENT_CHARS: usize = 64;
/// Relay's `max_check_in_size`.
const MAX_CHECK_IN_SIZE: usize = 100 * 1024;

impl Client {
    /// Captures a cron check-in: fills the release, the environment
    /// (`production` when the options have none) and the trace (`span`'s,
    /// else the scope's) where the check-in has none, runs
    /// `before_send_check_in`, and sends it in an envelope of its own.
    ///
    /// Check-ins do not go through `before_send` or the event processors
    /// and are never sampled. A slug longer than 50 characters is cut to
    /// 50 (as Sentry does); a check-in Sentry would reject (an empty slug,
    /// an environment over 64 characters, over 100 KiB of JSON) is dropped
    /// and counted.
    ///
    /// Returns the check-in's id, also when it was dropped or the client
    /// is disabled, so that the check-in that ends a run can repeat it.
    pub fn capture_check_in(
        &self,
        mut check_in: CheckIn,
        scope: Option<&Scope>,
        span: Option<&TransactionOrSpan>,
    ) -> CheckInId {
        let id = check_in.check_in_id;
        let Some(transport) = self.transport() else {
            return id;
        };
        self.fill_check_in(&mut check_in, scope, span);
        if let Some(before_send_check_in) = &self.options.before_send_check_in {
            match call_guarded("before_send_check_in", None, || {
                before_send_check_in(check_in)
            }) {
                Some(Some(kept)) => check_in = kept,
                _ => {
                    self.record_check_in_loss(DiscardReason::BeforeSend);
                    return id;
                }
            }
        }
        if let Some((cut, _)) = check_in.monitor_slug.char_indices().nth(MAX_SLUG_CHARS) {
            check_in.monitor_slug.truncate(cut);
        }
        if let Err((reason, why)) = check_relay_limits(&check_in) {
            crate::vigil_debug!("check-in of {:?} dropped: {why}", check_in.monitor_slug);
            self.record_check_in_loss(reason);
            return id;
        }
        crate::vigil_debug!(
            "check-in {} of {:?} queued: {}",
            check_in.check_in_id,
            check_in.monitor_slug,
            check_in.status
        );
        let mut envelope = Envelope::new();
        envelope.add_item(check_in);
        self.fill_envelope_headers(&mut envelope);
        call_guarded("transport", None, || transport.send_envelope(envelope));
        id
    }

    fn record_check_in_loss(&self, reason: DiscardReason) {
        self.recorder.record(reason, DataCategory::Monitor, 1);
    }

    /// The release, environment and trace a check-in has not set.
    fn fill_check_in(
        &self,
        check_in: &mut CheckIn,
        scope: Option<&Scope>,
        span: Option<&TransactionOrSpan>,
    ) {
        let o = &self.options;
        if check_in.release.is_none() {
            check_in.release = o.release.as_ref().map(|r| r.to_string());
        }
        if check_in.environment.is_none() {
            check_in.environment =
                Some(o.environment.as_deref().unwrap_or("production").to_owned());
        }
        if check_in.trace_id.is_none() {
            check_in.trace_id = Some(match (span, scope) {
                (Some(span), _) => span.trace_id(),
                (None, Some(scope)) => scope.propagation_context().trace_id(),
                (None, None) => TraceId::new(),
            });
        }
    }
}

/// What Relay would reject in a check-in, with the discard reason to
/// count it under.
fn check_relay_limits(check_in: &CheckIn) -> Result<(), (DiscardReason, String)> {
    if check_in.monitor_slug.is_empty() {
        return Err((DiscardReason::InsufficientData, "its slug is empty".into()));
    }
    if let Some(environment) = &check_in.environment
        && environment.chars().count() > MAX_ENVIRONMENT_CHARS
    {
        return Err((
            DiscardReason::InternalSdkError,
            format!("its environment is longer than {MAX_ENVIRONMENT_CHARS} characters"),
        ));
    }
    let size = serde_json::to_vec(check_in).map_or(usize::MAX, |json| json.len());
    if size > MAX_CHECK_IN_SIZE {
        return Err((
            DiscardReason::InternalSdkError,
            format!("{size} bytes of JSON, over Sentry's 100 KiB"),
        ));
    }
    Ok(())
}
