//! Records sent in batches, one container item per envelope (structured
//! logs, trace metrics): a batch is sent when it holds 100 records, 5 s
//! after its first record, and on `flush` / `close`.
//!
//! Capture never blocks on I/O: a full batch is handed to the transport's
//! queue by the capturing thread (a few microseconds), the timed one by the
//! batcher's own thread (`vigil-logs`, `vigil-metrics`), started with the
//! first record. The batch is bounded by its size (100), so the buffer
//! never holds more; what the transport cannot take is counted there (in
//! the records' categories: `log_item` and `log_byte`, `trace_metric` and
//! `trace_metric_byte`).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use vigil_protocol::{ClientSdkInfo, Envelope, ItemContainer, Log, Metric};

use crate::panic_guard::call_guarded;
use crate::transport::Transport;

/// At most this many records go in one envelope (Sentry's rule for logs
/// and trace metrics).
pub(crate) const MAX_BATCH: usize = 100;
/// A batch is sent at the latest this long after its first record.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// A record sent in batches: one container item per envelope.
pub(crate) trait Batched: Send + Sized + 'static {
    /// The name of the thread that sends batches on time.
    const THREAD_NAME: &'static str;

    /// The envelope item carrying `batch`.
    fn into_item(batch: Vec<Self>) -> ItemContainer;
}

impl Batched for Log {
    const THREAD_NAME: &'static str = "vigil-logs";

    fn into_item(batch: Vec<Log>) -> ItemContainer {
        ItemContainer::Logs(batch)
    }
}

impl Batched for Metric {
    const THREAD_NAME: &'static str = "vigil-metrics";

    fn into_item(batch: Vec<Metric>) -> ItemContainer {
        ItemContainer::Metrics(batch)
    }
}

/// The records waiting to be sent, and the thread that sends them on time.
pub(crate) struct Batcher<T: Batched> {
    shared: Arc<Shared<T>>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
    transport: Arc<dyn Transport>,
    dsn_header: Option<String>,
    sdk_header: ClientSdkInfo,
}

struct State<T> {
    records: Vec<T>,
    /// When the oldest of `records` arrived.
    since: Option<Instant>,
    closed: bool,
    thread_started: bool,
}

fn lock<T>(shared: &Shared<T>) -> MutexGuard<'_, State<T>> {
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Batched> Batcher<T> {
    /// A batcher sending through `transport`, with the client's envelope
    /// headers.
    pub(crate) fn new(
        transport: Arc<dyn Transport>,
        dsn_header: Option<String>,
        sdk_header: ClientSdkInfo,
    ) -> Batcher<T> {
        Batcher {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    records: Vec::new(),
                    since: None,
                    closed: false,
                    thread_started: false,
                }),
                wake: Condvar::new(),
                transport,
                dsn_header,
                sdk_header,
            }),
        }
    }

    /// A batcher when there is a transport to send through.
    pub(crate) fn for_transport(
        transport: Option<&Arc<dyn Transport>>,
        dsn_header: &Option<String>,
        sdk_header: &ClientSdkInfo,
    ) -> Option<Batcher<T>> {
        transport.map(|t| Batcher::new(t.clone(), dsn_header.clone(), sdk_header.clone()))
    }

    /// Adds a record; sends the batch when it is full. Gives the record
    /// back once the batcher is closed.
    pub(crate) fn push(&self, record: T) -> Result<(), T> {
        let full = {
            let mut state = lock(&self.shared);
            if state.closed {
                return Err(record);
            }
            if state.records.is_empty() {
                state.since = Some(Instant::now());
            }
            state.records.push(record);
            if !state.thread_started {
                state.thread_started = true;
                self.start_thread();
            }
            if state.records.len() >= MAX_BATCH {
                state.since = None;
                Some(std::mem::take(&mut state.records))
            } else {
                if state.records.len() == 1 {
                    self.shared.wake.notify_one();
                }
                None
            }
        };
        if let Some(batch) = full {
            self.shared.send(batch);
        }
        Ok(())
    }

    /// Sends what is waiting now.
    pub(crate) fn flush(&self) {
        let batch = {
            let mut state = lock(&self.shared);
            state.since = None;
            std::mem::take(&mut state.records)
        };
        self.shared.send(batch);
    }

    /// Sends what is waiting and stops: later records are not kept.
    pub(crate) fn close(&self) {
        let batch = {
            let mut state = lock(&self.shared);
            state.closed = true;
            state.since = None;
            std::mem::take(&mut state.records)
        };
        self.shared.wake.notify_all();
        self.shared.send(batch);
    }

    fn start_thread(&self) {
        let shared = Arc::downgrade(&self.shared);
        let started = std::thread::Builder::new()
            .name(T::THREAD_NAME.into())
            .spawn(move || run_timer(&shared));
        if let Err(e) = started {
            // Batches are still sent when full and on flush/close.
            crate::vigil_debug!(
                "no thread {} for timed batches ({e}); sending them when full",
                T::THREAD_NAME
            );
        }
    }
}

impl<T: Batched> Drop for Batcher<T> {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.wake.notify_all();
    }
}

/// The timer: sends a batch `FLUSH_INTERVAL` after its first record.
/// Ends when the batcher is closed or dropped.
fn run_timer<T: Batched>(shared: &std::sync::Weak<Shared<T>>) {
    loop {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let batch = {
            let mut state = lock(&shared);
            loop {
                if state.closed {
                    return;
                }
                match state.since {
                    None => {
                        // Idle until a record arrives; woken by `push` and
                        // checked now and then in case the batcher is gone.
                        state = shared
                            .wake
                            .wait_timeout(state, FLUSH_INTERVAL)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                        if state.since.is_none() {
                            break None;
                        }
                    }
                    Some(since) => {
                        let due = since + FLUSH_INTERVAL;
                        let now = Instant::now();
                        if now >= due {
                            state.since = None;
                            break Some(std::mem::take(&mut state.records));
                        }
                        state = shared
                            .wake
                            .wait_timeout(state, due - now)
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                    }
                }
            }
        };
        if let Some(batch) = batch {
            shared.send(batch);
        }
        // Drop the strong reference while idle, so that the batcher can go.
    }
}

impl<T: Batched> Shared<T> {
    /// Hands `batch` to the transport as one envelope with one container
    /// item.
    fn send(&self, batch: Vec<T>) {
        if batch.is_empty() {
            return;
        }
        let mut envelope = Envelope::new();
        let headers = envelope.headers_mut();
        headers.dsn.clone_from(&self.dsn_header);
        headers.sdk = Some(self.sdk_header.clone());
        envelope.add_item(T::into_item(batch));
        crate::vigil_debug!("batch of {} queued", T::THREAD_NAME);
        let transport = &self.transport;
        call_guarded("transport", None, || transport.send_envelope(envelope));
    }
}
