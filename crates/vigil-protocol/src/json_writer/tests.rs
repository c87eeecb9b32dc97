//! The hand-written writers against `serde_json` and the derived
//! `Serialize` impls: the same bytes, and counts that match what is
//! written (and what the size limits counted before).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use serde_json::Value;

use crate::Map;
use smol_str::SmolStr;

use super::{
    context_size, span_size, spans_size, transaction_size, write_envelope_headers,
    write_transaction,
};
use crate::context::{AppContext, Context, DeviceContext, OsContext, TraceContext};
use crate::envelope::EnvelopeHeaders;
use crate::limits::json_size::serialized_size;
use crate::request::Request;
use crate::sdk::{ClientSdkInfo, ClientSdkPackage};
use crate::span::Span;
use crate::trace::dynamic_sampling_context::DynamicSamplingContext;
use crate::trace::span_id::SpanId;
use crate::trace::span_status::SpanStatus;
use crate::trace::trace_id::TraceId;
use crate::transaction::Transaction;
use crate::transaction::source::{TransactionInfo, TransactionSource};
use crate::user::{Geo, User};

/// Whether generated JSON values may hold floats, which the count may
/// take as longer than written (their `Display` form).
#[derive(Clone, Copy, Debug)]
enum Floats {
    Allowed,
    Excluded,
}

/// Text with what needs escaping: quotes, backslashes, every control
/// character, non-ASCII, and runs long enough to cross the escape scan's
/// blocks.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z./ ]{0,12}",
        ".{0,24}",
        "[\\x00-\\x1f\"\\\\a-z\u{7f}é€😀]{0,40}",
        "[a-z]{10,60}[\"\\\\\n\\x00]?[a-z ]{0,40}",
    ]
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text())
}

/// Times from before 1970 to past 9999 (clamped when written), with and
/// without sub-microsecond parts.
fn time() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        (0u64..4_000_000_000_000_000, 0u32..1000).prop_map(|(micros, nanos)| UNIX_EPOCH
            + Duration::from_micros(micros)
            + Duration::from_nanos(u64::from(nanos))),
        (0u64..300_000_000_000_000_000)
            .prop_map(|micros| UNIX_EPOCH + Duration::from_micros(micros)),
        (1u64..70_000_000_000_000_000)
            .prop_map(|micros| UNIX_EPOCH - Duration::from_micros(micros)),
    ]
}

fn span_id() -> impl Strategy<Value = SpanId> {
    any::<[u8; 8]>().prop_filter_map("zero id", SpanId::from_bytes)
}

fn trace_id() -> impl Strategy<Value = TraceId> {
    any::<[u8; 16]>().prop_filter_map("zero id", TraceId::from_bytes)
}

fn status() -> impl Strategy<Value = Option<SpanStatus>> {
    const NAMES: [&str; 17] = [
        "ok",
        "cancelled",
        "unknown",
        "invalid_argument",
        "deadline_exceeded",
        "not_found",
        "already_exists",
        "permission_denied",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal_error",
        "unavailable",
        "data_loss",
        "unauthenticated",
    ];
    prop::option::of(prop::sample::select(&NAMES[..]).prop_map(|name| name.parse().unwrap()))
}

/// Free JSON, nested, with floats whose `Display` form is longer than their
/// JSON (`1e300`) when `floats` allows them.
fn json(floats: Floats) -> impl Strategy<Value = Value> {
    let number = match floats {
        Floats::Allowed => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            Just(Value::from(1.5e300)),
            Just(Value::from(0.1)),
        ]
        .boxed(),
        Floats::Excluded => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
        ]
        .boxed(),
    };
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number,
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_map(floats: Floats) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(text(), json(floats), 0..4).prop_map(|m| m.into_iter().collect())
}

fn string_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(text(), text(), 0..4)
}

fn span(floats: Floats) -> impl Strategy<Value = Span> {
    (
        (span_id(), trace_id(), prop::option::of(span_id())),
        (opt_text(), opt_text(), opt_text()),
        (time(), prop::option::of(time()), status()),
        (string_map(), json_map(floats)),
    )
        .prop_map(
            |(
                (span_id, trace_id, parent_span_id),
                (op, description, origin),
                (start_timestamp, timestamp, status),
                (tags, data),
            )| Span {
                span_id,
                trace_id,
                parent_span_id,
                op: op.map(SmolStr::from),
                description,
                start_timestamp,
                timestamp,
                status,
                tags,
                data,
                origin: origin.map(SmolStr::from),
            },
        )
}

fn trace_context(floats: Floats) -> impl Strategy<Value = TraceContext> {
    (
        (trace_id(), span_id(), prop::option::of(span_id()), status()),
        (opt_text(), opt_text(), opt_text(), json_map(floats)),
    )
        .prop_map(
            |((trace_id, span_id, parent_span_id, status), (op, description, origin, data))| {
                TraceContext {
                    trace_id,
                    span_id,
                    parent_span_id,
                    op: op.map(SmolStr::from),
                    description,
                    status,
                    origin: origin.map(SmolStr::from),
                    data,
                }
            },
        )
}

fn context(floats: Floats) -> impl Strategy<Value = Context> {
    prop_oneof![
        trace_context(floats).prop_map(Context::from),
        (opt_text(), opt_text(), json_map(floats)).prop_map(|(name, version, other)| {
            Context::from(OsContext {
                name,
                version,
                other,
                ..Default::default()
            })
        }),
        (
            opt_text(),
            prop::option::of(any::<u64>()),
            prop::option::of(time())
        )
            .prop_map(
                |(arch, memory_size, boot_time)| Context::from(DeviceContext {
                    arch,
                    memory_size,
                    boot_time,
                    ..Default::default()
                })
            ),
        (prop::option::of(time()), opt_text()).prop_map(|(app_start_time, app_name)| {
            Context::from(AppContext {
                app_start_time,
                app_name,
                ..Default::default()
            })
        }),
        json_map(floats).prop_map(Context::Other),
    ]
}

fn user(floats: Floats) -> impl Strategy<Value = Option<User>> {
    let geo = (opt_text(), opt_text(), opt_text()).prop_map(|(city, country_code, region)| Geo {
        city,
        country_code,
        region,
    });
    prop::option::of(
        (
            (opt_text(), opt_text(), opt_text(), opt_text()),
            prop::option::of(geo),
            json_map(floats),
            json_map(floats),
        )
            .prop_map(
                |((id, email, ip_address, username), geo, data, other)| User {
                    id,
                    email,
                    ip_address,
                    username,
                    geo,
                    data: data.into_iter().collect(),
                    // Not the name of a field: serde would write that key twice.
                    other: other
                        .into_iter()
                        .map(|(key, value)| (format!("x_{key}"), value))
                        .collect(),
                },
            ),
    )
}

fn request(floats: Floats) -> impl Strategy<Value = Option<Request>> {
    prop::option::of(
        (
            opt_text(),
            opt_text(),
            prop::option::of(json(floats)),
            string_map(),
        )
            .prop_map(|(url, method, data, headers)| Request {
                url,
                method,
                data,
                headers,
                ..Default::default()
            }),
    )
}

fn sdk() -> impl Strategy<Value = Option<ClientSdkInfo>> {
    let package = (text(), text()).prop_map(|(name, version)| ClientSdkPackage {
        name: name.into(),
        version: version.into(),
    });
    prop::option::of(
        (
            text(),
            text(),
            prop::collection::vec(text(), 0..3),
            prop::collection::vec(package, 0..3),
        )
            .prop_map(|(name, version, integrations, packages)| ClientSdkInfo {
                name: name.into(),
                version: version.into(),
                integrations: integrations.into_iter().map(Into::into).collect(),
                packages,
            }),
    )
}

fn transaction(floats: Floats) -> impl Strategy<Value = Transaction> {
    (
        (
            any::<u128>(),
            opt_text(),
            prop::option::of(prop::sample::select(&TransactionSource::ALL[..])),
            text(),
            time(),
            time(),
        ),
        (opt_text(), opt_text(), opt_text(), opt_text()),
        (user(floats), request(floats), sdk()),
        (
            prop::collection::btree_map(text(), text(), 0..4),
            prop::collection::btree_map(text(), json(floats), 0..3),
            prop::collection::btree_map(text(), context(floats), 0..3),
        ),
        prop::collection::vec(span(floats), 0..5),
    )
        .prop_map(
            |(
                (id, name, source, platform, start_timestamp, timestamp),
                (release, dist, environment, server_name),
                (user, request, sdk),
                (tags, extra, contexts),
                spans,
            )| Transaction {
                event_id: uuid::Uuid::from_u128(id).into(),
                name,
                transaction_info: source.map(|source| TransactionInfo { source }),
                platform,
                start_timestamp,
                timestamp,
                release,
                dist,
                environment,
                server_name,
                user,
                request,
                tags: tags
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
                extra,
                contexts,
                sdk,
                spans,
            },
        )
}

/// A DSC with names of the spec and others, values that need escaping.
fn dsc() -> impl Strategy<Value = DynamicSamplingContext> {
    let name = prop_oneof![
        Just("trace_id".to_owned()),
        Just("release".to_owned()),
        Just("sample_rand".to_owned()),
        text(),
    ];
    prop::collection::vec((name, text()), 0..6).prop_map(|entries| {
        let mut dsc = DynamicSamplingContext::new();
        for (name, value) in entries {
            dsc.set(name, value);
        }
        dsc
    })
}

fn envelope_headers() -> impl Strategy<Value = EnvelopeHeaders> {
    (
        (prop::option::of(any::<u128>()), opt_text(), sdk()),
        (
            prop::option::of(time()),
            prop::option::of(dsc()),
            json_map(Floats::Allowed),
        ),
    )
        .prop_map(
            |((event_id, dsn, sdk), (sent_at, trace, other))| EnvelopeHeaders {
                event_id: event_id.map(|id| uuid::Uuid::from_u128(id).into()),
                dsn,
                sdk,
                sent_at,
                trace: trace.map(Arc::new),
                other: other.into_iter().collect(),
            },
        )
}

/// The fast writer's bytes for `transaction`.
fn written(transaction: &Transaction) -> Vec<u8> {
    let mut out = Vec::new();
    write_transaction(transaction, &mut out).unwrap();
    out
}

/// Shows the two texts when they differ.
fn same_json(fast: &[u8], serde: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        String::from_utf8_lossy(fast),
        String::from_utf8_lossy(serde)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn transactions_are_written_as_serde_json_writes_them(t in transaction(Floats::Allowed)) {
        same_json(&written(&t), &serde_json::to_vec(&t).unwrap())?;
    }

    #[test]
    fn envelope_headers_are_written_as_serde_json_writes_them(headers in envelope_headers()) {
        let mut fast = Vec::new();
        write_envelope_headers(&headers, &mut fast).unwrap();
        same_json(&fast, &serde_json::to_vec(&headers).unwrap())?;
    }

    #[test]
    fn counts_are_what_the_limits_counted_and_never_less_than_written(
        t in transaction(Floats::Allowed)
    ) {
        let count = transaction_size(&t);
        prop_assert_eq!(count, serialized_size(&t));
        prop_assert!(count >= written(&t).len());
        prop_assert_eq!(spans_size(&t.spans), serialized_size(&t.spans));
        for span in &t.spans {
            prop_assert_eq!(span_size(span), serialized_size(span));
        }
        for context in t.contexts.values() {
            prop_assert_eq!(context_size(context), serialized_size(context));
        }
    }

    #[test]
    fn without_floats_the_count_is_the_written_length(t in transaction(Floats::Excluded)) {
        let bytes = written(&t);
        prop_assert_eq!(transaction_size(&t), bytes.len());
        prop_assert_eq!(spans_size(&t.spans), serde_json::to_vec(&t.spans).unwrap().len());
        for span in &t.spans {
            prop_assert_eq!(span_size(span), serde_json::to_vec(span).unwrap().len());
        }
        for context in t.contexts.values() {
            prop_assert_eq!(context_size(context), serde_json::to_vec(context).unwrap().len());
        }
    }
}

#[test]
fn a_default_transaction_and_span_are_written_as_serde_json_writes_them() {
    let transaction = Transaction {
        spans: vec![Span::default()],
        ..Default::default()
    };
    assert_eq!(
        written(&transaction),
        serde_json::to_vec(&transaction).unwrap()
    );
    assert_eq!(transaction_size(&transaction), written(&transaction).len());
}

mod event;
mod telemetry;
