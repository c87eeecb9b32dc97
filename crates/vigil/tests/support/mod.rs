//! Shared by the facade's test binaries (included with `mod support`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil::protocol::{Envelope, Event};
use vigil::{ClientOptions, Transport, TransportContext};

#[derive(Debug, Default)]
pub(crate) struct Recording {
    pub(crate) envelopes: Mutex<Vec<Envelope>>,
    pub(crate) flush_delay: Option<Duration>,
    /// Records every envelope too, so the oracles see it.
    pub(crate) recorded: vigil::test::TestTransport,
}

impl Transport for Recording {
    fn send_envelope(&self, envelope: Envelope) {
        self.recorded.send_envelope(envelope.clone());
        self.envelopes.lock().unwrap().push(envelope);
    }

    fn flush(&self, timeout: Duration) -> bool {
        match self.flush_delay {
            Some(d) if d > timeout => {
                std::thread::sleep(timeout);
                false
            }
            Some(d) => {
                std::thread::sleep(d);
                true
            }
            None => true,
        }
    }
}

impl Recording {
    pub(crate) fn events(&self) -> Vec<Event> {
        self.envelopes
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| e.event().cloned())
            .collect()
    }
}

pub(crate) fn options_with(transport: Arc<Recording>) -> ClientOptions {
    ClientOptions::new()
        .transport(move |_: &TransportContext<'_>| transport.clone() as Arc<dyn Transport>)
}
