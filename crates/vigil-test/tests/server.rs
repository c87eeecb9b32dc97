//! The loopback server over raw sockets: every scripted behaviour as a
//! client sees it.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;
use vigil_protocol::{Envelope, Event};
use vigil_test::{LoopbackServer, Reply, refused_addr};

fn post(stream: &mut TcpStream, body: &[u8], extra: &str) {
    let head = format!(
        "POST /api/42/envelope/ HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n{extra}\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
}

/// Reads one response with a `Content-Length` body.
fn read_response(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(b"\r\n\r\n") {
        assert_eq!(
            stream.read(&mut byte).unwrap(),
            1,
            "connection closed early"
        );
        got.push(byte[0]);
    }
    let head = String::from_utf8(got).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .unwrap()
        .parse()
        .unwrap();
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head + &String::from_utf8(body).unwrap()
}

fn connect(server: &LoopbackServer) -> TcpStream {
    let stream = TcpStream::connect(server.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

#[test]
fn scripted_replies_then_the_default_on_one_kept_alive_connection() {
    let server = LoopbackServer::start();
    server.script([
        Reply::status(429).header("X-Sentry-Rate-Limits", "60:error:key"),
        Reply::status(500).body("oops"),
    ]);
    server.set_default(Reply::status(202));
    let mut stream = connect(&server);
    let mut statuses = Vec::new();
    for _ in 0..3 {
        post(&mut stream, b"{}", "");
        statuses.push(read_response(&mut stream));
    }
    assert!(statuses[0].starts_with("HTTP/1.1 429 "));
    assert!(statuses[0].contains("X-Sentry-Rate-Limits: 60:error:key\r\n"));
    assert!(statuses[1].starts_with("HTTP/1.1 500 ") && statuses[1].ends_with("oops"));
    assert!(statuses[2].starts_with("HTTP/1.1 202 "));
    let requests = server.requests();
    assert_eq!(
        requests.iter().map(|r| r.status).collect::<Vec<_>>(),
        [429, 500, 202]
    );
    assert!(requests[0].accounted_by_server() && !requests[0].is_accepted());
    assert!(!requests[1].accounted_by_server());
    assert!(requests[2].is_accepted());
    assert_eq!(server.script_left(), 0);
}

#[test]
fn gzipped_envelopes_are_inflated_and_parsed() {
    let server = LoopbackServer::start();
    let event = Event {
        message: Some("hello".into()),
        ..Default::default()
    };
    let id = event.event_id;
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    Envelope::from_event(event).to_writer(&mut gz).unwrap();
    let body = gz.finish().unwrap();
    let mut stream = connect(&server);
    post(&mut stream, &body, "Content-Encoding: gzip\r\n");
    assert!(read_response(&mut stream).starts_with("HTTP/1.1 200 "));
    let request = &server.requests()[0];
    assert_eq!(request.raw_body, body);
    assert_eq!(request.header("Content-Encoding"), Some("gzip"));
    assert_eq!(request.event_ids(), [id]);
    assert_eq!(request.events(), 1);
    assert_eq!(
        request.envelope().event().unwrap().message.as_deref(),
        Some("hello")
    );
    assert_eq!(server.delivered_event_ids(), [id]);
}

#[test]
fn a_body_that_is_no_envelope_is_recorded_too() {
    let server = LoopbackServer::start();
    let mut stream = connect(&server);
    post(&mut stream, b"not json", "");
    read_response(&mut stream);
    let request = &server.requests()[0];
    assert!(request.try_envelope().is_none());
    assert!(request.event_ids().is_empty());
    assert_eq!(request.body(), b"not json");
}

#[test]
fn reset_close_garbage_and_hang() {
    let server = LoopbackServer::start();
    server.script([
        Reply::reset(),
        Reply::close(),
        Reply::garbage(b"\x00garbage".to_vec()),
        Reply::hang(),
    ]);

    let mut stream = connect(&server);
    post(&mut stream, b"{}", "");
    let mut buf = [0u8; 64];
    let err = stream.read(&mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");

    let mut stream = connect(&server);
    post(&mut stream, b"{}", "");
    assert_eq!(stream.read(&mut buf).unwrap(), 0, "closed");

    let mut stream = connect(&server);
    post(&mut stream, b"{}", "");
    let mut got = Vec::new();
    stream.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"\x00garbage");

    let mut stream = connect(&server);
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    post(&mut stream, b"{}", "");
    let err = stream.read(&mut buf).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    assert!(requests.iter().all(|r| r.status == 0));
}

#[test]
fn delay_waits_before_answering() {
    let server = LoopbackServer::start();
    server.set_default(Reply::ok().delay(Duration::from_millis(150)));
    let mut stream = connect(&server);
    let start = Instant::now();
    post(&mut stream, b"{}", "");
    read_response(&mut stream);
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[test]
fn stop_refuses_connections_and_restart_listens_on_the_same_port() {
    let server = LoopbackServer::start();
    server.set_default(Reply::hang());
    let addr = server.addr();
    let mut held = connect(&server);
    post(&mut held, b"{}", "");
    assert!(server.wait_for(Duration::from_secs(5), |r| r.len() == 1));

    let start = Instant::now();
    server.stop();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "hang ends at stop"
    );
    assert!(!server.is_running());
    let mut buf = [0u8; 8];
    assert!(
        matches!(held.read(&mut buf), Ok(0) | Err(_)),
        "held connection closed"
    );
    assert_eq!(
        TcpStream::connect(addr).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
    server.stop();

    server.restart().unwrap();
    server.restart().unwrap();
    assert!(server.is_running());
    assert_eq!(server.addr(), addr);
    server.set_default(Reply::ok());
    let mut stream = connect(&server);
    post(&mut stream, b"{}", "");
    assert!(read_response(&mut stream).starts_with("HTTP/1.1 200 "));
    assert_eq!(
        server.request_count(),
        2,
        "requests are kept across restarts"
    );
    assert!(server.dsn().ends_with(&format!("@{addr}/42")));
}

#[test]
fn refused_addr_refuses() {
    let addr = refused_addr();
    assert_eq!(
        TcpStream::connect(addr).unwrap_err().kind(),
        ErrorKind::ConnectionRefused
    );
}

#[test]
fn wait_for_times_out() {
    let server = LoopbackServer::start();
    let start = Instant::now();
    assert!(!server.wait_for(Duration::from_millis(100), |r| !r.is_empty()));
    assert!(start.elapsed() >= Duration::from_millis(100));
}
