//! Request data and header filtering (protocol.md §7.4).

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use tower::ServiceExt;
use vigil_core::ClientOptions;
use vigil_core::protocol::{Event, Level, Request};
use vigil_tower::VigilLayer;

use crate::support::{capture, capture_default, capturing_handler};

const CLIENT: &str = "203.0.113.9:5555";

/// A request carrying every kind of header the filter distinguishes.
fn request_with_headers() -> http::Request<Body> {
    let mut request = http::Request::get("http://user:pw@example.com/h/1?a=1&token=x")
        .header("authorization", "Bearer x")
        .header("proxy-authorization", "Basic y")
        .header("x-api-key", "k")
        .header("x-csrftoken", "t")
        .header("x-xsrf-token", "t")
        .header("x-my-session-thing", "s")
        .header("x-sid", "s")
        .header("x-identity", "i")
        .header("x-jwt-assertion", "j")
        .header("x-saml", "s")
        .header("x-sso", "s")
        .header("x-secret", "s")
        .header("x-password", "p")
        .header("x-passwd", "p")
        .header("x-pwd", "p")
        .header("x-bearer", "b")
        .header("x-credentials", "c")
        .header("cookie", "theme=dark; sessionid=abc")
        .header("cookie", "csrftoken=zzz")
        .header("x-forwarded-for", "203.0.113.9, 10.0.0.1")
        .header("x-real-ip", "203.0.113.9")
        .header("forwarded", "for=203.0.113.9")
        .header("x-forwarded-user", "alice")
        .header("x-forwarded-email", "alice@example.com")
        .header("x-amzn-oidc-identity", "alice")
        .header("x-ms-client-principal-name", "alice@example.com")
        .header("cf-connecting-ip", "203.0.113.9")
        .header(
            "referer",
            "https://example.com/search?q=alice&reset_token=r1",
        )
        .header("user-agent", "test/1.0")
        .header("accept", "text/html")
        .header("accept", "application/json")
        .body(Body::empty())
        .expect("a request");
    let addr: SocketAddr = CLIENT.parse().expect("an address");
    #[cfg(feature = "axum")]
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    #[cfg(not(feature = "axum"))]
    request.extensions_mut().insert(addr);
    request
}

fn run(options: ClientOptions) -> Event {
    let events = capture(options, async {
        let app = Router::new()
            .route("/h/{id}", get(capturing_handler))
            .layer(VigilLayer::new());
        let response = app
            .oneshot(request_with_headers())
            .await
            .expect("a response");
        assert_eq!(response.status(), 200);
    });
    assert_eq!(events.len(), 1);
    events.into_iter().next().expect("one event")
}

const ALWAYS_FILTERED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "x-csrftoken",
    "x-xsrf-token",
    "x-my-session-thing",
    "x-sid",
    "x-identity",
    "x-jwt-assertion",
    "x-saml",
    "x-sso",
    "x-secret",
    "x-password",
    "x-passwd",
    "x-pwd",
    "x-bearer",
    "x-credentials",
];

fn assert_common(request: &Request) {
    assert_eq!(request.method.as_deref(), Some("GET"));
    assert_eq!(
        request.url.as_deref(),
        Some("http://[Filtered]:[Filtered]@example.com/h/1")
    );
    // The value of a sensitive parameter, whatever send_default_pii says.
    assert_eq!(
        request.query_string.as_deref(),
        Some("a=1&token=[Filtered]")
    );
    assert_eq!(request.data, None, "bodies are never read");
    for name in ALWAYS_FILTERED {
        assert_eq!(request.headers[*name], "[Filtered]", "{name}");
    }
    assert_eq!(request.headers["user-agent"], "test/1.0");
    assert_eq!(request.headers["accept"], "text/html, application/json");
}

#[test]
fn without_send_default_pii() {
    let event = run(ClientOptions::default());
    let request = event.request.expect("request data");
    assert_common(&request);
    for name in [
        "cookie",
        "x-forwarded-for",
        "x-real-ip",
        "forwarded",
        "x-forwarded-user",
        "x-forwarded-email",
        "x-amzn-oidc-identity",
        "x-ms-client-principal-name",
        "cf-connecting-ip",
    ] {
        assert_eq!(request.headers[name], "[Filtered]", "{name}");
    }
    assert_eq!(
        request.headers["referer"],
        "https://example.com/search?q=[Filtered]&reset_token=[Filtered]"
    );
    assert_eq!(request.cookies, None);
    assert!(
        request.env.is_empty(),
        "no client address: {:?}",
        request.env
    );
}

#[test]
fn with_send_default_pii() {
    let event = run(ClientOptions {
        send_default_pii: true,
        ..ClientOptions::default()
    });
    let request = event.request.expect("request data");
    assert_common(&request);
    let cookies = "theme=dark; sessionid=[Filtered]; csrftoken=[Filtered]";
    assert_eq!(request.headers["cookie"], cookies);
    assert_eq!(request.cookies.as_deref(), Some(cookies));
    assert_eq!(request.headers["x-forwarded-for"], "203.0.113.9, 10.0.0.1");
    assert_eq!(request.headers["x-real-ip"], "203.0.113.9");
    assert_eq!(request.headers["forwarded"], "for=203.0.113.9");
    assert_eq!(request.headers["x-forwarded-email"], "alice@example.com");
    assert_eq!(
        request.headers["referer"],
        "https://example.com/search?q=alice&reset_token=[Filtered]"
    );
    assert_eq!(request.env["REMOTE_ADDR"], "203.0.113.9");
}

#[test]
fn unparsable_cookie_is_filtered_whole_even_with_pii() {
    let events = capture(
        ClientOptions {
            send_default_pii: true,
            ..ClientOptions::default()
        },
        async {
            let app = Router::new()
                .route("/", get(capturing_handler))
                .layer(VigilLayer::new());
            let request = http::Request::get("/")
                .header("cookie", "not a cookie")
                .body(Body::empty())
                .expect("a request");
            app.oneshot(request).await.expect("a response");
        },
    );
    let request = events[0].request.as_ref().expect("request data");
    assert_eq!(request.headers["cookie"], "[Filtered]");
    // Not `cookies: "[Filtered]"`: Relay rejects cookies that do not parse.
    assert_eq!(request.cookies, None);
}

#[test]
fn host_header_gives_the_url_host() {
    let events = capture_default(async {
        let app = Router::new()
            .route("/path", get(capturing_handler))
            .layer(VigilLayer::new());
        let request = http::Request::get("/path?q=1")
            .header("host", "api.example.com:8443")
            .body(Body::empty())
            .expect("a request");
        app.oneshot(request).await.expect("a response");
    });
    let request = events[0].request.as_ref().expect("request data");
    assert_eq!(
        request.url.as_deref(),
        Some("http://api.example.com:8443/path")
    );
    assert_eq!(request.query_string.as_deref(), Some("q=1"));
    assert_eq!(request.headers["host"], "api.example.com:8443");
}

#[test]
fn request_set_on_the_event_is_kept() {
    async fn handler() -> &'static str {
        let mut event = vigil_core::protocol::Event::from_message("explicit", Level::Info);
        event.request = Some(Request {
            url: Some("https://mine.example/".into()),
            ..Request::default()
        });
        vigil_core::capture_event(event);
        "ok"
    }
    let events = capture_default(async {
        let app = Router::new()
            .route("/", get(handler))
            .layer(VigilLayer::new());
        app.oneshot(crate::support::get("http://example.com/?x=1"))
            .await
            .expect("a response");
    });
    let request = events[0].request.as_ref().expect("request data");
    assert_eq!(request.url.as_deref(), Some("https://mine.example/"));
    assert!(request.headers.is_empty());
}

#[test]
fn no_host_means_no_url() {
    // Only possible in-process: HTTP/1.1 and HTTP/2 requests name a host.
    let events = capture_default(async {
        let app = Router::new()
            .route("/p", get(capturing_handler))
            .layer(VigilLayer::new());
        let request = http::Request::get("/p?q=1")
            .body(Body::empty())
            .expect("a request");
        app.oneshot(request).await.expect("a response");
    });
    let request = events[0].request.as_ref().expect("request data");
    assert_eq!(request.url, None);
    assert_eq!(request.method.as_deref(), Some("GET"));
    assert_eq!(request.query_string.as_deref(), Some("q=1"));
}
