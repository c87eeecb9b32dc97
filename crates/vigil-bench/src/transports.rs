//! The transports both SDKs get in the micro-benchmarks: one serializes
//! each envelope to bytes (what a real transport does on its way to the
//! network) and drops them, the other drops the envelope untouched.
//!
//! Both run synchronously on the capturing thread, so the cost of an event
//! is all on the caller's clock, and both keep the size of the last
//! envelope (and, when asked, its bytes) so the suite can check that the
//! two SDKs did the same work.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// What a transport does with an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Serialize to a fresh `Vec<u8>`, then drop it.
    Serialize,
    /// Drop the envelope without serializing it.
    Drop,
}

/// Shared observations of one SDK's transport.
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// Envelopes received.
    pub(crate) envelopes: AtomicUsize,
    /// Size of the last serialized envelope.
    pub(crate) last_len: AtomicUsize,
    /// When set, the next serialized envelope is kept in `kept`.
    keep_next: AtomicBool,
    kept: Mutex<Option<Vec<u8>>>,
}

impl Observed {
    /// Asks for a copy of the next serialized envelope.
    pub(crate) fn keep_next(&self) {
        self.keep_next.store(true, Ordering::SeqCst);
    }

    /// The kept envelope, if one arrived since [`Observed::keep_next`].
    pub(crate) fn take_kept(&self) -> Option<Vec<u8>> {
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn serialized(&self, bytes: Vec<u8>) {
        self.last_len.store(bytes.len(), Ordering::Relaxed);
        if self.keep_next.load(Ordering::Relaxed) && self.keep_next.swap(false, Ordering::SeqCst) {
            *self.kept.lock().unwrap_or_else(PoisonError::into_inner) = Some(bytes);
        } else {
            black_box(bytes);
        }
    }
}

/// The bench transport for Vigil.
#[derive(Debug)]
pub(crate) struct VigilTransport {
    mode: Mode,
    observed: Arc<Observed>,
}

impl VigilTransport {
    pub(crate) fn new(mode: Mode, observed: Arc<Observed>) -> VigilTransport {
        VigilTransport { mode, observed }
    }
}

impl vigil::Transport for VigilTransport {
    fn send_envelope(&self, envelope: vigil::protocol::Envelope) {
        self.observed.envelopes.fetch_add(1, Ordering::Relaxed);
        match self.mode {
            Mode::Serialize => {
                // Each SDK's own way to get the bytes (`sentry` has only
                // `to_writer`).
                let bytes = envelope.to_vec().expect("writing to a Vec cannot fail");
                self.observed.serialized(bytes);
            }
            Mode::Drop => drop(black_box(envelope)),
        }
    }
}

/// The bench transport for `sentry`.
#[derive(Debug)]
pub(crate) struct SentryTransport {
    mode: Mode,
    observed: Arc<Observed>,
}

impl SentryTransport {
    pub(crate) fn new(mode: Mode, observed: Arc<Observed>) -> SentryTransport {
        SentryTransport { mode, observed }
    }
}

impl sentry::Transport for SentryTransport {
    fn send_envelope(&self, envelope: sentry::Envelope) {
        self.observed.envelopes.fetch_add(1, Ordering::Relaxed);
        match self.mode {
            Mode::Serialize => {
                let mut bytes = Vec::new();
                envelope
                    .to_writer(&mut bytes)
                    .expect("writing to a Vec cannot fail");
                self.observed.serialized(bytes);
            }
            Mode::Drop => drop(black_box(envelope)),
        }
    }
}
