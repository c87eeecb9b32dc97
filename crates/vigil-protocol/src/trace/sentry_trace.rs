//! [`SentryTrace`]: the `sentry-trace` header, which carries a trace from
//! one service to the next.

use std::fmt;

use crate::trace::error::TraceHeaderError;
use crate::trace::ows::trim_ows;
use crate::trace::span_id::SpanId;
use crate::trace::trace_id::TraceId;

/// The longest header value the parsers read; anything longer is rejected
/// before it is looked at. A `sentry-trace` value is at most 51 bytes, a
/// version-00 `traceparent` 55.
pub(super) const MAX_HEADER_LEN: usize = 256;

/// The value of a `sentry-trace` header: `{trace_id}-{span_id}` followed by
/// `-1` or `-0` once the trace's sampling decision is made.
///
/// `span_id` is the span of the sender, which becomes the parent of the
/// receiver's first span. [`parse_traceparent`](SentryTrace::parse_traceparent)
/// and [`to_traceparent`](SentryTrace::to_traceparent) read and write the
/// same data as a W3C `traceparent` header.
///
/// ```
/// use vigil_protocol::SentryTrace;
/// let header = SentryTrace::parse("771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1").unwrap();
/// assert_eq!(header.trace_id.to_string(), "771a43a4192642f0b136d5159a501700");
/// assert_eq!(header.span_id.to_string(), "b0e6f15b45c36b12");
/// assert_eq!(header.sampled, Some(true));
/// assert_eq!(header.to_string(), "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1");
///
/// let deferred = SentryTrace::new(header.trace_id, header.span_id, None);
/// assert_eq!(deferred.to_string(), "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SentryTrace {
    /// The trace.
    pub trace_id: TraceId,
    /// The sender's span.
    pub span_id: SpanId,
    /// The sampling decision; `None` while it is deferred to the receiver.
    pub sampled: Option<bool>,
}

impl SentryTrace {
    /// The header for this trace, span and sampling decision.
    pub const fn new(trace_id: TraceId, span_id: SpanId, sampled: Option<bool>) -> SentryTrace {
        SentryTrace {
            trace_id,
            span_id,
            sampled,
        }
    }

    /// Reads a `sentry-trace` header value.
    ///
    /// Surrounding spaces and tabs are ignored; when several headers were
    /// joined with commas, the first non-empty one is read. The value must
    /// then be exactly 32 lowercase hex digits, `-`, 16 lowercase hex digits
    /// and optionally `-0` or `-1`, with neither id all zeros. Anything else
    /// is rejected (upper-case digits too, as sentry-python does), and so is
    /// any input longer than 256 bytes, before it is looked at.
    pub fn parse(header: &str) -> Result<SentryTrace, TraceHeaderError> {
        if header.len() > MAX_HEADER_LEN {
            return Err(TraceHeaderError::TooLong {
                limit: MAX_HEADER_LEN,
            });
        }
        let value = header
            .split(',')
            .map(trim_ows)
            .find(|value| !value.is_empty())
            .ok_or(TraceHeaderError::Malformed)?;
        let mut parts = value.split('-');
        let trace_id = parts.next().unwrap_or_default().parse()?;
        let span_id = parts.next().ok_or(TraceHeaderError::Malformed)?.parse()?;
        let sampled = match parts.next() {
            None => None,
            Some("1") => Some(true),
            Some("0") => Some(false),
            Some(_) => return Err(TraceHeaderError::InvalidSampled),
        };
        if parts.next().is_some() {
            return Err(TraceHeaderError::Malformed);
        }
        Ok(SentryTrace::new(trace_id, span_id, sampled))
    }
}

impl fmt::Display for SentryTrace {
    /// Written in one piece, so that `to_string` allocates once.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = [b'-'; 51];
        text[..32].copy_from_slice(&self.trace_id.to_hex());
        text[33..49].copy_from_slice(&self.span_id.to_hex());
        let len = match self.sampled {
            Some(sampled) => {
                text[50] = if sampled { b'1' } else { b'0' };
                51
            }
            None => 49,
        };
        f.write_str(std::str::from_utf8(&text[..len]).map_err(|_| fmt::Error)?)
    }
}
