//! `baggage` and the DSC (B.2): reading, writing, merging, hostile input.

use serde_json::{Value, json};

use super::TRACE_ID;
use crate::trace::dynamic_sampling_context::DynamicSamplingContext;
use crate::trace::error::TraceHeaderError;

/// The example of `protocol-telemetry.md` B.2.
const EXAMPLE: &str = "other-vendor=foo,sentry-trace_id=771a43a4192642f0b136d5159a501700,\
    sentry-public_key=49d0f7386ad645858ae85020e393bef3,sentry-sample_rate=0.25,\
    sentry-sample_rand=0.123456,sentry-sampled=true,sentry-environment=prod,\
    sentry-release=upstream%401.0,sentry-transaction=GET%20%2Fapi,sentry-org_id=42";

const EXAMPLE_ENTRIES: [(&str, &str); 9] = [
    ("trace_id", TRACE_ID),
    ("public_key", "49d0f7386ad645858ae85020e393bef3"),
    ("sample_rate", "0.25"),
    ("sample_rand", "0.123456"),
    ("sampled", "true"),
    ("environment", "prod"),
    ("release", "upstream@1.0"),
    ("transaction", "GET /api"),
    ("org_id", "42"),
];

fn dsc(entries: &[(&str, &str)]) -> DynamicSamplingContext {
    let mut dsc = DynamicSamplingContext::new();
    for (name, value) in entries {
        dsc.set(*name, *value);
    }
    dsc
}

#[test]
fn the_example_header_reads_into_exactly_its_sentry_entries() {
    let parsed = DynamicSamplingContext::from_baggage(EXAMPLE).unwrap();
    assert_eq!(parsed.iter().collect::<Vec<_>>(), EXAMPLE_ENTRIES);
    assert_eq!(parsed.get("other-vendor"), None);
    assert_eq!(parsed.trace_id().unwrap().to_string(), TRACE_ID);
    assert_eq!(parsed.sample_rate(), Some(0.25));
    assert_eq!(parsed.sample_rand(), Some(0.123456));
    assert_eq!(parsed.sampled(), Some(true));
    assert_eq!(parsed.org_id(), Some("42"));

    let written = parsed.to_baggage();
    assert!(
        written.contains("sentry-release=upstream%401.0"),
        "{written}"
    );
    assert!(
        written.contains("sentry-transaction=GET%20%2Fapi"),
        "{written}"
    );
    assert!(!written.contains("other-vendor"), "{written}");
    assert_eq!(DynamicSamplingContext::from_baggage(&written), Ok(parsed));
}

#[test]
fn the_envelope_header_holds_every_entry_as_a_string() {
    let parsed = DynamicSamplingContext::from_baggage(EXAMPLE).unwrap();
    let header = parsed.to_header_json();
    assert_eq!(header.len(), EXAMPLE_ENTRIES.len());
    for (name, value) in EXAMPLE_ENTRIES {
        assert_eq!(header[name], Value::from(value), "{name}");
    }
    assert_eq!(header["sample_rate"], json!("0.25"));
    assert!(DynamicSamplingContext::new().to_header_json().is_empty());
}

#[test]
fn the_envelope_header_is_written_in_entry_order_and_read_back() {
    let parsed = DynamicSamplingContext::from_baggage(EXAMPLE).unwrap();
    let written = serde_json::to_string(&parsed).unwrap();
    let expected: Vec<String> = EXAMPLE_ENTRIES
        .iter()
        .map(|(name, value)| format!("{}:{}", json!(name), json!(value)))
        .collect();
    assert_eq!(written, format!("{{{}}}", expected.join(",")));
    let read: DynamicSamplingContext = serde_json::from_str(&written).unwrap();
    assert_eq!(read, parsed);
    assert_eq!(read.to_header_json(), parsed.to_header_json());
}

#[test]
fn a_header_from_another_sdk_is_read_as_text() {
    let text = format!(
        r#"{{"trace_id":"{TRACE_ID}","sampled":true,"sample_rate":0.25,"replay_id":null,"nested":{{"a":1}},"custom":"kept"}}"#
    );
    let read: DynamicSamplingContext = serde_json::from_str(&text).unwrap();
    let entries: Vec<(&str, &str)> = read.iter().collect();
    assert_eq!(
        entries,
        [
            ("trace_id", TRACE_ID),
            ("sampled", "true"),
            ("sample_rate", "0.25"),
            ("custom", "kept"),
        ]
    );
    assert_eq!(read.sampled(), Some(true));
    assert!(serde_json::from_value::<DynamicSamplingContext>(json!("text")).is_err());
}

#[test]
fn members_are_read_leniently_but_exactly() {
    let cases: [(&str, &[(&str, &str)]); 9] = [
        ("", &[]),
        ("other=1,more=2", &[]),
        (
            " sentry-a = 1 ;prop=x ; other , sentry-b=2\t",
            &[("a", "1"), ("b", "2")],
        ),
        ("sentry-a=1;p1;p2=v", &[("a", "1")]),
        ("sentry-a-b=1", &[("a-b", "1")]),
        ("sentry-a%20b=%E2%9C%93", &[("a b", "✓")]),
        (",, sentry-a=1,,novalue,sentry-b,=x", &[("a", "1")]),
        ("sentry-a=,sentry-b=x=y", &[("a", ""), ("b", "x=y")]),
        (
            "sentry-a=100%,Sentry-b=1,sentry-=e",
            &[("a", "100%"), ("", "e")],
        ),
    ];
    for (header, entries) in cases {
        assert_eq!(
            DynamicSamplingContext::from_baggage(header),
            Ok(dsc(entries)),
            "{header:?}"
        );
    }
}

#[test]
fn hostile_headers_are_rejected() {
    let many = (0..65)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    let sixty_four = (0..64)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join(",");
    assert!(DynamicSamplingContext::from_baggage(&sixty_four).is_ok());
    let cases = [
        (
            "a".repeat(100 * 1024),
            TraceHeaderError::TooLong { limit: 8192 },
        ),
        (
            format!("sentry-a={}", "x".repeat(8184)),
            TraceHeaderError::TooLong { limit: 8192 },
        ),
        (many, TraceHeaderError::TooManyMembers { limit: 64 }),
        (
            "sentry-a=1,b=2,sentry-a=1".to_owned(),
            TraceHeaderError::DuplicateEntry,
        ),
        (
            "sentry-a_b=1,sentry-a%5Fb=2".to_owned(),
            TraceHeaderError::DuplicateEntry,
        ),
        ("sentry-a=%FF".to_owned(), TraceHeaderError::InvalidUtf8),
        ("sentry-%C3=1".to_owned(), TraceHeaderError::InvalidUtf8),
    ];
    for (header, error) in cases {
        let shown: String = header.chars().take(60).collect();
        assert_eq!(
            DynamicSamplingContext::from_baggage(&header),
            Err(error),
            "{shown:?}"
        );
    }
    // Not 8193 bytes: exactly at the limit is read.
    let at_limit = format!("sentry-a={}", "x".repeat(8183));
    assert_eq!(at_limit.len(), 8192);
    assert!(DynamicSamplingContext::from_baggage(&at_limit).is_ok());
    // Other vendors' values are never decoded, so they cannot fail.
    assert_eq!(
        DynamicSamplingContext::from_baggage("a=%FF,a=1"),
        Ok(dsc(&[]))
    );
}

#[test]
fn names_and_values_are_percent_encoded() {
    let written = dsc(&[
        ("release", "upstream@1.0"),
        ("transaction", "GET /api"),
        ("odd", "a,b;c=d%e\"f\\g\u{1}h\u{7f}-._~"),
        ("é x", "ü"),
    ])
    .to_baggage();
    assert_eq!(
        written,
        "sentry-release=upstream%401.0,sentry-transaction=GET%20%2Fapi,\
         sentry-odd=a%2Cb%3Bc%3Dd%25e%22f%5Cg%01h%7F-._~,sentry-%C3%A9%20x=%C3%BC"
    );
    assert_eq!(DynamicSamplingContext::new().to_baggage(), "");
}

#[test]
fn merging_keeps_other_vendors_and_replaces_sentry_members() {
    let ours = dsc(&[("trace_id", TRACE_ID), ("sampled", "true")]);
    let sentry = format!("sentry-trace_id={TRACE_ID},sentry-sampled=true");
    assert_eq!(
        ours.merge_into_baggage(Some("a=1,sentry-trace_id=old,b=2")),
        format!("a=1,b=2,{sentry}")
    );
    assert_eq!(ours.merge_into_baggage(None), sentry);
    assert_eq!(ours.merge_into_baggage(Some(" , ")), sentry);
    assert_eq!(
        ours.merge_into_baggage(Some(" a=1;p , sentry-x=y,\tb = 2 ")),
        format!("a=1;p,b = 2,{sentry}")
    );
    let empty = DynamicSamplingContext::new();
    assert_eq!(empty.merge_into_baggage(Some("a=1,sentry-x=y")), "a=1");
    assert_eq!(empty.merge_into_baggage(None), "");
}

#[test]
fn the_map_keeps_order_and_replaces_in_place() {
    let mut map = dsc(&[("a", "1"), ("b", "2"), ("c", "3")]);
    assert!(!map.is_empty());
    map.set("a", "10");
    assert_eq!(
        map.iter().collect::<Vec<_>>(),
        [("a", "10"), ("b", "2"), ("c", "3")]
    );
    assert_eq!(map.remove("b"), Some("2".to_owned()));
    assert_eq!(map.remove("b"), None);
    map.set("b", "20");
    assert_eq!(
        map.iter().collect::<Vec<_>>(),
        [("a", "10"), ("c", "3"), ("b", "20")]
    );
    assert_ne!(map, dsc(&[("a", "10"), ("b", "20"), ("c", "3")]));
    assert!(DynamicSamplingContext::new().is_empty());
}

#[test]
fn typed_getters_accept_only_valid_values() {
    let get = |name: &str, value: &str| dsc(&[(name, value)]);
    for (text, rand) in [
        ("0", Some(0.0)),
        ("0.999999", Some(0.999999)),
        ("0.5", Some(0.5)),
        ("1.0", None),
        ("1", None),
        ("-0.1", None),
        ("NaN", None),
        ("inf", None),
        ("abc", None),
        ("", None),
    ] {
        assert_eq!(get("sample_rand", text).sample_rand(), rand, "{text:?}");
    }
    for (text, rate) in [
        ("1", Some(1.0)),
        ("0", Some(0.0)),
        ("0.0001", Some(0.0001)),
        ("1.5", None),
        ("-0.5", None),
        ("NaN", None),
        ("x", None),
    ] {
        assert_eq!(get("sample_rate", text).sample_rate(), rate, "{text:?}");
    }
    for (text, sampled) in [
        ("true", Some(true)),
        ("false", Some(false)),
        ("1", None),
        ("True", None),
    ] {
        assert_eq!(get("sampled", text).sampled(), sampled, "{text:?}");
    }
    assert!(
        get("trace_id", &TRACE_ID.to_uppercase())
            .trace_id()
            .is_some()
    );
    assert!(
        get("trace_id", "771a43a4-1926-42f0-b136-d5159a501700")
            .trace_id()
            .is_some()
    );
    assert_eq!(get("trace_id", "nope").trace_id(), None);
    assert_eq!(get("trace_id", &"0".repeat(32)).trace_id(), None);
    let empty = DynamicSamplingContext::new();
    assert_eq!(
        (
            empty.trace_id(),
            empty.sample_rate(),
            empty.sample_rand(),
            empty.sampled(),
            empty.org_id()
        ),
        (None, None, None, None, None)
    );
}
