//! Sentry Relay's own normalizer (`shared/interop/relay-validate.py
//! --strict`) over transactions passed through `limits::fit_transaction`:
//! it must neither trim nor reject anything.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::json;
use vigil_protocol::limits::{self, MAX_EVENT_SIZE};
use vigil_protocol::{
    ClientSdkInfo, Context, Envelope, Geo, Map, OsContext, Request, Span, SpanId, SpanStatus,
    TraceContext, Transaction, TransactionInfo, TransactionSource, User, Value,
};

use crate::fixtures::{now_seconds, object};
use crate::relay::{assert_relay_accepts, relay_validator};
use crate::transaction::a7_transaction;

const TRACE_ID: &str = "771a43a4192642f0b136d5159a501700";
const UPSTREAM_SPAN_ID: &str = "b0e6f15b45c36b12";

fn long(n: usize) -> String {
    "x".repeat(n)
}

/// A transaction of the last few seconds with a trace context, as the SDK
/// builds one: `end` is a second ago.
fn base(name: &str, source: TransactionSource) -> Transaction {
    let end = now_seconds() - Duration::from_secs(1);
    Transaction {
        name: Some(name.into()),
        transaction_info: Some(TransactionInfo { source }),
        start_timestamp: end - Duration::from_secs(2),
        timestamp: end,
        contexts: BTreeMap::from([(
            "trace".to_owned(),
            Context::from(TraceContext {
                trace_id: TRACE_ID.parse().unwrap(),
                op: Some("http.server".into()),
                status: Some(SpanStatus::Ok),
                origin: Some("auto.http.axum".into()),
                ..Default::default()
            }),
        )]),
        ..Default::default()
    }
}

fn own_span_id(transaction: &Transaction) -> SpanId {
    match &transaction.contexts["trace"] {
        Context::Trace(trace) => trace.span_id,
        other => panic!("{other:?}"),
    }
}

/// `n` finished spans inside the transaction: the first is a child of the
/// transaction, each next one a child of the one before.
fn spans(transaction: &Transaction, n: usize) -> Vec<Span> {
    let statuses = [
        SpanStatus::Ok,
        SpanStatus::NotFound,
        SpanStatus::InternalError,
        SpanStatus::DeadlineExceeded,
        SpanStatus::Unknown,
    ];
    let mut parent = own_span_id(transaction);
    (0..n)
        .map(|i| {
            let start = transaction.start_timestamp + Duration::from_millis(10 * i as u64);
            let span = Span {
                trace_id: TRACE_ID.parse().unwrap(),
                parent_span_id: Some(parent),
                op: Some(["db.query", "http.client", "cache.get_item"][i % 3].into()),
                description: Some(format!("SELECT * FROM t{i} WHERE id = $1")),
                start_timestamp: start,
                timestamp: Some(start + Duration::from_millis(5)),
                status: Some(statuses[i % statuses.len()]),
                tags: BTreeMap::from([("shard".to_owned(), format!("{}", i % 4))]),
                data: object(json!({"db.system": "postgresql", "rows": i, "ok": true})),
                origin: Some(if i % 2 == 0 { "manual" } else { "auto.db.sqlx" }.into()),
                ..Default::default()
            };
            parent = span.span_id;
            span
        })
        .collect()
}

fn minimal() -> Transaction {
    let end = now_seconds() - Duration::from_secs(1);
    Transaction {
        start_timestamp: end - Duration::from_millis(1500),
        timestamp: end,
        contexts: BTreeMap::from([("trace".to_owned(), Context::from(TraceContext::default()))]),
        ..Default::default()
    }
}

fn with_spans() -> Transaction {
    let mut transaction = base("GET /users/{id}", TransactionSource::Route);
    transaction.spans = spans(&transaction, 25);
    transaction
}

/// Continues an upstream trace: the trace context's parent is the
/// upstream span, the envelope carries the upstream DSC.
fn continued() -> Transaction {
    let mut transaction = base("process-invoice", TransactionSource::Task);
    if let Some(Context::Trace(trace)) = transaction.contexts.get_mut("trace") {
        trace.parent_span_id = Some(UPSTREAM_SPAN_ID.parse().unwrap());
        trace.op = Some("queue.process".into());
        trace.origin = Some("manual".into());
    }
    transaction.spans = spans(&transaction, 3);
    transaction
}

fn with_request_user_and_tags() -> Transaction {
    // A raw path without ids: Relay rewrites ids in `url` names (`/users/42`
    // becomes `/users/*`, source `sanitized`), which is its job, not ours.
    let mut transaction = base("/api/health", TransactionSource::Url);
    transaction.release = Some("app@1.2.3".into());
    transaction.dist = Some("42".into());
    transaction.environment = Some("production".into());
    transaction.server_name = Some("web-1".into());
    transaction.request = Some(Request {
        url: Some("https://example.com/api/health".into()),
        method: Some("GET".into()),
        query_string: Some("page=2&sort=asc".into()),
        headers: BTreeMap::from([
            ("Accept".into(), "application/json".into()),
            ("User-Agent".into(), "curl/8.5.0".into()),
        ]),
        ..Default::default()
    });
    transaction.user = Some(User {
        id: Some("42".into()),
        email: Some("jane@example.com".into()),
        ip_address: Some("{{auto}}".into()),
        username: Some("jane".into()),
        geo: Some(Geo {
            city: Some("Berlin".into()),
            country_code: Some("DE".into()),
            region: Some("Berlin".into()),
        }),
        data: BTreeMap::from([("plan".into(), json!("pro"))]),
        other: BTreeMap::from([("team".into(), json!("payments"))]),
    });
    transaction.tags = BTreeMap::from([
        ("region".into(), "eu-west-1".into()),
        ("http.status_code".into(), "200".into()),
    ]);
    transaction.extra = BTreeMap::from([("attempt".into(), json!(1))]);
    transaction.contexts.insert(
        "os".into(),
        Context::from(OsContext {
            name: Some("Linux".into()),
            version: Some("6.1".into()),
            ..Default::default()
        }),
    );
    transaction.sdk = Some(ClientSdkInfo {
        name: "vigil.rust".into(),
        version: "0.1.0".into(),
        ..Default::default()
    });
    transaction.spans = spans(&transaction, 4);
    transaction
}

/// Every limit at once, in the transaction and its spans.
fn hostile() -> Transaction {
    let mut transaction = base(&format!("  {}  ", long(500)), TransactionSource::Custom);
    transaction.release = Some(format!("app@{}", long(500)));
    transaction.environment = Some(format!("env-{}", "é".repeat(100)));
    transaction.tags = (0..50)
        .map(|i| {
            (
                format!("tag {i}/x").into(),
                format!("v\n{}", long(300)).into(),
            )
        })
        .collect();
    transaction.extra = (0..40)
        .map(|i| (format!("k{i}"), json!(long(20_000))))
        .collect();
    if let Some(Context::Trace(trace)) = transaction.contexts.get_mut("trace") {
        trace.op = Some(long(300).into());
        trace.origin = Some("auto http".into());
    }
    let mut spans = spans(&transaction, 10);
    for span in &mut spans {
        span.op = Some(long(300).into());
        span.origin = Some(format!("{} bad", long(300)).into());
        span.description = Some("d".repeat(5000));
        span.tags.insert("long".into(), long(1000));
        span.data = (0..30)
            .map(|i| (format!("k{i}"), json!(long(20_000))))
            .chain([("floats".to_owned(), json!(vec![1.5e300; 50]))])
            .collect::<Map<String, Value>>();
    }
    transaction.spans = spans;
    transaction
}

/// Over 1 MiB: needs span data and then spans shed.
fn oversized() -> Transaction {
    let mut transaction = base("GET /export", TransactionSource::Route);
    let mut spans = spans(&transaction, 3000);
    for span in &mut spans {
        span.description = Some(format!("{}{}", span.description.take().unwrap(), long(900)));
        span.data.insert("blob".into(), json!(long(1000)));
    }
    transaction.spans = spans;
    transaction
}

/// Fits like the SDK does; fitting is idempotent. Returns the dropped
/// span count.
fn fit(transaction: &mut Transaction) -> u64 {
    let dropped = limits::fit_transaction(transaction);
    let mut again = transaction.clone();
    assert_eq!(limits::fit_transaction(&mut again), 0);
    assert_eq!(&again, transaction, "a second fit_transaction changed it");
    assert!(serde_json::to_vec(&*transaction).unwrap().len() <= MAX_EVENT_SIZE);
    dropped
}

fn envelope_for(mut transaction: Transaction) -> Envelope {
    fit(&mut transaction);
    let trace_header = json!({
        "trace_id": TRACE_ID,
        "public_key": "49d0f7386ad645858ae85020e393bef3",
        "sample_rate": "0.25",
        "sample_rand": "0.123456",
        "sampled": "true",
        "environment": "production",
        "release": "app@1.2.3",
        "transaction": transaction.name.clone().unwrap_or_default(),
    });
    let mut envelope = Envelope::from_transaction(transaction);
    envelope.headers_mut().sent_at = Some(SystemTime::now());
    envelope.headers_mut().trace = Some(std::sync::Arc::new(
        serde_json::from_value(trace_header).expect("a DSC object"),
    ));
    envelope
}

#[test]
fn relay_neither_trims_nor_rejects_fitted_transactions() {
    let Some(validator) = relay_validator() else {
        return;
    };
    let mut shed = oversized();
    let dropped = fit(&mut shed);
    assert!(dropped > 0, "the oversized case must drop spans");
    let a7 = a7_transaction(now_seconds() - Duration::from_secs(1));
    let cases = [
        ("minimal", envelope_for(minimal())),
        ("a7", envelope_for(a7)),
        ("with_spans", envelope_for(with_spans())),
        ("continued", envelope_for(continued())),
        (
            "request_user_tags",
            envelope_for(with_request_user_and_tags()),
        ),
        ("hostile", envelope_for(hostile())),
        ("oversized", envelope_for(shed)),
    ]
    .map(|(name, envelope)| (name.to_owned(), envelope));
    assert_relay_accepts(&validator, "relay-transactions", &cases);
}
