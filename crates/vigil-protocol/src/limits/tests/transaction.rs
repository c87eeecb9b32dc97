//! Fitting a transaction: field limits, span limits, and shedding span
//! data, then the oldest spans, to fit 1 MiB.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::Map;

use super::{assert_cut, chars, long};
use crate::context::{Context, TraceContext};
use crate::limits::{MAX_EVENT_SIZE, fit_transaction};
use crate::span::Span;
use crate::trace::span_id::SpanId;
use crate::transaction::Transaction;

const SPANS: usize = 3000;

fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_714_564_800)
}

fn size(transaction: &Transaction) -> usize {
    serde_json::to_vec(transaction).unwrap().len()
}

/// The size of the `spans` list; Relay keeps 800 KiB of it.
fn spans_size(transaction: &Transaction) -> usize {
    serde_json::to_vec(&transaction.spans).unwrap().len()
}

const SPANS_BYTES: usize = 800 * 1024;

fn transaction(spans: Vec<Span>) -> Transaction {
    Transaction {
        name: Some("GET /users/{id}".into()),
        start_timestamp: start(),
        timestamp: start() + Duration::from_secs(10),
        contexts: BTreeMap::from([(
            "trace".to_owned(),
            Context::from(TraceContext {
                op: Some("http.server".into()),
                ..Default::default()
            }),
        )]),
        spans,
        ..Default::default()
    }
}

/// `SPANS` spans with about 1 KB of data each and a description of
/// `description` characters, listed in a shuffled order of start times
/// (the `n`-th span starts `n * 7919 % SPANS` ms after the transaction).
fn spans_with_data(description: usize) -> Vec<Span> {
    (0..SPANS)
        .map(|n| {
            let order = n * 7919 % SPANS;
            Span {
                op: Some("db.query".into()),
                description: Some(format!("{order:04}{}", long(description))),
                start_timestamp: start() + Duration::from_millis(order as u64),
                timestamp: Some(start() + Duration::from_millis(order as u64 + 1)),
                data: Map::from_iter([("db.statement".to_owned(), json!(long(1000)))]),
                ..Default::default()
            }
        })
        .collect()
}

/// The span ids of `spans`, oldest first.
fn ids_oldest_first(spans: &[Span]) -> Vec<SpanId> {
    let mut spans: Vec<&Span> = spans.iter().collect();
    spans.sort_by_key(|s| s.start_timestamp);
    spans.iter().map(|s| s.span_id).collect()
}

#[test]
fn a_small_transaction_is_untouched() {
    let spans = (0..20)
        .map(|i| Span {
            op: Some("db.query".into()),
            description: Some(format!("SELECT {i}")),
            origin: Some("auto.db.sqlx".into()),
            tags: BTreeMap::from([("db.name".into(), "users".into())]),
            data: Map::from_iter([("db.system".to_owned(), json!("postgresql"))]),
            ..Default::default()
        })
        .collect();
    let mut small = transaction(spans);
    let before = small.clone();
    assert_eq!(fit_transaction(&mut small), 0);
    assert_eq!(small, before);
}

#[test]
fn span_fields_are_limited() {
    let mut fitted = transaction(vec![Span {
        op: Some(long(300).into()),
        description: Some(long(2000)),
        origin: Some("auto.http axum".into()),
        tags: BTreeMap::from([("k".into(), long(500)), ("short".into(), "v".into())]),
        data: (0..40)
            .map(|i| (format!("k{i:02}"), json!(long(20_000))))
            .chain([(
                "deep".to_owned(),
                json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}),
            )])
            .collect(),
        ..Default::default()
    }]);
    assert_eq!(fit_transaction(&mut fitted), 0);
    let span = &fitted.spans[0];
    assert_cut(span.op.as_ref().unwrap(), 128);
    assert_cut(span.description.as_ref().unwrap(), 1024);
    assert_eq!(span.origin, None);
    assert_cut(&span.tags["k"], 200);
    assert_eq!(span.tags["short"], "v");
    // The `extra` budget: 16 KiB per value, 256 KiB in all, depth 7.
    let data = serde_json::to_vec(&span.data).unwrap().len();
    assert!(data <= 256 * 1024, "{data}");
    for (key, value) in &span.data {
        let len = serde_json::to_vec(value).unwrap().len();
        assert!(len <= 16 * 1024, "{key}: {len}");
    }
    assert!(span.data["deep"]["a"]["b"]["c"]["d"]["e"].is_string());
}

#[test]
fn transaction_fields_are_limited_like_an_event() {
    let mut fitted = Transaction {
        name: Some(format!("  {}  ", long(500))),
        release: Some("latest".into()),
        environment: Some("prod/eu".into()),
        tags: [("user name".into(), "a\nb".into())].into(),
        extra: (0..40)
            .map(|i| (format!("k{i}"), json!(long(20_000))))
            .collect(),
        contexts: BTreeMap::from([(
            "trace".to_owned(),
            Context::from(TraceContext {
                op: Some(long(300).into()),
                origin: Some("manual!".into()),
                ..Default::default()
            }),
        )]),
        ..transaction(Vec::new())
    };
    assert_eq!(fit_transaction(&mut fitted), 0);
    assert_cut(fitted.name.as_ref().unwrap(), 200);
    assert!(fitted.name.as_ref().unwrap().starts_with('x'));
    assert_eq!(fitted.release, None);
    assert_eq!(fitted.environment, None);
    assert_eq!(fitted.tags["user-name"], "a b");
    assert!(serde_json::to_vec(&fitted.extra).unwrap().len() <= 256 * 1024);
    let Context::Trace(trace) = &fitted.contexts["trace"] else {
        panic!("{:?}", fitted.contexts)
    };
    assert_cut(trace.op.as_ref().unwrap(), 128);
    assert_eq!(trace.origin, None);
}

#[test]
fn span_data_is_shed_oldest_first_before_any_span() {
    let mut big = transaction(spans_with_data(0));
    let oldest_first = ids_oldest_first(&big.spans);
    assert!(size(&big) > 3 * MAX_EVENT_SIZE, "{}", size(&big));
    assert_eq!(fit_transaction(&mut big), 0);
    assert_eq!(big.spans.len(), SPANS);
    assert!(size(&big) <= MAX_EVENT_SIZE, "{}", size(&big));
    assert!(spans_size(&big) <= SPANS_BYTES, "{}", spans_size(&big));
    // The spans that kept their data are the newest ones.
    let with_data: Vec<bool> = oldest_first
        .iter()
        .map(|id| {
            !big.spans
                .iter()
                .find(|s| s.span_id == *id)
                .unwrap()
                .data
                .is_empty()
        })
        .collect();
    let first_kept = with_data.iter().position(|&kept| kept).unwrap();
    assert!(with_data[first_kept..].iter().all(|&kept| kept));
    assert!(first_kept > 0 && first_kept < SPANS);
}

#[test]
fn the_oldest_spans_are_dropped_and_counted_exactly() {
    let mut big = transaction(spans_with_data(1000));
    let original = big.clone();
    let listed: Vec<SpanId> = big.spans.iter().map(|s| s.span_id).collect();
    let oldest_first = ids_oldest_first(&big.spans);
    let dropped = fit_transaction(&mut big);

    assert!(size(&big) <= MAX_EVENT_SIZE, "{}", size(&big));
    assert!(spans_size(&big) <= SPANS_BYTES, "{}", spans_size(&big));
    assert!(dropped > 0 && (dropped as usize) < SPANS, "{dropped}");
    assert_eq!(big.spans.len(), SPANS - dropped as usize);
    assert!(big.spans.iter().all(|s| s.data.is_empty()));
    // Exactly the oldest `dropped` spans are gone; the rest keep their
    // list order.
    let (gone, kept) = oldest_first.split_at(dropped as usize);
    let expected: Vec<SpanId> = listed
        .iter()
        .copied()
        .filter(|id| kept.contains(id))
        .collect();
    let left: Vec<SpanId> = big.spans.iter().map(|s| s.span_id).collect();
    assert_eq!(left, expected);
    // And no more than needed: the newest dropped span does not fit.
    let newest_gone = gone.last().unwrap();
    let mut one_more = big.clone();
    let mut span = original
        .spans
        .iter()
        .find(|s| s.span_id == *newest_gone)
        .unwrap()
        .clone();
    span.data.clear();
    one_more.spans.push(span);
    assert!(
        spans_size(&one_more) > SPANS_BYTES,
        "{}",
        spans_size(&one_more)
    );

    // Fitting again changes nothing.
    let again = big.clone();
    assert_eq!(fit_transaction(&mut big), 0);
    assert_eq!(big, again);
}

#[test]
fn the_whole_item_must_fit_one_mib_too() {
    // 400 KB of tags, so the spans get what is left of 1 MiB (less than
    // the 800 KiB Relay keeps of the list).
    let mut big = Transaction {
        tags: (0..2000)
            .map(|i| (format!("tag{i}").into(), long(190).into()))
            .collect(),
        ..transaction(spans_with_data(1000))
    };
    let dropped = fit_transaction(&mut big);
    assert!(size(&big) <= MAX_EVENT_SIZE, "{}", size(&big));
    assert!(
        spans_size(&big) < SPANS_BYTES - 100_000,
        "{}",
        spans_size(&big)
    );
    assert_eq!(big.spans.len(), SPANS - dropped as usize);
    let mut one_more = big.clone();
    one_more.spans.push(one_more.spans[0].clone());
    assert!(size(&one_more) > MAX_EVENT_SIZE, "{}", size(&one_more));
}

#[test]
fn a_transaction_too_large_without_spans_is_left_as_it_is() {
    let mut tags = BTreeMap::new();
    for i in 0..6000 {
        tags.insert(format!("tag{i}").into(), long(190).into());
    }
    let mut huge = Transaction {
        tags,
        ..transaction(spans_with_data(0))
    };
    let dropped = fit_transaction(&mut huge);
    assert_eq!(dropped as usize, SPANS);
    assert!(huge.spans.is_empty());
    assert!(size(&huge) > MAX_EVENT_SIZE);
    assert_eq!(chars(huge.tags["tag0"].as_str()), 190);
    assert!(matches!(
        serde_json::to_value(&huge).unwrap()["spans"],
        Value::Array(ref spans) if spans.is_empty()
    ));
}
