//! A small loopback HTTP/1.1 server: real sockets on 127.0.0.1, scripted
//! replies per request, every request recorded with its headers and its
//! gunzipped body. It stops (and lets go of held connections) when
//! dropped.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use vigil_core::protocol::{Envelope, EnvelopeItem};

/// The longest a connection thread lives, whatever happens.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);
/// How often blocked reads wake up to look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// What the server answers to one request.
#[derive(Clone, Debug)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Never answer; hold the connection until the client or the server
    /// gives up.
    pub hang: bool,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: if (200..300).contains(&status) {
                r#"{"id":"00000000000000000000000000000000"}"#.into()
            } else {
                String::new()
            },
            delay: Duration::ZERO,
            hang: false,
        }
    }

    pub(crate) fn ok() -> Reply {
        Reply::status(200)
    }

    pub(crate) fn hang() -> Reply {
        Reply {
            hang: true,
            ..Reply::status(0)
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub(crate) fn body(mut self, body: &str) -> Reply {
        self.body = body.into();
        self
    }

    pub(crate) fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// One request the server read completely.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    /// Header names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as it came over the wire.
    pub raw_body: Vec<u8>,
    /// The body, gunzipped when `Content-Encoding: gzip`.
    pub body: Vec<u8>,
    /// The status answered (0 when the server hung).
    pub status: u16,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn envelope(&self) -> Envelope {
        Envelope::from_slice(&self.body).expect("the body is a valid envelope")
    }

    /// Event items in the body.
    pub(crate) fn events(&self) -> u64 {
        self.envelope()
            .items()
            .iter()
            .filter(|i| matches!(i, EnvelopeItem::Event(_)))
            .count() as u64
    }

    /// Whether the server accounted for what it got: accepted (2xx) or
    /// rate limited (429, which the server counts itself).
    pub(crate) fn accounted_by_server(&self) -> bool {
        (200..300).contains(&self.status) || self.status == 429
    }
}

struct Inner {
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    requests: Mutex<Vec<Request>>,
    stop: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) struct Server {
    addr: SocketAddr,
    inner: Arc<Inner>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// A server on a free loopback port answering `200` by default.
    pub(crate) fn start() -> Server {
        Server::start_on("127.0.0.1:0".parse().unwrap()).expect("bind a loopback port")
    }

    /// A server on `addr`.
    pub(crate) fn start_on(addr: SocketAddr) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::ok()),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let accept = {
            let inner = Arc::clone(&inner);
            thread::spawn(move || accept_loop(&listener, &inner))
        };
        Ok(Server {
            addr,
            inner,
            accept: Some(accept),
        })
    }

    /// Answers the next requests with `replies`, in order; then the
    /// default.
    pub(crate) fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.inner.script).extend(replies);
    }

    /// The reply once the script is used up.
    pub(crate) fn set_default(&self, reply: Reply) {
        *lock(&self.inner.default) = reply;
    }

    pub(crate) fn requests(&self) -> Vec<Request> {
        lock(&self.inner.requests).clone()
    }

    /// A DSN pointing at this server (project 42, with a secret key).
    pub(crate) fn dsn(&self) -> String {
        format!("http://public:secret@{}/42", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, inner: &Arc<Inner>) {
    while !inner.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let inner = Arc::clone(inner);
                thread::spawn(move || {
                    let _ = serve(stream, &inner);
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(2))
            }
            Err(_) => thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Serves requests on one (keep-alive) connection.
fn serve(mut stream: TcpStream, inner: &Inner) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(POLL))?;
    let born = Instant::now();
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buf, inner, born)? else {
            return Ok(());
        };
        let reply = lock(&inner.script)
            .pop_front()
            .unwrap_or_else(|| lock(&inner.default).clone());
        let (method, path, headers, raw_body) = request;
        let body = if headers
            .iter()
            .any(|(n, v)| n == "content-encoding" && v.eq_ignore_ascii_case("gzip"))
        {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&raw_body[..]).read_to_end(&mut plain)?;
            plain
        } else {
            raw_body.clone()
        };
        lock(&inner.requests).push(Request {
            method,
            path,
            headers,
            raw_body,
            body,
            status: if reply.hang { 0 } else { reply.status },
        });
        if reply.hang {
            // Hold the connection without answering until the peer closes
            // it or the server stops.
            let mut sink = [0u8; 1024];
            while !inner.stop.load(Ordering::SeqCst) && born.elapsed() < CONNECTION_LIFETIME {
                match stream.read(&mut sink) {
                    Ok(0) => return Ok(()),
                    Ok(_) => {}
                    Err(e) if is_poll_timeout(&e) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(());
        }
        if !reply.delay.is_zero() {
            thread::sleep(reply.delay);
        }
        let mut response = format!(
            "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
            reply.status,
            reason(reply.status),
            reply.body.len()
        );
        for (name, value) in &reply.headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        response.push_str("\r\n");
        response.push_str(&reply.body);
        stream.write_all(response.as_bytes())?;
        stream.flush()?;
    }
}

fn is_poll_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

type RawRequest = (String, String, Vec<(String, String)>, Vec<u8>);

/// Reads one request; `None` when the peer closed the connection (or the
/// server stops) before a new request began.
fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    inner: &Inner,
    born: Instant,
) -> io::Result<Option<RawRequest>> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if inner.stop.load(Ordering::SeqCst) || born.elapsed() > CONNECTION_LIFETIME {
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
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
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
        if inner.stop.load(Ordering::SeqCst) {
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
    Ok(Some((method, path, headers, body)))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

/// A loopback address where nothing listens (connections are refused).
pub(crate) fn refused_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}
