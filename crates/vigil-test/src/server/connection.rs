//! One connection: reading requests one after another (keep-alive) and
//! carrying out the scripted reply to each.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::server::http::{is_poll_timeout, read_request, response_text};
use crate::server::reply::Behavior;
use crate::server::state::ServerState;

/// The longest a connection lives, whatever its script says: a safety net
/// so that a forgotten [`Reply::hang`](crate::server::reply::Reply::hang)
/// cannot keep a test alive forever.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// How often blocked reads and sleeps wake up to look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

/// Serves requests on one (keep-alive) connection until the peer closes
/// it, a reply ends it, the server stops, or [`CONNECTION_LIFETIME`] passes.
pub(super) fn serve(
    mut stream: TcpStream,
    state: &ServerState,
    stop: &AtomicBool,
) -> io::Result<()> {
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
        let close_after = raw.wants_close();
        let reply = state.next_reply();
        let index = state.record(raw);
        if !reply.delay.is_zero() && !sleep_unless_stopped(reply.delay, stop) {
            return Ok(());
        }
        match &reply.behavior {
            Behavior::Respond => {}
            Behavior::Hang => return hold_until_closed(&mut stream, &alive),
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
        let response = response_text(&reply);
        // Marked before writing, so a client that read the response sees it
        // recorded; unmarked if the write fails.
        state.answered(index, reply.status);
        if let Err(e) = stream
            .write_all(response.as_bytes())
            .and_then(|()| stream.flush())
        {
            state.answered(index, 0);
            return Err(e);
        }
        if close_after {
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

/// Reads and discards whatever the peer sends, without answering, until it
/// closes the connection or `alive` turns false.
fn hold_until_closed(stream: &mut TcpStream, alive: &dyn Fn() -> bool) -> io::Result<()> {
    let mut sink = [0u8; 1024];
    while alive() {
        match stream.read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if is_poll_timeout(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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
