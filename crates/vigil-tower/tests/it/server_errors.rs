//! `capture_server_errors`: 5xx responses become error events.

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use tower::ServiceExt;
use vigil_core::protocol::{Context, Event, Level, Value};
use vigil_tower::VigilLayer;

use crate::support::{capture_default, get as get_request};

async fn respond(axum::extract::Path(code): axum::extract::Path<u16>) -> StatusCode {
    vigil_core::configure_scope(|s| s.set_tag("handled-by", "respond"));
    StatusCode::from_u16(code).expect("a status")
}

fn run(layer: VigilLayer, codes: &[u16]) -> Vec<Event> {
    let codes = codes.to_vec();
    capture_default(async move {
        let app = Router::new()
            .route("/status/{code}", get(respond))
            .layer(layer);
        for code in codes {
            let response = app
                .clone()
                .oneshot(get_request(&format!("/status/{code}")))
                .await
                .expect("a response");
            assert_eq!(
                response.status().as_u16(),
                code,
                "the response is unchanged"
            );
        }
    })
}

#[test]
fn off_by_default() {
    assert!(run(VigilLayer::new(), &[500, 503]).is_empty());
    assert!(run(VigilLayer::new().capture_server_errors(false), &[500]).is_empty());
}

#[test]
fn on_captures_5xx_only() {
    let events = run(
        VigilLayer::new().capture_server_errors(true),
        &[200, 404, 500, 302, 503],
    );
    assert_eq!(events.len(), 2);
    let messages: Vec<_> = events.iter().map(|e| e.message.as_deref()).collect();
    assert_eq!(
        messages,
        [
            Some("500 Internal Server Error"),
            Some("503 Service Unavailable")
        ]
    );
    let event = &events[0];
    assert_eq!(event.level, Level::Error);
    let Some(Context::Other(response)) = event.contexts.get("response") else {
        panic!("a response context: {:?}", event.contexts);
    };
    assert_eq!(response["type"], "response");
    assert_eq!(response["status_code"], 500);
    // The request's scope, as the handler left it:
    assert_eq!(event.tags["handled-by"], "respond");
    if cfg!(feature = "axum") {
        assert_eq!(event.transaction.as_deref(), Some("GET /status/{code}"));
    }
    let request = event.request.as_ref().expect("request data");
    assert_eq!(
        request.url.as_deref(),
        Some("http://example.com/status/500")
    );
    // Only this request's breadcrumb, recorded just before:
    let crumbs = &event.breadcrumbs;
    assert_eq!(crumbs.len(), 1, "{crumbs:?}");
    assert_eq!(crumbs[0].ty, "http");
    assert_eq!(crumbs[0].level, Level::Error);
    assert_eq!(crumbs[0].data["status_code"], Value::from(500));
}
