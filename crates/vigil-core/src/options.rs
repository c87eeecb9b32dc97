//! Client options.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use vigil_protocol::{
    Breadcrumb, CheckIn, Dsn, DsnError, Event, Log, Metric, Transaction as ProtocolTransaction,
};

use crate::integration::Integration;
use crate::propagation::TracePropagationTarget;
use crate::scrubber::EventScrubber;
use crate::session::SessionMode;
use crate::spotlight::Spotlight;
use crate::transaction::TransactionContext;
use crate::transport::TransportFactory;

/// A callback that may change or drop an event or breadcrumb
/// (`before_send`, `before_breadcrumb`). Returning `None` drops it.
pub type BeforeCallback<T> = Arc<dyn Fn(T) -> Option<T> + Send + Sync>;

/// Decides the sample rate of a transaction from its context (which
/// includes the upstream decision, [`TransactionContext::parent_sampled`]):
/// `0.0` drops it, `1.0` keeps it.
pub type TracesSampler = dyn Fn(&TransactionContext) -> f32 + Send + Sync;

/// Configuration of a [`Client`](crate::Client).
///
/// Fields are public and the struct has a [`Default`], so both styles work:
///
/// ```
/// use std::time::Duration;
/// use vigil_core::ClientOptions;
/// let a = ClientOptions {
///     release: Some("my-app@1.0.0".into()),
///     sample_rate: 0.5,
///     ..Default::default()
/// };
/// let b = ClientOptions::new()
///     .try_dsn("https://public@example.invalid/1").unwrap()
///     .release("my-app@1.0.0")
///     .shutdown_timeout(Duration::from_secs(5));
/// assert_eq!(a.release, b.release);
/// ```
///
/// Defaults follow Sentry's: no DSN (the SDK is disabled), `sample_rate`
/// 1.0, 100 breadcrumbs, `send_default_pii` off, client reports on,
/// `shutdown_timeout` 2 s. `environment` is `production` at capture time
/// when unset (`vigil::init` sets `development` in a debug build first).
#[derive(Clone)]
pub struct ClientOptions {
    /// Where events go. `None` disables the SDK: nothing is captured or sent.
    pub dsn: Option<Dsn>,
    /// Print SDK diagnostics to stderr (`[vigil] …` lines; `SENTRY_DEBUG`):
    /// the client's set-up, one line per event and per transaction handed
    /// to the transport (id, level, what it is about), one per drop (how
    /// many items of which category, and why), failed sends, and when the
    /// client closes a summary of what was sent and dropped
    /// ([`DeliveryStats`](crate::DeliveryStats)'s `Display`).
    pub debug: bool,
    /// The release, e.g. `my-app@1.2.3`.
    pub release: Option<Cow<'static, str>>,
    /// The environment; `production` when unset (`vigil::init` sets
    /// `development` in a build with debug assertions).
    pub environment: Option<Cow<'static, str>>,
    /// The distribution of the release.
    pub dist: Option<Cow<'static, str>>,
    /// The server name sent with events.
    pub server_name: Option<Cow<'static, str>>,
    /// The share of error events to send, from 0.0 to 1.0.
    pub sample_rate: f32,
    /// How many breadcrumbs to keep (the oldest are dropped).
    pub max_breadcrumbs: usize,
    /// Attach a stack trace to message events (used by the stack-trace
    /// integration).
    pub attach_stacktrace: bool,
    /// Allow integrations to send personal data (IP addresses, cookies,
    /// user names, host names).
    pub send_default_pii: bool,
    /// Module prefixes that count as application code.
    pub in_app_include: Vec<&'static str>,
    /// Module prefixes that never count as application code.
    pub in_app_exclude: Vec<&'static str>,
    /// Called with every error event before it is sent; may change or drop
    /// it. A panic inside drops the event and counts it as `before_send`.
    pub before_send: Option<BeforeCallback<Event>>,
    /// Called with every breadcrumb before it is recorded; may change or
    /// drop it. A panic inside drops the breadcrumb.
    pub before_breadcrumb: Option<BeforeCallback<Breadcrumb>>,
    /// Integrations added to the defaults (or replacing them when
    /// `default_integrations` is false).
    pub integrations: Vec<Arc<dyn Integration>>,
    /// Install the default integrations.
    pub default_integrations: bool,
    /// Builds the transport. `None` uses the default transport of the
    /// `vigil` crate.
    pub transport: Option<Arc<dyn TransportFactory>>,
    /// How long `flush`/`close` without an explicit timeout, and the init
    /// guard's drop, wait for queued events.
    pub shutdown_timeout: Duration,
    /// Report dropped events to the server in client reports.
    pub send_client_reports: bool,
    /// Capacity of the transport's queue of envelopes.
    pub transport_queue_size: usize,
    /// The `User-Agent` header.
    pub user_agent: Cow<'static, str>,
    /// The Sentry organisation id, sent in the trace's DSC (`org_id`) and
    /// checked against incoming traces. `None` takes it from a sentry.io
    /// DSN's host (`o<id>.ingest...`), if there is one.
    pub org_id: Option<u64>,
    /// Continue an incoming trace only when both sides know their
    /// organisation and it is the same one. Off by default: then a trace
    /// is refused only when both ids are known and differ.
    pub strict_trace_continuation: bool,
    /// Also send the W3C `traceparent` header with the propagation headers
    /// (off by default).
    pub propagate_traceparent: bool,
    /// Which outgoing requests get the propagation headers, as the Sentry
    /// spec defines it: `None` (the default) every URL, an empty list
    /// none, otherwise the URLs one of the targets matches
    /// ([`TracePropagationTarget::contains`] for plain text,
    /// [`TracePropagationTarget::regex`] for a pattern); never the DSN's
    /// host and port (see [`ClientOptions::should_propagate_trace_to`]). Incoming
    /// traces are continued whatever this says. Unlike sentry-python,
    /// where every entry is a regular expression and `None` means no
    /// propagation, a plain-text target here matches literally and `None`
    /// means every URL. For HTTP client integrations and code that makes
    /// requests itself.
    pub trace_propagation_targets: Option<Vec<TracePropagationTarget>>,
    /// The share of transactions to send, from 0.0 to 1.0. Tracing is on
    /// when this is above 0 or a `traces_sampler` is set; otherwise
    /// transactions are not recorded (events still carry their trace).
    pub traces_sample_rate: f32,
    /// Decides each transaction's sample rate instead of
    /// `traces_sample_rate`. A panic inside is reported and ignored (the
    /// upstream decision, else `traces_sample_rate`, applies).
    pub traces_sampler: Option<Arc<TracesSampler>>,
    /// Called with every sampled transaction before it is sent; may change
    /// or drop it (counted as `before_send` for the transaction and its
    /// spans). Error events never go through it, nor transactions through
    /// `before_send`. A panic inside drops the transaction.
    pub before_send_transaction: Option<BeforeCallback<ProtocolTransaction>>,
    /// Called with every user feedback event (see `capture_feedback`;
    /// [`Event::feedback`] holds what the user wrote) before it is sent;
    /// may change or drop it (counted as `before_send` in category
    /// `feedback`). Feedback never goes through `before_send`, nor error
    /// events through this. A panic inside drops the feedback.
    pub before_send_feedback: Option<BeforeCallback<Event>>,
    /// Names of transactions not to send: an entry matches a name equal to
    /// it, and `*` in an entry matches any run of characters
    /// (`GET /health`, `GET /static/*`). Dropped ones are counted as
    /// `event_processor`.
    pub ignore_transactions: Vec<String>,
    /// The most spans a transaction keeps (1,000); the ones finished past
    /// it are dropped and counted as `buffer_overflow`.
    pub max_spans: usize,
    /// Track release health sessions on their own (on by default): `init`
    /// starts the process's session, server integrations one per request,
    /// as [`session_mode`](ClientOptions::session_mode) says. Sessions need
    /// a [`release`](ClientOptions::release). See [`crate::SessionMode`].
    pub auto_session_tracking: bool,
    /// Per process run or per request ([`SessionMode::Auto`] by default:
    /// per request once a server integration handles one).
    pub session_mode: SessionMode,
    /// Filters secrets out of events and transactions by key name, before
    /// `before_send` / `before_send_transaction` (on by default; `None`
    /// turns it off). See [`EventScrubber`] for the rules and how to add
    /// names.
    pub event_scrubber: Option<EventScrubber>,
    /// A copy of every envelope to the local
    /// [Spotlight](https://spotlightjs.com) sidecar, for development
    /// (`None`: as `SENTRY_SPOTLIGHT` says; off when it is unset). See
    /// [`Spotlight`]. Without a DSN, Spotlight alone gets the envelopes,
    /// with every event and transaction sampled and personal data sent
    /// (Sentry's rule for Spotlight without a DSN).
    pub spotlight: Option<Spotlight>,
    /// The proxy the HTTP transport uses for an `http://` DSN (`None`: as
    /// the `http_proxy` / `HTTP_PROXY` environment variables say). An
    /// empty string means no proxy. A proxy set on the transport itself
    /// (`HttpTransportOptions::proxy`) wins over this one. An invalid URL
    /// is reported (always on stderr, and in `debug` output) and the
    /// transport goes direct.
    pub http_proxy: Option<Cow<'static, str>>,
    /// The proxy for an `https://` DSN (`None`: as `https_proxy` /
    /// `HTTPS_PROXY` say; then as [`http_proxy`](ClientOptions::http_proxy)).
    /// Same rules as `http_proxy`.
    pub https_proxy: Option<Cow<'static, str>>,
    /// Turns on the default capture of structured logs by the integrations
    /// (their default filters then add a log for each record they see);
    /// off by default, as Sentry's specification asks. Logs captured
    /// explicitly (`Hub::capture_log`, the `logger_*!` macros, a filter
    /// that asks for them) are sent either way.
    pub enable_logs: bool,
    /// Called with every structured log before it is batched: return it
    /// (changed or not) to send it, `None` to drop it (counted as
    /// `before_send`). A panic drops the log too.
    pub before_send_log: Option<BeforeCallback<Log>>,
    /// Whether trace metrics ([`metrics`](crate::metrics)) are sent; on by
    /// default, as Sentry's specification asks. Off, capturing a metric
    /// does nothing.
    pub enable_metrics: bool,
    /// Called with every trace metric before it is batched: return it
    /// (changed or not) to send it, `None` to drop it (counted as
    /// `before_send` in `trace_metric` and `trace_metric_byte`). A panic
    /// drops the metric too.
    pub before_send_metric: Option<BeforeCallback<Metric>>,
    /// Called with every cron check-in before it is sent: return it
    /// (changed or not) to send it, `None` to drop it (counted as
    /// `before_send` in category `monitor`). A panic drops the check-in
    /// too. Check-ins do not go through `before_send` and are never
    /// sampled.
    pub before_send_check_in: Option<BeforeCallback<CheckIn>>,
    /// Accept any TLS certificate of the server (the HTTP transport then
    /// encrypts but does not authenticate the server). Only for a test
    /// server with a self-signed certificate; off by default. A private CA
    /// is better given to the transport
    /// (`HttpTransportOptions::root_certificates_pem`).
    pub accept_invalid_certs: bool,
}

impl Default for ClientOptions {
    fn default() -> ClientOptions {
        ClientOptions {
            dsn: None,
            debug: false,
            release: None,
            environment: None,
            dist: None,
            server_name: None,
            sample_rate: 1.0,
            max_breadcrumbs: 100,
            attach_stacktrace: false,
            send_default_pii: false,
            in_app_include: Vec::new(),
            in_app_exclude: Vec::new(),
            before_send: None,
            before_breadcrumb: None,
            integrations: Vec::new(),
            default_integrations: true,
            transport: None,
            shutdown_timeout: Duration::from_secs(2),
            send_client_reports: true,
            transport_queue_size: 100,
            user_agent: Cow::Borrowed(crate::client::USER_AGENT),
            org_id: None,
            strict_trace_continuation: false,
            propagate_traceparent: false,
            trace_propagation_targets: None,
            traces_sample_rate: 0.0,
            traces_sampler: None,
            before_send_transaction: None,
            before_send_feedback: None,
            ignore_transactions: Vec::new(),
            max_spans: 1000,
            auto_session_tracking: true,
            session_mode: SessionMode::Auto,
            event_scrubber: Some(EventScrubber::default()),
            spotlight: None,
            http_proxy: None,
            https_proxy: None,
            accept_invalid_certs: false,
            enable_logs: false,
            before_send_log: None,
            enable_metrics: true,
            before_send_metric: None,
            before_send_check_in: None,
        }
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("dsn", &self.dsn)
            .field("debug", &self.debug)
            .field("release", &self.release)
            .field("environment", &self.environment)
            .field("dist", &self.dist)
            .field("server_name", &self.server_name)
            .field("sample_rate", &self.sample_rate)
            .field("max_breadcrumbs", &self.max_breadcrumbs)
            .field("attach_stacktrace", &self.attach_stacktrace)
            .field("send_default_pii", &self.send_default_pii)
            .field("in_app_include", &self.in_app_include)
            .field("in_app_exclude", &self.in_app_exclude)
            .field("before_send", &self.before_send.as_ref().map(|_| "<fn>"))
            .field(
                "before_breadcrumb",
                &self.before_breadcrumb.as_ref().map(|_| "<fn>"),
            )
            .field(
                "integrations",
                &self
                    .integrations
                    .iter()
                    .map(|i| i.name())
                    .collect::<Vec<_>>(),
            )
            .field("default_integrations", &self.default_integrations)
            .field("transport", &self.transport.as_ref().map(|_| "<factory>"))
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("send_client_reports", &self.send_client_reports)
            .field("transport_queue_size", &self.transport_queue_size)
            .field("user_agent", &self.user_agent)
            .field("org_id", &self.org_id)
            .field("strict_trace_continuation", &self.strict_trace_continuation)
            .field("propagate_traceparent", &self.propagate_traceparent)
            .field("trace_propagation_targets", &self.trace_propagation_targets)
            .field("traces_sample_rate", &self.traces_sample_rate)
            .field(
                "traces_sampler",
                &self.traces_sampler.as_ref().map(|_| "<fn>"),
            )
            .field(
                "before_send_transaction",
                &self.before_send_transaction.as_ref().map(|_| "<fn>"),
            )
            .field(
                "before_send_feedback",
                &self.before_send_feedback.as_ref().map(|_| "<fn>"),
            )
            .field("ignore_transactions", &self.ignore_transactions)
            .field("max_spans", &self.max_spans)
            .field("auto_session_tracking", &self.auto_session_tracking)
            .field("session_mode", &self.session_mode)
            .field("event_scrubber", &self.event_scrubber.is_some())
            .field("spotlight", &self.spotlight)
            .field("http_proxy", &self.http_proxy.as_deref().map(redact_proxy))
            .field(
                "https_proxy",
                &self.https_proxy.as_deref().map(redact_proxy),
            )
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("enable_logs", &self.enable_logs)
            .field("enable_metrics", &self.enable_metrics)
            .field(
                "before_send_metric",
                &self.before_send_metric.as_ref().map(|_| "<fn>"),
            )
            .field(
                "before_send_log",
                &self.before_send_log.as_ref().map(|_| "<fn>"),
            )
            .field(
                "before_send_check_in",
                &self.before_send_check_in.as_ref().map(|_| "<fn>"),
            )
            .finish()
    }
}

impl ClientOptions {
    /// Default options.
    pub fn new() -> ClientOptions {
        ClientOptions::default()
    }

    /// Sets the DSN from a string written in the code; an empty string
    /// clears it (disabling the SDK).
    ///
    /// For a DSN read at run time (a configuration file, a command line),
    /// use [`try_dsn`](ClientOptions::try_dsn), pass it to `init` as
    /// `(dsn, options)`, or leave it to `SENTRY_DSN`: those report an
    /// invalid DSN as an error instead.
    ///
    /// # Panics
    /// When the DSN is not valid, with the [`DsnError`] that says what is
    /// wrong with it (the behaviour of the reference SDK's builder).
    #[must_use]
    #[track_caller]
    pub fn dsn(self, dsn: &str) -> ClientOptions {
        match self.try_dsn(dsn) {
            Ok(options) => options,
            Err(e) => panic!("invalid DSN given to ClientOptions::dsn: {e}"),
        }
    }

    /// Sets the DSN from a string; an empty string clears it (disabling the
    /// SDK).
    ///
    /// # Errors
    /// A [`DsnError`] naming what is wrong with a non-empty, invalid DSN.
    pub fn try_dsn(mut self, dsn: &str) -> Result<ClientOptions, DsnError> {
        self.dsn = parse_optional_dsn(dsn)?;
        Ok(self)
    }

    /// Turns diagnostics on or off.
    #[must_use]
    pub fn debug(mut self, debug: bool) -> ClientOptions {
        self.debug = debug;
        self
    }

    /// Sets the release.
    #[must_use]
    pub fn release(mut self, release: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.release = Some(release.into());
        self
    }

    /// Sets the release when there is one: `maybe_release(release_name!())`.
    #[must_use]
    pub fn maybe_release<T: Into<Cow<'static, str>>>(
        mut self,
        release: Option<T>,
    ) -> ClientOptions {
        if let Some(release) = release {
            self.release = Some(release.into());
        }
        self
    }

    /// Sets the environment.
    #[must_use]
    pub fn environment(mut self, environment: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.environment = Some(environment.into());
        self
    }

    /// Sets the sample rate (clamped to 0.0..=1.0; NaN counts as 0.0).
    #[must_use]
    pub fn sample_rate(mut self, rate: f32) -> ClientOptions {
        self.sample_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    /// Sets how many breadcrumbs are kept.
    #[must_use]
    pub fn max_breadcrumbs(mut self, max: usize) -> ClientOptions {
        self.max_breadcrumbs = max;
        self
    }

    /// Sets `before_send`.
    pub fn before_send(
        mut self,
        f: impl Fn(Event) -> Option<Event> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send = Some(Arc::new(f));
        self
    }

    /// Sets `before_breadcrumb`.
    pub fn before_breadcrumb(
        mut self,
        f: impl Fn(Breadcrumb) -> Option<Breadcrumb> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_breadcrumb = Some(Arc::new(f));
        self
    }

    /// Adds an integration.
    #[must_use]
    pub fn add_integration(mut self, integration: impl Integration) -> ClientOptions {
        self.integrations.push(Arc::new(integration));
        self
    }

    /// Adds an integration (the short form of
    /// [`add_integration`](ClientOptions::add_integration)).
    #[must_use]
    pub fn integration(self, integration: impl Integration) -> ClientOptions {
        self.add_integration(integration)
    }

    /// Replaces the list of integrations.
    #[must_use]
    pub fn integrations<I>(mut self, integrations: I) -> ClientOptions
    where
        I: IntoIterator<Item = Arc<dyn Integration>>,
    {
        self.integrations = integrations.into_iter().collect();
        self
    }

    /// Sets the distribution of the release.
    #[must_use]
    pub fn dist(mut self, dist: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.dist = Some(dist.into());
        self
    }

    /// Sets the server name reported on events.
    #[must_use]
    pub fn server_name(mut self, server_name: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.server_name = Some(server_name.into());
        self
    }

    /// Whether personal data (IP addresses, cookies, user names, the host
    /// name) is sent.
    #[must_use]
    pub fn send_default_pii(mut self, on: bool) -> ClientOptions {
        self.send_default_pii = on;
        self
    }

    /// Module prefixes whose frames are in-app.
    #[must_use]
    pub fn in_app_include<I>(mut self, prefixes: I) -> ClientOptions
    where
        I: IntoIterator<Item = &'static str>,
    {
        self.in_app_include = prefixes.into_iter().collect();
        self
    }

    /// Module prefixes whose frames are not in-app.
    #[must_use]
    pub fn in_app_exclude<I>(mut self, prefixes: I) -> ClientOptions
    where
        I: IntoIterator<Item = &'static str>,
    {
        self.in_app_exclude = prefixes.into_iter().collect();
        self
    }

    /// Sets the `User-Agent` of the SDK's requests.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.user_agent = user_agent.into();
        self
    }

    /// The proxy for `http://` DSNs. See [`ClientOptions::http_proxy`].
    #[must_use]
    pub fn http_proxy(mut self, proxy: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.http_proxy = Some(proxy.into());
        self
    }

    /// Sets [`enable_logs`](ClientOptions::enable_logs).
    #[must_use]
    pub fn enable_logs(mut self, on: bool) -> ClientOptions {
        self.enable_logs = on;
        self
    }

    /// Sets [`before_send_log`](ClientOptions::before_send_log).
    #[must_use]
    pub fn before_send_log(
        mut self,
        f: impl Fn(Log) -> Option<Log> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send_log = Some(Arc::new(f));
        self
    }

    /// Sets [`enable_metrics`](ClientOptions::enable_metrics).
    #[must_use]
    pub fn enable_metrics(mut self, on: bool) -> ClientOptions {
        self.enable_metrics = on;
        self
    }

    /// Sets [`before_send_metric`](ClientOptions::before_send_metric).
    #[must_use]
    pub fn before_send_metric(
        mut self,
        f: impl Fn(Metric) -> Option<Metric> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send_metric = Some(Arc::new(f));
        self
    }

    /// Sets [`before_send_check_in`](ClientOptions::before_send_check_in).
    #[must_use]
    pub fn before_send_check_in(
        mut self,
        f: impl Fn(CheckIn) -> Option<CheckIn> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send_check_in = Some(Arc::new(f));
        self
    }

    /// Sets [`accept_invalid_certs`](ClientOptions::accept_invalid_certs).
    #[must_use]
    pub fn accept_invalid_certs(mut self, on: bool) -> ClientOptions {
        self.accept_invalid_certs = on;
        self
    }

    /// The proxy for `https://` DSNs. See [`ClientOptions::https_proxy`].
    #[must_use]
    pub fn https_proxy(mut self, proxy: impl Into<Cow<'static, str>>) -> ClientOptions {
        self.https_proxy = Some(proxy.into());
        self
    }

    /// Turns the default integrations on or off.
    #[must_use]
    pub fn default_integrations(mut self, on: bool) -> ClientOptions {
        self.default_integrations = on;
        self
    }

    /// Sets the transport factory.
    #[must_use]
    pub fn transport(mut self, factory: impl TransportFactory) -> ClientOptions {
        self.transport = Some(Arc::new(factory));
        self
    }

    /// Sets the shutdown timeout.
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> ClientOptions {
        self.shutdown_timeout = timeout;
        self
    }

    /// Turns client reports on or off.
    #[must_use]
    pub fn send_client_reports(mut self, on: bool) -> ClientOptions {
        self.send_client_reports = on;
        self
    }

    /// Sets the transport queue capacity.
    #[must_use]
    pub fn transport_queue_size(mut self, size: usize) -> ClientOptions {
        self.transport_queue_size = size;
        self
    }

    /// Sets [`org_id`](ClientOptions::org_id).
    #[must_use]
    pub fn org_id(mut self, org_id: u64) -> ClientOptions {
        self.org_id = Some(org_id);
        self
    }

    /// Sets [`strict_trace_continuation`](ClientOptions::strict_trace_continuation).
    #[must_use]
    pub fn strict_trace_continuation(mut self, on: bool) -> ClientOptions {
        self.strict_trace_continuation = on;
        self
    }

    /// Sets [`propagate_traceparent`](ClientOptions::propagate_traceparent).
    #[must_use]
    pub fn propagate_traceparent(mut self, on: bool) -> ClientOptions {
        self.propagate_traceparent = on;
        self
    }

    /// Adds a target to [`trace_propagation_targets`](ClientOptions::trace_propagation_targets)
    /// (the first one turns "every URL" into "these URLs").
    #[must_use]
    pub fn trace_propagation_target(mut self, target: TracePropagationTarget) -> ClientOptions {
        self.trace_propagation_targets
            .get_or_insert_with(Vec::new)
            .push(target);
        self
    }

    /// Whether transactions are recorded: `traces_sample_rate` is above 0
    /// or a `traces_sampler` is set. (A decision set in code on a
    /// [`TransactionContext`] applies either way.)
    pub fn is_tracing_enabled(&self) -> bool {
        self.traces_sample_rate > 0.0 || self.traces_sampler.is_some()
    }

    /// Sets [`attach_stacktrace`](ClientOptions::attach_stacktrace).
    #[must_use]
    pub fn attach_stacktrace(mut self, attach: bool) -> ClientOptions {
        self.attach_stacktrace = attach;
        self
    }

    /// Sets [`traces_sample_rate`](ClientOptions::traces_sample_rate).
    #[must_use]
    pub fn traces_sample_rate(mut self, rate: f32) -> ClientOptions {
        self.traces_sample_rate = rate;
        self
    }

    /// Sets [`traces_sampler`](ClientOptions::traces_sampler).
    pub fn traces_sampler(
        mut self,
        sampler: impl Fn(&TransactionContext) -> f32 + Send + Sync + 'static,
    ) -> ClientOptions {
        self.traces_sampler = Some(Arc::new(sampler));
        self
    }

    /// Sets [`before_send_feedback`](ClientOptions::before_send_feedback).
    #[must_use]
    pub fn before_send_feedback(
        mut self,
        f: impl Fn(Event) -> Option<Event> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send_feedback = Some(Arc::new(f));
        self
    }

    /// Sets [`before_send_transaction`](ClientOptions::before_send_transaction).
    pub fn before_send_transaction(
        mut self,
        f: impl Fn(ProtocolTransaction) -> Option<ProtocolTransaction> + Send + Sync + 'static,
    ) -> ClientOptions {
        self.before_send_transaction = Some(Arc::new(f));
        self
    }

    /// Adds a name pattern to [`ignore_transactions`](ClientOptions::ignore_transactions).
    #[must_use]
    pub fn ignore_transaction(mut self, pattern: impl Into<String>) -> ClientOptions {
        self.ignore_transactions.push(pattern.into());
        self
    }

    /// Sets [`max_spans`](ClientOptions::max_spans).
    #[must_use]
    pub fn max_spans(mut self, max: usize) -> ClientOptions {
        self.max_spans = max;
        self
    }

    /// Sets [`auto_session_tracking`](ClientOptions::auto_session_tracking).
    #[must_use]
    pub fn auto_session_tracking(mut self, on: bool) -> ClientOptions {
        self.auto_session_tracking = on;
        self
    }

    /// Sets [`session_mode`](ClientOptions::session_mode).
    #[must_use]
    pub fn session_mode(mut self, mode: SessionMode) -> ClientOptions {
        self.session_mode = mode;
        self
    }

    /// Sets the event scrubber; `None` turns scrubbing off.
    ///
    /// ```
    /// use vigil_core::{ClientOptions, EventScrubber};
    /// let options = ClientOptions::new()
    ///     .event_scrubber(Some(EventScrubber::new().extend_denylist(["ssn"])));
    /// let off = ClientOptions::new().event_scrubber(None);
    /// assert!(options.event_scrubber.is_some() && off.event_scrubber.is_none());
    /// ```
    #[must_use]
    pub fn event_scrubber(mut self, scrubber: Option<EventScrubber>) -> ClientOptions {
        self.event_scrubber = scrubber;
        self
    }

    /// Sends a copy of every envelope to Spotlight: `true` (at
    /// `http://localhost:8969/stream`), `false`, or the sidecar's URL.
    ///
    /// ```
    /// use vigil_core::{ClientOptions, Spotlight};
    /// let options = ClientOptions::new().spotlight("http://127.0.0.1:8969/stream");
    /// assert_eq!(
    ///     options.spotlight,
    ///     Some(Spotlight::Url("http://127.0.0.1:8969/stream".into()))
    /// );
    /// ```
    #[must_use]
    pub fn spotlight(mut self, spotlight: impl Into<Spotlight>) -> ClientOptions {
        self.spotlight = Some(spotlight.into());
        self
    }

    /// Fills unset options from `SENTRY_DSN`, `SENTRY_RELEASE`,
    /// `SENTRY_ENVIRONMENT`, `SENTRY_SAMPLE_RATE`,
    /// `SENTRY_TRACES_SAMPLE_RATE` (when neither a rate nor a sampler is
    /// set in code) and `SENTRY_DEBUG`; a rate that is not a number is
    /// ignored, one outside `0..=1` clamped;
    /// combines [`spotlight`](ClientOptions::spotlight) with
    /// `SENTRY_SPOTLIGHT` (see [`Spotlight`]). Options set in code win.
    ///
    /// # Errors
    /// A [`DsnError`] when `SENTRY_DSN` is set to an invalid DSN.
    pub fn apply_env(&mut self) -> Result<(), DsnError> {
        self.apply_env_from(|name| std::env::var(name).ok())
    }

    /// [`apply_env`](ClientOptions::apply_env) with a custom variable source.
    ///
    /// # Errors
    /// As [`apply_env`](ClientOptions::apply_env).
    pub fn apply_env_from(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), DsnError> {
        if self.dsn.is_none()
            && let Some(dsn) = var("SENTRY_DSN")
        {
            self.dsn = parse_optional_dsn(&dsn)?;
        }
        let nonempty = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if self.release.is_none() {
            self.release = nonempty("SENTRY_RELEASE").map(Cow::Owned);
        }
        if self.environment.is_none() {
            self.environment = nonempty("SENTRY_ENVIRONMENT").map(Cow::Owned);
        }
        if let Some(rate) =
            nonempty("SENTRY_SAMPLE_RATE").and_then(|r| r.trim().parse::<f32>().ok())
            && self.sample_rate >= 1.0
            && rate.is_finite()
        {
            self.sample_rate = rate.clamp(0.0, 1.0);
        }
        if let Some(rate) =
            nonempty("SENTRY_TRACES_SAMPLE_RATE").and_then(|r| r.trim().parse::<f32>().ok())
            && self.traces_sample_rate == 0.0
            && self.traces_sampler.is_none()
            && rate.is_finite()
        {
            self.traces_sample_rate = rate.clamp(0.0, 1.0);
        }
        if !self.debug
            && let Some(v) = nonempty("SENTRY_DEBUG")
        {
            self.debug = matches!(v.trim(), "1" | "true" | "TRUE" | "True" | "yes" | "on");
        }
        self.spotlight =
            Spotlight::resolve(self.spotlight.take(), var("SENTRY_SPOTLIGHT").as_deref());
        Ok(())
    }
}

/// A proxy URL for `Debug` output, without user name and password.
fn redact_proxy(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://[redacted]@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn parse_optional_dsn(dsn: &str) -> Result<Option<Dsn>, DsnError> {
    if dsn.trim().is_empty() {
        Ok(None)
    } else {
        dsn.parse().map(Some)
    }
}

/// Anything `init` accepts: a DSN string, a [`Dsn`], [`ClientOptions`], or a
/// `(dsn, options)` pair whose DSN wins over the options' one.
///
/// Conversion fails only on a non-empty invalid DSN; an empty string or
/// `None` is a valid configuration that disables the SDK.
pub trait IntoClientOptions {
    /// Converts into options.
    ///
    /// # Errors
    /// A [`DsnError`] for an invalid DSN.
    fn into_client_options(self) -> Result<ClientOptions, DsnError>;
}

impl IntoClientOptions for () {
    fn into_client_options(self) -> Result<ClientOptions, DsnError> {
        Ok(ClientOptions::default())
    }
}

impl IntoClientOptions for ClientOptions {
    fn into_client_options(self) -> Result<ClientOptions, DsnError> {
        Ok(self)
    }
}

impl IntoClientOptions for &str {
    fn into_client_options(self) -> Result<ClientOptions, DsnError> {
        ClientOptions::new().try_dsn(self)
    }
}

impl IntoClientOptions for &String {
    fn into_client_options(self) -> Result<ClientOptions, DsnError> {
        self.as_str().into_client_options()
    }
}

impl IntoClientOptions for String {
    fn into_client_options(self) -> Result<ClientOptions, DsnError> {
        self.as_str().into_client_options()
    }
}

impl IntoClientOptions for Dsn {
    fn into_client_options(self) -> Result<ClientOptions, DsnError> {
        Ok(ClientOptions {
            dsn: Some(self),
            ..ClientOptions::default()
        })
    }
}

impl<T: IntoClientOptions> IntoClientOptions for Option<T> {
    fn into_client_options(self) -> Result<ClientOptions, DsnError> {
        match self {
            Some(t) => t.into_client_options(),
            None => Ok(ClientOptions::default()),
        }
    }
}

impl<T: IntoClientOptions> IntoClientOptions for (T, ClientOptions) {
    fn into_client_options(self) -> Result<ClientOptions, DsnError> {
        let (dsn, mut options) = self;
        let from_dsn = dsn.into_client_options()?;
        if from_dsn.dsn.is_some() {
            options.dsn = from_dsn.dsn;
        }
        Ok(options)
    }
}

/// Anything that names a DSN or none: a string (empty: none), a [`Dsn`],
/// `()` (none), or an `Option` of these. Turns configuration read at run
/// time into a DSN with an error for an invalid one:
/// `config.sentry_dsn.into_dsn()?`.
///
/// ```
/// use vigil_core::IntoDsn;
///
/// let configured: Option<String> = Some("https://key@example.invalid/1".into());
/// let dsn = configured.into_dsn().unwrap().unwrap();
/// assert_eq!(dsn.host(), "example.invalid");
/// assert_eq!("".into_dsn().unwrap(), None);
/// assert!("not a dsn".into_dsn().is_err());
/// ```
pub trait IntoDsn {
    /// The DSN, `None` when there is none.
    ///
    /// # Errors
    /// A [`DsnError`] for a non-empty string that is not a valid DSN.
    fn into_dsn(self) -> Result<Option<Dsn>, DsnError>;
}

impl IntoDsn for &str {
    fn into_dsn(self) -> Result<Option<Dsn>, DsnError> {
        parse_optional_dsn(self)
    }
}

impl IntoDsn for String {
    fn into_dsn(self) -> Result<Option<Dsn>, DsnError> {
        parse_optional_dsn(&self)
    }
}

impl IntoDsn for &String {
    fn into_dsn(self) -> Result<Option<Dsn>, DsnError> {
        parse_optional_dsn(self)
    }
}

impl IntoDsn for Dsn {
    fn into_dsn(self) -> Result<Option<Dsn>, DsnError> {
        Ok(Some(self))
    }
}

impl IntoDsn for &Dsn {
    fn into_dsn(self) -> Result<Option<Dsn>, DsnError> {
        Ok(Some(self.clone()))
    }
}

impl IntoDsn for () {
    fn into_dsn(self) -> Result<Option<Dsn>, DsnError> {
        Ok(None)
    }
}

impl<T: IntoDsn> IntoDsn for Option<T> {
    fn into_dsn(self) -> Result<Option<Dsn>, DsnError> {
        self.map_or(Ok(None), IntoDsn::into_dsn)
    }
}
