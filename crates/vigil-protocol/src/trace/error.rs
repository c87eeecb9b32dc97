//! [`TraceHeaderError`]: why a trace id or a propagation header was
//! rejected.

use std::fmt;

/// Why a trace id, a span id or a trace propagation header (`sentry-trace`,
/// `traceparent`, `baggage`) was rejected.
///
/// A service that receives a header it cannot parse starts a fresh trace;
/// the error is for logging only.
///
/// ```
/// use vigil_protocol::{SentryTrace, TraceHeaderError};
/// let err = SentryTrace::parse("not-a-header").unwrap_err();
/// assert_eq!(err, TraceHeaderError::InvalidTraceId);
/// assert_eq!(err.to_string(), "invalid trace id (expected 32 lowercase hex digits)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TraceHeaderError {
    /// The input is longer than the parser reads; it was not looked at.
    TooLong {
        /// The most bytes this kind of input may have.
        limit: usize,
    },
    /// The input does not have the header's shape: no value, or the wrong
    /// number of `-`-separated parts.
    Malformed,
    /// The trace id is not 32 lowercase hex digits.
    InvalidTraceId,
    /// The span id is not 16 lowercase hex digits.
    InvalidSpanId,
    /// The trace id or the span id is all zeros, which no tracer sends.
    ZeroId,
    /// The sampling decision of `sentry-trace` is not `0` or `1`, or the
    /// flags of `traceparent` are not two lowercase hex digits.
    InvalidSampled,
    /// The version of `traceparent` is not two lowercase hex digits, or is
    /// the forbidden `ff`.
    InvalidVersion,
    /// The `baggage` header has more list members than W3C allows.
    TooManyMembers {
        /// The most members a `baggage` header may have.
        limit: usize,
    },
    /// The `baggage` header names the same `sentry-` entry twice, so it is
    /// unclear which value holds.
    DuplicateEntry,
    /// A percent-decoded `sentry-` name or value is not UTF-8.
    InvalidUtf8,
}

impl fmt::Display for TraceHeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceHeaderError::TooLong { limit } => {
                write!(f, "trace header longer than {limit} bytes")
            }
            TraceHeaderError::Malformed => f.write_str("malformed trace header"),
            TraceHeaderError::InvalidTraceId => {
                f.write_str("invalid trace id (expected 32 lowercase hex digits)")
            }
            TraceHeaderError::InvalidSpanId => {
                f.write_str("invalid span id (expected 16 lowercase hex digits)")
            }
            TraceHeaderError::ZeroId => f.write_str("trace or span id is all zeros"),
            TraceHeaderError::InvalidSampled => f.write_str("invalid sampling decision or flags"),
            TraceHeaderError::InvalidVersion => {
                f.write_str("invalid or unsupported traceparent version")
            }
            TraceHeaderError::TooManyMembers { limit } => {
                write!(f, "baggage has more than {limit} members")
            }
            TraceHeaderError::DuplicateEntry => f.write_str("baggage repeats a sentry- entry"),
            TraceHeaderError::InvalidUtf8 => {
                f.write_str("baggage sentry- entry is not UTF-8 once percent-decoded")
            }
        }
    }
}

impl std::error::Error for TraceHeaderError {}
