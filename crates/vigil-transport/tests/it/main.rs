//! Integration tests of the transports over real loopback sockets.

#[cfg(target_os = "linux")]
mod disk_faults;
mod disk_queue;
#[cfg(unix)]
mod disk_trust;
#[cfg(target_os = "linux")]
mod dns_failover;
mod extremes;
mod file;
mod fuzz;
#[cfg(target_os = "linux")]
mod hostile_dir;
mod http;
mod tls;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_core::protocol::{DataCategory, Envelope, Event};
use vigil_core::{Client, ClientOptions, Transport, TransportContext};
use vigil_transport::{HttpTransport, HttpTransportOptions};

use vigil_test::LoopbackServer;

/// Short timeouts and back-off so failure tests stay fast.
pub(crate) fn fast_options() -> HttpTransportOptions {
    HttpTransportOptions::new()
        .connect_timeout(Duration::from_millis(500))
        .timeout(Duration::from_secs(2))
        .max_attempts(3)
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .proxy_from_env(false)
}

/// A client for `dsn` whose transport is an [`HttpTransport`]; the
/// transport is returned too, to inspect it.
pub(crate) fn http_client(
    dsn: &str,
    options: ClientOptions,
    http: HttpTransportOptions,
) -> (Client, Arc<HttpTransport>) {
    let slot: Arc<Mutex<Option<Arc<HttpTransport>>>> = Arc::default();
    let built = Arc::clone(&slot);
    let options = options.try_dsn(dsn).expect("a valid DSN").transport(
        move |ctx: &TransportContext<'_>| -> Arc<dyn Transport> {
            let transport = HttpTransport::with_options(ctx, http.clone());
            *built.lock().unwrap() = Some(Arc::clone(&transport));
            transport
        },
    );
    let client = Client::new(options);
    let transport = slot.lock().unwrap().take().expect("the factory ran");
    (client, transport)
}

/// Whether every one of `ids` is in a request the server accepted.
pub(crate) fn has_all(
    requests: &[vigil_test::Request],
    ids: &[vigil_core::protocol::EventId],
) -> bool {
    let accepted: std::collections::HashSet<_> = requests
        .iter()
        .filter(|r| r.is_accepted())
        .flat_map(vigil_test::Request::event_ids)
        .collect();
    ids.iter().all(|id| accepted.contains(id))
}

/// An envelope with one event carrying `message`.
pub(crate) fn event_envelope(message: &str) -> Envelope {
    Envelope::from_event(Event {
        message: Some(message.into()),
        ..Default::default()
    })
}

/// The accounting invariant: every captured event was either accounted
/// for by the server (accepted, or rejected with 429 which the server
/// counts itself) or counted as dropped by the SDK.
#[track_caller]
pub(crate) fn assert_accounted(server: &LoopbackServer, transport: &HttpTransport, captured: u64) {
    let stats = transport.stats();
    let requests = server.requests();
    let by_server: u64 = requests
        .iter()
        .filter(|r| r.accounted_by_server())
        .map(|r| r.events())
        .sum();
    let counted: u64 = stats
        .dropped
        .iter()
        .filter(|d| d.category == DataCategory::Error)
        .map(|d| d.quantity)
        .sum();
    assert_eq!(
        by_server + counted,
        captured,
        "server accounted for {by_server}, SDK counted {counted}: {stats:?}"
    );
    let accepted: u64 = requests
        .iter()
        .filter(|r| (200..300).contains(&r.status))
        .map(|r| r.events())
        .sum();
    assert_eq!(stats.events_sent, accepted, "{stats:?}");
}
