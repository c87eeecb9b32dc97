//! Configuration at its extremes: every duration `Duration::MAX` or zero,
//! every size zero. Nothing panics, nothing spins, and events still arrive
//! (or are kept) as with sane settings.

use std::time::{Duration, Instant};

use vigil_core::ClientOptions;
use vigil_core::Transport;
use vigil_core::protocol::DiscardReason;
use vigil_test::LoopbackServer;
use vigil_transport::{DiskQueueOptions, HttpTransportOptions};

use crate::{event_envelope, http_client};

const WAIT: Duration = Duration::from_secs(10);

fn with_durations(d: Duration) -> HttpTransportOptions {
    HttpTransportOptions::new()
        .connect_timeout(d)
        .timeout(d)
        .backoff(d, d)
        .max_attempts(u32::MAX)
        .proxy_from_env(false)
}

fn with_disk(
    options: HttpTransportOptions,
    dir: &std::path::Path,
    d: Duration,
) -> HttpTransportOptions {
    options.disk_queue_with(
        DiskQueueOptions::new(dir)
            .max_count(0)
            .max_bytes(0)
            .drain_interval(d),
    )
}

/// Delivers one event through a transport built with `options`, then
/// closes the client with `shutdown_timeout`; asserts the event arrived,
/// no step panicked, and the close kept its deadline.
#[track_caller]
fn delivers(options: HttpTransportOptions, shutdown_timeout: Duration) {
    let server = LoopbackServer::start();
    let (client, transport) = http_client(
        &server.dsn(),
        ClientOptions::new().shutdown_timeout(shutdown_timeout),
        options,
    );
    transport.send_envelope(event_envelope("extreme"));
    assert!(server.wait_for(WAIT, |r| r.iter().any(|r| r.is_accepted())));
    let started = Instant::now();
    client.close(Some(Duration::from_secs(5)));
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(
        transport
            .stats()
            .total_dropped(DiscardReason::InternalSdkError),
        0
    );
}

#[test]
fn the_longest_durations_never_overflow() {
    delivers(with_durations(Duration::MAX), Duration::MAX);
    let tmp = tempfile::tempdir().unwrap();
    delivers(
        with_disk(with_durations(Duration::MAX), tmp.path(), Duration::MAX),
        Duration::MAX,
    );
}

#[test]
fn zero_durations_and_sizes_never_panic() {
    delivers(with_durations(Duration::ZERO), Duration::ZERO);
    let tmp = tempfile::tempdir().unwrap();
    delivers(
        with_disk(with_durations(Duration::ZERO), tmp.path(), Duration::ZERO),
        Duration::ZERO,
    );
}

/// With the server down, the longest back-off must neither overflow an
/// `Instant` nor hold a close past its deadline.
#[test]
fn an_unreachable_server_with_the_longest_backoff_keeps_deadlines() {
    let server = LoopbackServer::start();
    server.stop();
    let tmp = tempfile::tempdir().unwrap();
    for options in [
        with_durations(Duration::MAX),
        with_disk(with_durations(Duration::MAX), tmp.path(), Duration::MAX),
    ] {
        let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), options);
        transport.send_envelope(event_envelope("offline"));
        let started = Instant::now();
        client.close(Some(Duration::from_secs(1)));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            transport
                .stats()
                .total_dropped(DiscardReason::InternalSdkError),
            0
        );
    }
}

/// The console printer in front of the file sink, closed with a
/// `Duration::MAX` shutdown timeout: no overflow, no hang, the envelope
/// written.
#[test]
fn console_then_file_sink_with_an_endless_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let options = ClientOptions::new()
        .try_dsn("http://public@127.0.0.1:1/1")
        .unwrap()
        .shutdown_timeout(Duration::MAX)
        .transport(vigil_transport::console().then(vigil_transport::file_sink(tmp.path())));
    let client = vigil_core::Client::new(options);
    client.capture_event(
        event_envelope("printed and written")
            .event()
            .unwrap()
            .clone(),
        None,
    );
    let started = Instant::now();
    assert!(client.flush(Some(Duration::MAX)));
    assert!(client.close(None));
    assert!(started.elapsed() < WAIT);
    let written = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(written, 1);
}
