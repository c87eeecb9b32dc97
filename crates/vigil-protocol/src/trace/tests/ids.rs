//! `TraceId` and `SpanId`: text, bytes, serde, randomness.

use std::collections::HashSet;

use serde_json::json;

use super::{SPAN_ID, TRACE_ID};
use crate::trace::error::TraceHeaderError;
use crate::trace::hex;
use crate::trace::span_id::SpanId;
use crate::trace::trace_id::TraceId;

#[test]
fn ids_round_trip_through_text_bytes_and_json() {
    let trace: TraceId = TRACE_ID.parse().unwrap();
    let span: SpanId = SPAN_ID.parse().unwrap();
    assert_eq!(trace.to_string(), TRACE_ID);
    assert_eq!(span.to_string(), SPAN_ID);
    assert_eq!(
        format!("{trace:?} {span:?}"),
        format!("TraceId({TRACE_ID}) SpanId({SPAN_ID})")
    );
    assert_eq!(trace.to_bytes()[..2], [0x77, 0x1a]);
    assert_eq!(
        span.to_bytes(),
        [0xb0, 0xe6, 0xf1, 0x5b, 0x45, 0xc3, 0x6b, 0x12]
    );
    assert_eq!(TraceId::from_bytes(trace.to_bytes()), Some(trace));
    assert_eq!(SpanId::from_bytes(span.to_bytes()), Some(span));
    assert_eq!(serde_json::to_value(trace).unwrap(), json!(TRACE_ID));
    assert_eq!(serde_json::to_value(span).unwrap(), json!(SPAN_ID));
    assert_eq!(
        serde_json::from_value::<TraceId>(json!(TRACE_ID)).unwrap(),
        trace
    );
    assert_eq!(
        serde_json::from_value::<SpanId>(json!(SPAN_ID)).unwrap(),
        span
    );
    for _ in 0..100 {
        let (trace, span) = (TraceId::new(), SpanId::new());
        assert_eq!(trace.to_string().parse(), Ok(trace));
        assert_eq!(span.to_string().parse(), Ok(span));
        let json = serde_json::to_string(&(trace, span)).unwrap();
        assert_eq!(
            serde_json::from_str::<(TraceId, SpanId)>(&json).unwrap(),
            (trace, span)
        );
    }
}

#[test]
fn all_zero_bytes_are_no_id() {
    assert_eq!(TraceId::from_bytes([0; 16]), None);
    assert_eq!(SpanId::from_bytes([0; 8]), None);
    assert!(TraceId::from_bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]).is_some());
    assert!(SpanId::from_bytes([1, 0, 0, 0, 0, 0, 0, 0]).is_some());
}

#[test]
fn parsing_text_is_strict() {
    let cases: [(&str, TraceHeaderError); 7] = [
        (
            "771A43A4192642F0B136D5159A501700",
            TraceHeaderError::InvalidTraceId,
        ),
        (
            "771a43a4192642f0b136d5159a50170",
            TraceHeaderError::InvalidTraceId,
        ),
        (
            "771a43a4192642f0b136d5159a5017000",
            TraceHeaderError::InvalidTraceId,
        ),
        (
            "771a43a4-1926-42f0-b136-d5159a501700",
            TraceHeaderError::InvalidTraceId,
        ),
        (
            "771a43a4192642f0b136d5159a50170g",
            TraceHeaderError::InvalidTraceId,
        ),
        (
            " 771a43a4192642f0b136d5159a501700",
            TraceHeaderError::InvalidTraceId,
        ),
        ("00000000000000000000000000000000", TraceHeaderError::ZeroId),
    ];
    for (text, error) in cases {
        assert_eq!(text.parse::<TraceId>(), Err(error), "{text:?}");
    }
    let cases: [(&str, TraceHeaderError); 6] = [
        ("B0E6F15B45C36B12", TraceHeaderError::InvalidSpanId),
        ("b0e6f15b45c36b1", TraceHeaderError::InvalidSpanId),
        ("b0e6f15b45c36b123", TraceHeaderError::InvalidSpanId),
        ("b0e6f15b45c36b1z", TraceHeaderError::InvalidSpanId),
        ("", TraceHeaderError::InvalidSpanId),
        ("0000000000000000", TraceHeaderError::ZeroId),
    ];
    for (text, error) in cases {
        assert_eq!(text.parse::<SpanId>(), Err(error), "{text:?}");
    }
}

#[test]
fn json_is_read_leniently_like_relay() {
    let trace: TraceId = TRACE_ID.parse().unwrap();
    for text in [
        "771A43A4192642F0B136D5159A501700",
        "771a43a4-1926-42f0-b136-d5159a501700",
        "771A43A4-1926-42F0-B136-D5159A501700",
    ] {
        assert_eq!(
            serde_json::from_value::<TraceId>(json!(text)).unwrap(),
            trace,
            "{text}"
        );
    }
    for text in [
        "771a43a41926-42f0-b136-d5159a501700-",
        "771a43a4-1926-42f0-b136d5159a5017000",
        "{771a43a4-1926-42f0-b136-d5159a501700}",
        "urn:uuid:771a43a4-1926-42f0-b136-d5159a501700",
        "00000000-0000-0000-0000-000000000000",
        "771a43a4192642f0",
        "",
    ] {
        assert!(
            serde_json::from_value::<TraceId>(json!(text)).is_err(),
            "{text}"
        );
    }
    assert!(serde_json::from_value::<TraceId>(json!(7)).is_err());
    let span: SpanId = SPAN_ID.parse().unwrap();
    assert_eq!(
        serde_json::from_value::<SpanId>(json!("B0E6F15B45C36B12")).unwrap(),
        span
    );
    for text in ["b0e6f15b-45c36b12", "b0e6f15b45c36b1", "0000000000000000"] {
        assert!(
            serde_json::from_value::<SpanId>(json!(text)).is_err(),
            "{text}"
        );
    }
}

#[test]
fn new_ids_are_random_and_default_is_new() {
    let traces: HashSet<TraceId> = (0..1000).map(|_| TraceId::default()).collect();
    let spans: HashSet<SpanId> = (0..1000).map(|_| SpanId::default()).collect();
    assert_eq!((traces.len(), spans.len()), (1000, 1000));
    // Every bit of a span id varies (a v4 UUID's half would fix some).
    let (ones, zeros) = spans.iter().fold((0u64, 0u64), |(ones, zeros), id| {
        let bits = u64::from_be_bytes(id.to_bytes());
        (ones | bits, zeros | !bits)
    });
    assert_eq!((ones, zeros), (u64::MAX, u64::MAX));
}

#[test]
fn ids_are_written_as_two_lowercase_hex_digits_per_byte() {
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next_byte = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng as u8
    };
    let expected = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    for _ in 0..1000 {
        let bytes: [u8; 16] = std::array::from_fn(|_| next_byte());
        let digits: [u8; 32] = hex::encode_array(&bytes);
        assert_eq!(std::str::from_utf8(&digits).unwrap(), expected(&bytes));
        // A length that is no multiple of 4 takes the byte-by-byte path too.
        let odd: [u8; 7] = std::array::from_fn(|_| next_byte());
        let digits: [u8; 14] = hex::encode_array(&odd);
        assert_eq!(std::str::from_utf8(&digits).unwrap(), expected(&odd));
    }
    let all: [u8; 16] = std::array::from_fn(|i| (i * 17) as u8);
    let digits: [u8; 32] = hex::encode_array(&all);
    assert_eq!(&digits, b"00112233445566778899aabbccddeeff");
}
