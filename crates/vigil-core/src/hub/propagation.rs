//! Trace propagation through a hub: continuing an incoming trace and the
//! headers that carry the current one on.

use std::sync::Arc;

use crate::client::Client;
use crate::hub::Hub;
use crate::propagation::{FrozenDsc, PropagationContext, TraceHeaders};
use crate::scope::Scope;

impl Hub {
    /// Makes the top scope's events belong to the trace that `headers`
    /// describe (`sentry-trace` and `baggage`, or `traceparent`), or to a
    /// new trace when they describe none or a malformed one; see
    /// [`PropagationContext::continue_from_headers`]. The organisation
    /// check uses this hub's client options.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil_core::Hub;
    /// # let events = vigil_core::test::with_captured_events(|| {
    /// let hub = Arc::new(Hub::new_from_top(Hub::current()));
    /// hub.continue_trace([("sentry-trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1")]);
    /// hub.capture_message("in the request", vigil_core::protocol::Level::Error);
    /// # });
    /// # let trace = &events[0].contexts["trace"];
    /// # let trace = serde_json::to_value(trace).unwrap();
    /// # assert_eq!(trace["trace_id"], "771a43a4192642f0b136d5159a501700");
    /// # assert_eq!(trace["parent_span_id"], "b0e6f15b45c36b12");
    /// ```
    pub fn continue_trace<'a, I>(&self, headers: I)
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let client = self.client();
        let context = match &client {
            Some(client) => PropagationContext::continue_from_headers(headers, client.options()),
            None => PropagationContext::continue_from_headers(headers, &Default::default()),
        };
        self.configure_scope(|scope| scope.set_propagation_context(context));
    }

    /// The top scope's propagation context: the trace events captured here
    /// belong to when no span is current, and that a transaction started
    /// here continues
    /// ([`TransactionContext::continue_from_propagation_context`](crate::TransactionContext::continue_from_propagation_context)).
    pub fn propagation_context(&self) -> Arc<PropagationContext> {
        Arc::clone(&self.top_scope().propagation)
    }

    /// The headers that carry the hub's trace to another service: those of
    /// its [`current_span`](Hub::current_span), else the top scope's
    /// propagation context's (see [`Scope::iter_trace_propagation_headers`]),
    /// with this hub's client options.
    pub fn iter_trace_propagation_headers(&self) -> TraceHeaders {
        if let Some(span) = super::active_span::active_span(self) {
            return span.iter_headers();
        }
        let client = self.client();
        self.top_scope().trace_headers(client.as_deref())
    }
}

impl Hub {
    /// [`iter_trace_propagation_headers`](Hub::iter_trace_propagation_headers)
    /// for a request to `url`, or `None` when
    /// [`trace_propagation_targets`](crate::ClientOptions::trace_propagation_targets)
    /// says that URL gets none (or it is the DSN's host and port). For code that
    /// makes HTTP requests.
    ///
    /// ```
    /// use vigil_core::{ClientOptions, Hub, TracePropagationTarget};
    /// let options = ClientOptions::new()
    ///     .trace_propagation_target(TracePropagationTarget::contains("api.internal"));
    /// # let events = vigil_core::test::with_captured_events_options(|| {
    /// let hub = Hub::current();
    /// assert!(hub.trace_propagation_headers_for("https://api.internal/users").is_some());
    /// assert!(hub.trace_propagation_headers_for("https://partner.example.com/").is_none());
    /// # }, options);
    /// ```
    pub fn trace_propagation_headers_for(&self, url: &str) -> Option<TraceHeaders> {
        let allowed = self
            .client()
            .is_none_or(|client| client.options().should_propagate_trace_to(url));
        allowed.then(|| self.iter_trace_propagation_headers())
    }
}

impl Scope {
    /// The headers that carry this scope's trace to another service, as
    /// `(name, value)` pairs to add to an outgoing request: `sentry-trace`,
    /// `baggage` (the trace's dynamic sampling context) and, with
    /// [`propagate_traceparent`](crate::ClientOptions::propagate_traceparent),
    /// W3C `traceparent`.
    ///
    /// With a current span ([`Scope::set_span`]) the headers are the span's;
    /// otherwise the scope's propagation context's. For a trace that
    /// started here the sampling context is filled from the current hub's
    /// client the first time, and does not change afterwards; a continued
    /// trace sends on what it received.
    ///
    /// ```
    /// # let events = vigil_core::test::with_captured_events(|| {
    /// let headers: Vec<(&str, String)> =
    ///     vigil_core::configure_scope(|scope| scope.iter_trace_propagation_headers().collect());
    /// assert_eq!(headers[0].0, "sentry-trace");
    /// assert_eq!(headers[1].0, "baggage");
    /// assert!(headers[1].1.contains("sentry-public_key=public"));
    /// # });
    /// ```
    pub fn iter_trace_propagation_headers(&self) -> TraceHeaders {
        self.trace_headers(Hub::current().client().as_deref())
    }

    /// The propagation headers of this scope with `client`'s options: the
    /// current span's, else the propagation context's.
    fn trace_headers(&self, client: Option<&Client>) -> TraceHeaders {
        match &self.span {
            Some(span) => span.iter_headers(),
            None => TraceHeaders::of(&self.propagation, client.map(Client::options)),
        }
    }

    /// The DSC sent in the `trace` header of envelopes captured with this
    /// scope (frozen by this call): the current span's trace's, else the
    /// propagation context's.
    pub(crate) fn dynamic_sampling_context(&self, client: &Client) -> &FrozenDsc {
        match &self.span {
            Some(span) => span.transaction_inner().dsc(),
            None => self.propagation.dsc(client.options()),
        }
    }
}
