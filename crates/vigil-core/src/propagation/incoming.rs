//! Continuing a trace from incoming headers: `sentry-trace` and `baggage`,
//! or W3C `traceparent` when no `sentry-trace` came, checked against the
//! organisation of the SDK's DSN.

use std::sync::OnceLock;

use vigil_protocol::{DynamicSamplingContext, SentryTrace, SpanId, TraceId};

use crate::options::ClientOptions;
use crate::propagation::{FrozenDsc, PropagationContext, unit_of};

/// The most `baggage` text read from one request, all its `baggage`
/// headers together (W3C's limit); more makes the headers hostile.
const MAX_BAGGAGE_BYTES: usize = 8192;

impl PropagationContext {
    /// Continues the trace that `headers` (name, value pairs; names in any
    /// case) describe, or starts a new one.
    ///
    /// - `sentry-trace` gives the trace id, the parent span and the
    ///   sampling decision; without it, a W3C `traceparent` does.
    /// - The `sentry-*` entries of `baggage` are the trace's dynamic
    ///   sampling context (DSC): kept exactly as received and sent on
    ///   unchanged. Other vendors' entries are not kept. Without Sentry
    ///   baggage (an older SDK upstream) the DSC is filled here, as
    ///   sentry-python does.
    /// - A missing `sentry-sample_rand` is derived from the trace id, within
    ///   what the upstream decision and rate allow.
    ///
    /// A new trace starts instead when there is no trace header, when a
    /// header is malformed or hostile (wrong length, upper-case hex, more
    /// than 8 KiB of baggage, a duplicated `sentry-` key, invalid
    /// percent-encoding), or when the organisation check refuses it: the
    /// incoming `sentry-org_id` and the SDK's
    /// ([`ClientOptions::org_id`], else the DSN's `o<id>.` host) differ,
    /// or only one of them is known and
    /// [`strict_trace_continuation`](ClientOptions::strict_trace_continuation)
    /// is on. Nothing here panics, and nothing allocates more than the
    /// limits above.
    pub fn continue_from_headers<'a, I>(headers: I, options: &ClientOptions) -> PropagationContext
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        match Incoming::read(headers).continue_trace(options) {
            Ok(ctx) => ctx,
            Err(why) => {
                crate::vigil_debug!("incoming trace not continued ({why}); a new trace starts");
                PropagationContext::new()
            }
        }
    }
}

/// The trace headers of one request.
#[derive(Default)]
struct Incoming<'a> {
    sentry_trace: Option<&'a str>,
    traceparent: Option<&'a str>,
    /// Every `baggage` header, comma-joined (W3C: they form one list).
    baggage: Option<String>,
    baggage_too_long: bool,
}

impl<'a> Incoming<'a> {
    fn read<I: IntoIterator<Item = (&'a str, &'a str)>>(headers: I) -> Incoming<'a> {
        let mut incoming = Incoming::default();
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("sentry-trace") {
                incoming.sentry_trace.get_or_insert(value);
            } else if name.eq_ignore_ascii_case("traceparent") {
                incoming.traceparent.get_or_insert(value);
            } else if name.eq_ignore_ascii_case("baggage") {
                incoming.add_baggage(value);
            }
        }
        incoming
    }

    fn add_baggage(&mut self, value: &str) {
        let joined = self.baggage.get_or_insert_with(String::new);
        let needed = joined.len() + usize::from(!joined.is_empty()) + value.len();
        if self.baggage_too_long || needed > MAX_BAGGAGE_BYTES {
            self.baggage_too_long = true;
            return;
        }
        if !joined.is_empty() {
            joined.push(',');
        }
        joined.push_str(value);
    }

    fn continue_trace(self, options: &ClientOptions) -> Result<PropagationContext, &'static str> {
        let parent = match (self.sentry_trace, self.traceparent) {
            (Some(value), _) => SentryTrace::parse(value).map_err(|_| "malformed sentry-trace")?,
            (None, Some(value)) => {
                SentryTrace::parse_traceparent(value).map_err(|_| "malformed traceparent")?
            }
            (None, None) => return Err("no trace header"),
        };
        if self.baggage_too_long {
            return Err("baggage longer than 8 KiB");
        }
        let mut dsc = match &self.baggage {
            Some(baggage) => {
                DynamicSamplingContext::from_baggage(baggage).map_err(|_| "malformed baggage")?
            }
            None => DynamicSamplingContext::new(),
        };
        if dsc.trace_id().is_some_and(|id| id != parent.trace_id) {
            // Baggage of another trace: not this trace's to propagate.
            dsc = DynamicSamplingContext::new();
        }
        if !org_allows(
            dsc.get("org_id"),
            own_org_id(options),
            options.strict_trace_continuation,
        ) {
            return Err("organisation check");
        }
        let sample_rand = match dsc.sample_rand() {
            Some(rand) => rand,
            None => {
                let rand = backfill_sample_rand(parent.trace_id, dsc.sample_rate(), parent.sampled);
                if !dsc.is_empty() {
                    dsc.set(
                        "sample_rand",
                        DynamicSamplingContext::format_sample_rand(rand),
                    );
                }
                rand
            }
        };
        let frozen = OnceLock::new();
        let dsc_from_upstream = !dsc.is_empty();
        if dsc_from_upstream {
            let _ = frozen.set(FrozenDsc::new(dsc));
        }
        Ok(PropagationContext {
            trace_id: parent.trace_id,
            span_id: SpanId::new(),
            parent_span_id: Some(parent.span_id),
            sampled: parent.sampled,
            sample_rand,
            dsc: frozen,
            dsc_from_upstream,
        })
    }
}

/// The SDK's organisation id: the option, else the DSN's.
pub(super) fn own_org_id(options: &ClientOptions) -> Option<u64> {
    options
        .org_id
        .or_else(|| options.dsn.as_ref().and_then(|dsn| dsn.org_id()))
}

/// The organisation check of the trace propagation spec: different ids
/// never continue; exactly one known continues unless `strict`.
fn org_allows(incoming: Option<&str>, own: Option<u64>, strict: bool) -> bool {
    let incoming = incoming.map(str::trim).filter(|s| !s.is_empty());
    match (incoming, own) {
        (Some(theirs), Some(ours)) => theirs.parse::<u64>().is_ok_and(|t| t == ours),
        (None, None) => true,
        _ => !strict,
    }
}

/// A `sample_rand` for a trace whose upstream did not send one: derived
/// from the trace id, and consistent with the upstream decision when its
/// rate is known (below the rate when sampled, at or above it when not).
fn backfill_sample_rand(trace_id: TraceId, rate: Option<f64>, sampled: Option<bool>) -> f64 {
    let unit = unit_of(trace_id) as f64 / 1_000_000.0;
    let value = match (rate, sampled) {
        (Some(rate), Some(true)) => unit * rate,
        (Some(rate), Some(false)) => rate + unit * (1.0 - rate),
        _ => unit,
    };
    // Six decimals, rounded so that the comparison with the rate keeps
    // its outcome.
    let scaled = value * 1_000_000.0;
    let six = match (rate, sampled) {
        (Some(rate), Some(false)) if (scaled.floor() / 1_000_000.0) < rate => scaled.ceil(),
        _ => scaled.floor(),
    };
    (six / 1_000_000.0).clamp(0.0, 0.999_999)
}

#[cfg(test)]
mod tests;
