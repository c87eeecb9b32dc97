//! Per-request isolation for web services built on [tower]: axum, tonic,
//! hyper.
//!
//! [`VigilLayer`] gives every request a hub of its own, so tags, the user,
//! breadcrumbs and scopes set while handling one request reach the events
//! of that request and no other, even when thousands of requests are in
//! flight and their futures hop between the worker threads of a
//! multi-threaded runtime. It also records the request on that hub, names
//! the transaction, leaves an `http` breadcrumb and, when asked, captures
//! 5xx responses and panics.
//!
//! With a `release` set and `auto_session_tracking` on (the defaults but
//! the release), every request is also a release-health session, counted
//! per minute (`exited`, `errored` when an error was captured in it,
//! `crashed` when it panicked) and sent as `sessions` items every 60 s: the
//! default `SessionMode::Auto` switches to request mode at the first
//! request (see [`SessionMode`](vigil_core::SessionMode) and
//! [`Hub::start_request_session`](vigil_core::Hub::start_request_session)).
//!
//! [tower]: https://docs.rs/tower
//!
//! # Usage with axum
//!
//! Add the layer with [`Router::layer`](https://docs.rs/axum/0.8/axum/struct.Router.html#method.layer).
//! Handlers then use the ordinary API (`vigil_core::configure_scope`,
//! `capture_message`, ...), which acts on the request's hub:
//!
//! ```
//! use axum::{Router, routing::get};
//! use tower::ServiceExt; // for `oneshot`
//! use vigil_core::protocol::{Level, User};
//! use vigil_tower::VigilLayer;
//!
//! async fn show_user(axum::extract::Path(id): axum::extract::Path<String>) -> &'static str {
//!     vigil_core::configure_scope(|scope| {
//!         scope.set_tag("tenant", "acme");
//!         scope.set_user(Some(User { id: Some(id), ..Default::default() }));
//!     });
//!     vigil_core::capture_message("user looked at", Level::Info);
//!     "ok"
//! }
//!
//! let app = Router::new()
//!     .route("/users/{id}", get(show_user))
//!     .layer(VigilLayer::new().capture_server_errors(true));
//!
//! # let events = vigil_core::test::with_captured_events(|| {
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! # rt.block_on(async {
//! let request = http::Request::get("http://example.com/users/42?tab=orders")
//!     .header("authorization", "Bearer s3cr3t")
//!     .body(axum::body::Body::empty())
//!     .unwrap();
//! let response = app.oneshot(request).await.unwrap();
//! assert_eq!(response.status(), 200);
//! # });
//! # });
//! let event = &events[0];
//! assert_eq!(event.tags["tenant"], "acme");
//! assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("42"));
//! let request = event.request.as_ref().unwrap();
//! assert_eq!(request.url.as_deref(), Some("http://example.com/users/42"));
//! assert_eq!(request.query_string.as_deref(), Some("tab=orders"));
//! assert_eq!(request.headers["authorization"], "[Filtered]");
//! // With the `axum` feature the route, else the path:
//! # #[cfg(feature = "axum")]
//! assert_eq!(event.transaction.as_deref(), Some("GET /users/{id}"));
//! ```
//!
//! Use `Router::layer` rather than wrapping the finished router: axum
//! inserts `MatchedPath` when it routes the request, so only a layer added
//! with `Router::layer` (or `route_layer`) runs after routing and can name
//! the transaction after the route. Wrapped around the whole router the
//! layer works the same, but transactions are named after the path.
//!
//! # What happens per request
//!
//! When a request arrives, [`VigilService::call`](tower_service::Service::call):
//!
//! 1. takes the hub current on the calling thread and, if it has an enabled
//!    client, creates a new hub from it:
//!    `Hub::new_from_top(Hub::current())`. Without an enabled client the
//!    request goes straight through and nothing below happens;
//! 2. sets on that hub's scope the transaction name, `METHOD route` where
//!    route is axum's `MatchedPath` (feature `axum`) or else the request
//!    path (`GET /users/{id}` or `GET /users/42`), or the method of a
//!    gRPC call (`package.Service/Method`, see [below](#grpc-and-tonic)),
//!    and the request data
//!    (next section), added to every event that has no `request` of its
//!    own, and the trace the caller sent; with tracing enabled, starts a
//!    transaction that is the scope's span
//!    ([`start_transaction`](VigilLayer::start_transaction));
//! 3. calls the inner service with the new hub current, so code that runs
//!    synchronously in `call` sees it;
//! 4. binds the inner service's future to the hub with
//!    [`bind_hub`](vigil_core::HubFutureExt::bind_hub): the hub is current
//!    whenever the future is polled, on whichever worker thread, and only
//!    then. Tasks spawned with `vigil_core::spawn` (feature `tokio` of
//!    `vigil-core`) fork it, and so keep the request's data;
//! 5. when the response is ready, records an `http` breadcrumb on the hub
//!    ([`request_breadcrumb`](VigilLayer::request_breadcrumb)) and, for a
//!    5xx status, captures an error event
//!    ([`capture_server_errors`](VigilLayer::capture_server_errors)), then
//!    ends the transaction.
//!
//! Nothing is written to the hub the request came from (the worker
//! thread's hub): when the request is over, its hub is dropped with
//! everything set on it.
//!
//! # Request data and personal data
//!
//! The request interface holds the method, the URL without query string,
//! the query string and the headers; request bodies are never read. Header
//! values are filtered as follows (names are compared ignoring case):
//!
//! | header | without `send_default_pii` | with `send_default_pii` |
//! |---|---|---|
//! | name contains `auth`, `token`, `secret`, `password`, `passwd`, `pwd`, `key`, `jwt`, `bearer`, `sso`, `saml`, `csrf`, `xsrf`, `credentials`, `session`, `sid` or `identity` | `[Filtered]` | `[Filtered]` |
//! | `Cookie`, `Set-Cookie` | `[Filtered]` | filtered cookie by cookie: cookies with a name from the row above get the value `[Filtered]`; a value that does not parse becomes `[Filtered]` as a whole |
//! | `X-Forwarded-For`, `X-Real-IP`, `Forwarded`, `CF-Connecting-IP`, `True-Client-IP`, `X-Client-IP`, `X-Cluster-Client-IP`, `Fastly-Client-IP` | `[Filtered]` | sent |
//! | any other | sent | sent |
//!
//! With `send_default_pii` the filtered cookies also go to the request's
//! `cookies` (left out when the header does not parse), and the client's IP
//! address to `env.REMOTE_ADDR`. The address
//! is read from axum's `ConnectInfo<SocketAddr>` (feature `axum`, serve with
//! `into_make_service_with_connect_info::<SocketAddr>()`) or from a
//! `SocketAddr` request extension. Userinfo in the URL is always replaced
//! by `[Filtered]:[Filtered]@`. The URL's scheme is the request URI's,
//! else `http`; its host is the URI's, else the `Host` header's; a request
//! with neither (possible only in-process, e.g. with `oneshot`) gets no
//! `url`, as a relative one is not valid there. Data set
//! explicitly on an event is never changed: an event that already has a
//! `request` keeps it.
//!
//! # Panics
//!
//! With [`capture_panics`](VigilLayer::capture_panics) a panic in the inner
//! service is captured as a fatal event and then resumed unchanged; see
//! that method for exactly what happens.
//!
//! # Other servers
//!
//! [`VigilService`] implements `Service<http::Request<B>>` for any inner
//! service answering with `http::Response<_>`, whatever its body and error
//! types, and is `Clone + Send + Sync` whenever the inner service is; its
//! future is `Send` whenever the inner future is. With tonic, use
//! [`VigilLayer::grpc`] (next section). With plain hyper, wrap the
//! service with hyper-util's `TowerToHyperService`:
//!
//! ```
//! use std::convert::Infallible;
//! use hyper_util::service::TowerToHyperService;
//! use tower::{Layer, service_fn};
//! use vigil_tower::VigilLayer;
//!
//! let service = VigilLayer::new().layer(service_fn(|_req: http::Request<hyper::body::Incoming>| async {
//!     vigil_core::capture_message("hello", vigil_core::protocol::Level::Info);
//!     Ok::<_, Infallible>(http::Response::new(String::from("hi")))
//! }));
//! let hyper_service = TowerToHyperService::new(service);
//! // hyper::server::conn::http1::Builder::new().serve_connection(io, hyper_service)
//! # let _ = hyper_service;
//! ```
//!
//! # gRPC and tonic
//!
//! A request whose `Content-Type` is `application/grpc` (alone, or with
//! `+proto`, `+json`, parameters...) is a gRPC call; gRPC metadata are its
//! HTTP/2 headers. With tonic, add the layer with `Server::builder().layer`
//! and [`grpc`](VigilLayer::grpc):
//!
//! ```
//! use tonic::transport::Server;
//! use vigil_tower::VigilLayer;
//!
//! # let envelopes = vigil_core::test::with_captured_envelopes_options(|| {
//! # let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
//! # rt.block_on(async {
//! # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! # let addr = listener.local_addr().unwrap();
//! let (_reporter, health) = tonic_health::server::health_reporter();
//! let server = Server::builder()
//!     .layer(VigilLayer::new().capture_server_errors(true).grpc())
//!     .add_service(health);
//! // server.serve("0.0.0.0:50051".parse()?).await?;
//! # tokio::spawn(server.serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)));
//! # let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect().await.unwrap();
//! # let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
//! # client.check(tonic_health::pb::HealthCheckRequest::default()).await.unwrap();
//! # });
//! # }, vigil_core::ClientOptions::new().traces_sample_rate(1.0));
//! # let tx = envelopes.iter().find_map(|e| e.transaction()).unwrap();
//! # assert_eq!(tx.name.as_deref(), Some("grpc.health.v1.Health/Check"));
//! ```
//!
//! For every call, as for an HTTP request, the handler (and whatever it
//! spawns with `vigil_core::spawn`) runs under the call's own hub, and
//! the caller's trace (`sentry-trace` and `baggage` metadata) is
//! continued. Then:
//!
//! - **Transaction.** Named after the method, the path without its
//!   leading slash (`grpc.health.v1.Health/Check`), with source `route`,
//!   op `grpc.server` and origin `auto.grpc.tower`. Its data holds
//!   `rpc.system` (`grpc`), `rpc.service`, `rpc.method`,
//!   `rpc.grpc.status_code`, and the HTTP data of any request. Its status
//!   is the call's `grpc-status` mapped to the span status of the same
//!   name: 0 `ok`, 1 `cancelled`, 2 `unknown`, 3 `invalid_argument`, 4
//!   `deadline_exceeded`, 5 `not_found`, 6 `already_exists`, 7
//!   `permission_denied`, 8 `resource_exhausted`, 9 `failed_precondition`,
//!   10 `aborted`, 11 `out_of_range`, 12 `unimplemented`, 13
//!   `internal_error`, 14 `unavailable`, 15 `data_loss`, 16
//!   `unauthenticated`, any other `unknown`.
//! - **Where the status is read.** A gRPC server sends it in the
//!   trailers, after the response messages, except in a trailers-only
//!   response (no messages: tonic answers so an error returned by a unary
//!   handler, or by a streaming one before its stream), where it is in
//!   the headers. [`VigilLayer::grpc`] ([`VigilGrpcLayer`]) wraps the
//!   response body in a [`GrpcBody`] that reads the trailers as they
//!   pass: the transaction ends when the response has been sent, a
//!   stream's with its last message. A response that ends without
//!   `grpc-status` ends it as `unknown`, a body that fails as
//!   `internal_error`, and a body dropped before its end (the client
//!   cancelled the call or went away) as `cancelled`. The plain
//!   [`VigilLayer`] leaves the body alone: it reads a status in the
//!   headers only and otherwise ends the transaction with the headers,
//!   as `ok` after the HTTP status 200, before any trailers. A response
//!   with another HTTP status (from a proxy or a router) is recorded as
//!   an HTTP response.
//! - **Server faults.** With
//!   [`capture_server_errors`](VigilLayer::capture_server_errors), a call
//!   ending with `UNKNOWN`, `INTERNAL`, `UNAVAILABLE` or `DATA_LOSS` (or a
//!   code gRPC does not define) is captured as an error event with the
//!   message `gRPC <CODE>: <grpc-message>` (the message percent-decoded)
//!   and a `grpc` context holding `method`, `status_code`, `status` and
//!   `message`, plus the call's scope data. The codes about the call or
//!   the caller (`INVALID_ARGUMENT`, `NOT_FOUND`, `ALREADY_EXISTS`,
//!   `PERMISSION_DENIED`, `UNAUTHENTICATED`, `UNIMPLEMENTED`,
//!   `FAILED_PRECONDITION`, `OUT_OF_RANGE`, `RESOURCE_EXHAUSTED`,
//!   `ABORTED`) are not, and neither are `CANCELLED` and
//!   `DEADLINE_EXCEEDED`: on a server they mostly mean that the caller
//!   gave up or that its own deadline (`grpc-timeout`) ran out, which the
//!   transaction's status records. Like the 5xx event, this event is a
//!   message, not an exception: it does not make the call's
//!   release-health session `errored`.
//! - **Metadata.** The request data's headers are the call's metadata,
//!   filtered by the rules of the table above; binary metadata (a name
//!   ending in `-bin`) is always `[Filtered]`. The client address is not
//!   recorded: tonic keeps it in its own `TcpConnectInfo` extension,
//!   which this crate does not read; insert a `SocketAddr` extension to
//!   have it.
//! - **Breadcrumb.** The `http` breadcrumb also holds
//!   `rpc.grpc.status_code`; its level is `info` for `OK`, `error` for a
//!   server fault, `warning` otherwise.
//! - **Streams.** With [`VigilLayer::grpc`] the call's hub is current
//!   while the response body is polled, so the stream of a
//!   server-streaming handler runs under it too, and
//!   [`capture_panics`](VigilLayer::capture_panics) covers it.
//!
//! gRPC-Web (`application/grpc-web`) is handled as plain HTTP: its
//! trailers travel inside the body. Put a layer that translates it to
//! gRPC (such as `tonic_web::GrpcWebLayer`) outside this one.
//!
//! # Only a hub per request
//!
//! [`HubLayer`] does the isolation alone, for services of any request
//! type (not only HTTP): each request runs under the hub a
//! [`HubProvider`] chooses, a fixed `Arc<Hub>`
//! (`HubLayer::new(hub)`), a new one per request
//! ([`HubLayer::new_from_top`]) or one a closure picks.
//!
//! # Migrating from the reference SDK
//!
//! Code written for `sentry-tower` compiles after renaming the crate:
//!
//! | reference | here |
//! |---|---|
//! | `SentryLayer::new(provider)`, `SentryService` | [`SentryLayer`] = [`HubLayer`], [`SentryService`] = [`HubService`] |
//! | `NewSentryLayer::new_from_top()`, `NewSentryService` | [`NewSentryLayer`] = [`NewHubLayer`], [`NewSentryService`] = [`NewHubService`] |
//! | `SentryHttpLayer::new()`, `.enable_transaction()`, `.enable_pii()` | [`SentryHttpLayer`], making [`VigilService`]s |
//!
//! What differs with [`SentryHttpLayer`]: each request gets a hub of its
//! own (the reference's layer writes to the hub current when the request
//! arrives, hence the usual `NewSentryLayer` around it, which is harmless
//! here); the request data follows this crate's filtering rules and the
//! client's `send_default_pii` (`enable_pii` changes nothing, and headers
//! that carry secrets are never sent); each request leaves an `http`
//! breadcrumb on its own hub; and a request dropped before its response
//! ends its transaction as `cancelled` rather than `aborted`.
//!
//! # Feature flags
//!
//! - `axum`: transaction names from axum's `MatchedPath` and the client
//!   address from axum's `ConnectInfo` (enables axum's `matched-path` and
//!   `tokio` features).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod grpc;
mod hub_layer;
mod request;
mod service;

pub use crate::grpc::{GrpcBody, GrpcResponseFuture, VigilGrpcLayer, VigilGrpcService};
pub use crate::hub_layer::{
    HubLayer, HubProvider, HubService, NewFromTopProvider, NewHubLayer, NewHubService,
    NewSentryLayer, NewSentryService, SentryLayer, SentryService,
};
pub use crate::service::{
    ResponseFuture, SentryHttpFuture, SentryHttpLayer, SentryHttpService, VigilLayer, VigilService,
};
