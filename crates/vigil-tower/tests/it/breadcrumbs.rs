//! One `http` breadcrumb per request, on the request's own hub.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use http::StatusCode;
use tower::ServiceExt;
use vigil_core::ClientOptions;
use vigil_core::protocol::{Breadcrumb, Level, Value};
use vigil_tower::VigilLayer;

use crate::support::{capture, get as get_request};

async fn respond(axum::extract::Path(code): axum::extract::Path<u16>) -> StatusCode {
    StatusCode::from_u16(code).expect("a status")
}

/// Sends requests answered with `codes`; returns the breadcrumbs seen by
/// `before_breadcrumb` and the breadcrumbs of an event captured on the
/// caller's hub afterwards.
fn run(layer: VigilLayer, codes: &[u16]) -> (Vec<Breadcrumb>, Vec<Breadcrumb>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorder = seen.clone();
    let options = ClientOptions {
        before_breadcrumb: Some(Arc::new(move |crumb: Breadcrumb| {
            recorder.lock().expect("not poisoned").push(crumb.clone());
            Some(crumb)
        })),
        ..ClientOptions::default()
    };
    let codes = codes.to_vec();
    let events = capture(options, async move {
        let app = Router::new().route("/s/{code}", get(respond)).layer(layer);
        for code in codes {
            app.clone()
                .oneshot(get_request(&format!(
                    "http://example.com/s/{code}?secret=1"
                )))
                .await
                .expect("a response");
        }
        vigil_core::capture_message("outside", Level::Info);
    });
    let seen = seen.lock().expect("not poisoned").clone();
    (seen, events[0].breadcrumbs.to_vec())
}

#[test]
fn one_per_request_with_level_by_status() {
    let (seen, outside) = run(VigilLayer::new(), &[200, 302, 404, 500]);
    assert_eq!(seen.len(), 4);
    let levels: Vec<_> = seen.iter().map(|c| c.level).collect();
    assert_eq!(
        levels,
        [Level::Info, Level::Info, Level::Warning, Level::Error]
    );
    for (crumb, code) in seen.iter().zip([200, 302, 404, 500]) {
        assert_eq!(crumb.ty, "http");
        assert_eq!(crumb.category.as_deref(), Some("http"));
        assert_eq!(crumb.data["method"], "GET");
        assert_eq!(
            crumb.data["url"],
            Value::from(format!("http://example.com/s/{code}"))
        );
        assert_eq!(crumb.data["status_code"], Value::from(code));
    }
    // Recorded on each request's hub, not on the hub the requests came from.
    assert!(outside.is_empty(), "{outside:?}");
}

#[test]
fn can_be_turned_off() {
    let (seen, _) = run(VigilLayer::new().request_breadcrumb(false), &[200, 500]);
    assert!(seen.is_empty());
}
