//! The event scrubber against Sentry's own rules: events and a
//! transaction carrying secrets in every place a service puts data
//! (scope extra, contexts, user, breadcrumbs, request, `tracing` fields
//! and spans, span data) are run through Relay's default data scrubbing
//! (`sentry_relay.pii_strip_event`, `tests/python/pii_oracle.py`).
//!
//! With Vigil's defaults Relay finds nothing left that its key and cookie
//! rules would filter; with the scrubber turned off it finds every one of
//! the planted secrets (so the oracle can fail, and the scrubber is what
//! makes it pass).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use self::tools_python::tools_python;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;
use vigil::protocol::{Envelope, Request};
use vigil::{
    Breadcrumb, ClientOptions, Event, EventScrubber, Hub, Level, Scope, TransactionContext,
    Transport, TransportContext, User,
};

#[path = "support/tools_python.rs"]
mod tools_python;

/// Keeps envelopes in memory; hands them to the suite's oracle dump only
/// when asked (an unscrubbed run must not reach it).
#[derive(Debug, Default)]
struct Keep {
    envelopes: Mutex<Vec<Envelope>>,
    dump: Option<vigil::test::TestTransport>,
}

impl Transport for Keep {
    fn send_envelope(&self, envelope: Envelope) {
        if let Some(dump) = &self.dump {
            dump.send_envelope(envelope.clone());
        }
        self.envelopes.lock().unwrap().push(envelope);
    }
}

/// The keys of the planted secrets, each one Relay's defaults filter by
/// its name. (The `access_token` in the breadcrumb URL is a query value:
/// Relay replaces the whole URL because of it, scrubbed or not, so it is
/// checked by value below.)
const PLANTED: &[&str] = &[
    "db_password",
    "api_key",
    "card_token",
    "reset_token",
    "X-Api-Key",
    "sessionid",
    "client_secret",
    "upstream_auth",
    "span_secret",
    "db.password",
];

/// Runs the scenario under a client with `scrubber`; returns what it sent.
fn scenario(scrubber: Option<EventScrubber>, dump: bool) -> Vec<Envelope> {
    let keep = Arc::new(Keep {
        dump: dump.then(Default::default),
        ..Default::default()
    });
    let for_factory = keep.clone();
    let options = ClientOptions {
        dsn: Some(vigil::test::TEST_DSN.parse().unwrap()),
        release: Some("scrubbing@1.0.0".into()),
        traces_sample_rate: 1.0,
        default_integrations: false,
        auto_session_tracking: false,
        event_scrubber: scrubber,
        ..ClientOptions::new()
            .transport(move |_: &TransportContext<'_>| for_factory.clone() as Arc<dyn Transport>)
    };
    let client = Arc::new(vigil::Client::new(options));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::default())));
    Hub::run(hub, || {
        vigil::configure_scope(|scope| {
            scope.set_extra("db_password", "hunter2".into());
            scope.set_extra(
                "nested",
                json!({"deeper": [{"api_key": "k-123"}], "order": 7}),
            );
            let mut payment = serde_json::Map::new();
            payment.insert("card_token".into(), "tok_visa".into());
            payment.insert("plan".into(), "pro".into());
            scope.set_context("payment", payment);
            scope.set_user(Some(User {
                id: Some("42".into()),
                ip_address: Some("10.1.2.3".into()),
                data: [("reset_token".to_owned(), Value::from("r-1"))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            }));
        });
        vigil::add_breadcrumb(Breadcrumb {
            category: Some("http".into()),
            data: [(
                "url".to_owned(),
                Value::from("https://api.example.com/v1/items?access_token=abc&page=2"),
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        });
        vigil::capture_event(Event {
            message: Some("login failed".into()),
            level: Level::Error,
            request: Some(Request {
                url: Some("https://example.com/login".into()),
                method: Some("POST".into()),
                query_string: Some("next=/home&client_secret=s3".into()),
                data: Some(json!({"username": "ann", "password": "p"})),
                cookies: Some("theme=dark; sessionid=abc".into()),
                headers: [
                    ("X-Api-Key".to_owned(), "k-456".to_owned()),
                    ("Accept".to_owned(), "*/*".to_owned()),
                ]
                .into_iter()
                .collect(),
                ..Default::default()
            }),
            ..Default::default()
        });
        // A `tracing` error with fields, inside a span with fields: the
        // fields become `extra`, the span's its context.
        let subscriber = tracing_subscriber::registry().with(vigil::tracing::layer());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("charge", span_secret = "s-789", amount = 10);
            let _entered = span.enter();
            tracing::error!(upstream_auth = "Basic abc", status = 502, "payment failed");
        });
        let transaction = vigil::start_transaction(TransactionContext::new("checkout", "task"));
        let child = transaction.start_child("db.query", "SELECT 1");
        child.set_data("db.password", "p".into());
        child.set_data("url", "https://db.example.com/?sig=abc&x=1".into());
        child.set_data("rows", 1.into());
        child.finish();
        transaction.finish();
    });
    client.flush(None);
    std::mem::take(&mut *keep.envelopes.lock().unwrap())
}

/// The planted secret values; none may appear in what the default
/// scrubber lets through.
const SECRET_VALUES: &[&str] = &[
    "hunter2",
    "k-123",
    "tok_visa",
    "r-1\"",
    "s-789",
    "Basic abc",
    "k-456",
    "client_secret=s3",
    "access_token=abc",
    "sessionid=abc",
    "sig=abc",
    "10.1.2.3",
    "\"password\":\"p\"",
];

/// Every envelope as text, for value checks.
fn text_of(envelopes: &[Envelope]) -> String {
    envelopes
        .iter()
        .map(|e| String::from_utf8_lossy(&e.to_vec().unwrap()).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the oracle over `envelopes`; returns its summary.
fn relay_oracle(python: &str, envelopes: &[Envelope]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    for (i, envelope) in envelopes.iter().enumerate() {
        let path: PathBuf = dir.path().join(format!("{i}.envelope"));
        std::fs::write(path, envelope.to_vec().unwrap()).unwrap();
    }
    let oracle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/pii_oracle.py");
    let out = Command::new(python)
        .arg(oracle)
        .arg(dir.path())
        .output()
        .expect("the oracle runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "the oracle printed no summary ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn violated_keys(summary: &Value) -> Vec<String> {
    let mut keys: Vec<String> = summary["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["key"].as_str().unwrap_or("").to_owned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[test]
fn relay_finds_nothing_left_that_the_default_scrubber_covers() {
    let Some(python) = tools_python("the Relay data-scrubbing oracle") else {
        return;
    };
    let scrubbed = scenario(Some(EventScrubber::default()), true);
    // Two events (the captured one, the `tracing` error) and two
    // transactions (the `charge` span is a root span, so its own
    // transaction; `checkout` with its child).
    assert_eq!(scrubbed.len(), 4, "two events and two transactions");
    let summary = relay_oracle(&python, &scrubbed);
    println!("scrubbed: {summary}");
    assert_eq!(summary["events"], 2);
    assert_eq!(summary["transactions"], 2);
    assert_eq!(
        summary["violation_count"], 0,
        "Relay still filtered by key or cookie name: {:#}",
        summary["violations"]
    );
    assert!(summary["vigil_filtered_values"].as_u64().unwrap() >= PLANTED.len() as u64);
    let text = text_of(&scrubbed);
    for secret in SECRET_VALUES {
        assert!(!text.contains(secret), "{secret} was sent: {text}");
    }
    assert!(text.contains("items?access_token=[Filtered]&page=2"));

    let unscrubbed = scenario(None, false);
    let summary = relay_oracle(&python, &unscrubbed);
    println!("unscrubbed: {summary}");
    let text = text_of(&unscrubbed);
    for secret in SECRET_VALUES
        .iter()
        .filter(|s| !["10.1.2.3", "client_secret=s3", "sessionid=abc"].contains(s))
    {
        assert!(text.contains(secret), "{secret} is planted: {text}");
    }
    let keys = violated_keys(&summary);
    for planted in PLANTED {
        assert!(
            keys.iter().any(|k| k == planted),
            "Relay should find {planted} in the unscrubbed payloads; it found {keys:?}"
        );
    }
}
