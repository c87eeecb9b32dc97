//! A loopback HTTP sink: accepts envelope POSTs with keep-alive, answers
//! 200 and counts the event items it received.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters of a running sink.
#[derive(Debug, Default)]
pub(crate) struct SinkStats {
    pub(crate) requests: AtomicU64,
    pub(crate) events: AtomicU64,
    pub(crate) bytes: AtomicU64,
    /// Nanoseconds since `started` of the last event received.
    pub(crate) last_event_nanos: AtomicU64,
}

/// A running sink.
#[derive(Debug)]
pub(crate) struct Sink {
    pub(crate) addr: SocketAddr,
    pub(crate) stats: Arc<SinkStats>,
    pub(crate) started: Instant,
}

impl Sink {
    /// Starts the sink on 127.0.0.1 with an ephemeral port.
    pub(crate) fn start() -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let stats = Arc::new(SinkStats::default());
        let started = Instant::now();
        let s = stats.clone();
        std::thread::Builder::new()
            .name("sink-accept".into())
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    let s = s.clone();
                    std::thread::spawn(move || serve(stream, &s, started));
                }
            })
            .expect("spawn sink");
        Sink {
            addr,
            stats,
            started,
        }
    }
}

fn serve(stream: TcpStream, stats: &SinkStats, started: Instant) {
    let _ = stream.set_nodelay(true);
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut length = 0usize;
        let mut gzip = false;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                let v = v.trim();
                if k == "content-length" {
                    length = v.parse().unwrap_or(0);
                } else if k == "content-encoding" && v.eq_ignore_ascii_case("gzip") {
                    gzip = true;
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = if gzip {
            let mut out = Vec::new();
            if flate2::read::GzDecoder::new(&body[..])
                .read_to_end(&mut out)
                .is_err()
            {
                out.clear();
            }
            out
        } else {
            body
        };
        let events = count_event_items(&body);
        stats.requests.fetch_add(1, Ordering::Relaxed);
        stats.bytes.fetch_add(length as u64, Ordering::Relaxed);
        if events > 0 {
            stats.events.fetch_add(events, Ordering::Relaxed);
            let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            stats.last_event_nanos.fetch_max(nanos, Ordering::Relaxed);
        }
        let reply =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        if writer.write_all(reply).is_err() {
            return;
        }
    }
}

/// Counts the `event` items of an envelope by reading its item headers.
fn count_event_items(body: &[u8]) -> u64 {
    let mut count = 0;
    let mut rest = body;
    // Skip the envelope header line.
    match rest.iter().position(|&b| b == b'\n') {
        Some(i) => rest = &rest[i + 1..],
        None => return 0,
    }
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let header: serde_json::Value = match serde_json::from_slice(&rest[..end]) {
            Ok(h) => h,
            Err(_) => return count,
        };
        rest = rest.get(end + 1..).unwrap_or(&[]);
        if header["type"] == "event" {
            count += 1;
        }
        match header["length"].as_u64() {
            Some(len) => {
                let len = usize::try_from(len).unwrap_or(usize::MAX).min(rest.len());
                rest = &rest[len..];
                if rest.first() == Some(&b'\n') {
                    rest = &rest[1..];
                }
            }
            None => {
                let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
                rest = rest.get(end + 1..).unwrap_or(&[]);
            }
        }
    }
    count
}
