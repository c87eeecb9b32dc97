//! The middleware (its options) and the reference SDK's names for it.

use std::error::Error as StdError;
use std::fmt;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::Arc;

use actix_web::ResponseError;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use vigil_core::Hub;

use crate::body::MaxRequestBodySize;
use crate::errors::{ChainReader, Readers, chain_reader};
use crate::service::VigilService;

/// The options, shared by the middleware's services (one per worker).
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) hub: Option<Arc<Hub>>,
    pub(crate) capture_server_errors: bool,
    pub(crate) capture_panics: bool,
    pub(crate) request_breadcrumb: bool,
    pub(crate) start_transaction: bool,
    pub(crate) emit_header: bool,
    pub(crate) max_request_body_size: MaxRequestBodySize,
    pub(crate) error_types: Vec<ChainReader>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hub: None,
            capture_server_errors: true,
            capture_panics: false,
            request_breadcrumb: true,
            start_transaction: true,
            emit_header: false,
            max_request_body_size: MaxRequestBodySize::None,
            error_types: Vec::new(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("hub", &self.hub.as_ref().map(|_| "Hub"))
            .field("capture_server_errors", &self.capture_server_errors)
            .field("capture_panics", &self.capture_panics)
            .field("request_breadcrumb", &self.request_breadcrumb)
            .field("start_transaction", &self.start_transaction)
            .field("emit_header", &self.emit_header)
            .field("max_request_body_size", &self.max_request_body_size)
            .field("error_types", &Readers(&self.error_types))
            .finish()
    }
}

/// actix-web middleware that gives every request its own hub and records
/// the request on it. See the [crate docs](crate) for what happens per
/// request.
///
/// Defaults: capture 5xx responses and errors (as the reference SDK), a
/// transaction per request when tracing is enabled, one `http`
/// breadcrumb per request, no capture of panics (a panic hook reports
/// them), no `X-Sentry-Event` header, no request bodies.
///
/// ```
/// use vigil_actix::{MaxRequestBodySize, VigilMiddleware};
/// let middleware = VigilMiddleware::new()
///     .capture_panics(true)
///     .emit_header(true)
///     .max_request_body_size(MaxRequestBodySize::Small);
/// let app = actix_web::App::new().wrap(middleware);
/// # let _ = app;
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a middleware does nothing until an app wraps it"]
pub struct VigilMiddleware {
    config: Config,
}

impl VigilMiddleware {
    /// A middleware with the default options.
    pub fn new() -> VigilMiddleware {
        VigilMiddleware::default()
    }

    /// Make each request's hub from `hub` instead of from the hub current
    /// when the request arrives (the worker thread's, which follows the
    /// main hub). Without an enabled client on `hub`, requests go straight
    /// through.
    pub fn with_hub(mut self, hub: Arc<Hub>) -> VigilMiddleware {
        self.config.hub = Some(hub);
        self
    }

    /// Make each request's hub from the hub current when the request
    /// arrives again (the default; undoes [`with_hub`](Self::with_hub)).
    pub fn with_default_hub(mut self) -> VigilMiddleware {
        self.config.hub = None;
        self
    }

    /// Capture server errors (on by default): a request whose outcome has
    /// a 5xx status.
    ///
    /// - An actix `Error` (returned by the handler or by an inner
    ///   middleware) that renders as 5xx is captured as an error event:
    ///   the exceptions are its cause's `source()` chain, innermost first,
    ///   when the cause's type is known (types registered with
    ///   [`error_type`](Self::error_type), actix-web's own error types,
    ///   `std::io::Error`, `Box<dyn std::error::Error>`), else one
    ///   exception with the type its `Debug` output starts with and its
    ///   `Display` text. The outermost exception has the mechanism
    ///   `{"type":"auto.http.actix","handled":true}`.
    /// - A 5xx response without an error is captured as the message
    ///   `"<code> <reason>"` (e.g. `503 Service Unavailable`) at level
    ///   `error`, as `vigil-tower` does.
    ///
    /// Either event has a `response` context with the `status_code` and
    /// everything the request's scope holds when the response is ready:
    /// tags and user set by the handler, the transaction, the request data
    /// and breadcrumbs (including this request's `http` breadcrumb).
    pub fn capture_server_errors(mut self, enabled: bool) -> VigilMiddleware {
        self.config.capture_server_errors = enabled;
        self
    }

    /// Read the `source()` chain of actix `Error`s whose cause is of type
    /// `T`, for the events of
    /// [`capture_server_errors`](Self::capture_server_errors).
    ///
    /// actix-web keeps an error as a `dyn ResponseError`, which does not
    /// give access to `std::error::Error`: the middleware can only read
    /// the chain of a type it is told about. Register each error type of
    /// the application that implements both traits:
    ///
    /// ```
    /// use std::fmt;
    /// use vigil_actix::VigilMiddleware;
    ///
    /// #[derive(Debug)]
    /// struct CheckoutError(std::io::Error);
    /// impl fmt::Display for CheckoutError {
    ///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    ///         f.write_str("checkout failed")
    ///     }
    /// }
    /// impl std::error::Error for CheckoutError {
    ///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
    ///         Some(&self.0)
    ///     }
    /// }
    /// impl actix_web::ResponseError for CheckoutError {}
    ///
    /// let middleware = VigilMiddleware::new().error_type::<CheckoutError>();
    /// # let _ = middleware;
    /// ```
    pub fn error_type<T>(mut self) -> VigilMiddleware
    where
        T: ResponseError + StdError + 'static,
    {
        self.config.error_types.push(chain_reader::<T>);
        self
    }

    /// Capture a panic of the application (in the inner service's `call`
    /// or while its future is polled) as a `fatal` event (off by default).
    ///
    /// The event has one exception of type `panic` whose value is the
    /// panic message and whose mechanism is
    /// `{"type":"auto.http.actix","handled":false}` (which makes the
    /// request's session `crashed`), plus the request's scope data. Right
    /// after the capture the panic is resumed with
    /// [`std::panic::resume_unwind`] with its original payload, so it
    /// propagates exactly as without this middleware: the panic hook has
    /// already run (it is not run a second time), and actix-web does not
    /// catch it either: the task serving the connection ends and the
    /// client sees the connection close without a response (the worker
    /// keeps serving other connections). The request's transaction ends
    /// as `internal_error`.
    ///
    /// Leave this off if a panic hook already reports panics (the `panic`
    /// integration of `vigil`, on by default): the hook runs while the
    /// request's hub is current, so its event already carries the
    /// request's data, and turning this on would report the panic twice.
    pub fn capture_panics(mut self, enabled: bool) -> VigilMiddleware {
        self.config.capture_panics = enabled;
        self
    }

    /// Record an `http` breadcrumb on the request's hub when the response
    /// is ready (on by default): `method`, `url` (without query string)
    /// and `status_code`; level `error` for 5xx, `warning` for 4xx, `info`
    /// otherwise. It goes through `before_breadcrumb`.
    ///
    /// It reaches only events captured afterwards on the request's own
    /// hub: the server error's event, and events captured later through a
    /// handle to the hub the application kept (`Hub::current()` taken in
    /// the handler). When there can be none (no server error, no other
    /// handle to the hub, no `before_breadcrumb` callback), the hub is
    /// dropped right after the response, and the breadcrumb is not even
    /// built.
    pub fn request_breadcrumb(mut self, enabled: bool) -> VigilMiddleware {
        self.config.request_breadcrumb = enabled;
        self
    }

    /// Time every request with a transaction when tracing is enabled (on
    /// by default; the reference SDK's `start_transaction`).
    ///
    /// The transaction is named after the route pattern the request
    /// matched, `GET /users/{id}` (source `route`), or, when no pattern
    /// matched, after its path, `GET /no/such/page` (source `url`); it has
    /// op `http.server` and origin `auto.http.actix`, continues the
    /// caller's trace, and ends when the response is ready: its status
    /// follows the HTTP status (unless the handler set one) and its data
    /// holds `http.request.method`, `url` and `http.response.status_code`.
    /// A request dropped before its response (the client went away) ends
    /// it as `cancelled`, a panic as `internal_error`.
    ///
    /// Tracing is enabled by the client's `traces_sample_rate` or
    /// `traces_sampler`; without it no transaction is started either way.
    /// Off, requests still belong to the caller's trace.
    pub fn start_transaction(mut self, enabled: bool) -> VigilMiddleware {
        self.config.start_transaction = enabled;
        self
    }

    /// Add the id of the event captured for a server error to the
    /// response as `X-Sentry-Event: <32 hex digits>` (off by default), so
    /// a user reporting the error can quote it.
    pub fn emit_header(mut self, enabled: bool) -> VigilMiddleware {
        self.config.emit_header = enabled;
        self
    }

    /// Attach request bodies of up to this size to the events captured
    /// during the request (default [`MaxRequestBodySize::None`]: never).
    /// See the [crate docs](crate#request-bodies).
    pub fn max_request_body_size(mut self, size: MaxRequestBodySize) -> VigilMiddleware {
        self.config.max_request_body_size = size;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for VigilMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = VigilService<S>;
    type InitError = ();
    type Future = Ready<Result<VigilService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(VigilService::new(service, Rc::new(self.config.clone()))))
    }
}

/// The reference SDK's middleware, for migrating code that uses it: a
/// [`VigilMiddleware`] with the reference's defaults, which start no
/// transaction unless [`with_transaction`](Sentry::with_transaction) or
/// the builder's `start_transaction(true)` asks for one.
///
/// ```
/// use vigil_actix::Sentry;
/// let app = actix_web::App::new().wrap(Sentry::new());
/// let traced = Sentry::builder()
///     .start_transaction(true)
///     .emit_header(true)
///     .capture_server_errors(true)
///     .finish();
/// # let _ = (app, traced, Sentry::with_transaction());
/// ```
#[derive(Clone, Debug)]
#[must_use = "a middleware does nothing until an app wraps it"]
pub struct Sentry {
    middleware: VigilMiddleware,
}

impl Default for Sentry {
    fn default() -> Sentry {
        Sentry::new()
    }
}

impl Sentry {
    /// The middleware with the reference's defaults: server errors
    /// captured, no transactions.
    pub fn new() -> Sentry {
        Sentry {
            middleware: VigilMiddleware::new().start_transaction(false),
        }
    }

    /// The middleware starting a transaction per request when tracing is
    /// enabled.
    pub fn with_transaction() -> Sentry {
        Sentry {
            middleware: VigilMiddleware::new(),
        }
    }

    /// A builder for the middleware, starting from [`Sentry::new`].
    pub fn builder() -> SentryBuilder {
        Sentry::new().into_builder()
    }

    /// A builder for the middleware, starting from this one.
    pub fn into_builder(self) -> SentryBuilder {
        SentryBuilder {
            middleware: self.middleware,
        }
    }

    /// The [`VigilMiddleware`] this middleware is, for its other options.
    pub fn into_inner(self) -> VigilMiddleware {
        self.middleware
    }
}

impl From<Sentry> for VigilMiddleware {
    fn from(sentry: Sentry) -> VigilMiddleware {
        sentry.middleware
    }
}

impl<S, B> Transform<S, ServiceRequest> for Sentry
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = VigilService<S>;
    type InitError = ();
    type Future = Ready<Result<VigilService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        self.middleware.new_transform(service)
    }
}

/// The reference SDK's builder of [`Sentry`]; each option is the
/// [`VigilMiddleware`] option of the same name.
#[derive(Clone, Debug)]
#[must_use = "finish the builder to get the middleware"]
pub struct SentryBuilder {
    middleware: VigilMiddleware,
}

impl SentryBuilder {
    /// The middleware.
    pub fn finish(self) -> Sentry {
        Sentry {
            middleware: self.middleware,
        }
    }

    /// Start a transaction per request when tracing is enabled: see
    /// [`VigilMiddleware::start_transaction`].
    pub fn start_transaction(mut self, enabled: bool) -> SentryBuilder {
        self.middleware = self.middleware.start_transaction(enabled);
        self
    }

    /// Make each request's hub from `hub`: see
    /// [`VigilMiddleware::with_hub`].
    pub fn with_hub(mut self, hub: Arc<Hub>) -> SentryBuilder {
        self.middleware = self.middleware.with_hub(hub);
        self
    }

    /// Make each request's hub from the current hub (the default): see
    /// [`VigilMiddleware::with_default_hub`].
    pub fn with_default_hub(mut self) -> SentryBuilder {
        self.middleware = self.middleware.with_default_hub();
        self
    }

    /// Add `X-Sentry-Event` to responses whose server error was captured:
    /// see [`VigilMiddleware::emit_header`].
    pub fn emit_header(mut self, enabled: bool) -> SentryBuilder {
        self.middleware = self.middleware.emit_header(enabled);
        self
    }

    /// Capture server errors (on by default): see
    /// [`VigilMiddleware::capture_server_errors`].
    pub fn capture_server_errors(mut self, enabled: bool) -> SentryBuilder {
        self.middleware = self.middleware.capture_server_errors(enabled);
        self
    }

    /// Capture panics: see [`VigilMiddleware::capture_panics`].
    pub fn capture_panics(mut self, enabled: bool) -> SentryBuilder {
        self.middleware = self.middleware.capture_panics(enabled);
        self
    }

    /// Attach request bodies: see
    /// [`VigilMiddleware::max_request_body_size`].
    pub fn max_request_body_size(mut self, size: MaxRequestBodySize) -> SentryBuilder {
        self.middleware = self.middleware.max_request_body_size(size);
        self
    }
}
