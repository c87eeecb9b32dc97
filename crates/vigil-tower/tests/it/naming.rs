//! Transaction names: `METHOD route` with axum's `MatchedPath` (feature
//! `axum`), else `METHOD path`.

use axum::Router;
use axum::routing::{get, post};
use tower::{Layer, ServiceExt};
use vigil_tower::VigilLayer;

use crate::support::{capture_default, capturing_handler, get as get_request};

fn transactions(app: Router, requests: Vec<http::Request<axum::body::Body>>) -> Vec<String> {
    let events = capture_default(async move {
        for request in requests {
            let response = app.clone().oneshot(request).await.expect("a response");
            assert_eq!(response.status(), 200);
        }
    });
    events
        .into_iter()
        .map(|e| e.transaction.expect("a transaction"))
        .collect()
}

#[test]
fn router_layer_names_after_the_matched_route() {
    let api = Router::new().route("/items/{item}", post(capturing_handler));
    let app = Router::new()
        .route("/users/{id}", get(capturing_handler))
        .route("/static", get(capturing_handler))
        .nest("/api", api)
        .layer(VigilLayer::new());
    let post_item = http::Request::post("/api/items/9")
        .body(axum::body::Body::empty())
        .expect("a request");
    let names = transactions(
        app,
        vec![
            get_request("/users/7?x=1"),
            get_request("/static"),
            post_item,
        ],
    );
    if cfg!(feature = "axum") {
        assert_eq!(
            names,
            ["GET /users/{id}", "GET /static", "POST /api/items/{item}"]
        );
    } else {
        assert_eq!(names, ["GET /users/7", "GET /static", "POST /api/items/9"]);
    }
}

#[test]
fn around_the_router_names_after_the_path() {
    // Outside the router the layer runs before routing: no MatchedPath yet.
    let router = Router::new().route("/users/{id}", get(capturing_handler));
    let app = VigilLayer::new().layer(router);
    let events = capture_default(async move {
        app.oneshot(get_request("/users/7"))
            .await
            .expect("a response");
    });
    assert_eq!(events[0].transaction.as_deref(), Some("GET /users/7"));
}

#[test]
fn handler_may_rename_the_transaction() {
    async fn handler() -> &'static str {
        vigil_core::configure_scope(|s| s.set_transaction(Some("custom")));
        capturing_handler().await
    }
    let app = Router::new()
        .route("/x", get(handler))
        .layer(VigilLayer::new());
    assert_eq!(transactions(app, vec![get_request("/x")]), ["custom"]);
}
