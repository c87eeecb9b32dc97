//! `sentry-trace` (B.1): the parsing table and round trips.

use super::{SPAN_ID, TRACE_ID};
use crate::trace::error::TraceHeaderError;
use crate::trace::sentry_trace::SentryTrace;

fn header(sampled: Option<bool>) -> SentryTrace {
    SentryTrace::new(TRACE_ID.parse().unwrap(), SPAN_ID.parse().unwrap(), sampled)
}

#[test]
fn valid_headers_parse() {
    let t = TRACE_ID;
    let s = SPAN_ID;
    let cases = [
        (format!("{t}-{s}"), None),
        (format!("{t}-{s}-1"), Some(true)),
        (format!("{t}-{s}-0"), Some(false)),
        (format!(" \t{t}-{s}-1\t "), Some(true)),
        (format!("{t}-{s}-0,{t}-{s}-1"), Some(false)),
        (format!(" , ,\t{t}-{s}-1 , garbage"), Some(true)),
    ];
    for (text, sampled) in cases {
        assert_eq!(SentryTrace::parse(&text), Ok(header(sampled)), "{text:?}");
    }
}

#[test]
fn invalid_headers_are_rejected() {
    let t = TRACE_ID;
    let s = SPAN_ID;
    let upper_t = t.to_uppercase();
    let upper_s = s.to_uppercase();
    let zero_t = "0".repeat(32);
    let zero_s = "0".repeat(16);
    let cases = [
        (format!("{upper_t}-{s}-1"), TraceHeaderError::InvalidTraceId),
        (format!("{t}-{upper_s}-1"), TraceHeaderError::InvalidSpanId),
        (format!("{}-{s}", &t[1..]), TraceHeaderError::InvalidTraceId),
        (format!("{t}0-{s}"), TraceHeaderError::InvalidTraceId),
        (format!("{t}-{}", &s[1..]), TraceHeaderError::InvalidSpanId),
        (format!("{t}-{s}0"), TraceHeaderError::InvalidSpanId),
        (format!("{zero_t}-{s}-1"), TraceHeaderError::ZeroId),
        (format!("{t}-{zero_s}-1"), TraceHeaderError::ZeroId),
        (
            format!("{}x-{s}", &t[1..]),
            TraceHeaderError::InvalidTraceId,
        ),
        (format!("{t}-{s}-2"), TraceHeaderError::InvalidSampled),
        (format!("{t}-{s}-true"), TraceHeaderError::InvalidSampled),
        (format!("{t}-{s}-"), TraceHeaderError::InvalidSampled),
        (format!("{t}-{s}-1-1"), TraceHeaderError::Malformed),
        (format!("{t}-{s}-1-"), TraceHeaderError::Malformed),
        (format!("00-{t}-{s}-00"), TraceHeaderError::InvalidTraceId),
        (t.to_owned(), TraceHeaderError::Malformed),
        (format!("{t}{s}"), TraceHeaderError::InvalidTraceId),
        (format!("{t} -{s}"), TraceHeaderError::InvalidTraceId),
        (format!("{t}_{s}"), TraceHeaderError::InvalidTraceId),
        (String::new(), TraceHeaderError::Malformed),
        (" \t ".to_owned(), TraceHeaderError::Malformed),
        (",,".to_owned(), TraceHeaderError::Malformed),
        ("-".to_owned(), TraceHeaderError::InvalidTraceId),
        ("1".to_owned(), TraceHeaderError::InvalidTraceId),
        (
            "x".repeat(100 * 1024),
            TraceHeaderError::TooLong { limit: 256 },
        ),
        (
            format!("{t}-{s}-1,{}", " ".repeat(300)),
            TraceHeaderError::TooLong { limit: 256 },
        ),
    ];
    for (text, error) in cases {
        let shown: String = text.chars().take(80).collect();
        assert_eq!(SentryTrace::parse(&text), Err(error), "{shown:?}");
    }
}

#[test]
fn headers_round_trip() {
    for sampled in [None, Some(true), Some(false)] {
        let value = header(sampled);
        assert_eq!(SentryTrace::parse(&value.to_string()), Ok(value));
    }
    assert_eq!(
        header(Some(true)).to_string(),
        format!("{TRACE_ID}-{SPAN_ID}-1")
    );
    assert_eq!(
        header(Some(false)).to_string(),
        format!("{TRACE_ID}-{SPAN_ID}-0")
    );
    assert_eq!(header(None).to_string(), format!("{TRACE_ID}-{SPAN_ID}"));
}
