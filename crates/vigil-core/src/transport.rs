//! The transport contract.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use vigil_protocol::{ClientSdkInfo, Dsn, Envelope};

use crate::{ClientOptions, LossRecorder};

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
/// Implemented for closures `Fn(&TransportContext) -> Arc<dyn Transport>`.
pub trait TransportFactory: Send + Sync + 'static {
    /// Creates the transport.
    fn create_transport(&self, ctx: &TransportContext<'_>) -> Arc<dyn Transport>;
}

impl<F> TransportFactory for F
where
    F: Fn(&TransportContext<'_>) -> Arc<dyn Transport> + Send + Sync + 'static,
{
    fn create_transport(&self, ctx: &TransportContext<'_>) -> Arc<dyn Transport> {
        self(ctx)
    }
}
