//! The slice of HTTP/1.1 the server speaks: reading a request (request
//! line, headers, a `Content-Length` body; no chunked encoding) and writing
//! a response.

use std::io::{self, Read};
use std::net::TcpStream;

use crate::server::reply::Reply;

/// A request as read off the wire: method, path, headers, body.
pub(super) struct RawRequest {
    /// The method, e.g. `POST`.
    pub(super) method: String,
    /// The request target, e.g. `/api/42/envelope/`.
    pub(super) path: String,
    /// The headers, names lowercased, in arrival order.
    pub(super) headers: Vec<(String, String)>,
    /// The `Content-Length` bytes after the head.
    pub(super) body: Vec<u8>,
}

impl RawRequest {
    /// Whether the request says `Connection: close`.
    pub(super) fn wants_close(&self) -> bool {
        self.headers
            .iter()
            .any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"))
    }
}

/// Whether a read failed only because the stream's read timeout passed
/// with nothing to read (the caller looks at its stop flag and reads again).
pub(super) fn is_poll_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Reads one request; `None` when the peer closed the connection, or the
/// server stops, before a whole request arrived.
///
/// `buf` holds bytes read past the previous request on the same connection
/// and keeps those read past this one. `alive` is asked between reads.
pub(super) fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    alive: &dyn Fn() -> bool,
) -> io::Result<Option<RawRequest>> {
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if !alive() {
            return Ok(None);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if is_poll_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buf.drain(..head_end + 4);
    while buf.len() < length {
        if !alive() {
            return Ok(None);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if is_poll_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    }
    let body: Vec<u8> = buf.drain(..length).collect();
    Ok(Some(RawRequest {
        method,
        path,
        headers,
        body,
    }))
}

/// The whole response for `reply`: status line, `Content-Length`,
/// `Content-Type: application/json`, the reply's headers, then its body.
pub(super) fn response_text(reply: &Reply) -> String {
    let mut response = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
        reply.status,
        reason_phrase(reply.status),
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        response.push_str(name);
        response.push_str(": ");
        response.push_str(value);
        response.push_str("\r\n");
    }
    response.push_str("\r\n");
    response.push_str(&reply.body);
    response
}

/// The reason phrase for the status codes Sentry answers with; a
/// placeholder for any other.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}
