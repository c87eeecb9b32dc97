//! Structured logs of a client: defaults filled in, `before_send_log`, and
//! a batch sent as one `log` item when it holds 100 logs, 5 s after its
//! first log, and on `flush` / `close`.
//!
//! Capture never blocks on I/O: a full batch is handed to the transport's
//! queue by the capturing thread (a few microseconds), the timed one by the
//! client's `vigil-logs` thread, started with the first log. The batch is
//! bounded by its size (100), so the buffer never holds more; what the
//! transport cannot take is counted there (`log_item` and `log_byte`).

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use vigil_protocol::{
    ClientSdkInfo, DataCategory, DiscardReason, Envelope, ItemContainer, Log, LogAttribute,
    PARENT_SPAN_ID, TraceId,
};

use crate::client::Client;
use crate::panic_guard::call_guarded;
use crate::scope::Scope;
use crate::transaction::TransactionOrSpan;
use crate::transport::Transport;

/// At most this many logs go in one envelope (Sentry's rule).
pub(crate) const MAX_BATCH: usize = 100;
/// A batch is sent at the latest this long after its first log.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// The logs waiting to be sent, and the thread that sends them on time.
pub(crate) struct LogBatcher {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    wake: Condvar,
    transport: Arc<dyn Transport>,
    dsn_header: Option<String>,
    sdk_header: ClientSdkInfo,
}

#[derive(Default)]
struct State {
    logs: Vec<Log>,
    /// When the oldest log of `logs` arrived.
    since: Option<Instant>,
    closed: bool,
    thread_started: bool,
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl LogBatcher {
    /// A batcher sending through `transport`, with the client's envelope
    /// headers.
    pub(crate) fn new(
        transport: Arc<dyn Transport>,
        dsn_header: Option<String>,
        sdk_header: ClientSdkInfo,
    ) -> LogBatcher {
        LogBatcher {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                wake: Condvar::new(),
                transport,
                dsn_header,
                sdk_header,
            }),
        }
    }

    /// Adds a log; sends the batch when it is full. Gives the log back once
    /// the batcher is closed.
    pub(crate) fn push(&self, log: Log) -> Result<(), Log> {
        let full = {
            let mut state = lock(&self.shared);
            if state.closed {
                return Err(log);
            }
            if state.logs.is_empty() {
                state.since = Some(Instant::now());
            }
            state.logs.push(log);
            if !state.thread_started {
                state.thread_started = true;
                self.start_thread();
            }
            if state.logs.len() >= MAX_BATCH {
                state.since = None;
                Some(std::mem::take(&mut state.logs))
            } else {
                if state.logs.len() == 1 {
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
            std::mem::take(&mut state.logs)
        };
        self.shared.send(batch);
    }

    /// Sends what is waiting and stops: later logs are not kept.
    pub(crate) fn close(&self) {
        let batch = {
            let mut state = lock(&self.shared);
            state.closed = true;
            state.since = None;
            std::mem::take(&mut state.logs)
        };
        self.shared.wake.notify_all();
        self.shared.send(batch);
    }

    fn start_thread(&self) {
        let shared = Arc::downgrade(&self.shared);
        let started = std::thread::Builder::new()
            .name("vigil-logs".into())
            .spawn(move || run_timer(&shared));
        if let Err(e) = started {
            // Batches are still sent when full and on flush/close.
            crate::vigil_debug!("no thread for timed log batches ({e}); sending them when full");
        }
    }
}

impl Drop for LogBatcher {
    fn drop(&mut self) {
        lock(&self.shared).closed = true;
        self.shared.wake.notify_all();
    }
}

/// The timer: sends a batch `FLUSH_INTERVAL` after its first log. Ends
/// when the batcher is closed or dropped.
fn run_timer(shared: &std::sync::Weak<Shared>) {
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
                        // Idle until a log arrives; woken by `push` and
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
                            break Some(std::mem::take(&mut state.logs));
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

impl Shared {
    /// Hands `batch` to the transport as one envelope with one `log` item.
    fn send(&self, batch: Vec<Log>) {
        if batch.is_empty() {
            return;
        }
        let mut envelope = Envelope::new();
        let headers = envelope.headers_mut();
        headers.dsn.clone_from(&self.dsn_header);
        headers.sdk = Some(self.sdk_header.clone());
        envelope.add_item(ItemContainer::Logs(batch));
        crate::vigil_debug!("log batch queued");
        let transport = &self.transport;
        call_guarded("transport", None, || transport.send_envelope(envelope));
    }
}

impl Client {
    /// Captures a structured log: fills the trace (`span`'s, else the
    /// scope's), the span, and the default attributes, runs
    /// `before_send_log`, and adds it to the batch. Logs are sent in
    /// batches (see the module docs); a dropped one is counted as
    /// `log_item` and `log_byte`.
    pub fn capture_log(
        &self,
        mut log: Log,
        scope: Option<&Scope>,
        span: Option<&TransactionOrSpan>,
    ) {
        let Some(batcher) = self.logs.as_ref().filter(|_| self.is_enabled()) else {
            return;
        };
        self.fill_log(&mut log, scope, span);
        if let Some(before_send_log) = &self.options.before_send_log {
            let size = log.approximate_size();
            match call_guarded("before_send_log", None, || before_send_log(log)) {
                Some(Some(kept)) => log = kept,
                _ => {
                    self.record_log_loss(DiscardReason::BeforeSend, size);
                    return;
                }
            }
        }
        if let Err(log) = batcher.push(log) {
            // Closed meanwhile: the transport would drop it the same way.
            self.record_log_loss(DiscardReason::QueueOverflow, log.approximate_size());
        }
    }

    fn record_log_loss(&self, reason: DiscardReason, size: u64) {
        self.recorder.record(reason, DataCategory::LogItem, 1);
        self.recorder.record(reason, DataCategory::LogByte, size);
    }

    /// The trace, the span and the default attributes a log has not set.
    fn fill_log(&self, log: &mut Log, scope: Option<&Scope>, span: Option<&TransactionOrSpan>) {
        if log.trace_id.is_none() {
            log.trace_id = Some(match (span, scope) {
                (Some(span), _) => span.trace_id(),
                (None, Some(scope)) => scope.propagation_context().trace_id(),
                (None, None) => TraceId::new(),
            });
        }
        let attributes = &mut log.attributes;
        let mut set = |key: &str, value: LogAttribute| {
            if !attributes.contains_key(key) {
                attributes.insert(key.to_owned(), value);
            }
        };
        if let Some(span) = span {
            set(
                PARENT_SPAN_ID,
                LogAttribute::from(span.span_id().to_string()),
            );
        }
        let o = &self.options;
        set(
            "sentry.sdk.name",
            LogAttribute::from(self.sdk.name.as_ref()),
        );
        set(
            "sentry.sdk.version",
            LogAttribute::from(self.sdk.version.as_ref()),
        );
        set(
            "sentry.environment",
            LogAttribute::from(o.environment.as_deref().unwrap_or("production")),
        );
        if let Some(release) = &o.release {
            set("sentry.release", LogAttribute::from(release.as_ref()));
        }
        if let Some(server_name) = &o.server_name {
            set("server.address", LogAttribute::from(server_name.as_ref()));
        }
        if o.send_default_pii
            && let Some(user) = scope.and_then(Scope::user)
        {
            if let Some(id) = &user.id {
                set("user.id", LogAttribute::from(id.as_str()));
            }
            if let Some(name) = &user.username {
                set("user.name", LogAttribute::from(name.as_str()));
            }
            if let Some(email) = &user.email {
                set("user.email", LogAttribute::from(email.as_str()));
            }
        }
    }
}
