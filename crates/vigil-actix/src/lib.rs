//! Per-request isolation and error capture for [actix-web] 4.
//!
//! [`VigilMiddleware`] gives every request a hub of its own, so tags, the
//! user, breadcrumbs and scopes set while handling one request reach the
//! events of that request and no other, however many requests a worker
//! interleaves. It records the request on that hub (with the same
//! personal-data rules as `vigil-tower`), continues the caller's trace,
//! times the request with a transaction named after its route, captures
//! server errors (actix `Error`s with their `source()` chain, and 5xx
//! responses), and, when asked, panics and request bodies.
//!
//! With a `release` set and `auto_session_tracking` on (the defaults but
//! the release), every request is also a release-health session, counted
//! per minute (`exited`, `errored` when an error was captured in it,
//! `crashed` when it panicked) and sent as `sessions` items every 60 s:
//! the default `SessionMode::Auto` switches to request mode at the first
//! request (see [`SessionMode`](vigil_core::SessionMode)).
//!
//! [actix-web]: https://docs.rs/actix-web/4
//!
//! # Usage
//!
//! Wrap the app with the middleware. Handlers then use the ordinary API
//! (`vigil_core::configure_scope`, `capture_message`, ...), which acts on
//! the request's hub:
//!
//! ```
//! use actix_web::{App, HttpResponse, test, web};
//! use vigil_actix::VigilMiddleware;
//! use vigil_core::protocol::{Level, User};
//!
//! async fn show_user(id: web::Path<String>) -> HttpResponse {
//!     vigil_core::configure_scope(|scope| {
//!         scope.set_tag("tenant", "acme");
//!         scope.set_user(Some(User { id: Some(id.into_inner()), ..Default::default() }));
//!     });
//!     vigil_core::capture_message("user looked at", Level::Info);
//!     HttpResponse::Ok().body("ok")
//! }
//!
//! # let events = vigil_core::test::with_captured_events(|| {
//! # actix_web::rt::System::new().block_on(async {
//! let app = test::init_service(
//!     App::new()
//!         .wrap(VigilMiddleware::new())
//!         .route("/users/{id}", web::get().to(show_user)),
//! )
//! .await;
//! let request = test::TestRequest::get()
//!     .uri("/users/42?tab=orders")
//!     .insert_header(("host", "example.com"))
//!     .insert_header(("authorization", "Bearer s3cr3t"))
//!     .to_request();
//! let response = test::call_service(&app, request).await;
//! assert_eq!(response.status(), 200);
//! # });
//! # });
//! let event = &events[0];
//! assert_eq!(event.tags["tenant"], "acme");
//! assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("42"));
//! assert_eq!(event.transaction.as_deref(), Some("GET /users/{id}"));
//! let request = event.request.as_ref().unwrap();
//! assert_eq!(request.url.as_deref(), Some("http://example.com/users/42"));
//! assert_eq!(request.query_string.as_deref(), Some("tab=orders"));
//! assert_eq!(request.headers["authorization"], "[Filtered]");
//! ```
//!
//! In a server, `vigil::init` binds the client to the main hub, which the
//! hubs of actix-web's worker threads follow:
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//!
//! fn main() -> std::io::Result<()> {
//!     // let _guard = vigil::init(("https://key@o0.ingest.sentry.io/0", options));
//!     actix_web::rt::System::new().block_on(async {
//!         HttpServer::new(|| {
//!             App::new()
//!                 .wrap(vigil_actix::VigilMiddleware::new())
//!                 .route("/", web::get().to(|| async { "hello" }))
//!         })
//!         .bind(("127.0.0.1", 8080))?
//!         .run()
//!         .await
//!     })
//! }
//! ```
//!
//! Wrap the whole app (`App::wrap`) with this middleware, and make it the
//! last `wrap` call, so that it runs first: the other middleware then run
//! under the request's hub too.
//!
//! # What happens per request
//!
//! When a request arrives, the middleware's service:
//!
//! 1. takes the hub current on the worker thread (or the one given to
//!    [`with_hub`](VigilMiddleware::with_hub)) and, if it has an enabled
//!    client, creates a new hub from it. Without an enabled client the
//!    request goes straight through and nothing below happens;
//! 2. sets on that hub's scope the transaction name, `METHOD pattern`
//!    where pattern is the route pattern the request matches
//!    (`GET /users/{id}`, including the prefixes of the scopes it is
//!    nested in), or the request path when no pattern matches (`GET
//!    /favicon.ico`); the request data (next section), added to every
//!    event that has no `request` of its own; and the trace the caller
//!    sent; with tracing enabled, starts a transaction that is the
//!    scope's span ([`start_transaction`](VigilMiddleware::start_transaction));
//!    with request-mode sessions, starts the request's session;
//! 3. calls the application with the new hub current, and binds the
//!    application's future to the hub: the hub is current whenever the
//!    future is polled, and only then. Tasks spawned with
//!    `vigil_core::spawn` (feature `tokio` of `vigil-core`) fork it, and
//!    so keep the request's data;
//! 4. when the outcome is known, records an `http` breadcrumb on the hub
//!    when an event can still see it
//!    ([`request_breadcrumb`](VigilMiddleware::request_breadcrumb)),
//!    captures a server error
//!    ([`capture_server_errors`](VigilMiddleware::capture_server_errors)),
//!    ends the transaction (its status from the response's) and the
//!    session.
//!
//! Nothing is written to the hub the request came from: when the request
//! is over, its hub is dropped with everything set on it.
//!
//! # Request data and personal data
//!
//! The request interface holds the method, the URL without query string,
//! the query string (values of sensitive parameters such as `token` or
//! `code` filtered) and the headers; the body only as the next section
//! says. The rules are `vigil-tower`'s; header values are filtered as
//! follows (names are compared ignoring case):
//!
//! | header | without `send_default_pii` | with `send_default_pii` |
//! |---|---|---|
//! | name contains `auth`, `token`, `secret`, `password`, `passwd`, `pwd`, `key`, `jwt`, `bearer`, `sso`, `saml`, `csrf`, `xsrf`, `credentials`, `session`, `sid` or `identity` | `[Filtered]` | `[Filtered]` |
//! | `Cookie`, `Set-Cookie` | `[Filtered]` | filtered cookie by cookie: cookies with a name from the row above get the value `[Filtered]`; a value that does not parse becomes `[Filtered]` as a whole |
//! | client address and identity: `X-Forwarded-For`, `X-Real-IP`, `Forwarded`, `CF-Connecting-IP`, `True-Client-IP`, `X-Client-IP`, `X-Cluster-Client-IP`, `Fastly-Client-IP`, `X-Forwarded-User`, `X-Forwarded-Email`, `Remote-User`, `X-Amzn-Oidc-*`, `X-Ms-Client-Principal*`, ... | `[Filtered]` | sent |
//! | `Referer` | every query value `[Filtered]` | sensitive query values `[Filtered]` |
//! | any other | sent | sent |
//!
//! With `send_default_pii` the filtered cookies also go to the request's
//! `cookies`, and the address of the connection's peer to
//! `env.REMOTE_ADDR`. Userinfo in the URL is always replaced by
//! `[Filtered]:[Filtered]@`. The URL's host is the request URI's, else
//! the `Host` header's (a request with neither, possible only in tests,
//! gets no `url`); its scheme is the URI's, else `https` when the server
//! serves TLS, else `http`. An event that already has a `request` keeps
//! it.
//!
//! # Request bodies
//!
//! With [`max_request_body_size`](VigilMiddleware::max_request_body_size)
//! set to anything but [`MaxRequestBodySize::None`] (the default), the
//! request's body is attached to the events captured during the request,
//! as the event's `request.data`:
//!
//! - `application/json` (and `*/*+json`) bodies as the parsed JSON,
//!   forms (`application/x-www-form-urlencoded`) as an object of their
//!   fields, the values of sensitive fields (`password`, `token`, ...)
//!   `[Filtered]`; the client's event scrubber then filters sensitive
//!   keys at any depth, as in the rest of the event;
//! - other bodies as text, only with `send_default_pii`, and only when
//!   they are UTF-8.
//!
//! The body is never read ahead of the application: the middleware
//! replaces the request's payload with a stream that hands the
//! application every chunk unchanged, errors included, and keeps a copy
//! of at most the limit's bytes. A body larger than the limit (by its
//! `Content-Length`, or found so while it streams) is not attached and no
//! more than the limit is ever kept; the application still receives it
//! whole. The copy is only turned into `request.data` when an event is
//! captured, and only once the application has read the body to its end:
//! an event captured before that (or for a body the application never
//! reads) has no body. Transactions never carry bodies. Like every
//! event's `request.data`, an attached body is then fitted by the client
//! to the 8 KiB Relay keeps of it (a longer text is cut, with `...`).
//!
//! # Server errors and panics
//!
//! See [`capture_server_errors`](VigilMiddleware::capture_server_errors)
//! (on by default; with [`emit_header`](VigilMiddleware::emit_header) the
//! event's id goes back to the client in `X-Sentry-Event`),
//! [`error_type`](VigilMiddleware::error_type) (the `source()` chain of
//! the application's own error types) and
//! [`capture_panics`](VigilMiddleware::capture_panics): actix-web does
//! not catch panics; a panic in a handler ends the task serving the
//! connection, which closes without a response. With `capture_panics` the
//! middleware reports it as a fatal event and resumes it unchanged.
//!
//! # Migrating from the reference SDK
//!
//! Code written for `sentry-actix` 0.49 compiles after renaming the
//! crate:
//!
//! | reference | here |
//! |---|---|
//! | `sentry_actix::Sentry::new()`, `Sentry::with_transaction()`, `Sentry::default()` | [`Sentry`], with the same defaults |
//! | `Sentry::builder()`, `into_builder()`, `.start_transaction(..)`, `.with_hub(..)`, `.with_default_hub()`, `.emit_header(..)`, `.capture_server_errors(..)`, `.finish()` | [`SentryBuilder`] |
//! | `SentryMiddleware<S>` | [`SentryMiddleware`] = [`VigilService`] |
//! | `ClientOptions::max_request_body_size` | [`VigilMiddleware::max_request_body_size`] / [`SentryBuilder::max_request_body_size`] |
//!
//! What differs: each request's hub is made from the worker thread's
//! current hub (which follows the main hub) rather than from the main hub
//! itself; the request data follows the filtering rules above and the
//! client's `send_default_pii` (headers that carry secrets are never
//! sent, the query string is `query_string`, not part of `url`); the
//! transaction is also the scope's transaction name, with source `route`
//! or `url`; a 5xx response without an actix `Error` is captured too (as
//! a message); the request's session starts under `SessionMode::Auto`
//! as well as `Request`; each request leaves an `http` breadcrumb on its
//! own hub; and request bodies stream through instead of being read into
//! memory before the handler runs (see above).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod body;
mod errors;
mod middleware;
mod request;
mod service;

pub use crate::body::MaxRequestBodySize;
pub use crate::middleware::{Sentry, SentryBuilder, VigilMiddleware};
pub use crate::service::{ResponseFuture, SentryMiddleware, VigilService};
