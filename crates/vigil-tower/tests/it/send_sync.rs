//! Compile-time checks: the layer and service are `Send + Sync + Clone`
//! for `Send + Sync` inner services, whatever the body types, and fit
//! axum 0.8's bounds.

use std::cell::Cell;
use std::convert::Infallible;
use std::marker::PhantomData;

use axum::Router;
use axum::routing::get;
use tower::Layer;
use tower::util::BoxCloneSyncService;
use vigil_tower::{ResponseFuture, VigilLayer, VigilService};

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}
fn assert_send<T: Send>() {}

/// A request body that is `Send` but not `Sync`.
type UnsyncBody = PhantomData<Cell<u8>>;

#[test]
fn layer_service_and_future() {
    assert_send_sync_clone::<VigilLayer>();
    assert_send_sync_clone::<VigilService<axum::routing::Route>>();
    assert_send_sync_clone::<VigilService<Router>>();
    // A `!Sync` body type does not leak into the service.
    assert_send_sync_clone::<
        VigilService<
            BoxCloneSyncService<http::Request<UnsyncBody>, http::Response<String>, Infallible>,
        >,
    >();
    assert_send::<ResponseFuture<axum::routing::future::RouteFuture<Infallible>>>();
}

#[test]
fn fits_axum() {
    // `Router::layer` requires a `Clone + Send + Sync` layer and service
    // with a `Send` future and an infallible error.
    let app: Router = Router::new()
        .route("/", get(|| async { "hi" }))
        .layer(VigilLayer::new());
    // Served as a router, and wrapped around a whole router.
    fn serve(listener: tokio::net::TcpListener, app: Router) {
        drop(axum::serve(listener, app));
    }
    fn serve_wrapped(listener: tokio::net::TcpListener, app: VigilService<Router>) {
        let make = axum::ServiceExt::<axum::extract::Request>::into_make_service(app);
        drop(axum::serve(listener, make));
    }
    let _ = serve;
    let _ = serve_wrapped;
    let _wrapped: VigilService<Router> = VigilLayer::new().layer(app);
}
