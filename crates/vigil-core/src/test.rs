//! Test support: run code under a fresh hub bound to a recording
//! transport and look at what it captured.
//!
//! When the environment variable `VIGIL_ENVELOPE_DUMP_DIR` is set, every
//! envelope recorded here is also written there as a file, so that
//! external validators can check them.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use vigil_protocol::{Envelope, EnvelopeItem, Event};

use crate::client::Client;
use crate::hub::Hub;
use crate::options::ClientOptions;
use crate::scope::Scope;
use crate::transport::{Transport, TransportContext};

/// The DSN test clients use; nothing is ever sent to it.
pub const TEST_DSN: &str = "https://public@sentry.invalid/1";

/// A transport that keeps every envelope in memory.
#[derive(Default)]
pub struct TestTransport {
    envelopes: Mutex<Vec<Envelope>>,
}

impl fmt::Debug for TestTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestTransport")
            .field(
                "envelopes",
                &self.envelopes.lock().map(|e| e.len()).unwrap_or(0),
            )
            .finish()
    }
}

impl TestTransport {
    /// A new, empty transport.
    pub fn new() -> Arc<TestTransport> {
        Arc::new(TestTransport::default())
    }

    /// Takes the envelopes recorded so far.
    pub fn fetch_and_clear_envelopes(&self) -> Vec<Envelope> {
        std::mem::take(
            &mut *self
                .envelopes
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Takes the events recorded so far.
    pub fn fetch_and_clear_events(&self) -> Vec<Event> {
        events_of(self.fetch_and_clear_envelopes())
    }
}

impl Transport for TestTransport {
    fn send_envelope(&self, envelope: Envelope) {
        dump(&envelope);
        self.envelopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(envelope);
    }
}

static DUMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// Writes an envelope into `$VIGIL_ENVELOPE_DUMP_DIR`, if set, with a
/// `sent_at` header as a transport would.
fn dump(envelope: &Envelope) {
    let Some(dir) = std::env::var_os("VIGIL_ENVELOPE_DUMP_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let _ = std::fs::create_dir_all(&dir);
    let mut envelope = envelope.clone();
    envelope.headers_mut().sent_at = Some(std::time::SystemTime::now());
    let name = format!(
        "{}-{}-{}.envelope",
        std::process::id(),
        DUMP_SEQ.fetch_add(1, Ordering::Relaxed),
        envelope
            .headers()
            .event_id
            .map(|id| id.to_string())
            .unwrap_or_default()
    );
    if let Ok(bytes) = envelope.to_vec() {
        let _ = std::fs::write(dir.join(name), bytes);
    }
}

fn events_of(envelopes: Vec<Envelope>) -> Vec<Event> {
    envelopes
        .into_iter()
        .flat_map(|e| e.into_items())
        .filter_map(|item| match item {
            EnvelopeItem::Event(event) => Some(*event),
            _ => None,
        })
        .collect()
}

/// Runs `f` under a fresh hub with a default test client and returns the
/// events it captured.
///
/// ```
/// let events = vigil_core::test::with_captured_events(|| {
///     vigil_core::capture_message("hello", vigil_core::protocol::Level::Info);
/// });
/// assert_eq!(events.len(), 1);
/// ```
pub fn with_captured_events<F: FnOnce()>(f: F) -> Vec<Event> {
    with_captured_events_options(f, ClientOptions::default())
}

/// [`with_captured_events`] with custom options (the transport is
/// replaced; without a DSN, [`TEST_DSN`] is used).
pub fn with_captured_events_options<F: FnOnce()>(f: F, options: ClientOptions) -> Vec<Event> {
    events_of(with_captured_envelopes_options(f, options))
}

/// Runs `f` under a fresh hub with a default test client and returns the
/// envelopes it sent.
pub fn with_captured_envelopes<F: FnOnce()>(f: F) -> Vec<Envelope> {
    with_captured_envelopes_options(f, ClientOptions::default())
}

/// [`with_captured_envelopes`] with custom options (the transport is
/// replaced; without a DSN, [`TEST_DSN`] is used).
pub fn with_captured_envelopes_options<F: FnOnce()>(f: F, options: ClientOptions) -> Vec<Envelope> {
    let transport = TestTransport::new();
    let for_factory = transport.clone();
    let mut options = options;
    if options.dsn.is_none() {
        options.dsn = Some(TEST_DSN.parse().expect("the test DSN is valid"));
    }
    options.transport = Some(Arc::new(move |_: &TransportContext<'_>| {
        for_factory.clone() as Arc<dyn Transport>
    }));
    let client = Arc::new(Client::new(options));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::new())));
    Hub::run(hub, f);
    client.close(None);
    transport.fetch_and_clear_envelopes()
}
