//! The HTTP transport: a worker thread posting gzipped envelopes with
//! `ureq`, honouring rate limits, retrying network failures and sending
//! client reports.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use flate2::Compression;
use vigil_core::protocol::{ClientReport, DataCategory, DiscardReason, Envelope, EnvelopeItem};
use vigil_core::{LossRecorder, Transport, TransportContext, TransportFactory};

use crate::rate_limit::RateLimits;
use crate::spool::{Claimed, DiskQueueOptions, Durability, Spool};
use crate::stats::deadlines;
use crate::worker::{Control, Handler, Task, Worker, record_item, record_items};
use vigil_core::DeliveryStats;

/// Piggy-backed client reports are sent at most this often.
const REPORT_INTERVAL: Duration = Duration::from_secs(30);
/// After this long with an empty queue, pending client reports are sent
/// on their own.
const IDLE_INTERVAL: Duration = Duration::from_secs(60);
/// At most this much of a response body is read (for diagnostics and so
/// the connection can be reused).
const MAX_RESPONSE_BODY: u64 = 64 * 1024;
/// At most this much of an error body is printed.
const MAX_LOGGED_BODY: usize = 1024;
/// How often the disk queue's directory is read again for envelopes
/// stored by other processes (besides at start-up and on reconnecting).
const RESCAN_INTERVAL: Duration = Duration::from_secs(30);
/// While the server is unreachable, it is tried at most this often, even
/// with a zero back-off.
const MIN_PROBE_INTERVAL: Duration = Duration::from_millis(10);

/// Settings of an [`HttpTransport`] beyond what
/// [`ClientOptions`](vigil_core::ClientOptions) holds.
///
/// The defaults suit production use:
///
/// | setting | default |
/// | --- | --- |
/// | [`connect_timeout`](HttpTransportOptions::connect_timeout) | 5 s |
/// | [`timeout`](HttpTransportOptions::timeout) (whole request) | 15 s |
/// | [`max_attempts`](HttpTransportOptions::max_attempts) | 3 |
/// | [`initial_backoff`](HttpTransportOptions::initial_backoff) | 100 ms, doubling |
/// | [`max_backoff`](HttpTransportOptions::max_backoff) | 2 s |
/// | [`proxy_from_env`](HttpTransportOptions::proxy_from_env) | on |
/// | [`disk_queue`](HttpTransportOptions::disk_queue) | off |
///
/// ```
/// use std::time::Duration;
/// use vigil_transport::{HttpTransport, HttpTransportOptions};
/// let options = HttpTransportOptions::new()
///     .timeout(Duration::from_secs(5))
///     .max_attempts(5);
/// let factory = HttpTransport::factory_with(options);
/// let client_options = vigil_core::ClientOptions::new().transport(factory);
/// # let _ = client_options;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpTransportOptions {
    /// How long establishing a connection (name resolution, TCP, TLS, a
    /// proxy's `CONNECT`) may take.
    pub connect_timeout: Duration,
    /// How long one request may take in all, from connecting to reading the
    /// response. A request that runs out of time is a network error.
    pub timeout: Duration,
    /// How many times an envelope is tried when the network fails
    /// (connection refused or reset, timeout, name resolution); at least 1.
    /// HTTP error statuses are never retried.
    pub max_attempts: u32,
    /// The pause before the first retry; it doubles for each further one.
    /// Each pause is jittered (between half and all of it) and never runs
    /// past the deadline of a pending flush or shutdown.
    pub initial_backoff: Duration,
    /// The longest pause between two attempts.
    pub max_backoff: Duration,
    /// Use the proxy named by `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY`
    /// (or their lowercase forms), except for the hosts in `NO_PROXY`.
    pub proxy_from_env: bool,
    /// Store envelopes on disk before sending them, so that they survive
    /// network outages and restarts; off (`None`) by default. See
    /// [`HttpTransportOptions::disk_queue`].
    pub disk_queue: Option<DiskQueueOptions>,
}

impl Default for HttpTransportOptions {
    fn default() -> HttpTransportOptions {
        HttpTransportOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            proxy_from_env: true,
            disk_queue: None,
        }
    }
}

impl HttpTransportOptions {
    /// The defaults (see the table above).
    pub fn new() -> HttpTransportOptions {
        HttpTransportOptions::default()
    }

    /// Sets [`connect_timeout`](HttpTransportOptions::connect_timeout).
    pub fn connect_timeout(mut self, timeout: Duration) -> HttpTransportOptions {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`timeout`](HttpTransportOptions::timeout).
    pub fn timeout(mut self, timeout: Duration) -> HttpTransportOptions {
        self.timeout = timeout;
        self
    }

    /// Sets [`max_attempts`](HttpTransportOptions::max_attempts) (0 counts
    /// as 1).
    pub fn max_attempts(mut self, attempts: u32) -> HttpTransportOptions {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`initial_backoff`](HttpTransportOptions::initial_backoff) and
    /// [`max_backoff`](HttpTransportOptions::max_backoff).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> HttpTransportOptions {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sets [`proxy_from_env`](HttpTransportOptions::proxy_from_env).
    pub fn proxy_from_env(mut self, on: bool) -> HttpTransportOptions {
        self.proxy_from_env = on;
        self
    }

    /// Turns the disk queue on, in `dir`, with the default
    /// [`DiskQueueOptions`] (1000 envelopes, 50 MiB,
    /// [`Durability::Buffered`], 100 ms between backlog sends).
    ///
    /// Every envelope is then written to a file before it is sent, and the
    /// file is removed only once the server accepted or rejected it for
    /// good (`2xx`, `4xx`, `5xx`): after a network failure it stays, and is
    /// sent when the server is reachable again or the next time the program
    /// starts with the same directory. See the crate docs, *Disk queue*.
    ///
    /// ```
    /// use vigil_transport::{HttpTransport, HttpTransportOptions};
    /// let dir = std::env::temp_dir().join("my-app-vigil-queue");
    /// let options = vigil_core::ClientOptions::new().transport(HttpTransport::factory_with(
    ///     HttpTransportOptions::new().disk_queue(dir),
    /// ));
    /// # let _ = options;
    /// ```
    pub fn disk_queue(self, dir: impl Into<PathBuf>) -> HttpTransportOptions {
        self.disk_queue_with(DiskQueueOptions::new(dir))
    }

    /// Turns the disk queue on with `options` (see [`DiskQueueOptions`]).
    pub fn disk_queue_with(mut self, options: DiskQueueOptions) -> HttpTransportOptions {
        self.disk_queue = Some(options);
        self
    }

    /// The pause after failed attempt number `attempt` (1-based), before
    /// jitter: `initial_backoff * 2^(attempt - 1)`, capped.
    fn backoff_before_retry(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// Counters and limits shared by the transport handle and its worker.
#[derive(Debug, Default)]
struct Shared {
    limits: RateLimits,
    envelopes_sent: AtomicU64,
    events_sent: AtomicU64,
    client_reports_sent: AtomicU64,
}

/// Sends envelopes to Sentry over HTTP(S), on a background thread.
///
/// This is the transport of the `vigil` crate. Per envelope it:
///
/// 1. drops the items whose category is rate limited (counted as
///    `ratelimit_backoff`), skipping the request when nothing is left;
/// 2. appends the client report of what was dropped so far, when client
///    reports are on (at most every 30 s; otherwise a standalone report
///    goes out on [`flush`](Transport::flush), on shutdown, and after 60 s
///    without traffic);
/// 3. sets the `sent_at` header and posts the gzipped envelope to the
///    DSN's envelope endpoint with the `X-Sentry-Auth`, `User-Agent`,
///    `Content-Type: application/x-sentry-envelope` and
///    `Content-Encoding: gzip` headers;
/// 4. reads rate limits from every response (`X-Sentry-Rate-Limits`, or
///    `Retry-After` / 60 s on a `429`).
///
/// # What happens on failure
///
/// | outcome | what the transport does | with the disk queue on | counted as |
/// | --- | --- | --- | --- |
/// | `2xx` | delivered | file removed | — |
/// | `429` | limits updated, envelope dropped, no retry | file removed | nothing (the server counted it) |
/// | `413`, other `4xx`, `5xx` | dropped, no retry; `X-Sentry-Error` and the body printed when `debug` is on | file removed | `send_error` |
/// | connection refused or reset, timeout, name resolution | retried with jittered back-off ([`HttpTransportOptions`]), then dropped | file kept, sent when the server is back (or by the next process) | `network_error`; nothing with the disk queue |
/// | queue full ([`ClientOptions::transport_queue_size`](vigil_core::ClientOptions::transport_queue_size)) | dropped at once | written to disk by the capturing thread, sent later | `queue_overflow`; nothing with the disk queue |
/// | disk queue full ([`DiskQueueOptions::max_count`](crate::DiskQueueOptions::max_count), [`max_bytes`](crate::DiskQueueOptions::max_bytes)) | — | oldest file removed | `cache_overflow` |
/// | stored file unreadable | — | moved to `corrupt/` | `internal_sdk_error` |
/// | item rate limited before sending | dropped | dropped if not stored yet; a stored one waits for the limit to end | `ratelimit_backoff` (if dropped) |
/// | sent after shutdown | dropped at once | dropped at once | `queue_overflow` |
/// | internal failure (encoding, a bad header value) | dropped | file removed | `internal_sdk_error` |
///
/// Every count goes to the client's [`LossRecorder`]; a client report that
/// cannot be delivered is put back and sent later. [`HttpTransport::stats`]
/// gives a snapshot, [`HttpTransport::disk_queue_len`] the number of stored
/// envelopes.
///
/// # Threads and blocking
/// [`send_envelope`](Transport::send_envelope) does no network I/O; one
/// thread named `vigil-transport` sends. Without a disk queue it never
/// blocks. With one, the capturing thread writes a file in two cases:
/// [`Durability::Sync`] (every envelope with an event, `fsync`ed), and a
/// full in-memory queue (instead of dropping). `flush` and `shutdown` block
/// at most their timeout; a request still running at a shutdown deadline
/// is left to finish on its own thread. With a disk queue, `flush` counts
/// an envelope as handled once it is delivered, dropped, or stored while
/// the server is unreachable; it does not wait for stored envelopes from
/// earlier runs or outages.
///
/// # Example
/// ```
/// use vigil_core::ClientOptions;
/// let options = ClientOptions::new()
///     .dsn("https://public@example.invalid/1")?
///     .transport(vigil_transport::http());
/// # let _ = options;
/// # Ok::<(), vigil_core::protocol::DsnError>(())
/// ```
pub struct HttpTransport {
    worker: Worker,
    shared: Arc<Shared>,
    recorder: LossRecorder,
    url: String,
    spool: Option<Arc<Spool>>,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("url", &self.url)
            .field("disk_queue", &self.spool.as_ref().map(|s| s.dir()))
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// Creates the transport for a client, with default
    /// [`HttpTransportOptions`], and starts its thread.
    pub fn new(ctx: &TransportContext<'_>) -> Arc<HttpTransport> {
        HttpTransport::with_options(ctx, HttpTransportOptions::default())
    }

    /// Creates the transport with custom options and starts its thread.
    pub fn with_options(
        ctx: &TransportContext<'_>,
        options: HttpTransportOptions,
    ) -> Arc<HttpTransport> {
        let url = ctx.dsn.envelope_url();
        let shared = Arc::new(Shared::default());
        let spool = options
            .disk_queue
            .clone()
            .map(|disk| Spool::new(disk, ctx.recorder.clone()));
        let disk = spool.as_ref().map(|spool| DiskState {
            spool: Arc::clone(spool),
            online: true,
            scanned: false,
            rescan: false,
            last_scan: Instant::now(),
            next_drain: Instant::now(),
            probe_backoff: options.initial_backoff,
        });
        let sender = HttpSender {
            agent: build_agent(&options, &ctx.options.user_agent),
            url: url.clone(),
            auth: ctx
                .dsn
                .auth_header(&format!("{}/{}", ctx.sdk.name, ctx.sdk.version)),
            user_agent: ctx.options.user_agent.to_string(),
            recorder: ctx.recorder.clone(),
            shared: Arc::clone(&shared),
            send_client_reports: ctx.options.send_client_reports,
            last_report: None,
            gzipper: std::cell::RefCell::new(Gzipper::new()),
            options,
            disk,
        };
        vigil_core::vigil_debug!("HTTP transport sending to {url}");
        if let Some(spool) = &spool {
            vigil_core::vigil_debug!("disk queue in {}", spool.dir().display());
        }
        Arc::new(HttpTransport {
            worker: Worker::spawn(
                ctx.options.transport_queue_size,
                ctx.recorder.clone(),
                sender,
            ),
            shared,
            recorder: ctx.recorder.clone(),
            url,
            spool,
        })
    }

    /// A factory for [`ClientOptions::transport`](vigil_core::ClientOptions::transport)
    /// building this transport with default options. Same as [`http`].
    pub fn factory() -> impl TransportFactory {
        HttpTransport::factory_with(HttpTransportOptions::default())
    }

    /// A factory building this transport with `options`.
    pub fn factory_with(options: HttpTransportOptions) -> impl TransportFactory {
        move |ctx: &TransportContext<'_>| -> Arc<dyn Transport> {
            HttpTransport::with_options(ctx, options.clone())
        }
    }

    /// How many envelopes the disk queue holds (waiting or being sent), as
    /// far as this transport knows (its own and those found in the
    /// directory at start-up or since); `None` without a disk queue.
    pub fn disk_queue_len(&self) -> Option<usize> {
        self.spool.as_ref().map(|s| s.len())
    }

    /// What was delivered and dropped so far, and the rate limits in force.
    pub fn stats(&self) -> DeliveryStats {
        let measured_at = Instant::now();
        let (rate_limited_all_until, rate_limited) =
            deadlines(self.shared.limits.active(measured_at), measured_at);
        let mut stats = DeliveryStats::default();
        stats.envelopes_sent = self.shared.envelopes_sent.load(Ordering::Relaxed);
        stats.events_sent = self.shared.events_sent.load(Ordering::Relaxed);
        stats.client_reports_sent = self.shared.client_reports_sent.load(Ordering::Relaxed);
        stats.dropped = self.recorder.totals();
        stats.rate_limited_all_until = rate_limited_all_until;
        stats.rate_limited = rate_limited;
        stats
    }
}

impl HttpTransport {
    /// `send_envelope` with the disk queue on: in [`Durability::Sync`]
    /// mode an envelope with an event is stored (and `fsync`ed) here, on
    /// the caller's thread; any other envelope is queued and stored by the
    /// worker. A full queue does not drop: the envelope is stored here
    /// (if it was not already) and the backlog drain sends it.
    fn send_with_disk_queue(&self, spool: &Arc<Spool>, mut envelope: Envelope) {
        if self.worker.is_closed() {
            // Dropped and counted, as without a disk queue.
            self.worker.send(envelope);
            return;
        }
        let sync = spool.options().durability == Durability::Sync
            && envelope
                .items()
                .iter()
                .any(|i| matches!(i, EnvelopeItem::Event(_)));
        let task = if sync {
            match spool.store(&mut envelope, true, true) {
                Ok(name) => Task::SendStored(envelope, name),
                Err(e) => {
                    vigil_core::vigil_debug!("envelope not stored ({e}); queued in memory only");
                    Task::Send(envelope)
                }
            }
        } else {
            Task::Send(envelope)
        };
        let (task, reason) = match self.worker.try_queue(task) {
            Ok(()) => return,
            Err(refused) => refused,
        };
        match task {
            // On disk already: the backlog drain sends it.
            Task::SendStored(_, name) => spool.unqueue(&name),
            Task::Send(mut envelope) if reason == DiscardReason::QueueOverflow => {
                if let Err(e) = spool.store(&mut envelope, false, false) {
                    vigil_core::vigil_debug!("queue full and envelope not stored ({e})");
                    record_items(&self.recorder, &envelope, reason);
                }
            }
            Task::Send(envelope) => record_items(&self.recorder, &envelope, reason),
            Task::Flush(_) | Task::Shutdown => {}
        }
    }
}

impl Transport for HttpTransport {
    /// Queues the envelope; items already rate limited are dropped here
    /// (counted as `ratelimit_backoff`) so they do not take queue space.
    fn send_envelope(&self, mut envelope: Envelope) {
        if envelope.is_empty() {
            return;
        }
        let now = Instant::now();
        if drop_rate_limited(&self.shared.limits, &self.recorder, &mut envelope, now) {
            vigil_core::vigil_debug!("envelope rate limited; not queued");
            return;
        }
        match &self.spool {
            Some(spool) => self.send_with_disk_queue(spool, envelope),
            None => self.worker.send(envelope),
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.worker.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.worker.shutdown(timeout)
    }

    fn delivery_stats(&self) -> Option<DeliveryStats> {
        Some(self.stats())
    }
}

/// A factory for [`ClientOptions::transport`](vigil_core::ClientOptions::transport)
/// building an [`HttpTransport`] with default options.
///
/// ```
/// let options = vigil_core::ClientOptions::new().transport(vigil_transport::http());
/// # let _ = options;
/// ```
pub fn http() -> impl TransportFactory {
    HttpTransport::factory()
}

fn build_agent(options: &HttpTransportOptions, user_agent: &str) -> ureq::Agent {
    let proxy = if options.proxy_from_env {
        ureq::Proxy::try_from_env()
    } else {
        None
    };
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_resolve(Some(options.connect_timeout))
        .timeout_connect(Some(options.connect_timeout))
        .timeout_global(Some(options.timeout))
        .user_agent(user_agent)
        .proxy(proxy);
    #[cfg(feature = "native-tls")]
    let config = config.tls_config(
        ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .build(),
    );
    ureq::Agent::with_parts(
        config.build(),
        ureq::unversioned::transport::DefaultConnector::new(),
        CachingResolver::default(),
    )
}

/// How long a resolved address is reused.
const RESOLVE_TTL: Duration = Duration::from_secs(60);

/// Resolves host names through ureq's resolver, reusing the answer for
/// [`RESOLVE_TTL`]. ureq resolves before every request, even on a kept-alive
/// connection, and with a resolve timeout it does so on a new thread each
/// time: one thread per envelope. The transport talks to one host, so one
/// cached answer removes that cost.
#[derive(Debug, Default)]
struct CachingResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    cache: std::sync::Mutex<Option<CachedAddrs>>,
}

#[derive(Debug)]
struct CachedAddrs {
    key: String,
    at: Instant,
    addrs: ureq::unversioned::resolver::ResolvedSocketAddrs,
}

impl ureq::unversioned::resolver::Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map(|a| a.as_str()).unwrap_or("")
        );
        {
            let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(c) = cache.as_ref() {
                if c.key == key && c.at.elapsed() < RESOLVE_TTL {
                    return Ok(c.addrs.clone());
                }
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *self.cache.lock().unwrap_or_else(PoisonError::into_inner) = Some(CachedAddrs {
            key,
            at: Instant::now(),
            addrs: addrs.clone(),
        });
        Ok(addrs)
    }
}

/// How one delivery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// `2xx`.
    Accepted,
    /// `429`: the server counted the items already.
    RateLimited,
    /// Another error status.
    Rejected,
    /// The network failed (after retries).
    NetworkError,
    /// The SDK failed (encoding, a bad header value).
    Internal,
}

/// How a `ureq` error is handled.
enum Failure {
    /// Worth another attempt (connection, timeout, name resolution).
    Retryable,
    /// A network failure not worth retrying (TLS).
    Network,
    /// An SDK or configuration failure (bad URL or header, proxy URL).
    Internal,
}

fn classify(error: &ureq::Error) -> Failure {
    match error {
        ureq::Error::Io(_)
        | ureq::Error::Timeout(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Protocol(_) => Failure::Retryable,
        ureq::Error::Http(_) | ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl => {
            Failure::Internal
        }
        _ => Failure::Network,
    }
}

/// The worker side: owns the agent and does the requests.
struct HttpSender {
    agent: ureq::Agent,
    url: String,
    auth: String,
    user_agent: String,
    recorder: LossRecorder,
    shared: Arc<Shared>,
    send_client_reports: bool,
    /// When a client report was last taken for sending.
    last_report: Option<Instant>,
    options: HttpTransportOptions,
    gzipper: std::cell::RefCell<Gzipper>,
    /// The disk queue, when on.
    disk: Option<DiskState>,
}

/// The worker's side of the disk queue.
struct DiskState {
    spool: Arc<Spool>,
    /// The last request reached the server (or none was made yet). While
    /// offline, envelopes are only stored, and the oldest stored one is
    /// tried now and then (a probe).
    online: bool,
    /// The directory was read at start-up.
    scanned: bool,
    /// Read the directory again at the next step (after reconnecting).
    rescan: bool,
    last_scan: Instant,
    /// The next backlog send (or probe, while offline) is not before this.
    next_drain: Instant,
    /// The pause before the next probe; doubles while offline, up to
    /// `max_backoff`.
    probe_backoff: Duration,
}

impl DiskState {
    fn went_offline(&mut self, options: &HttpTransportOptions) {
        self.probe_backoff = if self.online {
            options.initial_backoff
        } else {
            self.probe_backoff
                .checked_mul(2)
                .unwrap_or(options.max_backoff)
                .min(options.max_backoff)
        };
        if self.online {
            vigil_core::vigil_debug!(
                "server unreachable; envelopes stay in the disk queue until it is back"
            );
        }
        self.online = false;
        self.next_drain = Instant::now() + jitter(self.probe_backoff).max(MIN_PROBE_INTERVAL);
    }

    fn came_online(&mut self) {
        if !self.online {
            vigil_core::vigil_debug!("server reachable again; sending the disk queue");
            self.online = true;
            self.rescan = true;
        }
    }
}

impl HttpSender {
    /// Takes the pending client report if reports are on and the
    /// `internal` category is not rate limited.
    fn take_report(&mut self, now: Instant) -> Option<ClientReport> {
        if !self.send_client_reports || self.shared.limits.is_limited(DataCategory::Internal, now) {
            return None;
        }
        let report = self.recorder.take_report()?;
        self.last_report = Some(now);
        Some(report)
    }

    fn report_due(&self, now: Instant) -> bool {
        self.last_report
            .is_none_or(|last| now.saturating_duration_since(last) >= REPORT_INTERVAL)
    }

    /// When a client report is due, takes it and adds it to `envelope`;
    /// returns it so that its counts can be put back if sending fails.
    fn attach_due_report(&mut self, envelope: &mut Envelope, now: Instant) -> Option<ClientReport> {
        if !self.report_due(now) {
            return None;
        }
        let report = self.take_report(now)?;
        envelope.add_item(report.clone());
        Some(report)
    }

    /// Delivers `envelope` and accounts for the result: counters on
    /// success; otherwise the report (if one rode along) is put back and
    /// every other item is recorded with the reason of the failure.
    fn deliver_and_account(
        &mut self,
        mut envelope: Envelope,
        report: Option<ClientReport>,
        control: &Control,
    ) {
        let outcome = self.deliver(&mut envelope, self.options.max_attempts, control);
        self.account(&envelope, report, outcome);
    }

    /// Counters on success; otherwise the report (if one rode along) is put
    /// back and every other item is recorded with the reason of the
    /// failure.
    fn account(&mut self, envelope: &Envelope, report: Option<ClientReport>, outcome: Outcome) {
        let reason = match outcome {
            Outcome::Accepted => {
                let events = envelope
                    .items()
                    .iter()
                    .filter(|i| matches!(i, EnvelopeItem::Event(_)))
                    .count() as u64;
                self.shared.envelopes_sent.fetch_add(1, Ordering::Relaxed);
                self.shared.events_sent.fetch_add(events, Ordering::Relaxed);
                if report.is_some() {
                    self.shared
                        .client_reports_sent
                        .fetch_add(1, Ordering::Relaxed);
                }
                return;
            }
            Outcome::RateLimited => None,
            Outcome::Rejected => Some(DiscardReason::SendError),
            Outcome::NetworkError => Some(DiscardReason::NetworkError),
            Outcome::Internal => Some(DiscardReason::InternalSdkError),
        };
        if let Some(report) = &report {
            self.recorder.restore_report(report);
        }
        if let Some(reason) = reason {
            record_items(&self.recorder, envelope, reason);
        }
    }

    /// Sends a stored envelope, making `attempts` tries on network
    /// failures. After a final answer the file is removed; after a network
    /// failure it stays and the transport goes offline. Returns whether
    /// the server was reached.
    fn send_claimed(
        &mut self,
        claimed: Claimed,
        mut envelope: Envelope,
        attempts: u32,
        control: &Control,
    ) -> bool {
        let now = Instant::now();
        let report = self.attach_due_report(&mut envelope, now);
        let outcome = self.deliver(&mut envelope, attempts, control);
        if outcome == Outcome::NetworkError {
            if let Some(report) = &report {
                self.recorder.restore_report(report);
            }
            vigil_core::vigil_debug!("envelope kept in the disk queue ({})", claimed.name());
            claimed.release();
            if let Some(disk) = &mut self.disk {
                disk.went_offline(&self.options);
            }
            return false;
        }
        claimed.complete();
        self.account(&envelope, report, outcome);
        if let Some(disk) = &mut self.disk {
            disk.came_online();
        }
        true
    }

    /// How long the rate limits still hold for some item of `envelope`
    /// (the longest), or `None` when nothing in it is limited.
    fn rate_limit_pause(&self, envelope: &Envelope, now: Instant) -> Option<Duration> {
        let active = self.shared.limits.active(now);
        let mut pause: Option<Duration> = None;
        for item in envelope.items() {
            if matches!(item, EnvelopeItem::ClientReport(_)) {
                continue;
            }
            let category = item.category();
            let mut left = active.all;
            for (c, d) in &active.categories {
                if *c == category {
                    left = Some(left.map_or(*d, |l| l.max(*d)));
                }
            }
            if let Some(left) = left {
                pause = Some(pause.map_or(left, |p| p.max(left)));
            }
        }
        pause
    }

    /// One step of working through the stored backlog: read the directory
    /// when due, then send the oldest stored envelope if the pacing, the
    /// rate limits and the connection allow.
    fn drain_step(&mut self, control: &Control) {
        let Some(disk) = &mut self.disk else {
            return;
        };
        let now = Instant::now();
        if !disk.scanned || disk.rescan || now >= disk.last_scan + RESCAN_INTERVAL {
            disk.spool.scan();
            disk.scanned = true;
            disk.rescan = false;
            disk.last_scan = now;
        }
        if now < disk.next_drain {
            return;
        }
        if let Some(all) = self.shared.limits.active(now).all {
            // While everything is rate limited the backlog waits.
            disk.next_drain = now + all;
            return;
        }
        let spool = Arc::clone(&disk.spool);
        let Some((claimed, envelope)) = spool.next_backlog() else {
            // Only unreadable files were found (or none): look again soon.
            disk.next_drain = now + spool.options().drain_interval;
            return;
        };
        if let Some(pause) = self.rate_limit_pause(&envelope, now) {
            claimed.release();
            if let Some(disk) = &mut self.disk {
                disk.next_drain = now + pause;
            }
            return;
        }
        if self.send_claimed(claimed, envelope, 1, control) {
            if let Some(disk) = &mut self.disk {
                disk.next_drain = Instant::now() + spool.options().drain_interval;
            }
        }
    }

    /// `send` with the disk queue on: rate-limited items are dropped as
    /// without it, then the envelope is stored and sent from the disk
    /// queue. One that cannot be stored (too large, I/O error) is sent as
    /// without a disk queue.
    fn send_via_disk(&mut self, mut envelope: Envelope, control: &Control) {
        let now = Instant::now();
        if drop_rate_limited(&self.shared.limits, &self.recorder, &mut envelope, now) {
            vigil_core::vigil_debug!("envelope rate limited; not sent");
            return;
        }
        let stored = match &self.disk {
            Some(disk) => disk.spool.store(&mut envelope, false, true),
            None => return,
        };
        match stored {
            Ok(name) => self.send_stored(envelope, name, control),
            Err(e) => {
                vigil_core::vigil_debug!("envelope not stored ({e}); sent without the disk queue");
                let report = self.attach_due_report(&mut envelope, now);
                self.deliver_and_account(envelope, report, control);
            }
        }
    }

    /// Posts the envelope, making up to `max_attempts` tries on network
    /// failures.
    fn deliver(&self, envelope: &mut Envelope, max_attempts: u32, control: &Control) -> Outcome {
        let max_attempts = max_attempts.max(1);
        let mut attempt: u32 = 0;
        loop {
            attempt = attempt.saturating_add(1);
            envelope.headers_mut().sent_at = Some(SystemTime::now());
            let body = match self.gzipper.borrow_mut().gzip(envelope) {
                Ok(body) => body,
                Err(e) => {
                    vigil_core::vigil_debug!("could not encode an envelope: {e}");
                    return Outcome::Internal;
                }
            };
            let error = match self.post(&body) {
                Ok(response) => return self.on_response(response, envelope),
                Err(error) => error,
            };
            vigil_core::vigil_debug!(
                "sending envelope {} failed (attempt {attempt} of {max_attempts}): {error}",
                describe(envelope)
            );
            match classify(&error) {
                Failure::Internal => return Outcome::Internal,
                Failure::Network => return Outcome::NetworkError,
                Failure::Retryable if attempt >= max_attempts => return Outcome::NetworkError,
                Failure::Retryable => {
                    if !control.backoff(jitter(self.options.backoff_before_retry(attempt))) {
                        vigil_core::vigil_debug!("no retry: a flush or shutdown deadline is near");
                        return Outcome::NetworkError;
                    }
                }
            }
        }
    }

    fn post(&self, body: &[u8]) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        self.agent
            .post(&self.url)
            .header("X-Sentry-Auth", &self.auth)
            .header("User-Agent", &self.user_agent)
            .header("Content-Type", "application/x-sentry-envelope")
            .header("Content-Encoding", "gzip")
            .send(body)
    }

    fn on_response(
        &self,
        mut response: ureq::http::Response<ureq::Body>,
        envelope: &Envelope,
    ) -> Outcome {
        let status = response.status().as_u16();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let rate_limits = header("x-sentry-rate-limits");
        let retry_after = header("retry-after");
        let sentry_error = header("x-sentry-error");
        self.shared.limits.update_from_response(
            status,
            rate_limits.as_deref(),
            retry_after.as_deref(),
        );
        // Reading the body lets the connection be reused.
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE_BODY)
            .read_to_vec()
            .unwrap_or_default();
        match status {
            200..=299 => {
                vigil_core::vigil_debug!("envelope {} delivered ({status})", describe(envelope));
                Outcome::Accepted
            }
            429 => {
                vigil_core::vigil_debug!(
                    "envelope {} rate limited (429); limits now: {:?}",
                    describe(envelope),
                    self.shared.limits.active(Instant::now())
                );
                Outcome::RateLimited
            }
            _ => {
                if vigil_core::__private::debug_enabled() {
                    let shown = &body[..body.len().min(MAX_LOGGED_BODY)];
                    vigil_core::vigil_debug!(
                        "envelope {} rejected with {status}{}; X-Sentry-Error: {}; body: {}",
                        describe(envelope),
                        if status == 413 { " (too large)" } else { "" },
                        sentry_error.as_deref().unwrap_or("-"),
                        String::from_utf8_lossy(shown)
                    );
                }
                Outcome::Rejected
            }
        }
    }
}

impl Handler for HttpSender {
    fn send(&mut self, mut envelope: Envelope, control: &Control) {
        if envelope.is_empty() {
            return;
        }
        if self.disk.is_some() {
            self.send_via_disk(envelope, control);
            return;
        }
        let now = Instant::now();
        if drop_rate_limited(&self.shared.limits, &self.recorder, &mut envelope, now) {
            vigil_core::vigil_debug!("envelope rate limited; not sent");
            return;
        }
        let report = self.attach_due_report(&mut envelope, now);
        self.deliver_and_account(envelope, report, control);
    }

    fn send_stored(&mut self, envelope: Envelope, name: String, control: &Control) {
        let Some(disk) = &mut self.disk else {
            self.send(envelope, control);
            return;
        };
        if !disk.online {
            // Left to the backlog drain, whose probe finds out when the
            // server is back.
            disk.spool.unqueue(&name);
            return;
        }
        // Gone when the backlog drain or a full disk queue took it first.
        let Some(claimed) = disk.spool.claim(&name) else {
            return;
        };
        let now = Instant::now();
        if let Some(pause) = self.rate_limit_pause(&envelope, now) {
            // Stored envelopes wait for the limit to end; they are not
            // dropped.
            claimed.release();
            if let Some(disk) = &mut self.disk {
                disk.next_drain = disk.next_drain.max(now + pause);
            }
            return;
        }
        self.send_claimed(claimed, envelope, self.options.max_attempts, control);
    }

    fn next_wake(&self) -> Option<Instant> {
        let disk = self.disk.as_ref()?;
        if !disk.scanned || disk.rescan {
            return Some(Instant::now());
        }
        if disk.spool.has_backlog() {
            Some(disk.next_drain)
        } else {
            Some(disk.last_scan + RESCAN_INTERVAL)
        }
    }

    fn wake(&mut self, control: &Control) {
        self.drain_step(control);
    }

    fn keep(&mut self, envelope: &mut Envelope) -> bool {
        match &self.disk {
            Some(disk) => disk.spool.store(envelope, false, false).is_ok(),
            None => false,
        }
    }

    /// Sends the pending client report on its own, if there is one (not
    /// while the disk queue knows the server is unreachable).
    fn flush(&mut self, control: &Control) {
        if self.disk.as_ref().is_some_and(|d| !d.online) {
            return;
        }
        if let Some(report) = self.take_report(Instant::now()) {
            let mut envelope = Envelope::new();
            envelope.add_item(report.clone());
            self.deliver_and_account(envelope, Some(report), control);
        }
    }

    fn idle_interval(&self) -> Option<Duration> {
        self.send_client_reports.then_some(IDLE_INTERVAL)
    }

    fn idle(&mut self, control: &Control) {
        if self.disk.as_ref().is_some_and(|d| !d.online) {
            return;
        }
        if self.report_due(Instant::now()) {
            self.flush(control);
        }
    }
}

/// Gzips envelopes, reusing one deflate state and buffer: setting up a
/// fresh compressor costs more than compressing a typical event.
struct Gzipper {
    deflate: flate2::Compress,
    plain: Vec<u8>,
}

impl Gzipper {
    fn new() -> Gzipper {
        Gzipper {
            // Raw deflate; the gzip header and trailer are written here.
            // Fast level: event payloads are small and the worker should not
            // become CPU bound.
            deflate: flate2::Compress::new(Compression::fast(), false),
            plain: Vec::with_capacity(4096),
        }
    }

    /// The envelope in the wire format, gzipped (RFC 1952).
    fn gzip(&mut self, envelope: &Envelope) -> io::Result<Vec<u8>> {
        self.plain.clear();
        envelope.to_writer(&mut self.plain)?;
        self.deflate.reset();
        let mut out = Vec::with_capacity(self.plain.len() / 2 + 64);
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        loop {
            let consumed = usize::try_from(self.deflate.total_in()).unwrap_or(usize::MAX);
            let input = self.plain.get(consumed..).unwrap_or(&[]);
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(256));
            }
            let status = self
                .deflate
                .compress_vec(input, &mut out, flate2::FlushCompress::Finish)
                .map_err(io::Error::other)?;
            if status == flate2::Status::StreamEnd {
                break;
            }
        }
        let mut crc = flate2::Crc::new();
        crc.update(&self.plain);
        out.extend_from_slice(&crc.sum().to_le_bytes());
        // ISIZE: the input length modulo 2^32, as RFC 1952 defines it.
        out.extend_from_slice(&(self.plain.len() as u32).to_le_bytes());
        Ok(out)
    }
}

/// The envelope in the wire format, gzipped.
#[cfg(test)]
fn gzip(envelope: &Envelope) -> io::Result<Vec<u8>> {
    Gzipper::new().gzip(envelope)
}

/// Between half and all of `delay`, at random.
fn jitter(delay: Duration) -> Duration {
    let half = delay / 2;
    let spread = u64::try_from(half.as_micros()).unwrap_or(u64::MAX);
    half.saturating_add(Duration::from_micros(fastrand::u64(0..=spread)))
}

/// A short name for an envelope in diagnostics (never its content).
fn describe(envelope: &Envelope) -> String {
    let types: Vec<&str> = envelope.items().iter().map(EnvelopeItem::ty).collect();
    match envelope.headers().event_id {
        Some(id) => format!("{id} [{}]", types.join(",")),
        None => format!("[{}]", types.join(",")),
    }
}

/// Drops the items of `envelope` whose category is rate limited at `now`,
/// counting each as `ratelimit_backoff`. Returns whether nothing is left.
fn drop_rate_limited(
    limits: &RateLimits,
    recorder: &LossRecorder,
    envelope: &mut Envelope,
    now: Instant,
) -> bool {
    envelope.retain_items(|item| {
        let limited = limits.is_limited(item.category(), now);
        if limited {
            record_item(recorder, item, DiscardReason::RatelimitBackoff);
        }
        !limited
    });
    envelope.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let o = HttpTransportOptions::new();
        assert_eq!(o.backoff_before_retry(1), Duration::from_millis(100));
        assert_eq!(o.backoff_before_retry(2), Duration::from_millis(200));
        assert_eq!(o.backoff_before_retry(5), Duration::from_millis(1600));
        assert_eq!(o.backoff_before_retry(6), Duration::from_secs(2));
        assert_eq!(o.backoff_before_retry(40), Duration::from_secs(2));
        assert_eq!(o.backoff_before_retry(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn jitter_stays_within_half_and_whole() {
        for _ in 0..100 {
            let d = jitter(Duration::from_millis(100));
            assert!(d >= Duration::from_millis(50) && d <= Duration::from_millis(100));
        }
        assert_eq!(jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read;
        let envelope = Envelope::from_event(vigil_core::protocol::Event::default());
        let body = gzip(&envelope).unwrap();
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_end(&mut plain)
            .unwrap();
        assert_eq!(plain, envelope.to_vec().unwrap());
    }
}
