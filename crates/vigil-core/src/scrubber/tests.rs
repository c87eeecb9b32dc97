use std::collections::BTreeMap;

use serde_json::{Value, json};
use vigil_protocol::{Breadcrumb, Breadcrumbs, Context, Event, Request, Span, Transaction, User};

use super::EventScrubber;

fn object(value: Value) -> vigil_protocol::Map<String, Value> {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        _ => panic!("an object"),
    }
}

fn tree(value: Value) -> BTreeMap<String, Value> {
    object(value).into_iter().collect()
}

#[test]
fn keys_by_part_by_whole_name_and_by_pii() {
    let s = EventScrubber::new();
    for key in [
        "password",
        "DB_PASSWORD",
        "apiKey",
        "x-api-key",
        "private-key",
        "my_token",
        "tokens_used",
        "Authorization",
        "author",
        "client_secret",
        "credentials",
        "sessionid",
        "PHPSESSID",
        "csrf-token",
        "connect.sid",
        "OTP",
        "two-factor",
        "set-cookie",
    ] {
        assert!(s.is_sensitive_key(key, true), "{key}");
    }
    for key in [
        "order_id",
        "user",
        "email",
        "otp_sent_at",
        "session_count",
        "key",
        "id",
    ] {
        assert!(!s.is_sensitive_key(key, false), "{key}");
    }
    for key in ["ip_address", "REMOTE_ADDR", "X-Forwarded-For", "x_real_ip"] {
        assert!(s.is_sensitive_key(key, false), "{key} without pii");
    }
    for key in ["ip_address", "REMOTE_ADDR", "x_real_ip"] {
        assert!(!s.is_sensitive_key(key, true), "{key} with pii");
    }
    let long = format!("{}_token", "a".repeat(100));
    assert!(s.is_sensitive_key(&long, true));
    let long_plain = "b".repeat(100);
    assert!(!s.is_sensitive_key(&long_plain, true));
}

#[test]
fn lists_can_be_replaced_extended_and_emptied() {
    let custom = EventScrubber::new()
        .extend_denylist(["Customer-SSN"])
        .extend_key_parts(["iban"]);
    assert!(custom.is_sensitive_key("customer_ssn", true));
    assert!(custom.is_sensitive_key("payout_IBAN", true));
    assert!(custom.is_sensitive_key("password", true));

    let only = EventScrubber::new()
        .with_key_parts(Vec::<String>::new())
        .with_denylist(["pin"])
        .with_pii_denylist(Vec::<String>::new());
    assert!(only.is_sensitive_key("PIN", false));
    assert!(!only.is_sensitive_key("password", false));
    assert!(!only.is_sensitive_key("ip_address", false));
}

/// Every location the docs name, nested values included; what is not
/// sensitive is left exactly as it was.
#[test]
fn an_event_is_filtered_everywhere_the_docs_say() {
    let mut event = Event::new();
    event.extra = tree(json!({
        "password": "hunter2",
        "nested": {"deeper": [{"api_key": "k", "fine": 1}], "order": 7},
        "count": 3,
        "callback": "https://u:p@example.com/cb?code=abc&page=2",
    }));
    event.contexts.insert(
        "billing".into(),
        Context::Other(object(json!({"card_token": "t", "plan": "pro"}))),
    );
    let crumb = Breadcrumb {
        data: tree(json!({"url": "https://example.com/?token=abc", "auth": {"user": "x"}})),
        ..Default::default()
    };
    event.breadcrumbs.push(crumb);
    event.request = Some(Request {
        url: Some("https://example.com/login?password=p&next=/".into()),
        query_string: Some("password=p&next=/".into()),
        data: Some(json!({"username": "ann", "password": "p"})),
        cookies: Some("theme=dark; sessionid=abc".into()),
        headers: [
            ("X-Api-Key".to_owned(), "k".to_owned()),
            ("Cookie".to_owned(), "sessionid=abc; lang=en".to_owned()),
            ("Accept".to_owned(), "*/*".to_owned()),
        ]
        .into_iter()
        .collect(),
        env: [
            ("REMOTE_ADDR".to_owned(), "10.0.0.1".to_owned()),
            ("SECRET_KEY".to_owned(), "s".to_owned()),
            ("PATH".to_owned(), "/bin".to_owned()),
        ]
        .into_iter()
        .collect(),
        ..Default::default()
    });
    event.user = Some(User {
        id: Some("42".into()),
        ip_address: Some("10.0.0.1".into()),
        data: tree(json!({"reset_token": "r", "plan": "pro"})),
        ..Default::default()
    });
    event.transaction = Some("GET /search?token=abc&q=rust".into());
    event
        .tags
        .insert("password".into(), "tags are not touched".into());

    EventScrubber::new().scrub_event(&mut event, false);

    assert_eq!(
        Value::Object(event.extra.clone().into_iter().collect()),
        json!({
            "password": "[Filtered]",
            "nested": {"deeper": [{"api_key": "[Filtered]", "fine": 1}], "order": 7},
            "count": 3,
            "callback": "https://u:p@example.com/cb?code=abc&page=2",
        }),
        "only URL-named keys have their URL filtered"
    );
    let Context::Other(billing) = &event.contexts["billing"] else {
        panic!("an other context");
    };
    assert_eq!(
        Value::from_iter(billing.clone()),
        json!({"card_token": "[Filtered]", "plan": "pro"})
    );
    let crumb = event.breadcrumbs.get(0).unwrap();
    assert_eq!(crumb.data["url"], "https://example.com/?token=[Filtered]");
    assert_eq!(crumb.data["auth"], "[Filtered]");
    let request = event.request.as_ref().unwrap();
    assert_eq!(
        request.url.as_deref(),
        Some("https://example.com/login?password=[Filtered]&next=/")
    );
    assert_eq!(
        request.query_string.as_deref(),
        Some("password=[Filtered]&next=/")
    );
    assert_eq!(
        request.data,
        Some(json!({"username": "ann", "password": "[Filtered]"}))
    );
    assert_eq!(
        request.cookies.as_deref(),
        Some("theme=dark; sessionid=[Filtered]")
    );
    assert_eq!(request.headers["X-Api-Key"], "[Filtered]");
    assert_eq!(request.headers["Cookie"], "sessionid=[Filtered]; lang=en");
    assert_eq!(request.headers["Accept"], "*/*");
    assert_eq!(request.env["REMOTE_ADDR"], "[Filtered]");
    assert_eq!(request.env["SECRET_KEY"], "[Filtered]");
    assert_eq!(request.env["PATH"], "/bin");
    let user = event.user.as_ref().unwrap();
    assert_eq!(
        user.ip_address, None,
        "no IP address without send_default_pii"
    );
    assert_eq!(user.id.as_deref(), Some("42"));
    assert_eq!(
        Value::Object(user.data.clone().into_iter().collect()),
        json!({"reset_token": "[Filtered]", "plan": "pro"})
    );
    assert_eq!(
        event.transaction.as_deref(),
        Some("GET /search?token=[Filtered]&q=rust")
    );
    assert_eq!(event.tags["password"], "tags are not touched");
}

#[test]
fn send_default_pii_keeps_the_address_but_not_the_secrets() {
    let mut event = Event::new();
    event.user = Some(User {
        ip_address: Some("10.0.0.1".into()),
        ..Default::default()
    });
    event.extra = tree(json!({"remote_addr": "10.0.0.1", "token": "t"}));
    EventScrubber::new().scrub_event(&mut event, true);
    assert_eq!(event.user.unwrap().ip_address.as_deref(), Some("10.0.0.1"));
    assert_eq!(event.extra["remote_addr"], "10.0.0.1");
    assert_eq!(event.extra["token"], "[Filtered]");
}

#[test]
fn a_transaction_has_its_spans_and_trace_data_filtered() {
    let mut transaction = Transaction::default();
    let span = Span {
        data: object(json!({"db.password": "p", "url": "https://x/?sig=1&a=2", "rows": 3})),
        ..Default::default()
    };
    transaction.spans.push(span);
    let trace = vigil_protocol::TraceContext {
        data: object(json!({"session": "s", "thread.id": 1})),
        ..Default::default()
    };
    transaction.contexts.insert("trace".into(), trace.into());
    transaction.name = Some("/cb?code=secret".into());

    EventScrubber::new().scrub_transaction(&mut transaction, false);

    assert_eq!(
        Value::from_iter(transaction.spans[0].data.clone()),
        json!({"db.password": "[Filtered]", "url": "https://x/?sig=[Filtered]&a=2", "rows": 3})
    );
    let Context::Trace(trace) = &transaction.contexts["trace"] else {
        panic!("a trace context");
    };
    assert_eq!(
        Value::from_iter(trace.data.clone()),
        json!({"session": "[Filtered]", "thread.id": 1})
    );
    assert_eq!(transaction.name.as_deref(), Some("/cb?code=[Filtered]"));
}

/// Breadcrumbs shared with a scope are copied only when one of them
/// changes, and only that one.
#[test]
fn shared_breadcrumbs_are_copied_only_when_changed() {
    let clean = Breadcrumb {
        data: tree(json!({"status": 200})),
        ..Default::default()
    };
    let secret = Breadcrumb {
        data: tree(json!({"token": "t"})),
        ..Default::default()
    };

    let mut scope_list = Breadcrumbs::new();
    scope_list.push(clean.clone());
    let mut event_list = scope_list.clone();
    let mut event = Event::new();
    event.breadcrumbs = event_list.clone();
    EventScrubber::new().scrub_event(&mut event, false);
    assert!(
        event.breadcrumbs.shares_storage_with(&scope_list),
        "nothing to filter: still shared"
    );

    event_list.push(secret);
    let mut event = Event::new();
    event.breadcrumbs = event_list.clone();
    EventScrubber::new().scrub_event(&mut event, false);
    assert_eq!(
        event.breadcrumbs.get(1).unwrap().data["token"],
        "[Filtered]"
    );
    assert_eq!(
        event_list.get(1).unwrap().data["token"],
        "t",
        "the scope's copy is untouched"
    );
}

#[test]
fn filtering_twice_changes_nothing_more() {
    let mut event = Event::new();
    event.extra = tree(json!({"password": "p", "list": [{"secret": "s"}]}));
    event.request = Some(Request {
        cookies: Some("garbage".into()),
        headers: [("Set-Cookie".to_owned(), "sid=1; Path=/".to_owned())]
            .into_iter()
            .collect(),
        ..Default::default()
    });
    let scrubber = EventScrubber::new();
    scrubber.scrub_event(&mut event, false);
    let once = serde_json::to_value(&event).unwrap();
    scrubber.scrub_event(&mut event, false);
    assert_eq!(serde_json::to_value(&event).unwrap(), once);
    let request = event.request.unwrap();
    assert_eq!(
        request.cookies.as_deref(),
        Some("[Filtered]"),
        "an unparsable cookie string goes whole"
    );
    assert_eq!(request.headers["Set-Cookie"], "sid=[Filtered]; Path=/");
}

#[test]
fn depth_is_bounded() {
    let mut value = json!({"password": "p"});
    for _ in 0..200 {
        value = json!({ "n": value });
    }
    let mut event = Event::new();
    event.extra.insert("deep".into(), value);
    EventScrubber::new().scrub_event(&mut event, false);
}
