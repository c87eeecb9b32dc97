//! The transport contract.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use vigil_protocol::{ClientSdkInfo, DataCategory, DiscardReason, DiscardedEvent, Dsn, Envelope};

use crate::options::ClientOptions;
use crate::reports::LossRecorder;

/// Sends envelopes somewhere: an HTTP endpoint, a file, a test buffer.
///
/// # Contract
/// - [`send_envelope`](Transport::send_envelope) is called from any thread,
///   concurrently, on the caller's hot path. It must not block on I/O: queue
///   the envelope and return. If it cannot take the envelope (full queue,
///   shut down, rate limited) it drops it and records why through the
///   [`LossRecorder`] it was given, one entry per item.
/// - [`flush`](Transport::flush) waits until everything queued before the
///   call has been handled, or until `timeout` has passed, and returns
///   whether the queue drained. It must never block past `timeout`.
/// - [`shutdown`](Transport::shutdown) flushes within `timeout`, then stops
///   accepting envelopes. Envelopes sent afterwards are dropped and counted.
/// - Retrying is the transport's business; the client never resends.
pub trait Transport: Send + Sync + 'static {
    /// Queues an envelope for sending.
    fn send_envelope(&self, envelope: Envelope);

    /// Waits at most `timeout` for queued envelopes to be handled. The
    /// default has nothing queued and returns `true` at once.
    fn flush(&self, timeout: Duration) -> bool {
        let _ = timeout;
        true
    }

    /// Flushes within `timeout` and stops. The default flushes.
    fn shutdown(&self, timeout: Duration) -> bool {
        self.flush(timeout)
    }

    /// What the transport delivered and which rate limits are in force, if
    /// it keeps track. The default keeps none.
    fn delivery_stats(&self) -> Option<DeliveryStats> {
        None
    }
}

/// A snapshot of what a client's transport has delivered and dropped since it was created, and which rate limits are
/// in force.
///
/// Get one from [`Client::delivery_stats`](crate::Client::delivery_stats)
/// (or the HTTP transport's own `stats()`).
///
/// ```no_run
/// # fn demo(client: &vigil_core::Client) {
/// use vigil_core::protocol::DiscardReason;
/// let stats = client.delivery_stats();
/// println!(
///     "{} events sent, {} lost to rate limits",
///     stats.events_sent,
///     stats.total_dropped(DiscardReason::RatelimitBackoff)
/// );
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryStats {
    /// Envelopes the server accepted (`2xx`), standalone client reports
    /// included.
    pub envelopes_sent: u64,
    /// Event items in the accepted envelopes.
    pub events_sent: u64,
    /// Client reports the server accepted, piggy-backed or standalone.
    pub client_reports_sent: u64,
    /// Everything the client dropped since it was created, by reason and
    /// category (the totals of its [`LossRecorder`](crate::LossRecorder),
    /// so drops before the transport, such as sampling, are included).
    pub dropped: Vec<DiscardedEvent>,
    /// Until when every category is rate limited, if it is.
    pub rate_limited_all_until: Option<SystemTime>,
    /// The categories rate limited on their own, with the end of each limit.
    pub rate_limited: Vec<(DataCategory, SystemTime)>,
}

impl DeliveryStats {
    /// Items dropped for `reason`, all categories together (attachments
    /// count bytes).
    pub fn total_dropped(&self, reason: DiscardReason) -> u64 {
        self.dropped
            .iter()
            .filter(|d| d.reason == reason)
            .map(|d| d.quantity)
            .sum()
    }

    /// Items of `category` dropped for `reason`.
    pub fn dropped_count(&self, reason: DiscardReason, category: DataCategory) -> u64 {
        self.dropped
            .iter()
            .filter(|d| d.reason == reason && d.category == category)
            .map(|d| d.quantity)
            .sum()
    }

    /// Whether items of `category` would be dropped by a rate limit now.
    pub fn is_rate_limited(&self, category: DataCategory) -> bool {
        let now = SystemTime::now();
        self.rate_limited_all_until.is_some_and(|t| t > now)
            || self
                .rate_limited
                .iter()
                .any(|(c, t)| *c == category && *t > now)
    }
}

/// One line for people: what was sent, what was dropped and why, which
/// rate limits hold (with the time left). `debug: true` prints it when the
/// client closes.
///
/// ```
/// use vigil_core::DeliveryStats;
/// use vigil_core::protocol::{DataCategory, DiscardReason, DiscardedEvent};
///
/// let mut stats = DeliveryStats::default();
/// stats.envelopes_sent = 3;
/// stats.events_sent = 2;
/// stats.dropped.push(DiscardedEvent::new(
///     DiscardReason::SampleRate,
///     DataCategory::Transaction,
///     4,
/// ));
/// assert_eq!(
///     stats.to_string(),
///     "3 envelopes sent (2 events, 0 client reports); dropped: 4 transaction (sample_rate)"
/// );
/// assert_eq!(
///     DeliveryStats::default().to_string(),
///     "0 envelopes sent (0 events, 0 client reports); nothing dropped"
/// );
/// ```
impl fmt::Display for DeliveryStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} envelopes sent ({} events, {} client reports); ",
            self.envelopes_sent, self.events_sent, self.client_reports_sent
        )?;
        if self.dropped.is_empty() {
            f.write_str("nothing dropped")?;
        } else {
            f.write_str("dropped: ")?;
            for (i, d) in self.dropped.iter().enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                write!(f, "{separator}{} {} ({})", d.quantity, d.category, d.reason)?;
            }
        }
        let now = SystemTime::now();
        let left = |until: &SystemTime| until.duration_since(now).ok().map(|d| d.as_secs().max(1));
        let mut limits = self
            .rate_limited_all_until
            .iter()
            .filter_map(|until| left(until).map(|s| format!("everything for {s} s")))
            .chain(self.rate_limited.iter().filter_map(|(category, until)| {
                left(until).map(|s| format!("{category} for {s} s"))
            }))
            .peekable();
        if limits.peek().is_some() {
            f.write_str("; rate limited: ")?;
            for (i, limit) in limits.enumerate() {
                let separator = if i == 0 { "" } else { ", " };
                write!(f, "{separator}{limit}")?;
            }
        }
        Ok(())
    }
}

/// What a [`TransportFactory`] gets to build a transport for a client.
#[non_exhaustive]
pub struct TransportContext<'a> {
    /// The client's options.
    pub options: &'a ClientOptions,
    /// The DSN envelopes are sent to.
    pub dsn: &'a Dsn,
    /// Where the transport records what it drops.
    pub recorder: LossRecorder,
    /// The SDK identity (for the `User-Agent` and `X-Sentry-Auth` headers).
    pub sdk: &'a ClientSdkInfo,
}

impl fmt::Debug for TransportContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportContext")
            .field("dsn", &self.dsn)
            .field("sdk", &self.sdk.name)
            .finish_non_exhaustive()
    }
}

/// Builds the transport of a client when the client is created.
///
/// Implemented for closures `Fn(&TransportContext) -> Arc<dyn Transport>`
/// and for `Arc<T>` of any [`Transport`] (the transport itself).
pub trait TransportFactory: Send + Sync + 'static {
    /// Creates the transport.
    fn create_transport(&self, ctx: &TransportContext<'_>) -> Arc<dyn Transport>;

    /// Creates the transport that posts a copy of every envelope to
    /// Spotlight at `url` (the client's
    /// [`spotlight`](ClientOptions::spotlight) option), if this factory
    /// can. The default cannot (`None`); the HTTP transport's factory can,
    /// and `vigil::init` lends it to any other.
    fn create_spotlight_transport(&self, url: &str) -> Option<Arc<dyn Transport>> {
        let _ = url;
        None
    }
}

/// A transport shared as an `Arc` is its own factory: every client built
/// with it sends through this one instance (as test transports are used).
impl<T: Transport> TransportFactory for Arc<T> {
    fn create_transport(&self, _: &TransportContext<'_>) -> Arc<dyn Transport> {
        self.clone()
    }
}

impl<F> TransportFactory for F
where
    F: Fn(&TransportContext<'_>) -> Arc<dyn Transport> + Send + Sync + 'static,
{
    fn create_transport(&self, ctx: &TransportContext<'_>) -> Arc<dyn Transport> {
        self(ctx)
    }
}
