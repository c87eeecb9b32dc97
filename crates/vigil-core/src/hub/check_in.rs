//! Capturing cron check-ins on a hub.

use vigil_protocol::{CheckIn, CheckInId};

use super::{Hub, active_span};

impl Hub {
    /// Captures a cron check-in with the top scope's trace (or the active
    /// span's) and the client's release and environment where it has none
    /// (see [`Client::capture_check_in`](crate::Client::capture_check_in)).
    /// Returns the check-in's id, also when there is no client or the
    /// check-in was dropped.
    pub fn capture_check_in(&self, check_in: CheckIn) -> CheckInId {
        let Some((client, scope)) = self.client_and_top_scope() else {
            return check_in.check_in_id;
        };
        let span = active_span::active_span(self).or_else(|| scope.get_span());
        client.capture_check_in(check_in, Some(&scope), span.as_ref())
    }
}
