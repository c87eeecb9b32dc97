//! The HTTP transport: the handle a client holds, which queues envelopes
//! for a worker thread that posts them gzipped with `ureq`, honouring rate
//! limits, retrying network failures and sending client reports.
//!
//! - [`options`], the settings ([`HttpTransportOptions`]);
//! - [`agent`], the `ureq` agent, its DNS cache, and how `ureq` errors are
//!   sorted;
//! - [`gzip`], the request body's framing;
//! - [`backoff`], jittered pauses;
//! - [`post`], one envelope posted: request, retries, the answer read;
//! - [`sender`], one delivery (posted, then accounted for; client
//!   reports), the worker's handler without a disk queue;
//! - [`disk_backlog`], the worker's handler with a disk queue, wrapping the
//!   sender;
//! - here, [`HttpTransport`] and the capturing thread's side of the disk
//!   queue.

mod agent;
mod backoff;
pub(crate) mod disk_backlog;
mod gzip;
pub(crate) mod options;
mod post;
pub(crate) mod sender;
pub(crate) mod tls;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_core::protocol::{DiscardReason, Envelope};
use vigil_core::{DeliveryStats, LossRecorder, Transport, TransportContext, TransportFactory};

use crate::http::disk_backlog::{DiskBacklog, DiskJob};
use crate::http::options::HttpTransportOptions;
use crate::http::sender::HttpSender;
use crate::loss::record_items;
use crate::spool::Spool;
use crate::spool::options::Durability;
use crate::stats::DeliveryState;
use crate::worker::Worker;

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
///     .try_dsn("https://public@example.invalid/1")?
///     .transport(vigil_transport::http());
/// # let _ = options;
/// # Ok::<(), vigil_core::protocol::DsnError>(())
/// ```
pub struct HttpTransport {
    queue: Queue,
    shared: Arc<DeliveryState>,
    recorder: LossRecorder,
    url: String,
}

/// Where [`HttpTransport::send_envelope`](Transport::send_envelope) puts
/// envelopes.
enum Queue {
    /// The worker's queue only; the worker runs the plain [`HttpSender`].
    Memory(Worker<Envelope>),
    /// The disk queue; the worker runs a [`DiskBacklog`].
    Disk(DiskProducer),
}

impl Queue {
    /// Waits until everything queued before was handled, at most
    /// `timeout`.
    fn flush(&self, timeout: Duration) -> bool {
        match self {
            Queue::Memory(worker) => worker.flush(timeout),
            Queue::Disk(disk) => disk.worker.flush(timeout),
        }
    }

    /// Flushes and stops the worker, waiting at most `timeout`.
    fn shutdown(&self, timeout: Duration) -> bool {
        match self {
            Queue::Memory(worker) => worker.shutdown(timeout),
            Queue::Disk(disk) => disk.worker.shutdown(timeout),
        }
    }

    /// The disk queue, when on.
    fn spool(&self) -> Option<&Spool> {
        match self {
            Queue::Memory(_) => None,
            Queue::Disk(disk) => Some(&disk.spool),
        }
    }
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("url", &self.url)
            .field("disk_queue", &self.queue.spool().map(Spool::dir))
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
        let options = options.normalized();
        let url = ctx.dsn.envelope_url();
        let shared = Arc::new(DeliveryState::default());
        let spool = options
            .disk_queue
            .clone()
            .map(|disk| Spool::new(disk, ctx.recorder.clone()));
        let sender = HttpSender::new(ctx, url.clone(), options, Arc::clone(&shared));
        vigil_core::vigil_debug!("HTTP transport sending to {url}");
        if let Some(spool) = &spool {
            vigil_core::vigil_debug!("disk queue in {}", spool.dir().display());
        }
        let queue_size = ctx.options.transport_queue_size;
        let queue = match spool {
            None => Queue::Memory(Worker::spawn(queue_size, ctx.recorder.clone(), sender)),
            Some(spool) => Queue::Disk(DiskProducer {
                worker: Worker::spawn(
                    queue_size,
                    ctx.recorder.clone(),
                    DiskBacklog::new(sender, Arc::clone(&spool)),
                ),
                spool,
                recorder: ctx.recorder.clone(),
            }),
        };
        Arc::new(HttpTransport {
            queue,
            shared,
            recorder: ctx.recorder.clone(),
            url,
        })
    }

    /// A factory for [`ClientOptions::transport`](vigil_core::ClientOptions::transport)
    /// building this transport with default options. Same as [`http`].
    pub fn factory() -> impl TransportFactory {
        HttpTransport::factory_with(HttpTransportOptions::default())
    }

    /// A factory building this transport with `options`.
    /// It also builds the [`SpotlightTransport`](crate::SpotlightTransport)
    /// when the client's `spotlight` option is on.
    pub fn factory_with(options: HttpTransportOptions) -> impl TransportFactory {
        HttpFactory { options }
    }

    /// How many envelopes the disk queue holds (waiting or being sent), as
    /// far as this transport knows (its own and those found in the
    /// directory at start-up or since); `None` without a disk queue.
    pub fn disk_queue_len(&self) -> Option<usize> {
        self.queue.spool().map(Spool::len)
    }

    /// What was delivered and dropped so far, and the rate limits in force.
    pub fn stats(&self) -> DeliveryStats {
        self.shared.snapshot(&self.recorder)
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
        if self
            .shared
            .limits()
            .drop_limited_items(&mut envelope, &self.recorder, now)
        {
            vigil_core::vigil_debug!("envelope rate limited; not queued");
            return;
        }
        match &self.queue {
            Queue::Memory(worker) => worker.send(envelope),
            Queue::Disk(disk) => disk.send(envelope),
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.queue.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.queue.shutdown(timeout)
    }

    fn delivery_stats(&self) -> Option<DeliveryStats> {
        Some(self.stats())
    }
}

/// The capturing thread's side of the disk queue: the worker it feeds and
/// the spool it writes to when the envelope must be on disk before
/// `send_envelope` returns, or when the worker's queue is full.
struct DiskProducer {
    worker: Worker<DiskJob>,
    spool: Arc<Spool>,
    recorder: LossRecorder,
}

impl DiskProducer {
    /// `send_envelope` with the disk queue on: in [`Durability::Sync`]
    /// mode an envelope with an event is stored (and `fsync`ed) here, on
    /// the caller's thread; any other envelope is queued and stored by the
    /// worker. A full queue does not drop: the envelope is stored here
    /// (if it was not already) and the backlog drain sends it.
    fn send(&self, mut envelope: Envelope) {
        if self.worker.is_closed() {
            // Dropped and counted, as without a disk queue.
            self.worker.send(DiskJob::StoreAndSend(envelope));
            return;
        }
        let sync = self.spool.options().durability == Durability::Sync
            && crate::spool::has_event(&envelope);
        let job = if sync {
            match self.spool.store(&mut envelope, true, true) {
                Ok(name) => DiskJob::SendStored { envelope, name },
                Err(e) => {
                    vigil_core::vigil_debug!("envelope not stored ({e}); queued in memory only");
                    DiskJob::StoreAndSend(envelope)
                }
            }
        } else {
            DiskJob::StoreAndSend(envelope)
        };
        let (job, reason) = match self.worker.try_queue(job) {
            Ok(()) => return,
            Err(refused) => refused,
        };
        match job {
            // On disk already: the backlog drain sends it.
            DiskJob::SendStored { name, .. } => self.spool.unqueue(&name),
            DiskJob::StoreAndSend(mut envelope) if reason == DiscardReason::QueueOverflow => {
                if let Err(e) = self.spool.store(&mut envelope, false, false) {
                    vigil_core::vigil_debug!("queue full and envelope not stored ({e})");
                    record_items(&self.recorder, &envelope, reason);
                }
            }
            DiskJob::StoreAndSend(envelope) => record_items(&self.recorder, &envelope, reason),
        }
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

/// Builds [`HttpTransport`]s with its options, and Spotlight's transport.
struct HttpFactory {
    options: HttpTransportOptions,
}

impl TransportFactory for HttpFactory {
    fn create_transport(&self, ctx: &TransportContext<'_>) -> Arc<dyn Transport> {
        HttpTransport::with_options(ctx, self.options.clone())
    }

    fn create_spotlight_transport(&self, url: &str) -> Option<Arc<dyn Transport>> {
        crate::SpotlightTransport::new(url).map(|t| t as Arc<dyn Transport>)
    }
}
