//! The loopback HTTP server: the handle tests hold, and the parts it is
//! made of.

mod connection;
mod http;
pub(crate) mod listener;
pub(crate) mod reply;
pub(crate) mod request;
mod state;

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vigil_protocol::EventId;

use crate::server::listener::{Run, rebind};
use crate::server::reply::Reply;
use crate::server::request::Request;
use crate::server::state::{ServerState, lock};

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
    state: Arc<ServerState>,
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
        let state = Arc::new(ServerState::new());
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let run = Run::spawn(listener, &state)?;
        Ok(LoopbackServer {
            addr,
            state,
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
        self.state.script(replies);
    }

    /// The reply once the script is used up.
    pub fn set_default(&self, reply: Reply) {
        self.state.set_default(reply);
    }

    /// How many scripted replies are not used yet.
    pub fn script_left(&self) -> usize {
        self.state.script_left()
    }

    /// A copy of every request recorded so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.state.with_requests(<[Request]>::to_vec)
    }

    /// Runs `f` on the requests recorded so far, without copying them.
    pub fn with_requests<R>(&self, f: impl FnOnce(&[Request]) -> R) -> R {
        self.state.with_requests(f)
    }

    /// How many requests were recorded.
    pub fn request_count(&self) -> usize {
        self.state.with_requests(<[Request]>::len)
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
    pub fn wait_for(&self, timeout: Duration, done: impl FnMut(&[Request]) -> bool) -> bool {
        self.state.wait_for(timeout, done)
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
            run.stop_and_join();
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
        let listener = rebind(self.addr)?;
        *run = Some(Run::spawn(listener, &self.state)?);
        Ok(())
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop();
    }
}
