//! The loopback HTTP server.

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use vigil_protocol::{Envelope, EnvelopeItem, EventId};

/// The longest a connection lives, whatever its script says: a safety net
/// so that a forgotten [`Reply::hang`] cannot keep a test alive forever.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// How often blocked reads and sleeps wake up to look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// How long the accept loop sleeps when no connection is waiting.
const ACCEPT_POLL: Duration = Duration::from_millis(1);
/// How long [`LoopbackServer::restart`] keeps trying to bind the old port.
const REBIND_FOR: Duration = Duration::from_secs(5);

/// What the server does with the connection after reading a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behavior {
    /// Answer with the reply's status, headers and body, and keep the
    /// connection open for the next request.
    Respond,
    /// Never answer: hold the connection until the client closes it, the
    /// server stops, or 60 s pass (a safety net).
    Hang,
    /// Reset the connection (TCP `RST`, by closing with a zero linger
    /// time) without answering.
    Reset,
    /// Write these bytes, which are not HTTP, then close the connection.
    Garbage(Vec<u8>),
    /// Close the connection (TCP `FIN`) without answering.
    Close,
}

/// What the server answers to one request.
///
/// Build one with [`Reply::status`], [`Reply::ok`], [`Reply::hang`],
/// [`Reply::reset`], [`Reply::garbage`] or [`Reply::close`], then adjust it
/// with [`header`](Reply::header), [`body`](Reply::body) and
/// [`delay`](Reply::delay).
///
/// ```
/// use std::time::Duration;
/// use vigil_test::Reply;
/// let slow_limit = Reply::status(429)
///     .header("X-Sentry-Rate-Limits", "60:error:key")
///     .delay(Duration::from_millis(5));
/// assert_eq!(slow_limit.status, 429);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply {
    /// The status code (only used by [`Behavior::Respond`]).
    pub status: u16,
    /// Extra response headers, in order. `Content-Length` and
    /// `Content-Type: application/json` are always sent.
    pub headers: Vec<(String, String)>,
    /// The response body.
    pub body: String,
    /// How long to wait after reading the request, before doing anything.
    pub delay: Duration,
    /// What to do with the connection.
    pub behavior: Behavior,
}

impl Reply {
    /// Answers with `status`. A `2xx` gets the body Sentry sends
    /// (`{"id":"…"}`), any other status an empty one.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: if (200..300).contains(&status) {
                r#"{"id":"00000000000000000000000000000000"}"#.into()
            } else {
                String::new()
            },
            delay: Duration::ZERO,
            behavior: Behavior::Respond,
        }
    }

    /// Answers `200 OK`.
    pub fn ok() -> Reply {
        Reply::status(200)
    }

    /// Never answers (see [`Behavior::Hang`]); the client must time out.
    pub fn hang() -> Reply {
        Reply::without_answer(Behavior::Hang)
    }

    /// Resets the connection without answering (see [`Behavior::Reset`]).
    pub fn reset() -> Reply {
        Reply::without_answer(Behavior::Reset)
    }

    /// Writes `bytes` instead of an HTTP response, then closes the
    /// connection.
    pub fn garbage(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply::without_answer(Behavior::Garbage(bytes.into()))
    }

    /// Closes the connection without answering.
    pub fn close() -> Reply {
        Reply::without_answer(Behavior::Close)
    }

    fn without_answer(behavior: Behavior) -> Reply {
        Reply {
            behavior,
            ..Reply::status(0)
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the response body.
    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.into();
        self
    }

    /// Waits this long after reading the request before answering (or
    /// hanging, resetting, …).
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// One request the server read completely.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target, e.g. `/api/42/envelope/`.
    pub path: String,
    /// The headers, names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as it came over the wire.
    pub raw_body: Vec<u8>,
    /// The status answered: set as the response is written (and reset to 0
    /// if writing fails); 0 when the server wrote no HTTP response (hang,
    /// reset, garbage, close, or the server stopped first).
    pub status: u16,
    /// When the server finished reading the request.
    pub received_at: Instant,
    /// The inflated body and the envelope parsed from it, worked out on
    /// first use (off the server's response path).
    decoded: OnceLock<Decoded>,
}

#[derive(Clone, Debug)]
struct Decoded {
    body: Vec<u8>,
    envelope: Option<Envelope>,
}

impl Request {
    /// The value of the first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn decoded(&self) -> &Decoded {
        self.decoded.get_or_init(|| {
            let gzipped = self
                .header("content-encoding")
                .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
            let body = if gzipped {
                let mut plain = Vec::new();
                match flate2::read::GzDecoder::new(&self.raw_body[..]).read_to_end(&mut plain) {
                    Ok(_) => plain,
                    Err(_) => self.raw_body.clone(),
                }
            } else {
                self.raw_body.clone()
            };
            let envelope = Envelope::from_slice(&body).ok();
            Decoded { body, envelope }
        })
    }

    /// The body, gunzipped when `Content-Encoding: gzip` (the raw body if
    /// it does not inflate).
    pub fn body(&self) -> &[u8] {
        &self.decoded().body
    }

    /// The body parsed as an envelope, if it is one.
    pub fn try_envelope(&self) -> Option<&Envelope> {
        self.decoded().envelope.as_ref()
    }

    /// The body parsed as an envelope.
    ///
    /// # Panics
    /// When the body is not a valid envelope.
    #[track_caller]
    pub fn envelope(&self) -> Envelope {
        match self.try_envelope() {
            Some(envelope) => envelope.clone(),
            None => panic!(
                "the body is not a valid envelope: {}",
                String::from_utf8_lossy(self.body())
            ),
        }
    }

    /// The ids of the event items in the body (none when it is not an
    /// envelope).
    pub fn event_ids(&self) -> Vec<EventId> {
        self.try_envelope()
            .into_iter()
            .flat_map(Envelope::items)
            .filter_map(|i| match i {
                EnvelopeItem::Event(e) => Some(e.event_id),
                _ => None,
            })
            .collect()
    }

    /// How many event items the body holds.
    pub fn events(&self) -> u64 {
        self.event_ids().len() as u64
    }

    /// Whether the server accepted the request (`2xx`).
    pub fn is_accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the server accounted for what it got: accepted (`2xx`) or
    /// rate limited (`429`, which a Sentry server counts itself, so the SDK
    /// does not).
    pub fn accounted_by_server(&self) -> bool {
        self.is_accepted() || self.status == 429
    }
}

/// State shared by the handle, the accept loop and the connections; it
/// survives restarts.
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Reply>,
    requests: Mutex<Vec<Request>>,
    /// Signalled whenever a request is recorded.
    recorded: Condvar,
}

/// One period between a start and a stop.
struct Run {
    stop: Arc<AtomicBool>,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A scripted HTTP/1.1 server on a loopback port; see the [crate docs](crate).
///
/// - Replies come from the script ([`script`](LoopbackServer::script)),
///   one per request in arrival order, then from the default
///   ([`set_default`](LoopbackServer::set_default), `200 OK` at first).
/// - Every request read in full is recorded ([`requests`](LoopbackServer::requests),
///   [`with_requests`](LoopbackServer::with_requests)) before the reply is
///   carried out; its [`status`](Request::status) is set when the response
///   is written, so a request the server took but never answered (it
///   stopped first, say) does not count as accepted.
/// - [`stop`](LoopbackServer::stop) closes the listening socket and every
///   connection (new connections are refused);
///   [`restart`](LoopbackServer::restart) listens on the same port again.
///   Script, default and recorded requests carry over.
/// - Each connection is served on its own thread; dropping the server stops
///   it and joins them all.
///
/// The server understands what HTTP clients send to Sentry: a request line,
/// headers, and a body of `Content-Length` bytes (no chunked encoding). It
/// keeps connections alive unless the request says `Connection: close`.
pub struct LoopbackServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    run: Mutex<Option<Run>>,
}

impl fmt::Debug for LoopbackServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoopbackServer")
            .field("addr", &self.addr)
            .field("running", &self.is_running())
            .finish_non_exhaustive()
    }
}

impl LoopbackServer {
    /// Starts a server on a free port of `127.0.0.1`, answering `200 OK`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub fn start() -> LoopbackServer {
        match LoopbackServer::start_on(SocketAddr::from(([127, 0, 0, 1], 0))) {
            Ok(server) => server,
            Err(e) => panic!("cannot bind a loopback port: {e}"),
        }
    }

    /// Starts a server on `addr` (port 0 picks a free one).
    ///
    /// # Errors
    /// When `addr` cannot be bound (for example, it is in use).
    pub fn start_on(addr: SocketAddr) -> io::Result<LoopbackServer> {
        let shared = Arc::new(Shared {
            script: Mutex::new(VecDeque::new()),
            default: Mutex::new(Reply::ok()),
            requests: Mutex::new(Vec::new()),
            recorded: Condvar::new(),
        });
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let run = spawn_run(listener, &shared)?;
        Ok(LoopbackServer {
            addr,
            shared,
            run: Mutex::new(Some(run)),
        })
    }

    /// The address the server listens on (kept across restarts).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A DSN pointing at this server: project 42, public key `public`,
    /// secret key `secret`.
    pub fn dsn(&self) -> String {
        format!("http://public:secret@{}/42", self.addr)
    }

    /// Answers the next requests with `replies`, in order (after replies
    /// scripted before and not used yet); then the default.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.shared.script).extend(replies);
    }

    /// The reply once the script is used up.
    pub fn set_default(&self, reply: Reply) {
        *lock(&self.shared.default) = reply;
    }

    /// How many scripted replies are not used yet.
    pub fn script_left(&self) -> usize {
        lock(&self.shared.script).len()
    }

    /// A copy of every request recorded so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// Runs `f` on the requests recorded so far, without copying them.
    pub fn with_requests<R>(&self, f: impl FnOnce(&[Request]) -> R) -> R {
        f(&lock(&self.shared.requests))
    }

    /// How many requests were recorded.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// The ids of the events in accepted (`2xx`) requests, in arrival
    /// order, duplicates included.
    pub fn delivered_event_ids(&self) -> Vec<EventId> {
        self.with_requests(|requests| {
            requests
                .iter()
                .filter(|r| r.is_accepted())
                .flat_map(Request::event_ids)
                .collect()
        })
    }

    /// The distinct ids of the events in accepted (`2xx`) requests.
    pub fn accepted_event_ids(&self) -> HashSet<EventId> {
        self.delivered_event_ids().into_iter().collect()
    }

    /// How many times an event was accepted again after its first
    /// acceptance (0 when every event was accepted at most once).
    pub fn duplicate_deliveries(&self) -> usize {
        let delivered = self.delivered_event_ids();
        let distinct: HashSet<_> = delivered.iter().collect();
        delivered.len() - distinct.len()
    }

    /// The distinct ids of events the server answered with `429` (and so
    /// counted itself) and never accepted.
    pub fn rate_limited_event_ids(&self) -> HashSet<EventId> {
        self.with_requests(|requests| {
            let accepted: HashSet<EventId> = requests
                .iter()
                .filter(|r| r.is_accepted())
                .flat_map(Request::event_ids)
                .collect();
            requests
                .iter()
                .filter(|r| r.status == 429)
                .flat_map(Request::event_ids)
                .filter(|id| !accepted.contains(id))
                .collect()
        })
    }

    /// Waits until `done` returns true for the recorded requests, at most
    /// `timeout`. `done` runs now, after each new request, and at least
    /// every 50 ms. Returns whether it became true.
    pub fn wait_for(&self, timeout: Duration, mut done: impl FnMut(&[Request]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut requests = lock(&self.shared.requests);
        loop {
            if done(&requests) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            let wait = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(50));
            requests = self
                .shared
                .recorded
                .wait_timeout(requests, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Whether the server is listening (not [`stop`](LoopbackServer::stop)ped).
    pub fn is_running(&self) -> bool {
        lock(&self.run).is_some()
    }

    /// Stops listening and closes every open connection (a request being
    /// read is dropped unrecorded; a hanging or delayed reply ends without
    /// an answer). Connections to the port are refused until
    /// [`restart`](LoopbackServer::restart). Returns when every server
    /// thread has ended. Stopping a stopped server does nothing.
    pub fn stop(&self) {
        let run = lock(&self.run).take();
        if let Some(run) = run {
            run.stop.store(true, Ordering::SeqCst);
            let _ = run.accept.join();
            let connections = std::mem::take(&mut *lock(&run.connections));
            for connection in connections {
                let _ = connection.join();
            }
        }
    }

    /// Listens on the same port again after [`stop`](LoopbackServer::stop),
    /// retrying for up to 5 s while the port is still taken. Restarting a
    /// running server does nothing.
    ///
    /// # Errors
    /// When the port cannot be bound within 5 s (another program took it).
    pub fn restart(&self) -> io::Result<()> {
        let mut run = lock(&self.run);
        if run.is_some() {
            return Ok(());
        }
        let deadline = Instant::now() + REBIND_FOR;
        let listener = loop {
            match TcpListener::bind(self.addr) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        };
        *run = Some(spawn_run(listener, &self.shared)?);
        Ok(())
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn_run(listener: TcpListener, shared: &Arc<Shared>) -> io::Result<Run> {
    listener.set_nonblocking(true)?;
    let stop = Arc::new(AtomicBool::new(false));
    let connections = Arc::new(Mutex::new(Vec::new()));
    let accept = {
        let stop = Arc::clone(&stop);
        let shared = Arc::clone(shared);
        let connections = Arc::clone(&connections);
        thread::Builder::new()
            .name("loopback-accept".into())
            .spawn(move || accept_loop(&listener, &shared, &stop, &connections))?
    };
    Ok(Run {
        stop,
        accept,
        connections,
    })
}

fn accept_loop(
    listener: &TcpListener,
    shared: &Arc<Shared>,
    stop: &Arc<AtomicBool>,
    connections: &Mutex<Vec<JoinHandle<()>>>,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                let stop = Arc::clone(stop);
                let spawned =
                    thread::Builder::new()
                        .name("loopback-conn".into())
                        .spawn(move || {
                            let _ = serve(stream, &shared, &stop);
                        });
                let mut connections = lock(connections);
                connections.retain(|c| !c.is_finished());
                if let Ok(handle) = spawned {
                    connections.push(handle);
                }
            }
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

fn is_poll_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Sleeps `delay` in short steps; `false` if the server stopped meanwhile.
fn sleep_unless_stopped(delay: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + delay;
    loop {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let now = Instant::now();
        if now >= until {
            return true;
        }
        thread::sleep(until.saturating_duration_since(now).min(POLL));
    }
}

/// Serves requests on one (keep-alive) connection.
fn serve(mut stream: TcpStream, shared: &Shared, stop: &AtomicBool) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(POLL))?;
    let born = Instant::now();
    let alive = || !stop.load(Ordering::SeqCst) && born.elapsed() < CONNECTION_LIFETIME;
    let mut buf = Vec::new();
    loop {
        let Some(raw) = read_request(&mut stream, &mut buf, &alive)? else {
            return Ok(());
        };
        let close_after = raw
            .headers
            .iter()
            .any(|(n, v)| n == "connection" && v.eq_ignore_ascii_case("close"));
        let reply = lock(&shared.script)
            .pop_front()
            .unwrap_or_else(|| lock(&shared.default).clone());
        let index = record(shared, raw);
        if !reply.delay.is_zero() && !sleep_unless_stopped(reply.delay, stop) {
            return Ok(());
        }
        match &reply.behavior {
            Behavior::Respond => {}
            Behavior::Hang => {
                let mut sink = [0u8; 1024];
                while alive() {
                    match stream.read(&mut sink) {
                        Ok(0) => return Ok(()),
                        Ok(_) => {}
                        Err(e) if is_poll_timeout(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
                return Ok(());
            }
            Behavior::Reset => {
                // A zero linger time makes the close send RST, not FIN.
                socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
            Behavior::Garbage(bytes) => {
                stream.write_all(bytes)?;
                stream.flush()?;
                let _ = stream.shutdown(Shutdown::Both);
                return Ok(());
            }
            Behavior::Close => {
                let _ = stream.shutdown(Shutdown::Both);
                return Ok(());
            }
        }
        let mut response = format!(
            "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nContent-Type: application/json\r\n",
            reply.status,
            reason(reply.status),
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
        // Marked before writing, so a client that read the response sees it
        // recorded; unmarked if the write fails.
        answered(shared, index, reply.status);
        if let Err(e) = stream
            .write_all(response.as_bytes())
            .and_then(|()| stream.flush())
        {
            answered(shared, index, 0);
            return Err(e);
        }
        if close_after {
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

/// A request as read off the wire: method, path, headers, body.
struct RawRequest {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Records a request (not answered yet); returns its index.
fn record(shared: &Shared, raw: RawRequest) -> usize {
    let request = Request {
        method: raw.method,
        path: raw.path,
        headers: raw.headers,
        raw_body: raw.body,
        status: 0,
        received_at: Instant::now(),
        decoded: OnceLock::new(),
    };
    let mut requests = lock(&shared.requests);
    requests.push(request);
    let index = requests.len() - 1;
    drop(requests);
    shared.recorded.notify_all();
    index
}

/// Sets the status answered to request `index`.
fn answered(shared: &Shared, index: usize, status: u16) {
    if let Some(request) = lock(&shared.requests).get_mut(index) {
        request.status = status;
    }
    shared.recorded.notify_all();
}

/// Reads one request; `None` when the peer closed the connection, or the
/// server stops, before a whole request arrived.
fn read_request(
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

fn reason(status: u16) -> &'static str {
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

/// A loopback address where nothing listens, so connecting is refused.
///
/// It is a port that was free a moment ago; another program could take it
/// before the test uses it, which is unlikely enough for tests.
///
/// # Panics
/// When no loopback port can be bound.
pub fn refused_addr() -> SocketAddr {
    let listener = match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))) {
        Ok(listener) => listener,
        Err(e) => panic!("cannot bind a loopback port: {e}"),
    };
    match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => panic!("cannot read the bound address: {e}"),
    }
}
