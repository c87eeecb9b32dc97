//! The HTTP transport with its disk queue on, against the loopback server.

use std::collections::HashSet;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use vigil_core::ClientOptions;
use vigil_core::Transport;
use vigil_core::protocol::{DataCategory, DiscardReason, EventId};
use vigil_test::{LoopbackServer, Reply, Request};
use vigil_transport::{DiskQueueOptions, Durability, HttpTransport, HttpTransportOptions};

use crate::{event_envelope, fast_options, http_client};

const FLUSH: Duration = Duration::from_secs(5);
const DELIVERY: Duration = Duration::from_secs(20);

pub(crate) fn disk_options(dir: &Path) -> HttpTransportOptions {
    fast_options()
        .disk_queue_with(DiskQueueOptions::new(dir).drain_interval(Duration::from_millis(1)))
}

/// The `.envelope` files in `dir`.
fn stored(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |l| {
        l.flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".envelope"))
            .count()
    })
}

fn distinct_delivered(requests: &[Request]) -> HashSet<EventId> {
    requests
        .iter()
        .filter(|r| r.is_accepted())
        .flat_map(Request::event_ids)
        .collect()
}

/// Sends `n` event envelopes; returns their ids in order.
pub(crate) fn send_events(transport: &HttpTransport, n: usize, label: &str) -> Vec<EventId> {
    (0..n)
        .map(|i| {
            let envelope = event_envelope(&format!("{label} {i}"));
            let id = envelope.headers().event_id.unwrap();
            transport.send_envelope(envelope);
            id
        })
        .collect()
}

/// A server that is not running yet, and its address.
fn stopped_server() -> LoopbackServer {
    let server = LoopbackServer::start();
    server.stop();
    server
}

#[track_caller]
fn assert_delivered_once(server: &LoopbackServer, ids: &[EventId]) {
    let delivered = server.delivered_event_ids();
    let distinct: HashSet<_> = delivered.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        delivered.len(),
        "an event was delivered twice"
    );
    for id in ids {
        assert!(distinct.contains(id), "{id} was not delivered");
    }
}

#[test]
fn server_down_then_up_delivers_everything_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = stopped_server();
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    let ids = send_events(&transport, 50, "offline");
    // Offline, flush is quick: everything is stored.
    let start = Instant::now();
    assert!(transport.flush(FLUSH));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(transport.disk_queue_len(), Some(50));
    assert_eq!(stored(tmp.path()), 50);
    assert!(
        transport.stats().dropped.is_empty(),
        "{:?}",
        transport.stats()
    );

    server.restart().unwrap();
    assert!(
        server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 50),
        "delivered {}",
        server.delivered_event_ids().len()
    );
    assert!(transport.flush(FLUSH));
    assert_delivered_once(&server, &ids);
    let deadline = Instant::now() + FLUSH;
    while transport.disk_queue_len() != Some(0) && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(transport.disk_queue_len(), Some(0));
    assert_eq!(stored(tmp.path()), 0);
    let stats = transport.stats();
    assert!(stats.dropped.is_empty(), "{stats:?}");
    assert_eq!(stats.events_sent, 50);
    assert!(client.close(Some(FLUSH)));
}

#[test]
fn a_new_transport_sends_what_an_earlier_one_stored_oldest_first_and_paced() {
    let tmp = tempfile::tempdir().unwrap();
    let server = stopped_server();
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    let ids = send_events(&transport, 6, "earlier run");
    assert!(client.close(Some(FLUSH)));
    drop(transport);
    assert_eq!(stored(tmp.path()), 6);

    server.restart().unwrap();
    let interval = Duration::from_millis(60);
    let options =
        fast_options().disk_queue_with(DiskQueueOptions::new(tmp.path()).drain_interval(interval));
    let (client, _transport) = http_client(&server.dsn(), ClientOptions::new(), options);
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 6));
    let requests = server.requests();
    let delivered: Vec<EventId> = requests.iter().flat_map(Request::event_ids).collect();
    assert_eq!(delivered, ids, "oldest first, each once");
    let took = requests[5].received_at - requests[0].received_at;
    assert!(took >= interval * 5, "paced: {took:?}");
    assert!(client.close(Some(FLUSH)));
    assert_eq!(stored(tmp.path()), 0);
}

#[test]
fn final_rejections_remove_the_file_and_count_send_error() {
    let tmp = tempfile::tempdir().unwrap();
    let server = LoopbackServer::start();
    server.script([
        Reply::status(500),
        Reply::status(413),
        Reply::status(400),
        Reply::ok(),
        Reply::status(429),
    ]);
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new().send_client_reports(false),
        disk_options(tmp.path()),
    );
    send_events(&transport, 5, "rejected");
    assert!(transport.flush(FLUSH));
    assert_eq!(server.request_count(), 5, "no retries of statuses");
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::SendError, DataCategory::Error),
        3
    );
    assert_eq!(stats.total_dropped(DiscardReason::NetworkError), 0);
    assert_eq!(stats.events_sent, 1);
    assert_eq!(stored(tmp.path()), 0);
    assert_eq!(transport.disk_queue_len(), Some(0));
    assert!(client.close(Some(FLUSH)));
}

#[test]
fn network_failures_keep_the_envelope_instead_of_counting_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = LoopbackServer::start();
    // Two hangs (timeouts), a reset, a close and garbage: all network
    // failures. Then the server works.
    server.script([
        Reply::hang(),
        Reply::hang(),
        Reply::reset(),
        Reply::close(),
        Reply::garbage(b"\x00\x01not http\r\n\r\n".to_vec()),
    ]);
    let options = disk_options(tmp.path())
        .timeout(Duration::from_millis(300))
        .max_attempts(1);
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), options);
    let ids = send_events(&transport, 5, "flaky");
    assert!(
        server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 5),
        "{:?}",
        server
            .requests()
            .iter()
            .map(|r| r.status)
            .collect::<Vec<_>>()
    );
    assert_delivered_once(&server, &ids);
    assert!(client.close(Some(FLUSH)));
    let stats = transport.stats();
    assert_eq!(
        stats.total_dropped(DiscardReason::NetworkError),
        0,
        "{stats:?}"
    );
    assert_eq!(stats.events_sent, 5);
    assert_eq!(stored(tmp.path()), 0);
}

#[test]
fn a_rate_limit_pauses_the_backlog_without_dropping_it() {
    let tmp = tempfile::tempdir().unwrap();
    let server = stopped_server();
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    let ids = send_events(&transport, 4, "limited");
    assert!(transport.flush(FLUSH));
    assert!(client.close(Some(FLUSH)));

    server.restart().unwrap();
    server.script([Reply::status(429).header("Retry-After", "1")]);
    let start = Instant::now();
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 3));
    let requests = server.requests();
    assert_eq!(requests[0].status, 429);
    // The server counted the first one; the others waited for the limit.
    assert_eq!(requests[0].event_ids(), [ids[0]]);
    assert!(requests[1].received_at - start >= Duration::from_millis(900));
    assert_delivered_once(&server, &ids[1..]);
    assert!(
        transport.stats().dropped.is_empty(),
        "{:?}",
        transport.stats()
    );
    assert!(client.close(Some(FLUSH)));
    assert_eq!(stored(tmp.path()), 0);
}

#[test]
fn a_full_queue_stores_instead_of_dropping() {
    let tmp = tempfile::tempdir().unwrap();
    let server = LoopbackServer::start();
    server.set_default(Reply::ok().delay(Duration::from_millis(20)));
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new().transport_queue_size(1),
        disk_options(tmp.path()),
    );
    let ids = send_events(&transport, 30, "burst");
    assert_eq!(
        transport
            .stats()
            .total_dropped(DiscardReason::QueueOverflow),
        0
    );
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 30));
    assert_delivered_once(&server, &ids);
    assert!(client.close(Some(FLUSH)));
    assert!(transport.stats().dropped.is_empty());
}

#[test]
fn sync_mode_has_the_file_on_disk_when_send_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let server = LoopbackServer::start();
    server.set_default(Reply::hang());
    let options = fast_options()
        .timeout(Duration::from_millis(500))
        .max_attempts(1)
        .disk_queue_with(DiskQueueOptions::new(tmp.path()).durability(Durability::Sync));
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), options);
    for i in 1..=3 {
        transport.send_envelope(event_envelope("durable"));
        // The worker is stuck in the hanging request: only the capturing
        // thread can have written this file.
        assert_eq!(stored(tmp.path()), i);
    }
    let _ = client.close(Some(Duration::from_millis(100)));
}

#[test]
fn two_transports_sharing_a_directory_send_each_file_once() {
    let tmp = tempfile::tempdir().unwrap();
    let server = stopped_server();
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new().transport_queue_size(300),
        disk_options(tmp.path()).max_attempts(1),
    );
    let ids = send_events(&transport, 200, "shared");
    assert!(client.close(Some(FLUSH)));
    assert_eq!(stored(tmp.path()), 200);

    server.restart().unwrap();
    server.set_default(Reply::ok().delay(Duration::from_millis(1)));
    let a = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    let b = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 200));
    // Give a duplicate the time to show up.
    thread::sleep(Duration::from_millis(200));
    assert_delivered_once(&server, &ids);
    let sent = a.1.stats().events_sent + b.1.stats().events_sent;
    assert_eq!(sent, 200);
    assert!(
        a.1.stats().events_sent > 0 && b.1.stats().events_sent > 0,
        "both took part"
    );
    assert!(a.0.close(Some(FLUSH)) && b.0.close(Some(FLUSH)));
    assert_eq!(stored(tmp.path()), 0);
}

#[test]
fn corrupt_stored_files_are_moved_aside_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path()
            .join("0000000000000001-0000000f-0000000000-e.envelope"),
        b"{\"event_id\":\"truncated",
    )
    .unwrap();
    let server = LoopbackServer::start();
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    let ids = send_events(&transport, 1, "fine");
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 1));
    assert_delivered_once(&server, &ids);
    assert!(client.close(Some(FLUSH)));
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::InternalSdkError, DataCategory::Error),
        1
    );
    assert_eq!(stored(tmp.path()), 0);
    assert_eq!(
        std::fs::read_dir(tmp.path().join("corrupt"))
            .unwrap()
            .count(),
        1
    );
}

/// Size of the sparse file in [`files_that_are_not_the_spools_cost_nothing`].
const SPARSE_BYTES: u64 = 64 << 30;

/// Files the spool did not write: one named otherwise is never read, sent,
/// moved or deleted; one named like the spool's but larger than
/// `max_bytes` (here a sparse 64 GiB file, the newest name) is moved to
/// `corrupt/` unread and counted, and evicts none of the real backlog.
#[test]
fn files_that_are_not_the_spools_cost_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let options = || {
        fast_options().disk_queue_with(
            DiskQueueOptions::new(dir)
                .max_bytes(1 << 20)
                .drain_interval(Duration::from_millis(1)),
        )
    };
    let server = stopped_server();
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), options());
    let ids = send_events(&transport, 5, "real");
    assert!(transport.flush(FLUSH));
    assert!(client.close(Some(FLUSH)));
    assert_eq!(stored(dir), 5);

    let huge = "9999999999999999-0000000f-0000000000-e.envelope";
    std::fs::File::create(dir.join(huge))
        .unwrap()
        .set_len(SPARSE_BYTES)
        .unwrap();
    // A valid envelope, named to sort first: sent first, had the spool
    // taken it for one of its own.
    let foreign = dir.join("0000000000000000-exported.envelope");
    std::fs::write(
        &foreign,
        event_envelope("not the spool's").to_vec().unwrap(),
    )
    .unwrap();

    server.restart().unwrap();
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), options());
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 5));
    assert!(client.close(Some(FLUSH)));
    assert_delivered_once(&server, &ids);
    assert_eq!(distinct_delivered(&server.requests()).len(), 5);
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::CacheOverflow, DataCategory::Error),
        0
    );
    assert_eq!(
        stats.dropped_count(DiscardReason::InternalSdkError, DataCategory::Error),
        1
    );
    assert!(dir.join("corrupt").join(huge).exists());
    assert!(foreign.exists());
}

/// The reproduction of a stored file that parsed but could not be written
/// back (a time beyond the year 9999 panicked the RFC 3339 writer, and the
/// worker spun on the file): it is delivered like any other.
#[test]
fn a_stored_event_with_a_far_future_time_is_delivered() {
    let tmp = tempfile::tempdir().unwrap();
    let id = "0123456789abcdef0123456789abcdef";
    let payload = format!(
        r#"{{"event_id":"{id}","message":"far","contexts":{{"app":{{"app_start_time":1e15}}}}}}"#
    );
    std::fs::write(
        tmp.path()
            .join("0000000000000001-0000000f-0000000000-e.envelope"),
        format!("{{\"event_id\":\"{id}\"}}\n{{\"type\":\"event\"}}\n{payload}"),
    )
    .unwrap();
    let server = LoopbackServer::start();
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 1));
    assert!(client.close(Some(FLUSH)));
    assert_eq!(stored(tmp.path()), 0);
    assert_eq!(
        transport
            .stats()
            .total_dropped(DiscardReason::InternalSdkError),
        0
    );
}

/// A load balancer in an outage (`502`, `503`, `504`) or a redirect does
/// not delete the backlog: the files stay, the queue backs off (not before
/// a `503`'s `Retry-After`), and everything is delivered once the server
/// answers again.
#[test]
fn outage_statuses_keep_the_backlog() {
    let tmp = tempfile::tempdir().unwrap();
    let server = LoopbackServer::start();
    server.script([
        Reply::status(503).header("Retry-After", "1"),
        Reply::status(502),
        Reply::status(504),
        Reply::status(302).header("Location", "http://127.0.0.1:9/"),
        Reply::status(307).header("Location", "http://127.0.0.1:9/"),
    ]);
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    let ids = send_events(&transport, 3, "outage");
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 3));
    assert!(client.close(Some(FLUSH)));
    assert_delivered_once(&server, &ids);
    assert_eq!(stored(tmp.path()), 0);
    let stats = transport.stats();
    assert_eq!(stats.total_dropped(DiscardReason::SendError), 0);
    let requests = server.requests();
    assert_eq!(
        requests
            .iter()
            .map(|r| r.status)
            .take(5)
            .collect::<Vec<_>>(),
        [503, 502, 504, 302, 307]
    );
    // The request after the 503 waited for its Retry-After.
    let waited = requests[1].received_at - requests[0].received_at;
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
}

/// Without a disk queue an outage status is final, as the protocol asks:
/// counted as `send_error`, not retried.
#[test]
fn without_a_disk_queue_an_outage_status_is_counted() {
    let server = LoopbackServer::start();
    server.script([Reply::status(503)]);
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    send_events(&transport, 1, "lost");
    assert!(client.close(Some(FLUSH)));
    let with_events =
        server.with_requests(|r| r.iter().filter(|r| !r.event_ids().is_empty()).count());
    assert_eq!(with_events, 1, "not retried");
    assert_eq!(
        transport
            .stats()
            .dropped_count(DiscardReason::SendError, DataCategory::Error),
        1
    );
}

#[test]
fn the_count_bound_drops_the_oldest_as_cache_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let server = stopped_server();
    let options = fast_options().disk_queue_with(DiskQueueOptions::new(tmp.path()).max_count(10));
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), options);
    let ids = send_events(&transport, 25, "bounded");
    assert!(transport.flush(FLUSH));
    assert!(client.close(Some(FLUSH)));
    assert_eq!(stored(tmp.path()), 10);
    assert_eq!(
        transport
            .stats()
            .dropped_count(DiscardReason::CacheOverflow, DataCategory::Error),
        15
    );
    server.restart().unwrap();
    let (client, _t) = http_client(
        &server.dsn(),
        ClientOptions::new(),
        disk_options(tmp.path()),
    );
    assert!(server.wait_for(DELIVERY, |r| distinct_delivered(r).len() == 10));
    assert_delivered_once(&server, &ids[15..]);
    assert!(client.close(Some(FLUSH)));
}

#[test]
fn off_by_default() {
    assert_eq!(HttpTransportOptions::new().disk_queue, None);
    let options = HttpTransportOptions::new().disk_queue("/tmp/x");
    let disk = options.disk_queue.unwrap();
    assert_eq!(disk.max_count, 1000);
    assert_eq!(disk.max_bytes, 50 * 1024 * 1024);
    assert_eq!(disk.durability, Durability::Buffered);
    assert_eq!(disk.drain_interval, Duration::from_millis(100));
}
