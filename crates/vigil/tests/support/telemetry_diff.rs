//! The parts of the `log` and `trace_metric` differentials against
//! sentry-python that are the same for both: reading the batched items
//! (D.1, D.5 of `protocol-telemetry.md`), the trace and span linkage of
//! each record, and its typed attributes. Included with
//! `#[path = "support/telemetry_diff.rs"] mod telemetry_diff;` next to
//! `python_sdk` (which it uses as `crate::python_sdk`) by `logs_python`
//! and `metrics_python`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::python_sdk::{SdkEnvelopes, is_hex};

/// Attributes whose key and type are compared but not their value (each
/// SDK's own name and version).
const SDK_VALUED: [&str; 2] = ["sentry.sdk.name", "sentry.sdk.version"];

/// Where a record of a scenario was captured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// Outside any span.
    Outside,
    /// In the transaction (its root span).
    Transaction,
    /// In the transaction's child span.
    Child,
}

/// One SDK's records of one batched item type, with the ids of the
/// scenario's transaction.
pub(crate) struct TelemetryRun {
    /// The SDK and its version, for messages.
    pub(crate) sdk: String,
    /// Whether this is sentry-python's run.
    pub(crate) python: bool,
    /// The records (logs, metrics), in the order they were sent.
    pub(crate) records: Vec<Value>,
    /// The headers of the items, without `length`.
    pub(crate) item_headers: Vec<BTreeMap<String, Value>>,
    /// The transaction's trace id.
    pub(crate) transaction_trace_id: String,
    /// The transaction's root span id.
    pub(crate) transaction_span_id: String,
    /// The child span's id.
    pub(crate) child_span_id: String,
}

/// Reads the `ty` items (content type `content_type`) and the one
/// transaction (with one child span) of a run, checking the envelope and
/// item rules on the way: at most one such item per envelope and no
/// `trace` header on its envelope, the content type, a payload of `items`
/// and an optional `version` 2, and an `item_count` that counts the items.
pub(crate) fn read_telemetry(run: &SdkEnvelopes, ty: &str, content_type: &str) -> TelemetryRun {
    let sdk = &run.sdk;
    let mut records = Vec::new();
    let mut item_headers = Vec::new();
    let mut transaction = None;
    for envelope in &run.envelopes {
        let count = envelope.items.iter().filter(|i| i.ty() == Some(ty)).count();
        if count > 0 {
            assert_eq!(count, 1, "{sdk}: one {ty} item per envelope");
            assert!(
                envelope.header.get("trace").is_none(),
                "{sdk}: a {ty} envelope carries no trace header: {}",
                envelope.header
            );
        }
        for item in &envelope.items {
            let payload = item.json(sdk);
            if item.ty() == Some(ty) {
                let mut header: BTreeMap<String, Value> = item
                    .header
                    .as_object()
                    .expect("an item header object")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                header.remove("length");
                assert_eq!(header["content_type"], content_type, "{sdk}");
                let object = payload.as_object().expect("a payload object");
                let keys: BTreeSet<&str> = object.keys().map(String::as_str).collect();
                assert!(
                    keys.iter().all(|k| ["items", "version"].contains(k)),
                    "{sdk}: {ty} payload keys {keys:?}"
                );
                if let Some(version) = object.get("version") {
                    assert_eq!(version, 2, "{sdk}: {ty} payload version");
                }
                let items = object["items"].as_array().expect("an items array");
                assert_eq!(
                    header["item_count"],
                    items.len(),
                    "{sdk}: item_count counts the {ty} records"
                );
                records.extend(items.iter().cloned());
                item_headers.push(header);
            } else if item.ty() == Some("transaction") {
                assert!(transaction.is_none(), "{sdk}: one transaction");
                transaction = Some(payload);
            }
        }
    }
    let transaction = transaction.unwrap_or_else(|| panic!("{sdk}: the transaction was not sent"));
    let text = |value: &Value| value.as_str().expect("an id string").to_owned();
    let trace = &transaction["contexts"]["trace"];
    let spans = transaction["spans"].as_array().expect("the spans");
    assert_eq!(spans.len(), 1, "{sdk}: one child span");
    TelemetryRun {
        sdk: sdk.clone(),
        python: run.is_python(),
        records,
        item_headers,
        transaction_trace_id: text(&trace["trace_id"]),
        transaction_span_id: text(&trace["span_id"]),
        child_span_id: text(&spans[0]["span_id"]),
    }
}

/// Checks that both runs sent items whose headers have the same keys and
/// values, `item_count` aside (it depends on how the records were
/// batched; [`read_telemetry`] checks it against the payload).
pub(crate) fn assert_same_item_headers(vigil: &TelemetryRun, python: &TelemetryRun) {
    let shape = |run: &TelemetryRun| -> Vec<(String, Value)> {
        let mut shape: Vec<(String, Value)> = run
            .item_headers
            .iter()
            .flat_map(|h| h.iter().filter(|(k, _)| *k != "item_count"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        shape.sort_by(|a, b| a.0.cmp(&b.0));
        shape.dedup();
        shape
    };
    for run in [vigil, python] {
        assert!(!run.item_headers.is_empty(), "{}: no item sent", run.sdk);
    }
    assert_eq!(
        shape(vigil),
        shape(python),
        "the item headers differ (item_count aside)"
    );
}

/// Checks the trace and span ids of every record against where the
/// scenario captured it (`places`, one per record): `trace_id` is 32 hex
/// digits, `span_id` 16; a record in the transaction carries its trace id
/// and root span id, one in the child span that span's id; records
/// outside carry no `span_id` and share one trace id, which is not the
/// transaction's (neither SDK makes a transaction continue the scope's
/// trace).
pub(crate) fn assert_linkage(run: &TelemetryRun, places: &[Place]) {
    let sdk = &run.sdk;
    assert_eq!(
        run.records.len(),
        places.len(),
        "{sdk}: every record of the scenario is sent: {:#?}",
        run.records
    );
    let outside: BTreeSet<&str> = places
        .iter()
        .zip(&run.records)
        .filter(|(place, _)| **place == Place::Outside)
        .map(|(_, record)| record["trace_id"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        outside.len(),
        1,
        "{sdk}: the records outside the transaction share one trace id"
    );
    let outside_trace_id = outside.first().copied().unwrap_or_default();
    assert_ne!(
        outside_trace_id, run.transaction_trace_id,
        "{sdk}: the transaction starts its own trace (as both SDKs do)"
    );
    for (index, (record, place)) in run.records.iter().zip(places).enumerate() {
        let trace_id = record["trace_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{sdk}: record {index} has no trace_id: {record}"));
        assert!(is_hex(trace_id, 32), "{sdk}: record {index}: {trace_id}");
        let span_id = record.get("span_id").map(|s| s.as_str().expect("a string"));
        if let Some(span_id) = span_id {
            assert!(is_hex(span_id, 16), "{sdk}: record {index}: {span_id}");
        }
        let (trace, span) = match place {
            Place::Outside => (outside_trace_id, None),
            Place::Transaction => (
                run.transaction_trace_id.as_str(),
                Some(run.transaction_span_id.as_str()),
            ),
            Place::Child => (
                run.transaction_trace_id.as_str(),
                Some(run.child_span_id.as_str()),
            ),
        };
        assert_eq!(trace_id, trace, "{sdk}: record {index} ({place:?})");
        assert_eq!(span_id, span, "{sdk}: record {index} ({place:?}): span_id");
    }
}

/// A record's top-level keys.
pub(crate) fn top_level_keys(run: &TelemetryRun, index: usize) -> BTreeSet<String> {
    run.records[index]
        .as_object()
        .unwrap_or_else(|| panic!("{}: record {index} is not an object", run.sdk))
        .keys()
        .cloned()
        .collect()
}

/// A record's attributes as `key → (type, value)`, with the value of
/// `sentry.sdk.name` and `sentry.sdk.version` blanked (`null`) and, in
/// sentry-python's run only, the keys of `python_only` left out (so a
/// Vigil that started sending one fails the comparison).
pub(crate) fn typed_attributes(
    run: &TelemetryRun,
    index: usize,
    python_only: &[&str],
) -> BTreeMap<String, (String, Value)> {
    let sdk = &run.sdk;
    let record = &run.records[index];
    let attributes = record["attributes"]
        .as_object()
        .unwrap_or_else(|| panic!("{sdk}: record {index} has no attributes: {record}"));
    attributes
        .iter()
        .filter(|(key, _)| !(run.python && python_only.contains(&key.as_str())))
        .map(|(key, typed)| {
            let ty = typed["type"]
                .as_str()
                .unwrap_or_else(|| panic!("{sdk}: untyped attribute {key}: {typed}"))
                .to_owned();
            let value = if SDK_VALUED.contains(&key.as_str()) {
                assert!(
                    typed["value"].as_str().is_some_and(|v| !v.is_empty()),
                    "{sdk}: {key} is a non-empty string"
                );
                Value::Null
            } else {
                typed["value"].clone()
            };
            (key.clone(), (ty, value))
        })
        .collect()
}
