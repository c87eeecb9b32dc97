//! The transports both SDKs get in the micro-benchmarks: one serializes
//! each envelope to bytes (what a real transport does on its way to the
//! network) and drops them, the other drops the envelope untouched.
//!
//! Both run synchronously on the capturing thread, so the cost of an event
//! is all on the caller's clock, and both keep the size of the last
//! envelope (and, when asked, the bytes of the next few) so the suite can
//! check that the two SDKs did the same work.

use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// How many of the next serialized envelopes to keep in `kept`.
    to_keep: AtomicUsize,
    kept: Mutex<Vec<Vec<u8>>>,
}

impl Observed {
    /// Asks for a copy of the next serialized envelope.
    pub(crate) fn keep_next(&self) {
        self.keep(1);
    }

    /// Asks for a copy of each of the next `n` serialized envelopes.
    pub(crate) fn keep(&self, n: usize) {
        self.to_keep.store(n, Ordering::SeqCst);
    }

    /// The first envelope kept since [`Observed::keep_next`], if any.
    pub(crate) fn take_kept(&self) -> Option<Vec<u8>> {
        self.take_all_kept().into_iter().next()
    }

    /// The envelopes kept since [`Observed::keep`], in the order sent.
    pub(crate) fn take_all_kept(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.kept.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn serialized(&self, bytes: Vec<u8>) {
        self.last_len.store(bytes.len(), Ordering::Relaxed);
        let keep = self.to_keep.load(Ordering::Relaxed) > 0
            && self
                .to_keep
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if keep {
            self.kept
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(bytes);
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
