//! The client: options, the capture pipeline and the transport.

mod batcher;
mod check_ins;
mod default_attributes;
mod feedback;
mod logs;
mod metrics;
mod sessions;
mod transactions;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use vigil_protocol::{
    ClientSdkInfo, ClientSdkPackage, Context, DataCategory, DiscardReason, Dsn, Envelope, Event,
    EventId, TraceId, limits,
};

use crate::integration::Integration;
use crate::options::{ClientOptions, IntoClientOptions};
use crate::panic_guard::call_guarded;
use crate::reports::LossRecorder;
use crate::scope::Scope;
use crate::spotlight::{Spotlight, WithSpotlight};
use crate::transport::{DeliveryStats, Transport, TransportContext};

/// The SDK's name in events and envelopes.
pub const SDK_NAME: &str = "vigil.rust";
/// The SDK's version.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The default `User-Agent`.
pub const USER_AGENT: &str = concat!("vigil.rust/", env!("CARGO_PKG_VERSION"));

/// Sends events: applies options and scope data, runs the pipeline
/// (scope data → scope event processors → integrations → event scrubber
/// → `before_send` → `sample_rate`), builds envelopes and hands them to the transport.
///
/// A client is stateless with regard to context: scope data comes from the
/// hub that captures. Every drop along the pipeline is counted in the
/// client's [`LossRecorder`].
pub struct Client {
    options: ClientOptions,
    /// Set once at creation. Read on every capture from every thread, so it
    /// is not behind a lock (a lock's reader count is a contended write).
    transport: Option<Arc<dyn Transport>>,
    /// Whether the client sends: it has a transport and was not closed.
    enabled: AtomicBool,
    recorder: LossRecorder,
    integrations: Vec<Arc<dyn Integration>>,
    sdk: ClientSdkInfo,
    /// `sdk` without integrations and packages, for envelope headers.
    sdk_header: ClientSdkInfo,
    /// The DSN as written into envelope headers, formatted once.
    dsn_header: Option<String>,
    sessions: sessions::ClientSessions,
    /// Structured logs waiting to be sent (with a transport only).
    logs: Option<batcher::Batcher<vigil_protocol::Log>>,
    /// Trace metrics waiting to be sent (with a transport only).
    metrics: Option<batcher::Batcher<vigil_protocol::Metric>>,
}

// A panic anywhere leaves a client usable: the callbacks it runs (hooks,
// samplers, integrations, transports) run under `catch_unwind`, and its
// locks recover from poisoning. So a client may be used inside and after
// `catch_unwind`, although it holds trait objects the compiler cannot see
// through.
impl std::panic::RefUnwindSafe for Client {}
impl std::panic::UnwindSafe for Client {}

impl From<ClientOptions> for Client {
    fn from(options: ClientOptions) -> Client {
        Client::new(options)
    }
}

impl Drop for Client {
    /// A client dropped without [`close`](Client::close) stops counting as
    /// enabled (its transport shuts down as it is dropped).
    fn drop(&mut self) {
        self.close_sessions();
        self.close_batches();
        self.disable();
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("dsn", &self.options.dsn)
            .field("enabled", &self.is_enabled())
            .field("sdk", &self.sdk)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Creates a client. Each integration's `setup` runs first, in order;
    /// then the transport is built when a DSN is set and a transport
    /// factory is given (with Spotlight's copy when the `spotlight` option
    /// is on). Without a DSN the client is disabled, unless Spotlight is on.
    pub fn new(options: ClientOptions) -> Client {
        let mut options = options;
        if options.debug {
            crate::diagnostics::enable();
        }
        let integrations = options.integrations.clone();
        for integration in &integrations {
            let name = integration.name();
            if call_guarded("integration setup", None, || {
                integration.setup(&mut options)
            })
            .is_none()
            {
                crate::vigil_debug!("integration {name} failed to set up");
            }
        }
        let sdk = ClientSdkInfo {
            name: SDK_NAME.into(),
            version: SDK_VERSION.into(),
            integrations: integrations.iter().map(|i| i.name().into()).collect(),
            packages: vec![ClientSdkPackage {
                name: "cargo:vigil-telemetry".into(),
                version: SDK_VERSION.into(),
            }],
        };
        let recorder = LossRecorder::new();
        let transport = match (&options.dsn, &options.transport) {
            (Some(dsn), Some(factory)) => {
                let ctx = TransportContext {
                    options: &options,
                    dsn,
                    recorder: recorder.clone(),
                    sdk: &sdk,
                };
                call_guarded("transport factory", None, || factory.create_transport(&ctx))
            }
            (Some(_), None) => {
                crate::vigil_debug!("a DSN is set but no transport: events are dropped");
                None
            }
            (None, _) => None,
        };
        let transport = with_spotlight(&mut options, transport);
        crate::vigil_debug!(
            "client created: dsn={:?}, enabled={}",
            options.dsn.as_ref().map(|d| d.envelope_url()),
            transport.is_some()
        );
        let dsn_header = options.dsn.as_ref().map(Dsn::to_public_string);
        let sdk_header = ClientSdkInfo {
            name: sdk.name.clone(),
            version: sdk.version.clone(),
            integrations: Vec::new(),
            packages: Vec::new(),
        };
        // A transport exists with a DSN, or with Spotlight on.
        let enabled = transport.is_some();
        if enabled {
            crate::hub::count_enabled(true);
        }
        let logs = batcher::Batcher::for_transport(transport.as_ref(), &dsn_header, &sdk_header);
        let metrics = batcher::Batcher::for_transport(transport.as_ref(), &dsn_header, &sdk_header);
        Client {
            logs,
            metrics,
            sessions: sessions::ClientSessions::new(&options),
            sdk_header,
            dsn_header,
            enabled: AtomicBool::new(enabled),
            options,
            transport,
            recorder,
            integrations,
            sdk,
        }
    }

    /// Disables the client, once: returns whether it was enabled (and so
    /// stops counting as enabled for the disabled fast path).
    fn disable(&self) -> bool {
        let was_enabled = self.enabled.swap(false, Ordering::AcqRel);
        if was_enabled {
            crate::hub::count_enabled(false);
        }
        was_enabled
    }

    /// Same as [`Client::new`].
    pub fn with_options(options: ClientOptions) -> Client {
        Client::new(options)
    }

    /// A client from anything `init` accepts: a DSN string, a
    /// [`Dsn`], `()`, [`ClientOptions`] or a `(dsn, options)` pair. Unlike
    /// `init`, it installs no default integrations or transport and reads
    /// no environment variables.
    ///
    /// An invalid DSN does not panic: the reason is printed to stderr and
    /// the client is disabled (no DSN), as `init` does.
    pub fn from_config<C: IntoClientOptions>(config: C) -> Client {
        match config.into_client_options() {
            Ok(options) => Client::new(options),
            Err(e) => {
                eprintln!("[vigil] {e}; the client is disabled");
                Client::new(ClientOptions::default())
            }
        }
    }

    /// The options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The DSN, if any.
    pub fn dsn(&self) -> Option<&Dsn> {
        self.options.dsn.as_ref()
    }

    /// The SDK identity written into events.
    pub fn sdk_info(&self) -> &ClientSdkInfo {
        &self.sdk
    }

    /// Whether the client sends anything: it has a DSN and an open
    /// transport.
    pub fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    /// What this client delivered and dropped, and which rate limits are in
    /// force. Drops are the totals of the [`LossRecorder`]; the sent counts
    /// and limits come from the transport (zero/empty when it keeps none;
    /// after `close`, what it had delivered).
    pub fn delivery_stats(&self) -> DeliveryStats {
        let mut stats = self
            .transport
            .as_ref()
            .and_then(|t| call_guarded("transport stats", None, || t.delivery_stats()).flatten())
            .unwrap_or_default();
        stats.dropped = self.recorder.totals();
        stats
    }

    /// The loss counters of this client (what was dropped, why).
    pub fn loss_recorder(&self) -> &LossRecorder {
        &self.recorder
    }

    /// The transport, unless the client was closed. A capture racing
    /// with `close` may still hand an envelope to the shut-down transport,
    /// which drops it and counts it.
    fn transport(&self) -> Option<&Arc<dyn Transport>> {
        if self.enabled.load(Ordering::Acquire) {
            self.transport.as_ref()
        } else {
            None
        }
    }

    /// Runs the pipeline up to (not including) sampling and the transport:
    /// defaults, scope data, scope event processors, integrations, the
    /// event scrubber, `before_send`. `None` means the event was dropped (and counted).
    pub fn prepare_event(&self, event: Event, scope: Option<&Scope>) -> Option<Event> {
        let global = crate::global::snapshot();
        self.prepare_with_global(Box::new(event), scope, global.as_deref(), EventKind::Error)
            .map(|e| *e)
    }

    /// The pipeline works on a boxed event: an event is about a kilobyte,
    /// and it is handed through several steps. `kind` says which hook runs
    /// last and in which category drops are counted.
    fn prepare_with_global(
        &self,
        mut event: Box<Event>,
        scope: Option<&Scope>,
        global: Option<&Scope>,
        kind: EventKind,
    ) -> Option<Box<Event>> {
        if event.event_id.is_nil() {
            event.event_id = EventId::new();
        }
        let max = self.options.max_breadcrumbs;
        // Merge order: global scope, then the hub's scope, then the event;
        // applying "fill if missing" from the nearest outwards gives that.
        if let Some(scope) = scope {
            scope.apply_data(&mut event, max, true);
        }
        if let Some(global) = global {
            global.apply_data(&mut event, max, scope.is_none_or(|s| s.level.is_none()));
        }
        event.breadcrumbs.keep_newest(max);
        let processors = scope
            .into_iter()
            .chain(global)
            .flat_map(|s| s.rest.event_processors.iter());
        for processor in processors {
            match call_guarded("event processor", None, || processor(*event)) {
                Some(Some(e)) => event = Box::new(e),
                _ => {
                    self.record_kind(DiscardReason::EventProcessor, kind);
                    return None;
                }
            }
        }
        for integration in &self.integrations {
            let options = &self.options;
            match call_guarded("integration", None, || {
                integration.process_event(*event, options)
            }) {
                Some(Some(e)) => event = Box::new(e),
                _ => {
                    crate::vigil_debug!("integration {} dropped an event", integration.name());
                    self.record_kind(DiscardReason::EventProcessor, kind);
                    return None;
                }
            }
        }
        self.fill_defaults(&mut event);
        if let Some(scrubber) = &self.options.event_scrubber {
            scrubber.scrub_event(&mut event, self.options.send_default_pii);
        }
        let (hook_name, hook) = match kind {
            EventKind::Error => ("before_send", &self.options.before_send),
            EventKind::Feedback => ("before_send_feedback", &self.options.before_send_feedback),
        };
        if let Some(before_send) = hook {
            match call_guarded(hook_name, None, || before_send(*event)) {
                Some(Some(e)) => event = Box::new(e),
                _ => {
                    self.record_kind(DiscardReason::BeforeSend, kind);
                    return None;
                }
            }
        }
        Some(event)
    }

    fn fill_defaults(&self, event: &mut Event) {
        self.fill_common_defaults(CommonFields {
            release: &mut event.release,
            environment: &mut event.environment,
            dist: &mut event.dist,
            server_name: &mut event.server_name,
            sdk: &mut event.sdk,
            platform: &mut event.platform,
        });
    }

    /// Release, environment (`production` when unset), dist, server name,
    /// SDK and platform (`native`), where the payload has none of its own.
    fn fill_common_defaults(&self, fields: CommonFields<'_>) {
        let o = &self.options;
        if fields.release.is_none() {
            *fields.release = o.release.as_ref().map(|r| r.to_string());
        }
        if fields.environment.is_none() {
            *fields.environment = Some(o.environment.as_deref().unwrap_or("production").to_owned());
        }
        if fields.dist.is_none() {
            *fields.dist = o.dist.as_ref().map(|d| d.to_string());
        }
        if fields.server_name.is_none() {
            *fields.server_name = o.server_name.as_ref().map(|s| s.to_string());
        }
        if fields.sdk.is_none() {
            *fields.sdk = Some(self.sdk.clone());
        }
        if fields.platform.is_empty() || fields.platform == "other" {
            *fields.platform = "native".into();
        }
    }

    fn record(&self, reason: DiscardReason) {
        self.record_kind(reason, EventKind::Error);
    }

    /// Counts one dropped event of `kind` (category `error` or `feedback`).
    fn record_kind(&self, reason: DiscardReason, kind: EventKind) {
        let category = match kind {
            EventKind::Error => DataCategory::Error,
            EventKind::Feedback => DataCategory::Feedback,
        };
        self.recorder.record(reason, category, 1);
    }

    fn sampled(&self) -> bool {
        let rate = self.options.sample_rate;
        if rate >= 1.0 {
            return true;
        }
        rate > 0.0 && fastrand::f32() < rate
    }

    /// Captures an event: runs the pipeline with `scope`'s data and sends
    /// it. Returns the event id, or the nil id when the event was dropped.
    pub fn capture_event(&self, event: Event, scope: Option<&Scope>) -> EventId {
        self.capture_boxed(Box::new(event), scope)
    }

    /// [`capture_event`](Client::capture_event) for an event built in a box.
    pub(crate) fn capture_boxed(&self, event: Box<Event>, scope: Option<&Scope>) -> EventId {
        let Some(transport) = self.transport() else {
            return EventId::nil();
        };
        let global = crate::global::snapshot();
        let Some(mut event) =
            self.prepare_with_global(event, scope, global.as_deref(), EventKind::Error)
        else {
            return EventId::nil();
        };
        // Sampled out or not, the event counts for the session.
        let session_update = scope
            .and_then(|s| s.session.as_deref())
            .and_then(|session| session.update_from_event(&event));
        if !self.sampled() {
            self.record(DiscardReason::SampleRate);
            if let Some(update) = session_update {
                self.send_session_update(update);
            }
            return EventId::nil();
        }
        // Field limits here; the 1 MiB size limit is enforced where the bytes
        // are produced (`Envelope::to_writer` sheds optional parts), so the
        // event is serialized once.
        limits::trim_event(&mut event);
        let id = event.event_id;
        let trace_header = self.trace_header_for(&event, scope.or(global.as_deref()));
        let mut envelope = Envelope::from_event(event);
        if envelope.headers().trace.is_none() {
            envelope.headers_mut().trace = trace_header;
        }
        for s in scope.into_iter().chain(global.as_deref()) {
            for attachment in s.rest.attachments.iter() {
                envelope.add_item((**attachment).clone());
            }
        }
        if let Some(update) = session_update {
            envelope.add_item(update);
        }
        self.fill_envelope_headers(&mut envelope);
        crate::vigil_debug!("{}", describe_event(&envelope));
        transport.send_envelope(envelope);
        id
    }

    fn fill_envelope_headers(&self, envelope: &mut Envelope) {
        let headers = envelope.headers_mut();
        if headers.dsn.is_none() {
            headers.dsn.clone_from(&self.dsn_header);
        }
        if headers.sdk.is_none() {
            headers.sdk = Some(self.sdk_header.clone());
        }
    }

    /// Sends a ready envelope through the transport (dropped when the
    /// client is disabled or closed).
    pub fn send_envelope(&self, mut envelope: Envelope) {
        if let Some(transport) = self.transport() {
            self.fill_envelope_headers(&mut envelope);
            transport.send_envelope(envelope);
        }
    }

    /// Waits until queued events are sent, at most `timeout`
    /// (`shutdown_timeout` when `None`). Returns whether everything queued
    /// was handled. The client stays usable.
    pub fn flush(&self, timeout: impl Into<Option<Duration>>) -> bool {
        let timeout = timeout.into().unwrap_or(self.options.shutdown_timeout);
        self.send_session_aggregates();
        if let Some(logs) = &self.logs {
            logs.flush();
        }
        if let Some(metrics) = &self.metrics {
            metrics.flush();
        }
        match self.transport() {
            Some(t) => call_guarded("transport flush", None, || t.flush(timeout)).unwrap_or(false),
            None => true,
        }
    }

    /// Sends the waiting logs and metrics and stops batching them.
    fn close_batches(&self) {
        if let Some(logs) = &self.logs {
            logs.close();
        }
        if let Some(metrics) = &self.metrics {
            metrics.close();
        }
    }

    /// Flushes (at most `timeout`, `shutdown_timeout` when `None`), then
    /// disables the client: later captures are no-ops. Returns whether
    /// everything queued was handled.
    pub fn close(&self, timeout: impl Into<Option<Duration>>) -> bool {
        let timeout = timeout.into().unwrap_or(self.options.shutdown_timeout);
        self.close_sessions();
        self.close_batches();
        let was_enabled = self.disable();
        let done = match self.transport.as_ref().filter(|_| was_enabled) {
            Some(t) => {
                call_guarded("transport shutdown", None, || t.shutdown(timeout)).unwrap_or(false)
            }
            None => true,
        };
        if was_enabled {
            crate::vigil_debug!(
                "closed{}: {}",
                if done { "" } else { " (time ran out)" },
                self.delivery_stats()
            );
        }
        done
    }
}

/// The client's transport with Spotlight's copy added when the
/// `spotlight` option is on (and the factory can build it). Without a DSN,
/// Spotlight alone gets the envelopes, and, as Sentry's Spotlight rules
/// ask, every event and transaction is sampled and personal data is sent.
fn with_spotlight(
    options: &mut ClientOptions,
    main: Option<Arc<dyn Transport>>,
) -> Option<Arc<dyn Transport>> {
    let Some(url) = options.spotlight.as_ref().and_then(Spotlight::url) else {
        return main;
    };
    let Some(factory) = options.transport.as_ref() else {
        crate::vigil_debug!("Spotlight is on but there is no transport factory to reach it");
        return main;
    };
    let Some(spotlight) = call_guarded("spotlight transport", None, || {
        factory.create_spotlight_transport(url)
    })
    .flatten() else {
        crate::vigil_debug!("Spotlight is on but the transport factory cannot reach it");
        return main;
    };
    if options.dsn.is_none() {
        crate::vigil_debug!(
            "no DSN: envelopes go to Spotlight only, all sampled, personal data included"
        );
        options.sample_rate = 1.0;
        options.traces_sample_rate = 1.0;
        options.traces_sampler = None;
        options.send_default_pii = true;
    }
    Some(Arc::new(WithSpotlight { main, spotlight }))
}

/// The debug line of an event handed to the transport: its id, level,
/// what it is about and what rides with it.
fn describe_event(envelope: &Envelope) -> String {
    let Some(event) = envelope.event() else {
        return "envelope queued".to_owned();
    };
    let about = event.headline().unwrap_or_default();
    let about = match about.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &about[..cut]),
        None => about,
    };
    format!(
        "event {} ({}) queued: {about:?}{}",
        event.event_id,
        event.level,
        match envelope.items().len() {
            1 => String::new(),
            n => format!(" with {} more item(s)", n - 1),
        }
    )
}

impl Client {
    /// The envelope `trace` header (the sampling context) of `event`: the
    /// one of `scope`'s trace, when the event belongs to that trace.
    fn trace_header_for(
        &self,
        event: &Event,
        scope: Option<&Scope>,
    ) -> Option<Arc<vigil_protocol::DynamicSamplingContext>> {
        scope
            .map(|s| s.dynamic_sampling_context(self))
            .filter(|dsc| dsc.trace_id.is_some() && dsc.trace_id == event_trace_id(event))
            .map(|dsc| Arc::clone(dsc.header()))
    }
}

/// The trace id of an event's `trace` context, if it has one.
fn event_trace_id(event: &Event) -> Option<TraceId> {
    match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => Some(trace.trace_id),
        _ => None,
    }
}

/// What goes through the event pipeline: an error (or message) event, or
/// a user feedback event, which runs `before_send_feedback` instead of
/// `before_send` and counts its drops as `feedback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventKind {
    Error,
    Feedback,
}

/// The fields of an event or a transaction that the client's options fill
/// when the payload has none of its own.
struct CommonFields<'a> {
    release: &'a mut Option<String>,
    environment: &'a mut Option<String>,
    dist: &'a mut Option<String>,
    server_name: &'a mut Option<String>,
    sdk: &'a mut Option<ClientSdkInfo>,
    platform: &'a mut String,
}
