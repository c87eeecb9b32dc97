//! Distributed tracing on the wire: the ids, the span status and the
//! propagation headers (`protocol-telemetry.md` A.1, A.2, B.1–B.5).
//!
//! A trace crosses services in two HTTP headers:
//!
//! - `sentry-trace` ([`SentryTrace`]): the [`TraceId`], the sender's
//!   [`SpanId`] and the sampling decision; W3C `traceparent` carries the
//!   same and is read and written by the same type.
//! - `baggage`: the [`DynamicSamplingContext`] as `sentry-` members, which
//!   also goes to Sentry as the envelope header `trace`.
//!
//! Parsing is exact and bounded: a header that does not match, or is
//! longer than any valid one, is a [`TraceHeaderError`], and the receiver
//! starts a fresh trace. What this crate writes is always lowercase and
//! percent-encoded as the other SDKs expect. Deciding when to continue a
//! trace, sampling and freezing the DSC are the client's job.

// One type per file; `traceparent` and `baggage` add the W3C forms to
// `SentryTrace` and `DynamicSamplingContext`. `hex` and `ows` are the text
// helpers they share.
mod baggage;
pub(crate) mod dynamic_sampling_context;
pub(crate) mod error;
pub(crate) mod hex;
mod ows;
pub(crate) mod sentry_trace;
pub(crate) mod span_id;
pub(crate) mod span_status;
pub(crate) mod trace_id;
mod traceparent;

#[cfg(test)]
mod tests;
