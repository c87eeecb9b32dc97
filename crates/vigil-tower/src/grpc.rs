//! gRPC calls: recognizing them, their status (`grpc-status` and
//! `grpc-message`, in the response headers or trailers), and the layer
//! whose responses' bodies are watched for the trailers.

use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;
use vigil_core::protocol::{Context as EventContext, Event, Level, Map, SpanStatus, Value};
use vigil_core::{Hub, Transaction};

use crate::service::{Config, Inner, State, VigilLayer, call_inner, capture_panic, finish};

/// The span operation of a gRPC call's transaction (Sentry's name for a
/// gRPC server span).
pub(crate) const OP: &str = "grpc.server";

/// The origin of a gRPC call's transaction.
pub(crate) const ORIGIN: &str = "auto.grpc.tower";

/// The key of the gRPC status code in the transaction's data and the
/// breadcrumb's (OpenTelemetry's attribute name).
pub(crate) const STATUS_CODE_KEY: &str = "rpc.grpc.status_code";

/// The names of the gRPC status codes 0 to 16, as the gRPC specification
/// writes them.
const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

/// The gRPC code a client reads from a status that is no known code.
const UNKNOWN: u32 = 2;

/// Whether a request is a gRPC call: its `Content-Type` is
/// `application/grpc`, alone or followed by `+format` or parameters.
/// gRPC-Web (`application/grpc-web...`) is not: its trailers travel inside
/// the body.
pub(crate) fn is_grpc(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return false;
    };
    let bytes = value.as_bytes();
    let prefix = b"application/grpc";
    bytes.len() >= prefix.len()
        && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
        && matches!(bytes.get(prefix.len()), None | Some(b'+' | b';'))
}

/// The gRPC method of a call's path, `package.Service/Method`: the path
/// without its leading slash.
pub(crate) fn method_of(path: &str) -> &str {
    path.strip_prefix('/').unwrap_or(path)
}

/// Records the called service and method in a sampled transaction's data
/// (OpenTelemetry's `rpc.*` attributes).
pub(crate) fn set_call_data(transaction: &Transaction, method: &str) {
    transaction.set_data("rpc.system", Value::from("grpc"));
    if let Some((service, name)) = method.rsplit_once('/') {
        transaction.set_data("rpc.service", Value::from(service));
        transaction.set_data("rpc.method", Value::from(name));
    }
}

/// A gRPC status: the code of `grpc-status` and the decoded
/// `grpc-message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GrpcStatus {
    pub(crate) code: u32,
    pub(crate) message: Option<String>,
}

/// How a gRPC call ended, as far as the layer saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GrpcEnd {
    /// With a `grpc-status`.
    Status(GrpcStatus),
    /// The response ended without a `grpc-status`, which a client reads
    /// as an unknown error.
    Missing,
    /// The response body failed before its end.
    Failed,
}

impl GrpcStatus {
    /// The status in `headers` (response headers or trailers), if they
    /// have a `grpc-status`. A value that is not a number is read as
    /// `UNKNOWN`, as clients do.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<GrpcStatus> {
        let code = headers.get("grpc-status")?;
        let code = std::str::from_utf8(code.as_bytes())
            .ok()
            .and_then(|code| code.trim().parse().ok())
            .unwrap_or(UNKNOWN);
        let message = headers
            .get("grpc-message")
            .map(|m| percent_decode(m.as_bytes()))
            .filter(|m| !m.is_empty());
        Some(GrpcStatus { code, message })
    }

    /// The code's name (`INTERNAL`); `UNKNOWN` for a code the
    /// specification does not define.
    pub(crate) fn name(&self) -> &'static str {
        usize::try_from(self.code)
            .ok()
            .and_then(|code| CODE_NAMES.get(code))
            .copied()
            .unwrap_or("UNKNOWN")
    }

    /// The span status of the code: the one of the same name (`INTERNAL`
    /// is `internal_error`), `unknown` for an undefined code.
    pub(crate) fn span_status(&self) -> SpanStatus {
        SpanStatus::from_grpc_status(self.code)
    }

    /// Whether the code says the server failed (and is captured): the
    /// codes gRPC uses for server faults, `UNKNOWN` (an error without a
    /// status, also what a panicking handler gets; and any undefined
    /// code), `INTERNAL`, `UNAVAILABLE` and `DATA_LOSS`. Not those that
    /// describe the call or the caller (`INVALID_ARGUMENT`, `NOT_FOUND`,
    /// `UNAUTHENTICATED`, `UNIMPLEMENTED`, ...), nor `CANCELLED` and
    /// `DEADLINE_EXCEEDED`, which on a server mostly mean that the caller
    /// gave up or its deadline (`grpc-timeout`) ran out.
    pub(crate) fn is_server_fault(&self) -> bool {
        matches!(self.code, UNKNOWN | 13..=15) || self.code > 16
    }

    /// The error event of a server fault in `method`.
    pub(crate) fn event(&self, method: &str) -> Event {
        let text = match &self.message {
            Some(message) => format!("gRPC {}: {message}", self.name()),
            None => format!("gRPC {}", self.name()),
        };
        let mut event = Event::from_message(text, Level::Error);
        let mut context = Map::new();
        context.insert("type".to_owned(), Value::from("grpc"));
        context.insert("method".to_owned(), Value::from(method));
        context.insert("status_code".to_owned(), Value::from(self.code));
        context.insert("status".to_owned(), Value::from(self.name()));
        if let Some(message) = &self.message {
            context.insert("message".to_owned(), Value::from(message.as_str()));
        }
        event
            .contexts
            .insert("grpc".to_owned(), EventContext::Other(context));
        event
    }
}

impl GrpcEnd {
    /// The span status of the call.
    pub(crate) fn span_status(&self) -> SpanStatus {
        match self {
            GrpcEnd::Status(status) => status.span_status(),
            GrpcEnd::Missing => SpanStatus::Unknown,
            GrpcEnd::Failed => SpanStatus::InternalError,
        }
    }

    /// The level of the call's breadcrumb: `info` for `OK`, `error` for a
    /// server fault or a response without status, else `warning`.
    pub(crate) fn level(&self) -> Level {
        match self {
            GrpcEnd::Status(status) if status.code == 0 => Level::Info,
            GrpcEnd::Status(status) if !status.is_server_fault() => Level::Warning,
            _ => Level::Error,
        }
    }
}

/// Decodes the percent-encoding of `grpc-message` (bytes that are not
/// UTF-8 replaced).
fn percent_decode(bytes: &[u8]) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            // Two hex digits: at most 255.
            out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A [`tower_layer::Layer`] for gRPC servers (tonic): a [`VigilLayer`]
/// whose services also watch each gRPC response's body for its trailers.
/// Make it with [`VigilLayer::grpc`].
///
/// A gRPC server answers every call with HTTP status 200 and sends the
/// call's status as `grpc-status` (and `grpc-message`) in the trailers,
/// after the response messages, or, when there are no messages (an error
/// returned by a unary handler, or before a stream started), in the
/// headers of a trailers-only response. [`VigilLayer`] sees only the
/// headers; this layer wraps the response body in a [`GrpcBody`] that
/// reads the trailers, so the call's transaction ends when the last
/// message of a stream has been sent, with the status of the trailers.
/// See the [crate docs](crate#grpc-and-tonic) for what is recorded.
///
/// For a request that is no gRPC call, its services do exactly what
/// [`VigilService`](crate::VigilService) does; the body is passed through
/// untouched.
///
/// ```
/// use vigil_tower::VigilLayer;
/// let layer = VigilLayer::new().capture_server_errors(true).grpc();
/// // tonic::transport::Server::builder().layer(layer).add_service(...)
/// # let _ = layer;
/// ```
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a layer does nothing until it wraps a service"]
pub struct VigilGrpcLayer {
    config: Config,
}

impl VigilGrpcLayer {
    /// A layer with the default options (same as `VigilLayer::new().grpc()`).
    pub fn new() -> VigilGrpcLayer {
        VigilLayer::new().grpc()
    }

    pub(crate) fn from_config(config: Config) -> VigilGrpcLayer {
        VigilGrpcLayer { config }
    }
}

impl From<VigilLayer> for VigilGrpcLayer {
    fn from(layer: VigilLayer) -> VigilGrpcLayer {
        layer.grpc()
    }
}

impl<S> Layer<S> for VigilGrpcLayer {
    type Service = VigilGrpcService<S>;

    fn layer(&self, inner: S) -> VigilGrpcService<S> {
        VigilGrpcService {
            inner,
            config: self.config,
        }
    }
}

/// The service made by [`VigilGrpcLayer`]: a
/// [`VigilService`](crate::VigilService) whose responses have a
/// [`GrpcBody`], which ends a gRPC call's transaction with the status of
/// its trailers.
///
/// It is `Clone`, `Send` and `Sync` whenever the inner service is.
#[derive(Clone, Debug)]
pub struct VigilGrpcService<S> {
    inner: S,
    config: Config,
}

impl<S> VigilGrpcService<S> {
    /// Wraps `inner` with the default options (same as
    /// `VigilLayer::new().grpc().layer(inner)`).
    pub fn new(inner: S) -> VigilGrpcService<S> {
        VigilGrpcLayer::new().layer(inner)
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

impl<S, ReqBody, ResBody> Service<http::Request<ReqBody>> for VigilGrpcService<S>
where
    S: Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<GrpcBody<ResBody>>;
    type Error = S::Error;
    type Future = GrpcResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> GrpcResponseFuture<S::Future> {
        GrpcResponseFuture {
            inner: call_inner(&mut self.inner, self.config, req),
        }
    }
}

pin_project! {
    /// The response future of [`VigilGrpcService`]: the inner service's
    /// future, bound to the request's hub; its response's body is a
    /// [`GrpcBody`].
    #[must_use = "futures do nothing unless polled"]
    pub struct GrpcResponseFuture<F> {
        #[pin]
        inner: Inner<F>,
    }
}

impl<F> fmt::Debug for GrpcResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcResponseFuture")
            .field("bound", &self.inner.is_bound())
            .finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for GrpcResponseFuture<F>
where
    F: Future<Output = Result<http::Response<ResBody>, E>>,
{
    type Output = Result<http::Response<GrpcBody<ResBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project()
            .inner
            .poll_settle(cx, true)
            .map(|(result, state)| {
                result.map(|response| {
                    response.map(|body| GrpcBody {
                        inner: body,
                        state: state.map(Box::new),
                    })
                })
            })
    }
}

pin_project! {
    /// The response body of [`VigilGrpcService`]: the inner service's body,
    /// unchanged. For a gRPC call whose status comes in the trailers, it
    /// reads them as they pass and then records the call's outcome and
    /// ends its transaction; the request's hub is current while the inner
    /// body is polled (a streaming handler's stream runs then).
    ///
    /// Dropped before its end (the client cancelled the call or went
    /// away), the transaction ends as `cancelled`.
    pub struct GrpcBody<B> {
        #[pin]
        inner: B,
        // The call's state until its end: boxed, as most bodies have none.
        state: Option<Box<State>>,
    }
}

impl<B> GrpcBody<B> {
    /// The inner body.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// Unwraps the inner body. A gRPC call whose outcome was not recorded
    /// yet ends now, as `cancelled`.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B> fmt::Debug for GrpcBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GrpcBody")
            .field("watching_trailers", &self.state.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for GrpcBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let Some(state) = this.state.as_mut() else {
            return this.inner.poll_frame(cx);
        };
        let hub = Arc::clone(&state.hub);
        let mut inner = this.inner;
        state.in_inner = true;
        let poll = if state.config.capture_panics {
            match catch_unwind(AssertUnwindSafe(|| {
                Hub::run(Arc::clone(&hub), || inner.as_mut().poll_frame(cx))
            })) {
                Ok(poll) => poll,
                Err(payload) => {
                    capture_panic(&hub, &*payload);
                    // Ends the transaction as an internal error.
                    drop(this.state.take());
                    resume_unwind(payload)
                }
            }
        } else {
            Hub::run(hub, || inner.as_mut().poll_frame(cx))
        };
        state.in_inner = false;
        let end = match &poll {
            Poll::Pending => return poll,
            Poll::Ready(Some(Ok(frame))) => match frame.trailers_ref() {
                Some(trailers) => Some(
                    GrpcStatus::from_headers(trailers).map_or(GrpcEnd::Missing, GrpcEnd::Status),
                ),
                // A body that says it is over after a data frame is not
                // polled again: it ended without trailers.
                None if inner.is_end_stream() => Some(GrpcEnd::Missing),
                None => None,
            },
            Poll::Ready(Some(Err(_))) => Some(GrpcEnd::Failed),
            Poll::Ready(None) => Some(GrpcEnd::Missing),
        };
        if let Some(end) = end
            && let Some(state) = this.state.take()
        {
            finish(*state, Some(StatusCode::OK), Some(&end));
        }
        poll
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn grpc_is_recognized_by_content_type() {
        for yes in [
            "application/grpc",
            "application/grpc+proto",
            "application/grpc+json",
            "Application/GRPC",
            "application/grpc;charset=utf-8",
        ] {
            assert!(is_grpc(&headers(&[("content-type", yes)])), "{yes}");
        }
        for no in [
            "application/grpc-web",
            "application/grpc-web+proto",
            "application/grpcx",
            "application/json",
            "",
        ] {
            assert!(!is_grpc(&headers(&[("content-type", no)])), "{no}");
        }
        assert!(!is_grpc(&HeaderMap::new()));
    }

    #[test]
    fn every_code_has_its_span_status_and_name() {
        let expected = [
            "ok",
            "cancelled",
            "unknown",
            "invalid_argument",
            "deadline_exceeded",
            "not_found",
            "already_exists",
            "permission_denied",
            "resource_exhausted",
            "failed_precondition",
            "aborted",
            "out_of_range",
            "unimplemented",
            "internal_error",
            "unavailable",
            "data_loss",
            "unauthenticated",
        ];
        for (code, name) in (0u32..).zip(expected) {
            let status = GrpcStatus {
                code,
                message: None,
            };
            assert_eq!(status.span_status().as_str(), name, "{code}");
            assert_eq!(status.name(), CODE_NAMES[code as usize]);
        }
        let odd = GrpcStatus {
            code: 99,
            message: None,
        };
        assert_eq!(odd.span_status(), SpanStatus::Unknown);
        assert_eq!(odd.name(), "UNKNOWN");
        assert!(odd.is_server_fault());
        let faults: Vec<u32> = (0..=16)
            .filter(|&code| {
                GrpcStatus {
                    code,
                    message: None,
                }
                .is_server_fault()
            })
            .collect();
        assert_eq!(faults, [2, 13, 14, 15]);
    }

    #[test]
    fn status_and_message_are_read_and_decoded() {
        let status = GrpcStatus::from_headers(&headers(&[
            ("grpc-status", "13"),
            ("grpc-message", "caf%C3%A9%20at%20100%25%0Abroken"),
        ]));
        assert_eq!(
            status,
            Some(GrpcStatus {
                code: 13,
                message: Some("café at 100%\nbroken".to_owned()),
            })
        );
        let bare = GrpcStatus::from_headers(&headers(&[("grpc-status", "0")]));
        assert_eq!(
            bare,
            Some(GrpcStatus {
                code: 0,
                message: None
            })
        );
        let garbage = GrpcStatus::from_headers(&headers(&[("grpc-status", "x")]));
        assert_eq!(garbage.map(|s| s.code), Some(UNKNOWN));
        assert_eq!(GrpcStatus::from_headers(&HeaderMap::new()), None);
        assert_eq!(percent_decode(b"100%"), "100%");
        assert_eq!(percent_decode(b"%zz%4"), "%zz%4");
        assert_eq!(percent_decode(b"%ff"), "\u{fffd}");
    }

    #[test]
    fn the_method_is_the_path_without_its_slash() {
        assert_eq!(
            method_of("/grpc.health.v1.Health/Check"),
            "grpc.health.v1.Health/Check"
        );
        assert_eq!(method_of("odd"), "odd");
    }
}
