//! The layer, the service and its response future.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Method, StatusCode};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;
use vigil_core::protocol::{
    Breadcrumb, Context as EventContext, Event, Level, Map, SpanStatus, TransactionSource, Value,
};
use vigil_core::{
    ClientOptions, Hub, HubFuture, HubFutureExt, PropagationContext, RequestSessionGuard,
    Transaction, TransactionContext, TransactionOrSpan,
};

use crate::grpc::{self, GrpcEnd, GrpcStatus, VigilGrpcLayer};
use crate::request::{LazyRequest, build_request, url_without_query};

/// The mechanism type of panics captured by this layer.
const MECHANISM: &str = "auto.http.tower";

#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    capture_server_errors: bool,
    pub(crate) capture_panics: bool,
    request_breadcrumb: bool,
    start_transaction: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            capture_server_errors: false,
            capture_panics: false,
            request_breadcrumb: true,
            start_transaction: true,
        }
    }
}

/// A [`tower_layer::Layer`] that gives every request its own hub and
/// records the request on it. See the [crate docs](crate) for what happens
/// per request.
///
/// Defaults: one `http` breadcrumb per request, no capture of 5xx
/// responses, no capture of panics.
///
/// ```
/// use vigil_tower::VigilLayer;
/// let layer = VigilLayer::new()
///     .capture_server_errors(true)
///     .capture_panics(true)
///     .request_breadcrumb(false);
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct VigilLayer {
    config: Config,
}

impl VigilLayer {
    /// A layer with the default options.
    pub fn new() -> VigilLayer {
        VigilLayer::default()
    }

    /// Capture a response with a 5xx status as an error event (off by
    /// default).
    ///
    /// The event has level `error`, the message `"<code> <reason>"` (e.g.
    /// `500 Internal Server Error`), a `response` context with the
    /// `status_code`, and everything the request's scope holds when the
    /// response is ready: tags and user set by the handler, the
    /// transaction, the request and breadcrumbs (including this request's
    /// own `http` breadcrumb). Only the status is looked at: errors of the
    /// inner service (`Err(..)`, e.g. a broken connection) are not
    /// captured.
    ///
    /// A gRPC call is answered with HTTP status 200 and its own status in
    /// `grpc-status`: a call whose status is a server fault (`UNKNOWN`,
    /// `INTERNAL`, `UNAVAILABLE`, `DATA_LOSS`) is captured instead, with
    /// the message `"gRPC <CODE>: <grpc-message>"` (e.g. `gRPC INTERNAL:
    /// database is down`) and a `grpc` context with the `method`, the
    /// numeric `status_code`, the `status` name and the `message`. Statuses
    /// that describe the call or the caller (`NOT_FOUND`,
    /// `INVALID_ARGUMENT`, `UNIMPLEMENTED`, ...) are not captured, nor
    /// `CANCELLED` and `DEADLINE_EXCEEDED`, which on a server mostly mean
    /// that the caller gave up or its deadline ran out (the transaction
    /// records them). [`VigilLayer`] sees a status sent in the response
    /// headers only; [`grpc`](VigilLayer::grpc) also reads the trailers.
    pub fn capture_server_errors(mut self, enabled: bool) -> VigilLayer {
        self.config.capture_server_errors = enabled;
        self
    }

    /// Capture a panic of the inner service (in its `call` or while its
    /// future is polled) as a `fatal` event (off by default).
    ///
    /// The event has one exception of type `panic` whose value is the
    /// panic message and whose mechanism is
    /// `{"type":"auto.http.tower","handled":false}`, plus the request's
    /// scope data. Right after the capture the panic is resumed with
    /// [`std::panic::resume_unwind`] with its original payload, so it
    /// propagates exactly as without this layer: the panic hook has
    /// already run (it is not run a second time), and whatever sits
    /// outside catches it or not. With hyper and axum nothing does: the
    /// connection's task ends and the client sees the connection close
    /// without a response. To answer with a 500 instead, put a
    /// panic-catching layer (such as tower-http's `CatchPanicLayer`)
    /// *outside* this one; its 500 is then produced outside this layer
    /// and not captured again by
    /// [`capture_server_errors`](VigilLayer::capture_server_errors).
    ///
    /// Leave this off if a panic hook already reports panics: the hook
    /// runs while the request's hub is current, so its event already
    /// carries the request's data, and turning this on would report the
    /// panic twice.
    pub fn capture_panics(mut self, enabled: bool) -> VigilLayer {
        self.config.capture_panics = enabled;
        self
    }

    /// Record an `http` breadcrumb on the request's hub when the response
    /// is ready (on by default).
    ///
    /// Its data holds `method`, `url` (without query string; just the path
    /// when the request names no host) and
    /// `status_code`; its level is `error` for 5xx, `warning` for 4xx and
    /// `info` otherwise (`error` without `status_code` when the inner
    /// service returned `Err`). For a gRPC call whose status the layer
    /// read, it also holds `rpc.grpc.status_code`, and its level is `info`
    /// for `OK`, `error` for a server fault (see
    /// [`capture_server_errors`](VigilLayer::capture_server_errors)) and
    /// `warning` otherwise. It goes through `before_breadcrumb`. As it
    /// is recorded on the request's own hub, it reaches only events
    /// captured afterwards on that hub, such as the 5xx event of
    /// [`capture_server_errors`](VigilLayer::capture_server_errors), never
    /// another request.
    pub fn request_breadcrumb(mut self, enabled: bool) -> VigilLayer {
        self.config.request_breadcrumb = enabled;
        self
    }

    /// Time every request with a transaction when tracing is enabled (on
    /// by default).
    ///
    /// The transaction is named like the scope's transaction (`GET
    /// /users/{id}`), has op `http.server` and origin `auto.http.tower`,
    /// continues the caller's trace, and ends when the response is ready:
    /// its status follows the HTTP status (unless the handler set one) and
    /// its data holds `http.response.status_code`. A request dropped
    /// before its response was ready (the client went away) ends it as
    /// `cancelled`, a panic of the inner service as `internal_error`.
    ///
    /// Tracing is enabled by the client's `traces_sample_rate` or
    /// `traces_sampler`; without it no transaction is started either way.
    /// Off, requests still belong to the caller's trace (events carry
    /// it), but are not timed: useful when something else (such as the
    /// `tracing` integration) already makes a transaction per request.
    ///
    /// A gRPC call's transaction is named after the method
    /// (`package.Service/Method`) and has op `grpc.server` and origin
    /// `auto.grpc.tower`; its status follows `grpc-status`: see the [crate
    /// docs](crate#grpc-and-tonic).
    pub fn start_transaction(mut self, enabled: bool) -> VigilLayer {
        self.config.start_transaction = enabled;
        self
    }

    /// This layer for gRPC servers such as tonic: its services also read
    /// the `grpc-status` that a gRPC server sends in the trailers, at the
    /// end of the response body, and end a call's transaction then, with
    /// that status. See [`VigilGrpcLayer`] and the [crate
    /// docs](crate#grpc-and-tonic).
    ///
    /// [`VigilLayer`] itself recognizes gRPC calls too (names them, filters
    /// their metadata, reads a `grpc-status` sent in the response
    /// headers), but ends their transaction when the response headers are
    /// ready, before any trailers: a status sent in them (every `OK`, and
    /// an error a stream ends with) is not seen, and the call counts as
    /// `ok`, after the HTTP status 200.
    pub fn grpc(self) -> VigilGrpcLayer {
        VigilGrpcLayer::from_config(self.config)
    }
}

/// The reference SDK's HTTP layer, for migrating code that uses it: a
/// [`VigilLayer`] that starts transactions only when
/// [`enable_transaction`](SentryHttpLayer::enable_transaction) asks for
/// them.
///
/// Its services are [`VigilService`]s: every request also gets a hub of
/// its own (see the [crate docs](crate)), so adding
/// [`NewSentryLayer`](crate::NewSentryLayer) around it is harmless but no
/// longer needed.
///
/// ```
/// use vigil_tower::SentryHttpLayer;
/// let layer = SentryHttpLayer::new().enable_transaction();
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct SentryHttpLayer {
    layer: VigilLayer,
}

impl Default for SentryHttpLayer {
    fn default() -> SentryHttpLayer {
        SentryHttpLayer::new()
    }
}

impl SentryHttpLayer {
    /// A layer recording the request on the request's hub, without
    /// transactions.
    pub fn new() -> SentryHttpLayer {
        SentryHttpLayer {
            layer: VigilLayer::new().start_transaction(false),
        }
    }

    /// A layer that also starts a transaction per request.
    #[deprecated(note = "use `SentryHttpLayer::new().enable_transaction()`")]
    pub fn with_transaction() -> SentryHttpLayer {
        SentryHttpLayer::new().enable_transaction()
    }

    /// Start a transaction per request when tracing is enabled: see
    /// [`VigilLayer::start_transaction`].
    pub fn enable_transaction(mut self) -> SentryHttpLayer {
        self.layer = self.layer.start_transaction(true);
        self
    }

    /// Changes nothing: what the request data holds follows the client's
    /// `send_default_pii` option, read for each request (see the [crate
    /// docs](crate)), and the client filters personal data out of every
    /// event it sends without that option anyway. Set
    /// `send_default_pii` in the client options instead. Headers that
    /// carry secrets are never sent.
    pub fn enable_pii(self) -> SentryHttpLayer {
        self
    }

    /// The [`VigilLayer`] this layer is, for its other options.
    pub fn into_inner(self) -> VigilLayer {
        self.layer
    }
}

impl From<SentryHttpLayer> for VigilLayer {
    fn from(layer: SentryHttpLayer) -> VigilLayer {
        layer.layer
    }
}

impl<S> Layer<S> for SentryHttpLayer {
    type Service = VigilService<S>;

    fn layer(&self, inner: S) -> VigilService<S> {
        self.layer.layer(inner)
    }
}

/// The reference SDK's name of the service [`SentryHttpLayer`] makes: a
/// [`VigilService`].
pub type SentryHttpService<S> = VigilService<S>;

/// The reference SDK's name of the future of [`SentryHttpService`]: a
/// [`ResponseFuture`].
pub type SentryHttpFuture<F> = ResponseFuture<F>;

impl<S> Layer<S> for VigilLayer {
    type Service = VigilService<S>;

    fn layer(&self, inner: S) -> VigilService<S> {
        VigilService {
            inner,
            config: self.config,
        }
    }
}

/// The service made by [`VigilLayer`]: runs every request of the inner
/// service under a hub of its own.
///
/// It is `Clone`, `Send` and `Sync` whenever the inner service is.
#[derive(Clone, Debug)]
pub struct VigilService<S> {
    inner: S,
    config: Config,
}

impl<S> VigilService<S> {
    /// Wraps `inner` with the default options (same as
    /// `VigilLayer::new().layer(inner)`).
    pub fn new(inner: S) -> VigilService<S> {
        VigilLayer::new().layer(inner)
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The client address, from axum's `ConnectInfo` or a plain `SocketAddr`
/// request extension.
fn client_addr<B>(req: &http::Request<B>) -> Option<SocketAddr> {
    #[cfg(feature = "axum")]
    if let Some(info) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(info.0);
    }
    req.extensions().get::<SocketAddr>().copied()
}

/// The route the request matched (axum's `MatchedPath`), else its path,
/// with the transaction source that says which.
fn route<B>(req: &http::Request<B>) -> (&str, TransactionSource) {
    #[cfg(feature = "axum")]
    if let Some(path) = req.extensions().get::<axum::extract::MatchedPath>() {
        return (path.as_str(), TransactionSource::Route);
    }
    (req.uri().path(), TransactionSource::Url)
}

/// The trace a request continues (`sentry-trace` and `baggage`, or
/// `traceparent`), or a new one. A trace header whose value is not text
/// makes the request start a new trace, like any malformed one.
fn incoming_trace(headers: &http::HeaderMap, options: &ClientOptions) -> PropagationContext {
    let mut pairs = Vec::new();
    for name in ["sentry-trace", "baggage", "traceparent"] {
        for value in headers.get_all(name) {
            match value.to_str() {
                Ok(value) => pairs.push((name, value)),
                Err(_) => return PropagationContext::new(),
            }
        }
    }
    PropagationContext::continue_from_headers(pairs, options)
}

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for VigilService<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> ResponseFuture<S::Future> {
        ResponseFuture {
            inner: call_inner(&mut self.inner, self.config, req),
        }
    }
}

/// What [`VigilService`] and [`VigilGrpcService`](crate::VigilGrpcService)
/// do when a request arrives: a hub, a transaction and the request data
/// for it, then the inner service's `call` under that hub.
pub(crate) fn call_inner<S, ReqBody>(
    inner: &mut S,
    config: Config,
    req: http::Request<ReqBody>,
) -> Inner<S::Future>
where
    S: Service<http::Request<ReqBody>>,
{
    // Without an enabled client there is nothing to record: call
    // through at no cost.
    let Some(parent) = Hub::current_active() else {
        return Inner::Passthrough {
            future: inner.call(req),
        };
    };
    let hub = Arc::new(Hub::new_from_top(&parent));
    drop(parent);
    let client = hub.client();
    let send_default_pii = client
        .as_ref()
        .is_some_and(|c| c.options().send_default_pii);
    let tracing = config.start_transaction
        && client
            .as_ref()
            .is_some_and(|c| c.options().is_tracing_enabled());
    // Every request belongs to the trace its caller sent, or to a new one.
    let propagation = match &client {
        Some(client) => incoming_trace(req.headers(), client.options()),
        None => PropagationContext::new(),
    };
    drop(client);
    // A gRPC call is named after its method (`package.Service/Method`),
    // an HTTP request after its method and route.
    let grpc = grpc::is_grpc(req.headers());
    let (transaction_name, source, op, origin) = if grpc {
        let name = grpc::method_of(req.uri().path());
        (
            name.to_owned(),
            TransactionSource::Route,
            grpc::OP,
            grpc::ORIGIN,
        )
    } else {
        let (route, source) = route(&req);
        let method = req.method().as_str();
        let mut name = String::with_capacity(method.len() + 1 + route.len());
        name.push_str(method);
        name.push(' ');
        name.push_str(route);
        (name, source, "http.server", MECHANISM)
    };
    let url =
        url_without_query(req.uri(), req.headers()).unwrap_or_else(|| req.uri().path().to_owned());
    // With tracing on, a transaction times the request.
    let transaction = tracing.then(|| {
        let mut ctx = TransactionContext::continue_from_propagation_context(
            &transaction_name,
            op,
            &propagation,
        );
        ctx.set_source(source);
        ctx.set_origin(origin);
        hub.start_transaction(ctx)
    });
    // A sampled transaction sends the request data: build it now, from
    // the request itself; else only when an event needs it.
    let request = match transaction.as_ref().filter(|t| t.is_sampled()) {
        Some(transaction) => {
            let built = build_request(
                req.method(),
                req.uri(),
                req.headers(),
                client_addr(&req),
                send_default_pii,
                grpc,
            );
            transaction.set_data("http.request.method", Value::from(req.method().as_str()));
            transaction.set_data("url", Value::from(url.as_str()));
            if grpc {
                grpc::set_call_data(transaction, &transaction_name);
            }
            transaction.set_request(built.clone());
            LazyRequest::Ready(built)
        }
        None => LazyRequest::new(&req, client_addr(&req), send_default_pii, grpc),
    };
    let request = Arc::new(request);
    let mut state = State {
        config,
        method: req.method().clone(),
        url,
        grpc_method: grpc.then(|| transaction_name.clone()),
        transaction: transaction.clone(),
        hub: Arc::clone(&hub),
        in_inner: false,
        session: None,
    };
    hub.configure_scope(|scope| {
        scope.set_propagation_context(propagation);
        scope.set_span(transaction.map(TransactionOrSpan::from));
        scope.set_transaction(Some(&transaction_name));
        scope.add_event_processor(move |mut event| {
            if event.request.is_none() {
                event.request = Some(request.get().clone());
            }
            Some(event)
        });
    });
    // After the scope was written: the hub then holds the only copy,
    // which the session is set on in place.
    state.session = Hub::request_session(&hub);

    // Should the inner `call` panic, `state` is dropped while
    // unwinding and ends the transaction as an internal error.
    state.in_inner = true;
    let future = if config.capture_panics {
        match catch_unwind(AssertUnwindSafe(|| {
            Hub::run(hub.clone(), || inner.call(req))
        })) {
            Ok(future) => future,
            Err(payload) => {
                capture_panic(&hub, &*payload);
                resume_unwind(payload)
            }
        }
    } else {
        Hub::run(hub.clone(), || inner.call(req))
    };
    state.in_inner = false;
    Inner::Bound {
        future: future.bind_hub(hub),
        state: Some(state),
    }
}

/// What the response future needs once the response is ready (and, for a
/// gRPC call whose status comes in the trailers, the response body until
/// it ends).
pub(crate) struct State {
    pub(crate) config: Config,
    method: Method,
    url: String,
    /// The gRPC method (`package.Service/Method`) of a gRPC call.
    grpc_method: Option<String>,
    /// The request's transaction, with tracing on; taken when it ends.
    transaction: Option<Transaction>,
    /// The request's hub, to end the transaction under.
    pub(crate) hub: Arc<Hub>,
    /// Whether the inner service is running (its `call`, or a poll of its
    /// future or of a gRPC response body): a drop then comes from its
    /// panic.
    pub(crate) in_inner: bool,
    /// Dropped last, after the outcome was recorded.
    session: Option<RequestSessionGuard>,
}

impl Drop for State {
    /// Ends the transaction of a request that did not get to its
    /// response (or, for a gRPC call, to the end of its response body):
    /// dropped unfinished (`cancelled`) or panicked (`internal_error`),
    /// unless the handler set a status.
    fn drop(&mut self) {
        let Some(transaction) = self.transaction.take() else {
            return;
        };
        if transaction.get_status().is_none() {
            let status = if self.in_inner || std::thread::panicking() {
                SpanStatus::InternalError
            } else {
                SpanStatus::Cancelled
            };
            transaction.set_status(status);
        }
        Hub::run(Arc::clone(&self.hub), || transaction.finish());
    }
}

pin_project! {
    /// The response future of [`VigilService`]: the inner service's future,
    /// bound to the request's hub, recording the outcome when it
    /// completes.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Inner<F>,
    }
}

pin_project! {
    /// The inner service's future, bound to the request's hub unless no
    /// client was enabled.
    #[project = InnerProj]
    pub(crate) enum Inner<F> {
        // No enabled client when the request arrived.
        Passthrough {
            #[pin]
            future: F,
        },
        Bound {
            #[pin]
            future: HubFuture<F>,
            // Taken when the response is ready.
            state: Option<State>,
        },
    }
}

/// The inner service's result once ready, with the state of a gRPC call
/// whose outcome is recorded when its response body ends.
pub(crate) type Settled<B, E> = (Result<http::Response<B>, E>, Option<State>);

impl<F> Inner<F> {
    /// Whether the request is recorded (a client was enabled).
    pub(crate) fn is_bound(&self) -> bool {
        matches!(self, Inner::Bound { .. })
    }

    /// Polls the inner future; once the response is ready, records its
    /// outcome. With `defer_grpc`, a gRPC response whose status is not in
    /// its headers (it comes in the trailers) is not recorded: its state
    /// is returned, to be finished when the body ends.
    pub(crate) fn poll_settle<B, E>(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        defer_grpc: bool,
    ) -> Poll<Settled<B, E>>
    where
        F: Future<Output = Result<http::Response<B>, E>>,
    {
        match self.project() {
            InnerProj::Passthrough { future } => future.poll(cx).map(|result| (result, None)),
            InnerProj::Bound { mut future, state } => {
                let capture_panics = state.as_ref().is_some_and(|s| s.config.capture_panics);
                if let Some(state) = state.as_mut() {
                    state.in_inner = true;
                }
                let poll = if capture_panics {
                    match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                        Ok(poll) => poll,
                        Err(payload) => {
                            capture_panic(future.as_ref().get_ref().hub(), &*payload);
                            // Ends the transaction as an internal error.
                            drop(state.take());
                            resume_unwind(payload)
                        }
                    }
                } else {
                    future.as_mut().poll(cx)
                };
                if let Some(state) = state.as_mut() {
                    state.in_inner = false;
                }
                let Poll::Ready(result) = poll else {
                    return Poll::Pending;
                };
                let deferred = state
                    .take()
                    .and_then(|state| settle(state, &result, defer_grpc));
                Poll::Ready((result, deferred))
            }
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("bound", &self.inner.is_bound())
            .finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project()
            .inner
            .poll_settle(cx, false)
            .map(|(result, _)| result)
    }
}

/// Records the outcome of a request whose response (or error) is ready;
/// returns the state instead when it is a gRPC call whose status will
/// come in the trailers and `defer_grpc` asks to wait for them.
fn settle<B, E>(
    state: State,
    result: &Result<http::Response<B>, E>,
    defer_grpc: bool,
) -> Option<State> {
    let Ok(response) = result else {
        finish(state, None, None);
        return None;
    };
    let status = response.status();
    // A gRPC server answers every call with 200; anything else (from a
    // proxy, a router) is an HTTP failure and recorded as such.
    if state.grpc_method.is_some() && status == StatusCode::OK {
        // A trailers-only response: the status is in the headers.
        if let Some(grpc) = GrpcStatus::from_headers(response.headers()) {
            finish(state, Some(status), Some(&GrpcEnd::Status(grpc)));
            return None;
        }
        if defer_grpc {
            return Some(state);
        }
    }
    finish(state, Some(status), None);
    None
}

/// Records the breadcrumb and the 5xx event (or the gRPC server error)
/// once the response is ready, or a gRPC response body has ended, and
/// finishes the request's transaction (with the request's hub current, so
/// it takes the request's scope data). `status` is `None` when the inner
/// service failed; `grpc` is how a gRPC call ended, when known.
pub(crate) fn finish(mut state: State, status: Option<StatusCode>, grpc: Option<&GrpcEnd>) {
    let hub = Arc::clone(&state.hub);
    record_outcome(&hub, &state, status, grpc);
    if let Some(transaction) = state.transaction.take() {
        // A status or status code the handler set on the transaction is
        // kept.
        if transaction.get_status().is_none() {
            transaction.set_status(match (grpc, status) {
                (Some(grpc), _) => grpc.span_status(),
                (None, Some(status)) => SpanStatus::from_http_status(status.as_u16()),
                (None, None) => SpanStatus::InternalError,
            });
        }
        if transaction.is_sampled() {
            let data = transaction.get_trace_context().data;
            if let Some(status) = status
                && !data.contains_key("http.response.status_code")
            {
                transaction.set_data("http.response.status_code", Value::from(status.as_u16()));
            }
            if let Some(GrpcEnd::Status(grpc)) = grpc
                && !data.contains_key(grpc::STATUS_CODE_KEY)
            {
                transaction.set_data(grpc::STATUS_CODE_KEY, Value::from(grpc.code));
            }
        }
        Hub::run(hub, || transaction.finish());
    }
    // The request is over: its session ends now.
    drop(state.session.take());
}

/// Records the breadcrumb and the 5xx event or gRPC server error.
fn record_outcome(hub: &Hub, state: &State, status: Option<StatusCode>, grpc: Option<&GrpcEnd>) {
    if state.config.request_breadcrumb {
        let mut data = std::collections::BTreeMap::new();
        data.insert("method".to_owned(), Value::from(state.method.as_str()));
        data.insert("url".to_owned(), Value::from(state.url.as_str()));
        if let Some(status) = status {
            data.insert("status_code".to_owned(), Value::from(status.as_u16()));
        }
        if let Some(GrpcEnd::Status(grpc)) = grpc {
            data.insert(grpc::STATUS_CODE_KEY.to_owned(), Value::from(grpc.code));
        }
        let level = match (grpc, status) {
            (Some(grpc), _) => grpc.level(),
            (None, Some(s)) if s.is_server_error() => Level::Error,
            (None, Some(s)) if s.is_client_error() => Level::Warning,
            (None, Some(_)) => Level::Info,
            (None, None) => Level::Error,
        };
        hub.add_breadcrumb(Breadcrumb {
            ty: "http".into(),
            category: Some("http".into()),
            data,
            level,
            ..Breadcrumb::default()
        });
    }
    if !state.config.capture_server_errors {
        return;
    }
    if let (Some(GrpcEnd::Status(grpc)), Some(method)) = (grpc, &state.grpc_method) {
        if grpc.is_server_fault() {
            hub.capture_event(grpc.event(method));
        }
        return;
    }
    if let Some(status) = status.filter(StatusCode::is_server_error) {
        let text = match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        };
        let mut event = Event::from_message(text, Level::Error);
        let mut response = Map::new();
        response.insert("type".to_owned(), Value::from("response"));
        response.insert("status_code".to_owned(), Value::from(status.as_u16()));
        event
            .contexts
            .insert("response".to_owned(), EventContext::Other(response));
        hub.capture_event(event);
    }
}

/// Captures a handler's panic as a fatal, unhandled event on `hub`.
pub(crate) fn capture_panic(hub: &Hub, payload: &(dyn Any + Send)) {
    hub.capture_event(vigil_core::event_from_panic(payload, MECHANISM));
}
