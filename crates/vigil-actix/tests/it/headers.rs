//! Request data and its personal-data rules: without and with
//! `send_default_pii`, and, header for header, the same request data as
//! `vigil-tower`'s layer produces for the same request (the differential
//! test that keeps the two integrations' rules equal).

use std::convert::Infallible;
use std::net::SocketAddr;

use actix_web::test as atest;
use actix_web::{App, HttpResponse, web};
use serde_json::{Value, json};
use tower::{Layer, ServiceExt, service_fn};
use vigil_actix::VigilMiddleware;
use vigil_core::ClientOptions;
use vigil_core::protocol::Level;

use crate::support::{block_on, envelopes, events_json};

const CLIENT: &str = "203.0.113.9:5555";

/// Every kind of header the rules distinguish, several sent twice.
const HEADERS: &[(&str, &str)] = &[
    ("authorization", "Bearer x"),
    ("proxy-authorization", "Basic y"),
    ("x-api-key", "k"),
    ("x-csrftoken", "t"),
    ("x-xsrf-token", "t"),
    ("x-my-session-thing", "s"),
    ("x-sid", "s"),
    ("x-identity", "i"),
    ("x-jwt-assertion", "j"),
    ("x-saml", "s"),
    ("x-sso", "s"),
    ("x-secret", "s"),
    ("x-password", "p"),
    ("x-passwd", "p"),
    ("x-pwd", "p"),
    ("x-bearer", "b"),
    ("x-credentials", "c"),
    ("cookie", "theme=dark; sessionid=abc"),
    ("cookie", "csrftoken=zzz"),
    ("set-cookie", "sid=1; Path=/; HttpOnly"),
    ("set-cookie", "lang=en"),
    ("x-forwarded-for", "203.0.113.9, 10.0.0.1"),
    ("x-real-ip", "203.0.113.9"),
    ("forwarded", "for=203.0.113.9"),
    ("cf-connecting-ip", "203.0.113.9"),
    ("cf-connecting-ipv6", "2001:db8::1"),
    ("true-client-ip", "203.0.113.9"),
    ("x-client-ip", "203.0.113.9"),
    ("x-cluster-client-ip", "203.0.113.9"),
    ("fastly-client-ip", "203.0.113.9"),
    ("x-original-forwarded-for", "203.0.113.9"),
    ("x-envoy-external-address", "203.0.113.9"),
    ("x-appengine-user-ip", "203.0.113.9"),
    ("x-azure-clientip", "203.0.113.9"),
    ("x-forwarded-user", "alice"),
    ("x-forwarded-email", "alice@example.com"),
    ("x-forwarded-preferred-username", "alice"),
    ("x-forwarded-groups", "admins"),
    ("remote-user", "alice"),
    ("x-remote-user", "alice"),
    ("x-amzn-oidc-identity", "alice"),
    ("x-amzn-oidc-data", "eyJ"),
    ("x-ms-client-principal-name", "alice@example.com"),
    ("x-ms-client-principal", "e30="),
    // Near misses: sent as they are.
    ("x-forwarded-proto", "https"),
    ("x-forwarded-host", "shop.example.com"),
    ("via", "1.1 proxy"),
    ("x-request-id", "r-1"),
    (
        "referer",
        "https://example.com/search?q=alice&reset_token=r1",
    ),
    ("user-agent", "test/1.0"),
    ("accept", "text/html"),
    ("accept", "application/json"),
];

const URI: &str = "http://user:pw@example.com/h/1?a=1&token=x";

/// The request data of the one event an actix app with
/// `VigilMiddleware` captured for the request of [`HEADERS`].
fn actix_request_data(options: ClientOptions) -> Value {
    let envelopes = envelopes(options, || async {
        let app = atest::init_service(App::new().wrap(VigilMiddleware::new()).route(
            "/h/{id}",
            web::get().to(|| async {
                vigil_core::capture_message("in handler", Level::Info);
                HttpResponse::Ok().finish()
            }),
        ))
        .await;
        let mut request = atest::TestRequest::get()
            .uri(URI)
            .peer_addr(CLIENT.parse().expect("an address"));
        for (name, value) in HEADERS {
            request = request.append_header((*name, *value));
        }
        let response = atest::call_service(&app, request.to_request()).await;
        assert_eq!(response.status(), 200);
    });
    let events = events_json(&envelopes);
    assert_eq!(events.len(), 1);
    events[0]["request"].clone()
}

/// The request data of the one event a tower service behind
/// `vigil_tower::VigilLayer` captured for the same request.
fn tower_request_data(options: ClientOptions) -> Value {
    let events = vigil_core::test::with_captured_events_options(
        || {
            let service =
                vigil_tower::VigilLayer::new().layer(service_fn(|_: http::Request<()>| async {
                    vigil_core::capture_message("in handler", Level::Info);
                    Ok::<_, Infallible>(http::Response::new(()))
                }));
            let mut request = http::Request::get(URI);
            for (name, value) in HEADERS {
                request = request.header(*name, *value);
            }
            let mut request = request.body(()).expect("a request");
            let addr: SocketAddr = CLIENT.parse().expect("an address");
            request.extensions_mut().insert(addr);
            block_on(service.oneshot(request)).expect("a response");
        },
        options,
    );
    assert_eq!(events.len(), 1);
    serde_json::to_value(&events[0].request).expect("serializes")
}

#[test]
fn the_same_request_data_as_the_tower_layer() {
    for pii in [false, true] {
        let options = || ClientOptions::new().send_default_pii(pii);
        let actix = actix_request_data(options());
        let tower = tower_request_data(options());
        assert_eq!(actix, tower, "send_default_pii: {pii}");
    }
}

#[test]
fn without_pii_secrets_cookies_and_client_identity_are_filtered() {
    let request = actix_request_data(ClientOptions::new());
    assert_eq!(request["method"], "GET");
    assert_eq!(
        request["url"],
        "http://[Filtered]:[Filtered]@example.com/h/1"
    );
    assert_eq!(request["query_string"], "a=1&token=[Filtered]");
    let headers = request["headers"].as_object().expect("headers");
    let mut filtered = 0;
    for (name, value) in HEADERS {
        let sent = &headers[*name];
        let near_miss = matches!(
            *name,
            "x-forwarded-proto"
                | "x-forwarded-host"
                | "via"
                | "x-request-id"
                | "user-agent"
                | "accept"
                | "referer"
        );
        if near_miss {
            assert_ne!(sent, "[Filtered]", "{name}");
        } else {
            assert_eq!(sent, "[Filtered]", "{name}: {value}");
            filtered += 1;
        }
    }
    assert!(filtered >= 40, "{filtered}");
    assert_eq!(headers["accept"], "text/html, application/json");
    assert_eq!(
        headers["referer"],
        "https://example.com/search?q=[Filtered]&reset_token=[Filtered]"
    );
    assert!(request.get("cookies").is_none());
    assert!(request.get("env").is_none());
    assert!(request.get("data").is_none());
}

#[test]
fn with_pii_cookies_client_identity_and_the_address_are_sent() {
    let request = actix_request_data(ClientOptions::new().send_default_pii(true));
    let headers = &request["headers"];
    assert_eq!(headers["authorization"], "[Filtered]");
    assert_eq!(headers["x-api-key"], "[Filtered]");
    assert_eq!(
        headers["cookie"],
        "theme=dark; sessionid=[Filtered]; csrftoken=[Filtered]"
    );
    assert_eq!(
        headers["set-cookie"],
        "sid=[Filtered]; Path=/; HttpOnly, lang=en"
    );
    assert_eq!(headers["x-forwarded-for"], "203.0.113.9, 10.0.0.1");
    assert_eq!(headers["x-amzn-oidc-data"], "eyJ");
    // Its name says `identity`: filtered whatever `send_default_pii` says.
    assert_eq!(headers["x-amzn-oidc-identity"], "[Filtered]");
    assert_eq!(headers["remote-user"], "alice");
    assert_eq!(
        headers["referer"],
        "https://example.com/search?q=alice&reset_token=[Filtered]"
    );
    assert_eq!(
        request["cookies"],
        "theme=dark; sessionid=[Filtered]; csrftoken=[Filtered]"
    );
    assert_eq!(request["env"], json!({"REMOTE_ADDR": "203.0.113.9"}));
}

#[test]
fn an_event_with_its_own_request_keeps_it_and_a_request_without_host_has_no_url() {
    let envelopes = envelopes(ClientOptions::new(), || async {
        let app = atest::init_service(App::new().wrap(VigilMiddleware::new()).route(
            "/own",
            web::get().to(|| async {
                let mut event = vigil_core::protocol::Event::from_message("own", Level::Info);
                event.request = Some(vigil_core::protocol::Request {
                    url: Some("https://elsewhere.example/x".into()),
                    ..Default::default()
                });
                vigil_core::capture_event(event);
                vigil_core::capture_message("plain", Level::Info);
                HttpResponse::Ok().finish()
            }),
        ))
        .await;
        let request = atest::TestRequest::get().uri("/own?x=1").to_request();
        atest::call_service(&app, request).await;
    });
    let events = events_json(&envelopes);
    assert_eq!(
        events[0]["request"],
        json!({"url": "https://elsewhere.example/x"})
    );
    assert!(events[1]["request"].get("url").is_none(), "{}", events[1]);
    assert_eq!(events[1]["request"]["query_string"], "x=1");
}
