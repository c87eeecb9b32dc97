//! The HTTP transport against the loopback server.

use std::thread;
use std::time::{Duration, Instant, SystemTime};

use vigil_core::protocol::{
    Attachment, DataCategory, DiscardReason, Envelope, EnvelopeItem, Event,
};
use vigil_core::{ClientOptions, SDK_VERSION, Transport};

use crate::{assert_accounted, event_envelope, fast_options, http_client};
use vigil_test::{LoopbackServer, Reply, refused_addr};

const FLUSH: Duration = Duration::from_secs(5);

fn client_reports(envelope: &Envelope) -> Vec<&vigil_core::protocol::ClientReport> {
    envelope
        .items()
        .filter_map(|i| match i {
            EnvelopeItem::ClientReport(r) => Some(r),
            _ => None,
        })
        .collect()
}

/// The total of one (reason, category) line across client reports.
fn reported(envelope: &Envelope, reason: DiscardReason, category: DataCategory) -> u64 {
    client_reports(envelope)
        .iter()
        .flat_map(|r| &r.discarded_events)
        .filter(|d| d.reason == reason && d.category == category)
        .map(|d| d.quantity)
        .sum()
}

#[test]
fn success_sends_exact_headers_and_a_gzipped_envelope() {
    let server = LoopbackServer::start();
    let mut options = ClientOptions::new();
    options.user_agent = "vigil-test-agent/9.9".into();
    let (client, transport) = http_client(&server.dsn(), options, fast_options());
    let before = SystemTime::now();
    let id = client.capture_event(
        Event {
            message: Some("hello over http".into()),
            ..Default::default()
        },
        None,
    );
    assert!(!id.is_nil());
    assert!(transport.flush(FLUSH));

    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/api/42/envelope/");
    assert_eq!(
        request.header("x-sentry-auth"),
        Some(
            format!(
                "Sentry sentry_version=7, sentry_client=vigil.rust/{SDK_VERSION}, sentry_key=public, sentry_secret=secret"
            )
            .as_str()
        )
    );
    assert_eq!(request.header("user-agent"), Some("vigil-test-agent/9.9"));
    assert_eq!(
        request.header("content-type"),
        Some("application/x-sentry-envelope")
    );
    assert_eq!(request.header("content-encoding"), Some("gzip"));
    assert_eq!(
        request.header("content-length"),
        Some(request.raw_body.len().to_string().as_str())
    );
    assert!(request.raw_body.starts_with(&[0x1f, 0x8b]), "gzip magic");

    let envelope = request.envelope();
    assert_eq!(envelope.headers().event_id, Some(id));
    let sent_at = envelope.headers().sent_at.expect("sent_at is set");
    assert!(sent_at >= before - Duration::from_secs(1) && sent_at <= SystemTime::now());
    assert_eq!(
        envelope.event().unwrap().message.as_deref(),
        Some("hello over http")
    );
    assert!(client_reports(&envelope).is_empty());

    let stats = transport.stats();
    assert_eq!(stats.envelopes_sent, 1);
    assert_eq!(stats.events_sent, 1);
    assert!(stats.dropped.is_empty());
    assert!(stats.rate_limited_all_until.is_none() && stats.rate_limited.is_empty());
    assert_accounted(&server, &transport, 1);
    assert!(client.close(Some(FLUSH)));
}

#[test]
fn factory_from_client_options_works() {
    let server = LoopbackServer::start();
    let options = ClientOptions::new()
        .try_dsn(&server.dsn())
        .unwrap()
        .transport(vigil_transport::HttpTransport::factory_with(fast_options()));
    let client = vigil_core::Client::new(options);
    assert!(client.is_enabled());
    client.capture_event(Event::default(), None);
    assert!(client.flush(Some(FLUSH)));
    assert_eq!(server.requests().len(), 1);
    assert!(client.close(Some(FLUSH)));
}

#[test]
fn rate_limit_header_on_429_drops_the_category_and_reports_still_go() {
    let server = LoopbackServer::start();
    server.script([Reply::status(429).header("X-Sentry-Rate-Limits", "60:error:key")]);
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());

    transport.send_envelope(event_envelope("first"));
    assert!(transport.flush(FLUSH));
    let stats = transport.stats();
    assert!(stats.dropped.is_empty(), "a 429 is not counted: {stats:?}");
    assert!(stats.is_rate_limited(DataCategory::Error));
    assert!(!stats.is_rate_limited(DataCategory::Session));
    assert!(stats.rate_limited_all_until.is_none());
    let (category, until) = stats.rate_limited[0];
    assert_eq!(category, DataCategory::Error);
    let left = until.duration_since(SystemTime::now()).unwrap();
    assert!(
        left > Duration::from_secs(55) && left <= Duration::from_secs(61),
        "{left:?}"
    );

    transport.send_envelope(event_envelope("second"));
    assert!(transport.flush(FLUSH));
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::RatelimitBackoff, DataCategory::Error),
        1
    );

    // The flush sent the pending client report on its own: the `internal`
    // category is not limited.
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let report = requests[1].envelope();
    assert_eq!(requests[1].events(), 0);
    assert_eq!(
        reported(
            &report,
            DiscardReason::RatelimitBackoff,
            DataCategory::Error
        ),
        1
    );
    assert_eq!(stats.client_reports_sent, 1);
    assert_accounted(&server, &transport, 2);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn rate_limit_on_2xx_applies_and_other_items_still_go() {
    let server = LoopbackServer::start();
    server.script([Reply::ok().header("X-Sentry-Rate-Limits", "60:error:key, 5:bogus:org")]);
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    transport.send_envelope(event_envelope("first"));
    assert!(transport.flush(FLUSH));
    assert!(transport.stats().is_rate_limited(DataCategory::Error));

    // Event dropped, attachment sent, with the report piggy-backed.
    let mut envelope = event_envelope("second");
    envelope.add_item(Attachment::new("log.txt", b"0123456789".to_vec()));
    transport.send_envelope(envelope);
    assert!(transport.flush(FLUSH));
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let sent = requests[1].envelope();
    let types: Vec<&str> = sent.items().map(EnvelopeItem::ty).collect();
    assert_eq!(types, ["attachment", "client_report"]);
    assert_eq!(
        reported(&sent, DiscardReason::RatelimitBackoff, DataCategory::Error),
        1
    );
    assert_accounted(&server, &transport, 2);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn bare_429_limits_everything_for_60_seconds() {
    let server = LoopbackServer::start();
    server.script([Reply::status(429)]);
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    transport.send_envelope(event_envelope("first"));
    assert!(transport.flush(FLUSH));
    let stats = transport.stats();
    let left = stats
        .rate_limited_all_until
        .expect("all categories limited")
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(55) && left <= Duration::from_secs(61),
        "{left:?}"
    );

    transport.send_envelope(event_envelope("second"));
    assert!(transport.flush(FLUSH));
    // The client report is limited too: nothing else went out, and the
    // counts are still pending for a later report.
    assert_eq!(server.requests().len(), 1);
    let pending = client.loss_recorder().take_report().expect("counts kept");
    assert_eq!(pending.discarded_events.len(), 1);
    assert_eq!(
        pending.discarded_events[0].reason,
        DiscardReason::RatelimitBackoff
    );
    assert_accounted(&server, &transport, 2);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn retry_after_seconds_limits_everything() {
    let server = LoopbackServer::start();
    server.script([Reply::status(429).header("Retry-After", "30")]);
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    transport.send_envelope(event_envelope("first"));
    assert!(transport.flush(FLUSH));
    let left = transport
        .stats()
        .rate_limited_all_until
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        left > Duration::from_secs(25) && left <= Duration::from_secs(31),
        "{left:?}"
    );
    transport.send_envelope(event_envelope("second"));
    assert_eq!(
        transport
            .stats()
            .dropped_count(DiscardReason::RatelimitBackoff, DataCategory::Error),
        1
    );
    assert_accounted(&server, &transport, 2);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn retry_after_http_date_limits_everything() {
    let server = LoopbackServer::start();
    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
    server.script([Reply::status(429).header("Retry-After", &date)]);
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    transport.send_envelope(event_envelope("first"));
    assert!(transport.flush(FLUSH));
    let left = transport
        .stats()
        .rate_limited_all_until
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    // HTTP dates have whole seconds.
    assert!(
        left > Duration::from_secs(115) && left <= Duration::from_secs(121),
        "{left:?}"
    );
    transport.send_envelope(event_envelope("second"));
    assert_accounted(&server, &transport, 2);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn status_413_counts_send_error_without_retry() {
    let server = LoopbackServer::start();
    server.script([Reply::status(413)
        .header("X-Sentry-Error", "envelope exceeded size limits")
        .body(r#"{"detail":"envelope exceeded size limits"}"#)]);
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    transport.send_envelope(event_envelope("too big"));
    assert!(transport.flush(FLUSH));
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::SendError, DataCategory::Error),
        1
    );
    assert_eq!(stats.total_dropped(DiscardReason::SendError), 1);
    // One attempt, then the standalone client report at flush.
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(
        reported(
            &requests[1].envelope(),
            DiscardReason::SendError,
            DataCategory::Error
        ),
        1
    );
    assert_accounted(&server, &transport, 1);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn status_500_counts_send_error_and_the_next_envelope_carries_the_report() {
    let server = LoopbackServer::start();
    server.script([Reply::status(500).header("Retry-After", "60")]);
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    transport.send_envelope(event_envelope("fails"));
    transport.send_envelope(event_envelope("succeeds"));
    assert!(transport.flush(FLUSH));
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::SendError, DataCategory::Error),
        1
    );
    // Retry-After on a 5xx is not a rate limit.
    assert!(stats.rate_limited_all_until.is_none());
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "no retry of a 500: {requests:?}");
    let second = requests[1].envelope();
    assert_eq!(requests[1].events(), 1);
    assert_eq!(
        reported(&second, DiscardReason::SendError, DataCategory::Error),
        1
    );
    assert_eq!(stats.client_reports_sent, 1);
    assert_accounted(&server, &transport, 2);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn client_reports_off_sends_none() {
    let server = LoopbackServer::start();
    server.script([Reply::status(500)]);
    let (_client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new().send_client_reports(false),
        fast_options(),
    );
    transport.send_envelope(event_envelope("fails"));
    transport.send_envelope(event_envelope("succeeds"));
    assert!(transport.flush(FLUSH));
    assert!(transport.shutdown(FLUSH));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| client_reports(&r.envelope()).is_empty())
    );
    assert_accounted(&server, &transport, 2);
}

#[test]
fn server_that_never_answers_times_out() {
    let server = LoopbackServer::start();
    server.set_default(Reply::hang());
    let options = fast_options()
        .timeout(Duration::from_millis(300))
        .max_attempts(2)
        .backoff(Duration::from_millis(50), Duration::from_millis(50));
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), options);
    transport.send_envelope(event_envelope("into the void"));

    let start = Instant::now();
    assert!(!transport.flush(Duration::from_millis(200)));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_millis(400),
        "{took:?}"
    );

    // Two attempts time out, then the event is counted.
    assert!(transport.flush(FLUSH));
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::NetworkError, DataCategory::Error),
        1
    );
    let attempts = server.requests().iter().filter(|r| r.events() == 1).count();
    assert_eq!(attempts, 2);
    assert_accounted(&server, &transport, 1);

    // Shutdown gives up at its deadline while the worker is stuck sending
    // the final client report.
    let start = Instant::now();
    let _ = transport.shutdown(Duration::from_millis(100));
    assert!(
        start.elapsed() < Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn connection_refused_counts_network_error_after_retries() {
    let addr = refused_addr();
    let dsn = format!("http://public@{addr}/42");
    let (client, transport) = http_client(&dsn, ClientOptions::new(), fast_options());
    let start = Instant::now();
    transport.send_envelope(event_envelope("nobody home"));
    assert!(transport.flush(FLUSH));
    // Two back-offs of at least half of 20 ms and 40 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(30),
        "{:?}",
        start.elapsed()
    );
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::NetworkError, DataCategory::Error),
        1
    );
    assert_eq!(stats.envelopes_sent, 0);
    // The standalone client report failed too and was put back, not lost.
    let pending = client
        .loss_recorder()
        .take_report()
        .expect("report restored");
    assert_eq!(pending.discarded_events.len(), 1);
    assert_eq!(
        pending.discarded_events[0].reason,
        DiscardReason::NetworkError
    );
    assert_eq!(pending.discarded_events[0].quantity, 1);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn server_down_then_up_the_retry_succeeds() {
    let addr = refused_addr();
    let dsn = format!("http://public@{addr}/42");
    let options = fast_options()
        .max_attempts(8)
        .backoff(Duration::from_millis(100), Duration::from_millis(300));
    let (_client, transport) = http_client(&dsn, ClientOptions::new(), options);
    transport.send_envelope(event_envelope("eventually"));
    thread::sleep(Duration::from_millis(150));
    let deadline = Instant::now() + Duration::from_secs(2);
    let server = loop {
        match LoopbackServer::start_on(addr) {
            Ok(server) => break server,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("could not bind {addr} again: {e}"),
        }
    };
    assert!(transport.flush(FLUSH));
    let stats = transport.stats();
    assert_eq!(stats.events_sent, 1, "{stats:?}");
    assert!(stats.dropped.is_empty(), "{stats:?}");
    assert_eq!(server.requests().len(), 1);
    assert_accounted(&server, &transport, 1);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn full_queue_counts_queue_overflow() {
    let server = LoopbackServer::start();
    server.set_default(Reply::ok().delay(Duration::from_millis(150)));
    let (_client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new().transport_queue_size(1),
        fast_options(),
    );
    for i in 0..6 {
        transport.send_envelope(event_envelope(&format!("event {i}")));
    }
    let overflow = transport
        .stats()
        .dropped_count(DiscardReason::QueueOverflow, DataCategory::Error);
    // At most one envelope is being sent and one waits in the queue.
    assert!(overflow >= 4, "overflow {overflow}");
    assert!(transport.flush(FLUSH));
    assert_accounted(&server, &transport, 6);
    assert!(transport.shutdown(FLUSH));
}

#[test]
fn shutdown_twice_is_fine() {
    let server = LoopbackServer::start();
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    transport.send_envelope(event_envelope("before shutdown"));
    assert!(transport.shutdown(FLUSH));
    let start = Instant::now();
    assert!(transport.shutdown(FLUSH));
    assert!(start.elapsed() < Duration::from_millis(100));
    assert!(transport.flush(FLUSH));
    assert_eq!(server.requests().len(), 1);
    assert_accounted(&server, &transport, 1);
}

#[test]
fn send_after_shutdown_is_dropped_and_counted() {
    let server = LoopbackServer::start();
    let (_client, transport) = http_client(&server.dsn(), ClientOptions::new(), fast_options());
    transport.send_envelope(event_envelope("before"));
    assert!(transport.shutdown(FLUSH));
    transport.send_envelope(event_envelope("after"));
    let mut with_attachment = event_envelope("after, with a file");
    with_attachment.add_item(Attachment::new("a.bin", vec![0u8; 7]));
    transport.send_envelope(with_attachment);
    let stats = transport.stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::QueueOverflow, DataCategory::Error),
        2
    );
    assert_eq!(
        stats.dropped_count(DiscardReason::QueueOverflow, DataCategory::Attachment),
        7,
        "attachments count bytes"
    );
    assert_eq!(server.requests().len(), 1);
    assert_accounted(&server, &transport, 3);
}

/// An explicit proxy carries the envelopes: the DSN's host has nothing
/// listening, the proxy (a loopback server) gets the request.
#[test]
fn an_explicit_proxy_carries_the_envelopes() {
    let proxy = LoopbackServer::start();
    let options = fast_options()
        .proxy(&format!("http://{}", proxy.addr()))
        .expect("a valid proxy URL");
    let (client, transport) =
        http_client("http://public@127.0.0.1:9/1", ClientOptions::new(), options);
    let envelope = event_envelope("through the proxy");
    let id = envelope.headers().event_id.unwrap();
    transport.send_envelope(envelope);
    assert!(
        proxy.wait_for(Duration::from_secs(10), |requests| requests
            .iter()
            .any(|r| r.event_ids().contains(&id))),
        "the proxy got nothing: {:?}",
        transport.stats()
    );
    // ureq tunnels through the proxy (`CONNECT host:port`, then the
    // request itself on that connection); the loopback server answers the
    // CONNECT with 200 and then sees the POST as the tunnel's end.
    let requests = proxy.requests();
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("CONNECT", "127.0.0.1:9")
    );
    assert_eq!(
        (requests[1].method.as_str(), requests[1].path.as_str()),
        ("POST", "/api/1/envelope/")
    );
    assert!(client.close(Some(Duration::from_secs(5))));
}

/// A proxy URL that cannot work is refused with a clear error, and the
/// credentials of one that can never show in `Debug`.
#[test]
fn proxy_urls_are_checked_and_their_credentials_kept_out_of_debug() {
    let err = vigil_transport::HttpTransportOptions::new()
        .proxy("ftp://user:secret@proxy:21")
        .unwrap_err();
    let message = err.to_string();
    assert!(message.starts_with("invalid proxy URL"), "{message}");
    assert!(!message.contains("secret"), "{message}");
    let options = vigil_transport::HttpTransportOptions::new()
        .proxy("http://user:secret@proxy.internal:3128")
        .unwrap();
    assert_eq!(
        options.proxy_url(),
        Some("http://user:secret@proxy.internal:3128")
    );
    let debug = format!("{options:?}");
    assert!(!debug.contains("secret"), "{debug}");
    assert!(debug.contains("proxy.internal:3128"), "{debug}");
}
