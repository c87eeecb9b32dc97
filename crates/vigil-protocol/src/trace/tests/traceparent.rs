//! W3C `traceparent` (B.4): parsing, versions, writing.

use super::{SPAN_ID, TRACE_ID};
use crate::trace::error::TraceHeaderError;
use crate::trace::sentry_trace::SentryTrace;

fn parent(sampled: Option<bool>) -> SentryTrace {
    SentryTrace::new(TRACE_ID.parse().unwrap(), SPAN_ID.parse().unwrap(), sampled)
}

#[test]
fn valid_headers_parse() {
    let t = TRACE_ID;
    let s = SPAN_ID;
    let cases = [
        (format!("00-{t}-{s}-01"), true),
        (format!("00-{t}-{s}-00"), false),
        (format!("00-{t}-{s}-03"), true),
        (format!("00-{t}-{s}-fe"), false),
        (format!(" 00-{t}-{s}-01\t"), true),
        // A later version may add fields after the flags.
        (format!("01-{t}-{s}-01"), true),
        (format!("cc-{t}-{s}-01-what-the-future-brings"), true),
        (format!("fe-{t}-{s}-00-x"), false),
    ];
    for (text, sampled) in cases {
        assert_eq!(
            SentryTrace::parse_traceparent(&text),
            Ok(parent(Some(sampled))),
            "{text}"
        );
    }
}

#[test]
fn invalid_headers_are_rejected() {
    let t = TRACE_ID;
    let s = SPAN_ID;
    let zero_t = "0".repeat(32);
    let zero_s = "0".repeat(16);
    let cases = [
        (format!("ff-{t}-{s}-01"), TraceHeaderError::InvalidVersion),
        (format!("FE-{t}-{s}-01"), TraceHeaderError::InvalidVersion),
        (format!("0-{t}-{s}-01"), TraceHeaderError::InvalidVersion),
        (format!("000-{t}-{s}-01"), TraceHeaderError::InvalidVersion),
        (format!("{t}-{s}-1"), TraceHeaderError::InvalidVersion),
        (
            format!("00-{}-{s}-01", t.to_uppercase()),
            TraceHeaderError::InvalidTraceId,
        ),
        (
            format!("00-{t}-{}-01", s.to_uppercase()),
            TraceHeaderError::InvalidSpanId,
        ),
        (format!("00-{t}-{s}-0A"), TraceHeaderError::InvalidSampled),
        (format!("00-{t}-{s}-1"), TraceHeaderError::InvalidSampled),
        (format!("00-{t}-{s}-001"), TraceHeaderError::InvalidSampled),
        (format!("00-{t}-{s}-01-extra"), TraceHeaderError::Malformed),
        (format!("00-{t}-{s}-01-"), TraceHeaderError::Malformed),
        (format!("01-{t}-{s}-01x"), TraceHeaderError::InvalidSampled),
        (format!("00-{t}-{s}"), TraceHeaderError::Malformed),
        (
            format!("00-{}-{s}-01", &t[1..]),
            TraceHeaderError::InvalidTraceId,
        ),
        (format!("00-{t}-{s}0-01"), TraceHeaderError::InvalidSpanId),
        (format!("00-{zero_t}-{s}-01"), TraceHeaderError::ZeroId),
        (format!("00-{t}-{zero_s}-01"), TraceHeaderError::ZeroId),
        (
            format!("00-{t}-{s}-01,00-{t}-{s}-01"),
            TraceHeaderError::InvalidSampled,
        ),
        (String::new(), TraceHeaderError::InvalidVersion),
        ("-".to_owned(), TraceHeaderError::InvalidVersion),
        ("00".to_owned(), TraceHeaderError::Malformed),
        (
            "0".repeat(100 * 1024),
            TraceHeaderError::TooLong { limit: 256 },
        ),
    ];
    for (text, error) in cases {
        let shown: String = text.chars().take(80).collect();
        assert_eq!(
            SentryTrace::parse_traceparent(&text),
            Err(error),
            "{shown:?}"
        );
    }
}

#[test]
fn headers_are_written_as_version_00() {
    let t = TRACE_ID;
    let s = SPAN_ID;
    assert_eq!(
        parent(Some(true)).to_traceparent(),
        format!("00-{t}-{s}-01")
    );
    assert_eq!(
        parent(Some(false)).to_traceparent(),
        format!("00-{t}-{s}-00")
    );
    assert_eq!(parent(None).to_traceparent(), format!("00-{t}-{s}-00"));
    for sampled in [true, false] {
        let value = parent(Some(sampled));
        assert_eq!(
            SentryTrace::parse_traceparent(&value.to_traceparent()),
            Ok(value)
        );
    }
}
