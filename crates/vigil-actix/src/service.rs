//! The service the middleware wraps around the application, and its
//! response future.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::HttpMessage;
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use pin_project_lite::pin_project;
use vigil_core::protocol::{
    Breadcrumb, Event, EventId, Level, SpanStatus, TransactionSource, Value,
};
use vigil_core::{
    ClientOptions, Hub, HubFuture, HubFutureExt, PropagationContext, RequestSessionGuard,
    Transaction, TransactionContext, TransactionOrSpan,
};

use crate::body::{SharedBodyCopy, tap, tap_plan};
use crate::errors::{MECHANISM, error_event, panic_event, status_event};
use crate::middleware::Config;
use crate::request::{LazyRequest, RequestParts};

/// The service [`VigilMiddleware`](crate::VigilMiddleware) (or
/// [`Sentry`](crate::Sentry)) wraps around the application: runs every
/// request under a hub of its own. One per worker thread, as actix-web
/// makes them.
pub struct VigilService<S> {
    service: S,
    config: Rc<Config>,
}

/// The reference SDK's name of [`VigilService`].
pub type SentryMiddleware<S> = VigilService<S>;

impl<S> VigilService<S> {
    pub(crate) fn new(service: S, config: Rc<Config>) -> VigilService<S> {
        VigilService { service, config }
    }
}

impl<S> fmt::Debug for VigilService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VigilService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The headers a request's trace comes in, in the order they are read.
const TRACE_HEADERS: [(&str, HeaderName); 3] = [
    ("sentry-trace", HeaderName::from_static("sentry-trace")),
    ("baggage", HeaderName::from_static("baggage")),
    ("traceparent", HeaderName::from_static("traceparent")),
];

/// The trace a request continues (`sentry-trace` and `baggage`, or
/// `traceparent`), or a new one. A trace header whose value is not text
/// makes the request start a new trace, like any malformed one.
fn incoming_trace(headers: &HeaderMap, options: &ClientOptions) -> PropagationContext {
    let mut pairs = Vec::new();
    for (name, header) in &TRACE_HEADERS {
        for value in headers.get_all(header) {
            match value.to_str() {
                Ok(value) => pairs.push((*name, value)),
                Err(_) => return PropagationContext::new(),
            }
        }
    }
    PropagationContext::continue_from_headers(pairs, options)
}

impl<S, B> Service<ServiceRequest> for VigilService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future = ResponseFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, mut req: ServiceRequest) -> ResponseFuture<S::Future> {
        let config = &self.config;
        // Without an enabled client there is nothing to record: call
        // through at no cost.
        let parent = match &config.hub {
            Some(hub) => hub.is_active().then(|| Arc::clone(hub)),
            None => Hub::current_active(),
        };
        let Some(parent) = parent else {
            return ResponseFuture {
                inner: Inner::Passthrough {
                    future: self.service.call(req),
                },
            };
        };
        let hub = Arc::new(Hub::new_from_top(&parent));
        drop(parent);
        let client = hub.client();
        let options = client.as_ref().map(|c| c.options());
        let send_default_pii = options.is_some_and(|o| o.send_default_pii);
        let before_breadcrumb = options.is_some_and(|o| o.before_breadcrumb.is_some());
        let tracing = config.start_transaction && options.is_some_and(|o| o.is_tracing_enabled());
        let propagation = match options {
            Some(options) => incoming_trace(req.headers(), options),
            None => PropagationContext::new(),
        };
        drop(client);

        // `GET /users/{id}` after the route pattern, else the path.
        let method = req.method().as_str();
        let (transaction_name, source) = match req.match_pattern() {
            Some(mut pattern) => {
                pattern.insert(0, ' ');
                pattern.insert_str(0, method);
                (pattern, TransactionSource::Route)
            }
            None => {
                let path = req.path();
                let mut name = String::with_capacity(method.len() + 1 + path.len());
                name.push_str(method);
                name.push(' ');
                name.push_str(path);
                (name, TransactionSource::Url)
            }
        };
        let transaction = tracing.then(|| {
            let mut ctx = TransactionContext::continue_from_propagation_context(
                &transaction_name,
                "http.server",
                &propagation,
            );
            ctx.set_source(source);
            ctx.set_origin(MECHANISM);
            hub.start_transaction(ctx)
        });
        let request = LazyRequest::new(RequestParts::of(&req, send_default_pii));
        if let Some(transaction) = transaction.as_ref().filter(|t| t.is_sampled()) {
            // A sampled transaction sends the request data: its own copy,
            // built now (events build theirs when captured).
            let built = request.parts().build();
            transaction.set_data("http.request.method", Value::from(method));
            if let Some(url) = &built.url {
                transaction.set_data("url", Value::from(url.as_str()));
            }
            transaction.set_request(built);
        }
        let request = Arc::new(request);

        // The body, when allowed: a copy kept while the application reads
        // it, attached to the events captured afterwards.
        let body = tap_plan(
            config.max_request_body_size,
            req.headers(),
            send_default_pii,
        )
        .and_then(|(limit, kind)| match req.take_payload() {
            Payload::None => None,
            payload => {
                let (payload, copy) = tap(payload, limit, kind);
                req.set_payload(payload);
                Some(copy)
            }
        });

        let mut state = State {
            config: Rc::clone(config),
            request: Arc::clone(&request),
            transaction: transaction.clone(),
            hub: Arc::clone(&hub),
            in_inner: false,
            session: None,
            before_breadcrumb,
        };
        hub.configure_scope(|scope| {
            scope.set_propagation_context(propagation);
            scope.set_span(transaction.map(TransactionOrSpan::from));
            scope.set_transaction(Some(&transaction_name));
            scope.add_event_processor(move |event| {
                Some(add_request(event, &request, body.as_ref()))
            });
        });
        // After the scope was written: the hub then holds the only copy,
        // which the session is set on in place.
        state.session = Hub::request_session(&hub);

        // Should the inner `call` panic, `state` is dropped while
        // unwinding and ends the transaction as an internal error.
        state.in_inner = true;
        let service = &self.service;
        let future = if config.capture_panics {
            match catch_unwind(AssertUnwindSafe(|| {
                Hub::run(Arc::clone(&hub), || service.call(req))
            })) {
                Ok(future) => future,
                Err(payload) => {
                    hub.capture_event(panic_event(&*payload));
                    drop(state);
                    resume_unwind(payload)
                }
            }
        } else {
            Hub::run(Arc::clone(&hub), || service.call(req))
        };
        state.in_inner = false;
        ResponseFuture {
            inner: Inner::Bound {
                future: future.bind_hub(hub),
                state: Some(state),
            },
        }
    }
}

/// Adds the request data (and the body, when one was kept and is
/// complete) to an event that has no `request` of its own.
fn add_request(mut event: Event, request: &LazyRequest, body: Option<&SharedBodyCopy>) -> Event {
    if event.request.is_none() {
        let mut data = request.get().clone();
        if let Some(body) = body {
            data.data = body
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .data();
        }
        event.request = Some(data);
    }
    event
}

/// What the response future needs once the response is ready.
struct State {
    config: Rc<Config>,
    request: Arc<LazyRequest>,
    /// The request's transaction, with tracing on; taken when it ends.
    transaction: Option<Transaction>,
    /// The request's hub, to end the transaction under.
    hub: Arc<Hub>,
    /// Whether the application is running (its `call`, or a poll of its
    /// future): a drop then comes from its panic.
    in_inner: bool,
    /// Dropped last, after the outcome was recorded.
    session: Option<RequestSessionGuard>,
    /// The client has a `before_breadcrumb` callback.
    before_breadcrumb: bool,
}

impl State {
    /// Whether an event captured after the response could carry the
    /// request's breadcrumb: a `before_breadcrumb` callback sees every
    /// breadcrumb, and an event captured later on the request's hub needs
    /// someone to hold the hub besides the response future (its own
    /// handle and this state's) and the session. Otherwise the hub, with
    /// any breadcrumb recorded on it, is dropped unseen in a moment.
    fn breadcrumb_can_be_seen(&self) -> bool {
        let held = 2 + usize::from(self.session.is_some());
        self.before_breadcrumb
            || Arc::strong_count(&self.hub) > held
            || Arc::weak_count(&self.hub) > 0
    }
}

impl Drop for State {
    /// Ends the transaction of a request that did not get to its
    /// response: dropped unfinished (`cancelled`) or panicked
    /// (`internal_error`), unless the handler set a status.
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
    /// The response future of [`VigilService`]: the application's future,
    /// bound to the request's hub, recording the outcome when it
    /// completes.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Inner<F>,
    }
}

pin_project! {
    #[project = InnerProj]
    enum Inner<F> {
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

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bound = matches!(self.inner, Inner::Bound { .. });
        f.debug_struct("ResponseFuture")
            .field("bound", &bound)
            .finish_non_exhaustive()
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, actix_web::Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project().inner.project() {
            InnerProj::Passthrough { future } => future.poll(cx),
            InnerProj::Bound { mut future, state } => {
                let capture_panics = state.as_ref().is_some_and(|s| s.config.capture_panics);
                if let Some(state) = state.as_mut() {
                    state.in_inner = true;
                }
                let poll = if capture_panics {
                    match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                        Ok(poll) => poll,
                        Err(payload) => {
                            future
                                .as_ref()
                                .get_ref()
                                .hub()
                                .capture_event(panic_event(&*payload));
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
                let Poll::Ready(mut result) = poll else {
                    return Poll::Pending;
                };
                if let Some(state) = state.take() {
                    finish(state, &mut result);
                }
                Poll::Ready(result)
            }
        }
    }
}

/// Records the breadcrumb and the server error's event once the outcome
/// is known, and finishes the request's transaction.
fn finish<B>(mut state: State, result: &mut Result<ServiceResponse<B>, actix_web::Error>) {
    let status = match result {
        Ok(response) => response.status(),
        Err(error) => error.as_response_error().status_code(),
    };
    let capture = state.config.capture_server_errors && status.is_server_error();
    if state.config.request_breadcrumb && (capture || state.breadcrumb_can_be_seen()) {
        record_breadcrumb(&state.hub, &state.request, status);
    }
    if capture {
        let error = match result {
            Ok(response) => response.response().error(),
            Err(error) => Some(&*error),
        };
        let event = match error {
            Some(error) => error_event(error, &state.config.error_types, status),
            None => status_event(status),
        };
        let id = state.hub.capture_event(event);
        if state.config.emit_header
            && let Ok(response) = result
        {
            emit_event_header(response, id);
        }
    }
    if let Some(transaction) = state.transaction.take() {
        // A status or status code the handler set is kept.
        if transaction.get_status().is_none() {
            transaction.set_status(SpanStatus::from_http_status(status.as_u16()));
        }
        if transaction.is_sampled()
            && !transaction
                .get_trace_context()
                .data
                .contains_key("http.response.status_code")
        {
            transaction.set_data("http.response.status_code", Value::from(status.as_u16()));
        }
        Hub::run(Arc::clone(&state.hub), || transaction.finish());
    }
    // The request is over: its session ends now.
    drop(state.session.take());
}

/// The `http` breadcrumb of the request's outcome.
fn record_breadcrumb(hub: &Hub, request: &LazyRequest, status: StatusCode) {
    let (method, url) = request.method_and_url();
    let mut data = std::collections::BTreeMap::new();
    data.insert("method".to_owned(), Value::from(method));
    data.insert("url".to_owned(), Value::from(url));
    data.insert("status_code".to_owned(), Value::from(status.as_u16()));
    let level = if status.is_server_error() {
        Level::Error
    } else if status.is_client_error() {
        Level::Warning
    } else {
        Level::Info
    };
    hub.add_breadcrumb(Breadcrumb {
        ty: "http".into(),
        category: Some("http".into()),
        data,
        level,
        ..Breadcrumb::default()
    });
}

/// `X-Sentry-Event: <id>` on the response, for a captured event.
fn emit_event_header<B>(response: &mut ServiceResponse<B>, id: EventId) {
    if id.is_nil() {
        return;
    }
    if let Ok(value) = HeaderValue::from_str(&id.simple().to_string()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-sentry-event"), value);
    }
}
