//! The HTTP transport with a disk queue: the worker's handler stores every
//! envelope before the [`HttpSender`] it owns sends it, and works through
//! the stored backlog.
//!
//! While the server is reachable ("online") a new envelope is stored and
//! sent at once; the file is removed once the server answered for good.
//! After a network failure, or an outage status (`502`, `503`, `504`, a
//! redirect), the file stays and the backlog goes offline: new envelopes
//! are only stored, and the oldest stored one is tried now and then (a
//! probe), the pause doubling from `initial_backoff` up to
//! [`MAX_PROBE_INTERVAL`], jittered (so a fleet of processes spreads its
//! probes), and never shorter than the server's `Retry-After`. An answer brings
//! it back online; then, and at start-up, the directory is read again and
//! stored envelopes are sent oldest first, `drain_interval` apart, pausing
//! while rate limits hold.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_core::protocol::{DataCategory, Envelope};

use crate::http::backoff::jitter;
use crate::http::sender::HttpSender;
use crate::spool::Spool;
use crate::spool::claim::Claimed;
use crate::worker::control::Control;
use crate::worker::handler::{Handler, Job};

/// How often the disk queue's directory is read again for envelopes
/// stored by other processes (besides at start-up and on reconnecting).
const RESCAN_INTERVAL: Duration = Duration::from_secs(30);
/// While the server is unreachable, it is tried at most this often, even
/// with a zero back-off.
const MIN_PROBE_INTERVAL: Duration = Duration::from_millis(10);
/// While the server is unreachable, the pause between probes grows up to
/// this.
pub(crate) const MAX_PROBE_INTERVAL: Duration = Duration::from_secs(5 * 60);
/// A `Retry-After` on an outage status holds the probes back at most this
/// long.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// What the worker of a transport with a disk queue is given.
#[derive(Debug)]
pub(crate) enum DiskJob {
    /// Store this envelope, then send it.
    StoreAndSend(Envelope),
    /// Send this envelope, which the capturing thread stored already as the
    /// file `name`.
    SendStored {
        /// The envelope, as read before it was stored.
        envelope: Envelope,
        /// Its file in the disk queue.
        name: String,
    },
}

impl Job for DiskJob {
    /// A stored envelope is never lost: its file stays and is sent later.
    fn items_at_stake(&self) -> Vec<(DataCategory, u64)> {
        match self {
            DiskJob::StoreAndSend(envelope) => envelope.items_at_stake(),
            DiskJob::SendStored { .. } => Vec::new(),
        }
    }
}

/// The worker's handler with a disk queue: the state of the stored backlog
/// around the sender that delivers each envelope.
pub(crate) struct DiskBacklog {
    sender: HttpSender,
    spool: Arc<Spool>,
    /// The last request reached the server (or none was made yet). While
    /// offline, envelopes are only stored, and the oldest stored one is
    /// tried now and then (a probe).
    online: bool,
    /// The directory was read at start-up.
    scanned: bool,
    /// Read the directory again at the next step (after reconnecting).
    rescan: bool,
    /// When the directory was last read.
    last_scan: Instant,
    /// The next backlog send (or probe, while offline) is not before this.
    next_drain: Instant,
    /// The pause before the next probe; doubles while offline, up to
    /// [`MAX_PROBE_INTERVAL`].
    probe_backoff: Duration,
}

impl DiskBacklog {
    /// A backlog over `spool`, online, that reads the directory at its
    /// first step.
    pub(crate) fn new(sender: HttpSender, spool: Arc<Spool>) -> DiskBacklog {
        let probe_backoff = sender.options().initial_backoff;
        DiskBacklog {
            sender,
            spool,
            online: true,
            scanned: false,
            rescan: false,
            last_scan: Instant::now(),
            next_drain: Instant::now(),
            probe_backoff,
        }
    }

    /// Rate-limited items are dropped as without a disk queue, then the
    /// envelope is stored and sent from the disk queue. One that cannot be
    /// stored (too large, I/O error) is sent as without a disk queue.
    fn store_and_send(&mut self, mut envelope: Envelope, control: &Control) {
        if envelope.is_empty() {
            return;
        }
        let now = Instant::now();
        if self.sender.drop_rate_limited(&mut envelope, now) {
            return;
        }
        match self.spool.store(&mut envelope, false, true) {
            Ok(name) => self.send_stored(envelope, name, control),
            Err(e) => {
                vigil_core::vigil_debug!("envelope not stored ({e}); sent without the disk queue");
                self.sender.send_now(envelope, now, control);
            }
        }
    }

    /// Sends an envelope stored as `name`, unless the server is
    /// unreachable or its items are rate limited: then it waits in the
    /// backlog.
    fn send_stored(&mut self, envelope: Envelope, name: String, control: &Control) {
        if !self.online {
            // Left to the backlog drain, whose probe finds out when the
            // server is back.
            self.spool.unqueue(&name);
            return;
        }
        // Gone when the backlog drain or a full disk queue took it first.
        let Some(claimed) = self.spool.claim(&name) else {
            return;
        };
        let now = Instant::now();
        if let Some(pause) = self.sender.limits().pause_for(&envelope, now) {
            // Stored envelopes wait for the limit to end; they are not
            // dropped.
            claimed.release();
            self.next_drain = self.next_drain.max(now + pause);
            return;
        }
        let attempts = self.sender.options().max_attempts;
        self.send_claimed(claimed, envelope, attempts, control);
    }

    /// Sends a stored envelope, making `attempts` tries on network
    /// failures. After a final answer the file is removed; after a network
    /// failure it stays and the backlog goes offline. Returns whether the
    /// server was reached.
    fn send_claimed(
        &mut self,
        claimed: Claimed,
        envelope: Envelope,
        attempts: u32,
        control: &Control,
    ) -> bool {
        let delivery =
            self.sender
                .deliver_with_due_report(envelope, Instant::now(), attempts, control);
        if !delivery.reached_server() {
            let retry_after = delivery.retry_after();
            self.sender.defer(delivery);
            vigil_core::vigil_debug!("envelope kept in the disk queue ({})", claimed.name());
            claimed.release();
            self.went_offline(retry_after);
            return false;
        }
        claimed.complete();
        self.sender.account(delivery);
        self.came_online();
        true
    }

    /// A request failed on the network, or the server is in an outage:
    /// probe later, backing off, and not before `retry_after`.
    fn went_offline(&mut self, retry_after: Option<Duration>) {
        let options = self.sender.options();
        self.probe_backoff = if self.online {
            options.initial_backoff
        } else {
            self.probe_backoff
                .checked_mul(2)
                .unwrap_or(MAX_PROBE_INTERVAL)
                .min(MAX_PROBE_INTERVAL)
        };
        if self.online {
            vigil_core::vigil_debug!(
                "server unreachable; envelopes stay in the disk queue until it is back"
            );
        }
        self.online = false;
        let pause = jitter(self.probe_backoff)
            .max(MIN_PROBE_INTERVAL)
            .max(retry_after.unwrap_or_default().min(MAX_RETRY_AFTER));
        let now = Instant::now();
        self.next_drain = now.checked_add(pause).unwrap_or(now + MAX_PROBE_INTERVAL);
    }

    /// A request reached the server: send new envelopes at once again and
    /// read the directory at the next step.
    fn came_online(&mut self) {
        if !self.online {
            vigil_core::vigil_debug!("server reachable again; sending the disk queue");
            self.online = true;
            self.rescan = true;
        }
    }

    /// One step of working through the stored backlog: read the directory
    /// when due, then send the oldest stored envelope if the pacing, the
    /// rate limits and the connection allow.
    fn drain_step(&mut self, control: &Control) {
        let now = Instant::now();
        if !self.scanned || self.rescan || now >= self.last_scan + RESCAN_INTERVAL {
            self.spool.scan();
            self.scanned = true;
            self.rescan = false;
            self.last_scan = now;
        }
        if now < self.next_drain {
            return;
        }
        if let Some(all) = self.sender.limits().active(now).all {
            // While everything is rate limited the backlog waits.
            self.next_drain = now + all;
            return;
        }
        let drain_interval = self.spool.options().drain_interval;
        let Some((claimed, envelope)) = self.spool.next_backlog() else {
            // Only unreadable files were found (or none): look again soon.
            self.next_drain = now + drain_interval;
            return;
        };
        if let Some(pause) = self.sender.limits().pause_for(&envelope, now) {
            claimed.release();
            self.next_drain = now + pause;
            return;
        }
        if self.send_claimed(claimed, envelope, 1, control) {
            self.next_drain = Instant::now() + drain_interval;
        }
    }
}

impl Handler for DiskBacklog {
    type Job = DiskJob;

    fn handle(&mut self, job: DiskJob, control: &Control) {
        match job {
            DiskJob::StoreAndSend(envelope) => self.store_and_send(envelope, control),
            DiskJob::SendStored { envelope, name } => self.send_stored(envelope, name, control),
        }
    }

    /// Sends the pending client report on its own, if there is one (not
    /// while the server is unreachable).
    fn flush(&mut self, control: &Control) {
        if self.online {
            self.sender.send_pending_report(control);
        }
    }

    fn idle_interval(&self) -> Option<Duration> {
        self.sender.idle_interval()
    }

    fn idle(&mut self, control: &Control) {
        if self.online {
            self.sender.send_report_if_due(control);
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        if !self.scanned || self.rescan {
            return Some(Instant::now());
        }
        if self.spool.has_backlog() {
            Some(self.next_drain)
        } else {
            Some(self.last_scan + RESCAN_INTERVAL)
        }
    }

    fn wake(&mut self, control: &Control) {
        self.drain_step(control);
    }

    /// Stores an envelope that raced in behind the shutdown; one stored
    /// already is kept as it is.
    fn keep_at_shutdown(&mut self, job: &mut DiskJob) -> bool {
        match job {
            DiskJob::StoreAndSend(envelope) => self.spool.store(envelope, false, false).is_ok(),
            DiskJob::SendStored { .. } => true,
        }
    }
}
