//! Listening: binding loopback ports, and the accept loop that serves each
//! connection on its own thread until the server stops.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::server::connection::serve;
use crate::server::state::{ServerState, lock};

/// How long the accept loop sleeps when no connection is waiting.
const ACCEPT_POLL: Duration = Duration::from_millis(1);
/// How long [`rebind`] keeps trying to bind the old port.
const REBIND_FOR: Duration = Duration::from_secs(5);
/// How long [`rebind`] waits between two tries.
const REBIND_RETRY: Duration = Duration::from_millis(10);

/// One period between a start and a stop: the accept thread, the
/// connection threads, and the flag that tells them all to end.
pub(super) struct Run {
    stop: Arc<AtomicBool>,
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Run {
    /// Accepts connections on `listener` on a new thread, serving each one
    /// from `state` on a thread of its own.
    pub(super) fn spawn(listener: TcpListener, state: &Arc<ServerState>) -> io::Result<Run> {
        listener.set_nonblocking(true)?;
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let stop = Arc::clone(&stop);
            let state = Arc::clone(state);
            let connections = Arc::clone(&connections);
            thread::Builder::new()
                .name("loopback-accept".into())
                .spawn(move || accept_loop(&listener, &state, &stop, &connections))?
        };
        Ok(Run {
            stop,
            accept,
            connections,
        })
    }

    /// Tells every thread of the run to end, closing the listening socket
    /// and the connections, and returns once they all have.
    pub(super) fn stop_and_join(self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.accept.join();
        let connections = std::mem::take(&mut *lock(&self.connections));
        for connection in connections {
            let _ = connection.join();
        }
    }
}

fn accept_loop(
    listener: &TcpListener,
    state: &Arc<ServerState>,
    stop: &Arc<AtomicBool>,
    connections: &Mutex<Vec<JoinHandle<()>>>,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                let state = Arc::clone(state);
                let stop = Arc::clone(stop);
                let spawned =
                    thread::Builder::new()
                        .name("loopback-conn".into())
                        .spawn(move || {
                            let _ = serve(stream, &state, &stop);
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

/// Binds `addr` again, retrying for up to 5 s while the port is still
/// taken.
///
/// # Errors
/// The last bind error, when the port could not be bound within 5 s.
pub(super) fn rebind(addr: SocketAddr) -> io::Result<TcpListener> {
    let deadline = Instant::now() + REBIND_FOR;
    loop {
        match TcpListener::bind(addr) {
            Ok(listener) => return Ok(listener),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => thread::sleep(REBIND_RETRY),
        }
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
