//! The settings of the disk queue: [`DiskQueueOptions`] and
//! [`Durability`].

use std::path::PathBuf;
use std::time::Duration;

/// How much the disk queue guarantees when `send_envelope` returns.
///
/// | mode | where the file is written | `fsync` | survives |
/// | --- | --- | --- | --- |
/// | [`Buffered`](Durability::Buffered) (default) | on the transport thread, soon after capture | never | the process crashing or being killed, once written; not a power loss |
/// | [`Sync`](Durability::Sync) | on the capturing thread, before `send_envelope` returns, for envelopes holding an event or user feedback | file and directory | the process being killed at any point after the capture returned; a power loss too |
///
/// (The directory is `fsync`ed on Unix only; elsewhere a power loss right
/// after the capture may lose the file's name.)
///
/// See [`DiskQueueOptions`] for the cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Durability {
    /// Envelopes are written by the transport's thread without `fsync`.
    /// Capturing does no file I/O, except when the in-memory queue is full:
    /// then the capturing thread writes the envelope itself rather than
    /// dropping it.
    #[default]
    Buffered,
    /// Envelopes holding an event or user feedback are written, `fsync`ed and their
    /// directory `fsync`ed on the capturing thread before `send_envelope`
    /// (so `capture_*`) returns: once a capture returned, its event is on
    /// disk. Other envelopes (sessions, reports, lone attachments) are
    /// written as in [`Buffered`](Durability::Buffered).
    Sync,
}

/// Settings of the [`HttpTransport`](crate::HttpTransport)'s disk queue
/// (see [`HttpTransportOptions::disk_queue`](crate::HttpTransportOptions::disk_queue)).
///
/// | setting | default |
/// | --- | --- |
/// | [`dir`](DiskQueueOptions::dir) | (required) |
/// | [`max_count`](DiskQueueOptions::max_count) | 1000 envelopes |
/// | [`max_bytes`](DiskQueueOptions::max_bytes) | 50 MiB |
/// | [`durability`](DiskQueueOptions::durability) | [`Durability::Buffered`] |
/// | [`drain_interval`](DiskQueueOptions::drain_interval) | 100 ms |
///
/// ```
/// use std::time::Duration;
/// use vigil_transport::{DiskQueueOptions, Durability, HttpTransportOptions};
/// let options = HttpTransportOptions::new().disk_queue_with(
///     DiskQueueOptions::new("/var/lib/my-app/vigil")
///         .max_count(5_000)
///         .durability(Durability::Sync)
///         .drain_interval(Duration::from_millis(20)),
/// );
/// # let _ = options;
/// ```
///
/// # Cost
/// With [`Durability::Buffered`] a capture costs what it costs without the
/// disk queue: the transport thread does the writing. (Except when the
/// in-memory queue is full: then the capturing thread writes the file,
/// about as long as a `Sync` write without the `fsync`s.) With
/// [`Durability::Sync`] each capture of an event waits for a file write, a
/// rename and two `fsync`s. Measured on the development machine (a 2-vCPU
/// VM, ext4 on a virtio disk, release build, one capture every 2 ms): a
/// median of about 20 µs per capture without the disk queue or with
/// `Buffered`, and about 390–550 µs with `Sync` (99th percentile 0.6–7
/// ms). It depends on the storage above all; measure yours with
/// `cargo test --release -p vigil-telemetry --test fault_sync_cost -- --ignored --nocapture`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiskQueueOptions {
    /// The directory of the queue; created when missing. Several processes
    /// (or transports) may share it: each file is sent by one of them.
    pub dir: PathBuf,
    /// The most envelopes kept; when full, the oldest is deleted and its
    /// items counted as `cache_overflow`. At least 1 (0 counts as 1).
    pub max_count: usize,
    /// The most bytes kept (file contents), enforced like `max_count`. An
    /// envelope larger than this is not stored: it is sent as it would be
    /// without a disk queue. At least 64 KiB (a smaller value counts as
    /// 64 KiB).
    pub max_bytes: u64,
    /// When envelopes are written, and whether they are `fsync`ed.
    pub durability: Durability,
    /// The pause between two sends of stored envelopes while working
    /// through a backlog (stored at start-up, during an outage or because
    /// the in-memory queue was full). Envelopes captured while the server
    /// is reachable are sent at once, not paced. Clamped to 1 ms ..= 1 h.
    pub drain_interval: Duration,
}

/// The smallest `max_bytes`.
const MIN_BYTES: u64 = 64 * 1024;
/// The longest `drain_interval`.
const MAX_DRAIN_INTERVAL: Duration = Duration::from_secs(60 * 60);

impl DiskQueueOptions {
    /// The options brought into their bounds, each change reported in
    /// debug output.
    pub(crate) fn normalized(mut self) -> DiskQueueOptions {
        if self.max_count == 0 {
            vigil_core::vigil_debug!("disk queue max_count 0 is out of bounds; using 1");
            self.max_count = 1;
        }
        if self.max_bytes < MIN_BYTES {
            vigil_core::vigil_debug!(
                "disk queue max_bytes {} is out of bounds; using {MIN_BYTES}",
                self.max_bytes
            );
            self.max_bytes = MIN_BYTES;
        }
        self.drain_interval = crate::http::options::clamp(
            "disk queue drain_interval",
            self.drain_interval,
            Duration::from_millis(1),
            MAX_DRAIN_INTERVAL,
        );
        self
    }

    /// The defaults (see the table above) with the queue in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> DiskQueueOptions {
        DiskQueueOptions {
            dir: dir.into(),
            max_count: 1000,
            max_bytes: 50 * 1024 * 1024,
            durability: Durability::Buffered,
            drain_interval: Duration::from_millis(100),
        }
    }

    /// Sets [`max_count`](DiskQueueOptions::max_count) (0 counts as 1).
    #[must_use]
    pub fn max_count(mut self, max: usize) -> DiskQueueOptions {
        self.max_count = max;
        self
    }

    /// Sets [`max_bytes`](DiskQueueOptions::max_bytes).
    #[must_use]
    pub fn max_bytes(mut self, max: u64) -> DiskQueueOptions {
        self.max_bytes = max;
        self
    }

    /// Sets [`durability`](DiskQueueOptions::durability).
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> DiskQueueOptions {
        self.durability = durability;
        self
    }

    /// Sets [`drain_interval`](DiskQueueOptions::drain_interval).
    #[must_use]
    pub fn drain_interval(mut self, interval: Duration) -> DiskQueueOptions {
        self.drain_interval = interval;
        self
    }
}
