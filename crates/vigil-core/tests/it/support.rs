use std::sync::Arc;

use vigil_core::protocol::Event;
use vigil_core::test::{TEST_DSN, TestTransport};
use vigil_core::{Client, ClientOptions, Hub, Scope, Transport, TransportContext};

pub(crate) struct Harness {
    pub(crate) hub: Arc<Hub>,
    pub(crate) client: Arc<Client>,
    pub(crate) transport: Arc<TestTransport>,
}

impl Harness {
    pub(crate) fn events(&self) -> Vec<Event> {
        self.transport.fetch_and_clear_events()
    }

    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        Hub::run(self.hub.clone(), f)
    }
}

pub(crate) fn harness(options: ClientOptions) -> Harness {
    let transport = TestTransport::new();
    let t = transport.clone();
    let mut options = options;
    options.dsn = Some(TEST_DSN.parse().unwrap());
    options.transport = Some(Arc::new(move |_: &TransportContext<'_>| {
        t.clone() as Arc<dyn Transport>
    }));
    let client = Arc::new(Client::new(options));
    let hub = Arc::new(Hub::new(Some(client.clone()), Arc::new(Scope::new())));
    Harness {
        hub,
        client,
        transport,
    }
}

pub(crate) fn default_harness() -> Harness {
    harness(ClientOptions::default())
}

/// The `trace` header (the DSC) of an envelope, as JSON.
pub(crate) fn trace_header(envelope: &vigil_core::protocol::Envelope) -> serde_json::Value {
    serde_json::to_value(envelope.headers().trace.as_deref().expect("a trace header"))
        .expect("a DSC serializes")
}
