//! [`Transaction`]: the payload of a `transaction` item, an event with
//! `"type": "transaction"` that carries a trace's spans
//! (`protocol-telemetry.md` A.1).

pub(crate) mod source;

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use smol_str::SmolStr;

use self::source::TransactionInfo;
use crate::context::Context;
use crate::event::{EventId, native};
use crate::request::Request;
use crate::sdk::ClientSdkInfo;
use crate::span::Span;
use crate::user::User;

/// A finished transaction: one unit of work (a request, a job) with the
/// timed [`Span`]s inside it, serialized exactly as Sentry's transaction
/// payload.
///
/// Build one with a struct literal and `..Default::default()`; the default
/// has a fresh random id, starts and ends now and has platform `native`.
/// The JSON always has `"type": "transaction"` and a `spans` list (maybe
/// `[]`); other empty fields are left out, and timestamps are RFC 3339
/// with microseconds (float seconds are read too).
///
/// Relay drops a transaction unless `contexts` holds a `trace` context
/// ([`TraceContext`](crate::TraceContext): the trace id and the
/// transaction's own span id, op and status) and `start_timestamp <=
/// timestamp` (for every span too). Reading JSON requires
/// `start_timestamp`, as Relay does; a missing `timestamp` reads as now
/// (Relay's own fix-up); `type` is not checked (the envelope item's type
/// says what the payload is).
///
/// ```
/// use vigil_protocol::{Context, TraceContext, Transaction, TransactionInfo, TransactionSource};
/// let trace = TraceContext { op: Some("http.server".into()), ..Default::default() };
/// let transaction = Transaction {
///     name: Some("GET /users/{id}".into()),
///     transaction_info: Some(TransactionInfo { source: TransactionSource::Route }),
///     contexts: [("trace".to_owned(), Context::from(trace))].into(),
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&transaction).unwrap();
/// assert_eq!(json["type"], "transaction");
/// assert_eq!(json["transaction"], "GET /users/{id}");
/// assert_eq!(json["transaction_info"]["source"], "route");
/// assert_eq!(json["spans"], serde_json::json!([]));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "transaction")]
pub struct Transaction {
    /// Unique id, also written in the envelope header.
    #[serde(default)]
    pub event_id: EventId,
    /// The transaction's name, e.g. `GET /users/{id}`.
    #[serde(
        rename = "transaction",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Where the name came from; always send it (Relay stores `unknown`
    /// otherwise, which dynamic sampling treats as a raw URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_info: Option<TransactionInfo>,
    /// The platform, `native` for Rust. Always written: Relay replaces a
    /// missing platform by `other`.
    #[serde(default = "native")]
    pub platform: String,
    /// When the transaction started (written as RFC 3339, which every
    /// reader of transactions accepts; sentry-types reads no float here).
    #[serde(with = "crate::time::rfc3339")]
    pub start_timestamp: SystemTime,
    /// When the transaction ended.
    #[serde(with = "crate::time::rfc3339", default = "SystemTime::now")]
    pub timestamp: SystemTime,
    /// The release, e.g. `my-app@1.2.3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The distribution of the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist: Option<String>,
    /// The environment, e.g. `production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The host name (personal data; only set when allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// The user the work was done for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The HTTP request, for a server transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// Searchable string tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<SmolStr, SmolStr>,
    /// Arbitrary extra data.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// Contexts keyed by name; must hold `trace`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contexts: BTreeMap<String, Context>,
    /// The SDK that produced the transaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<ClientSdkInfo>,
    /// The finished spans, in any order. Always written, maybe `[]`.
    #[serde(default)]
    pub spans: Vec<Span>,
}

impl Default for Transaction {
    /// A transaction with a fresh id that starts and ends now, without
    /// contexts or spans.
    fn default() -> Transaction {
        let now = SystemTime::now();
        Transaction {
            event_id: EventId::new(),
            name: None,
            transaction_info: None,
            platform: native(),
            start_timestamp: now,
            timestamp: now,
            release: None,
            dist: None,
            environment: None,
            server_name: None,
            user: None,
            request: None,
            tags: BTreeMap::new(),
            extra: BTreeMap::new(),
            contexts: BTreeMap::new(),
            sdk: None,
            spans: Vec::new(),
        }
    }
}
