//! The disk queue ("spool"): one file per envelope in a directory, written
//! before the envelope is sent and removed once the server answered it for
//! good (`protocol.md` §7.3, offline caching).
//!
//! # Files
//! `<dir>/<micros>-<tag>-<seq>-<kind>.envelope`: `micros` is the wall-clock
//! time of the write in microseconds since the Unix epoch, zero-padded to 16
//! digits, so names sort oldest first; `tag` is random per spool (one per
//! transport, so per process); `seq` counts per spool; `kind` is `e` when
//! the envelope holds an event and `x` otherwise. The content is the
//! envelope in the wire format without `sent_at`. A file is written under
//! `.<name>.tmp` and renamed into place, so a complete name always holds a
//! complete write (unless the machine lost power before the data reached
//! the disk, which [`Durability::Sync`] guards against).
//!
//! # Claiming (several processes, one directory)
//! Before sending a file, or deleting it to make room, the spool opens it
//! and takes an exclusive, non-blocking advisory lock on it (`flock` on
//! Unix, `LockFileEx` on Windows, through `fs4`). A file another sender has
//! locked is skipped. The lock is held while sending; after a final answer
//! the holder truncates the file to zero bytes and then removes it. Anyone
//! who opened the file before it was removed and gets the lock afterwards
//! sees zero bytes and skips it. So a file is sent by one process at a
//! time, and never again after it was answered. Locks die with their
//! process, so a file held by a process killed in mid-send is sent again
//! later: delivery is at least once across crashes. (A zero-length
//! `.envelope` file is always taken as "already sent" and removed.)
//!
//! # Bounds
//! At most `max_count` files and `max_bytes` bytes, counted over the files
//! this spool knows: its own and those found by its last directory scan.
//! To make room the oldest file is deleted and its items counted as
//! `cache_overflow`. A file that does not parse is moved into `corrupt/`
//! (at most [`MAX_CORRUPT`] files are kept there) and counted as one
//! `internal_sdk_error` item (`error` when the name says the envelope held
//! an event, `default` otherwise).

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vigil_core::LossRecorder;
use vigil_core::protocol::{DataCategory, DiscardReason, Envelope, EnvelopeItem};

/// The file name suffix of stored envelopes.
const SUFFIX: &str = ".envelope";
/// The sub-directory corrupt files are moved into.
const CORRUPT_DIR: &str = "corrupt";
/// At most this many files are kept in `corrupt/`; the oldest go first.
pub(crate) const MAX_CORRUPT: usize = 100;
/// At most this many unreadable or empty files are skipped by one call of
/// [`Spool::next_backlog`].
const MAX_SKIPPED: usize = 16;
/// Temporary files older than this are left-overs of a crash: removed.
const STALE_TEMP: Duration = Duration::from_secs(10 * 60);

/// How much the disk queue guarantees when `send_envelope` returns.
///
/// | mode | where the file is written | `fsync` | survives |
/// | --- | --- | --- | --- |
/// | [`Buffered`](Durability::Buffered) (default) | on the transport thread, soon after capture | never | the process crashing or being killed, once written; not a power loss |
/// | [`Sync`](Durability::Sync) | on the capturing thread, before `send_envelope` returns, for envelopes holding an event | file and directory | the process being killed at any point after the capture returned; a power loss too |
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
    /// Envelopes holding an event are written, `fsync`ed and their
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
/// `cargo test --release -p vigil --test fault_sync_cost -- --ignored --nocapture`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiskQueueOptions {
    /// The directory of the queue; created when missing. Several processes
    /// (or transports) may share it: each file is sent by one of them.
    pub dir: PathBuf,
    /// The most envelopes kept; when full, the oldest is deleted and its
    /// items counted as `cache_overflow`. At least 1.
    pub max_count: usize,
    /// The most bytes kept (file contents), enforced like `max_count`. An
    /// envelope larger than this is not stored: it is sent as it would be
    /// without a disk queue.
    pub max_bytes: u64,
    /// When envelopes are written, and whether they are `fsync`ed.
    pub durability: Durability,
    /// The pause between two sends of stored envelopes while working
    /// through a backlog (stored at start-up, during an outage or because
    /// the in-memory queue was full). Envelopes captured while the server
    /// is reachable are sent at once, not paced.
    pub drain_interval: Duration,
}

impl DiskQueueOptions {
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
    pub fn max_count(mut self, max: usize) -> DiskQueueOptions {
        self.max_count = max;
        self
    }

    /// Sets [`max_bytes`](DiskQueueOptions::max_bytes).
    pub fn max_bytes(mut self, max: u64) -> DiskQueueOptions {
        self.max_bytes = max;
        self
    }

    /// Sets [`durability`](DiskQueueOptions::durability).
    pub fn durability(mut self, durability: Durability) -> DiskQueueOptions {
        self.durability = durability;
        self
    }

    /// Sets [`drain_interval`](DiskQueueOptions::drain_interval).
    pub fn drain_interval(mut self, interval: Duration) -> DiskQueueOptions {
        self.drain_interval = interval;
        self
    }
}

/// Why an envelope was not stored.
#[derive(Debug)]
pub(crate) enum StoreError {
    /// Larger than `max_bytes`.
    TooLarge,
    /// The file could not be written.
    Io(io::Error),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::TooLarge => f.write_str("larger than the disk queue's max_bytes"),
            StoreError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// What the spool knows about one stored file.
#[derive(Clone, Debug)]
struct Entry {
    size: u64,
    /// `(category, quantity)` per item, when known (files found by a scan
    /// are read only when needed).
    items: Option<Vec<(DataCategory, u64)>>,
    /// The envelope holds an event (from the file name).
    has_event: bool,
    /// A task on the worker's queue will send it; the backlog drain leaves
    /// it alone.
    queued: bool,
}

#[derive(Debug, Default)]
struct Index {
    /// Stored and not being handled by this spool, oldest first.
    pending: BTreeMap<String, Entry>,
    /// Claimed by this spool (being sent or deleted): name → size.
    in_flight: HashMap<String, u64>,
    /// Bytes of `pending` and `in_flight` together.
    bytes: u64,
}

impl Index {
    fn count(&self) -> usize {
        self.pending.len() + self.in_flight.len()
    }

    /// Adds a pending entry, or refreshes one already known.
    fn insert(&mut self, name: String, entry: Entry) {
        if self.in_flight.contains_key(&name) {
            return;
        }
        let size = entry.size;
        if let Some(old) = self.pending.insert(name, entry) {
            self.bytes = self.bytes.saturating_sub(old.size);
        }
        self.bytes = self.bytes.saturating_add(size);
    }
}

/// The `(category, quantity)` of each item, client reports excepted.
fn summarize(envelope: &Envelope) -> Vec<(DataCategory, u64)> {
    envelope
        .items()
        .iter()
        .filter(|i| !matches!(i, EnvelopeItem::ClientReport(_)))
        .map(|i| (i.category(), i.quantity()))
        .collect()
}

fn has_event(envelope: &Envelope) -> bool {
    envelope
        .items()
        .iter()
        .any(|i| matches!(i, EnvelopeItem::Event(_)))
}

/// A directory of stored envelopes, shared by the transport handle (which
/// writes on the capturing thread in some cases) and its worker.
#[derive(Debug)]
pub(crate) struct Spool {
    dir: PathBuf,
    options: DiskQueueOptions,
    recorder: LossRecorder,
    tag: String,
    seq: AtomicU64,
    dir_ready: AtomicBool,
    index: Mutex<Index>,
}

impl Spool {
    /// A spool over `options.dir`. No I/O happens here: the directory is
    /// created at the first write and read by [`Spool::scan`].
    pub(crate) fn new(options: DiskQueueOptions, recorder: LossRecorder) -> Arc<Spool> {
        let tag = format!(
            "{:08x}",
            std::process::id().rotate_left(16) ^ fastrand::u32(..)
        );
        Arc::new(Spool {
            dir: options.dir.clone(),
            options,
            recorder,
            tag,
            seq: AtomicU64::new(0),
            dir_ready: AtomicBool::new(false),
            index: Mutex::new(Index::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn options(&self) -> &DiskQueueOptions {
        &self.options
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Envelopes stored and known to this spool, being sent included.
    pub(crate) fn len(&self) -> usize {
        self.lock().count()
    }

    /// Stored envelopes waiting for the backlog drain (not queued for
    /// sending, not being sent).
    #[cfg(test)]
    pub(crate) fn backlog_len(&self) -> usize {
        self.lock().pending.values().filter(|e| !e.queued).count()
    }

    /// Whether a stored envelope waits for the backlog drain. (Cheap:
    /// entries queued for sending are few, at most the queue's size.)
    pub(crate) fn has_backlog(&self) -> bool {
        self.lock().pending.values().any(|e| !e.queued)
    }

    fn next_name(&self, has_event: bool) -> String {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let kind = if has_event { 'e' } else { 'x' };
        format!("{micros:016}-{}-{seq:010}-{kind}{SUFFIX}", self.tag)
    }

    fn ensure_dir(&self) -> io::Result<()> {
        if !self.dir_ready.load(Ordering::Relaxed) {
            fs::create_dir_all(&self.dir)?;
            self.dir_ready.store(true, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Writes `envelope` (its `sent_at` cleared) as a new file, making room
    /// first when the queue is full. With `sync` the file and the directory
    /// are `fsync`ed before this returns. `queued` says a worker task will
    /// send it. Returns the file's name.
    pub(crate) fn store(
        self: &Arc<Self>,
        envelope: &mut Envelope,
        sync: bool,
        queued: bool,
    ) -> Result<String, StoreError> {
        envelope.headers_mut().sent_at = None;
        let bytes = envelope.to_vec().map_err(StoreError::Io)?;
        let size = bytes.len() as u64;
        if size > self.options.max_bytes {
            return Err(StoreError::TooLarge);
        }
        let event = has_event(envelope);
        let name = self.next_name(event);
        let temp = self.dir.join(format!(".{name}.tmp"));
        let written = self.write_temp(&temp, &bytes, sync).or_else(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                // The directory was removed under us: once more.
                self.dir_ready.store(false, Ordering::Relaxed);
                self.write_temp(&temp, &bytes, sync)
            } else {
                Err(e)
            }
        });
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(StoreError::Io(e));
        }
        self.make_room(1, size);
        {
            // Renaming under the index lock keeps a concurrent scan from
            // seeing the file before the index does.
            let mut index = self.lock();
            if let Err(e) = fs::rename(&temp, self.dir.join(&name)) {
                drop(index);
                let _ = fs::remove_file(&temp);
                return Err(StoreError::Io(e));
            }
            index.insert(
                name.clone(),
                Entry {
                    size,
                    items: Some(summarize(envelope)),
                    has_event: event,
                    queued,
                },
            );
        }
        if sync {
            sync_dir(&self.dir);
        }
        Ok(name)
    }

    fn write_temp(&self, temp: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
        self.ensure_dir()?;
        let mut file = OpenOptions::new().write(true).create_new(true).open(temp)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        Ok(())
    }

    /// The worker will not send `name` after all (its queue was full): it
    /// becomes part of the backlog.
    pub(crate) fn unqueue(&self, name: &str) {
        if let Some(entry) = self.lock().pending.get_mut(name) {
            entry.queued = false;
        }
    }

    /// Deletes the oldest files until `files` more files of `incoming`
    /// bytes together fit, counting their items as `cache_overflow`.
    fn make_room(self: &Arc<Self>, files: usize, incoming: u64) {
        let max_count = self.options.max_count.max(1);
        loop {
            let victim = {
                let mut index = self.lock();
                if index.count().saturating_add(files) <= max_count
                    && index.bytes.saturating_add(incoming) <= self.options.max_bytes
                {
                    return;
                }
                // Everything else is being sent: store anyway, a little
                // over the bound, rather than lose the new envelope.
                let Some((name, entry)) = index.pending.pop_first() else {
                    return;
                };
                index.in_flight.insert(name.clone(), entry.size);
                (name, entry)
            };
            let Some(mut claimed) = self.open_claimed(victim.0, victim.1) else {
                continue;
            };
            let items = match claimed.entry.items.take() {
                Some(items) => items,
                None => match claimed.envelope() {
                    Ok(envelope) => summarize(&envelope),
                    Err(_) => {
                        claimed.quarantine();
                        continue;
                    }
                },
            };
            vigil_core::vigil_debug!(
                "disk queue full; oldest envelope {} dropped (counted as cache_overflow)",
                claimed.name
            );
            claimed.complete();
            for (category, quantity) in items {
                self.recorder
                    .record(DiscardReason::CacheOverflow, category, quantity);
            }
        }
    }

    /// Reads the directory: files not known yet join the backlog; temporary
    /// files left by a crash long ago are removed. Then the bounds are
    /// enforced. A missing directory is an empty queue.
    pub(crate) fn scan(self: &Arc<Self>) {
        let listing = match fs::read_dir(&self.dir) {
            Ok(listing) => listing,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    vigil_core::vigil_debug!(
                        "cannot read the disk queue {}: {e}",
                        self.dir.display()
                    );
                }
                return;
            }
        };
        let mut found = Vec::new();
        for entry in listing.flatten() {
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let Ok(meta) = entry.metadata() else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            if name.starts_with('.') {
                if name.ends_with(".tmp")
                    && meta
                        .modified()
                        .ok()
                        .and_then(|m| m.elapsed().ok())
                        .is_some_and(|age| age > STALE_TEMP)
                {
                    let _ = fs::remove_file(entry.path());
                }
                continue;
            }
            if name.ends_with(SUFFIX) {
                found.push((name, meta.len()));
            }
        }
        {
            let mut index = self.lock();
            for (name, size) in found {
                if index.pending.contains_key(&name) || index.in_flight.contains_key(&name) {
                    continue;
                }
                let has_event = name.ends_with(&format!("-e{SUFFIX}"));
                index.insert(
                    name,
                    Entry {
                        size,
                        items: None,
                        has_event,
                        queued: false,
                    },
                );
            }
        }
        self.make_room(0, 0);
    }

    /// Claims `name` for sending, if it is still pending and no one else
    /// holds it.
    pub(crate) fn claim(self: &Arc<Self>, name: &str) -> Option<Claimed> {
        let entry = {
            let mut index = self.lock();
            let entry = index.pending.remove(name)?;
            index.in_flight.insert(name.to_owned(), entry.size);
            entry
        };
        self.open_claimed(name.to_owned(), entry)
    }

    /// Claims the oldest file of the backlog (skipping files queued for
    /// sending and files someone else holds).
    pub(crate) fn claim_oldest(self: &Arc<Self>) -> Option<Claimed> {
        loop {
            let (name, entry) = {
                let mut index = self.lock();
                let name = index
                    .pending
                    .iter()
                    .find(|(_, e)| !e.queued)
                    .map(|(n, _)| n.clone())?;
                let entry = index.pending.remove(&name)?;
                index.in_flight.insert(name.clone(), entry.size);
                (name, entry)
            };
            if let Some(claimed) = self.open_claimed(name, entry) {
                return Some(claimed);
            }
        }
    }

    /// Claims and reads the oldest file of the backlog. Files that do not
    /// parse are moved aside and counted on the way, and files holding an
    /// empty envelope are removed, at most [`MAX_SKIPPED`] of them per
    /// call. `None` when no file is left to send now.
    pub(crate) fn next_backlog(self: &Arc<Self>) -> Option<(Claimed, Envelope)> {
        for _ in 0..MAX_SKIPPED {
            let mut claimed = self.claim_oldest()?;
            match claimed.envelope() {
                Ok(envelope) if envelope.is_empty() => claimed.complete(),
                Ok(envelope) => return Some((claimed, envelope)),
                Err(e) => {
                    vigil_core::vigil_debug!("cannot read {}: {e}", claimed.name());
                    claimed.quarantine();
                }
            }
        }
        None
    }

    /// Opens and locks a file already moved to `in_flight`; on failure it
    /// is forgotten (gone, or another sender holds it and will remove it).
    fn open_claimed(self: &Arc<Self>, name: String, entry: Entry) -> Option<Claimed> {
        let path = self.dir.join(&name);
        let file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(e) => {
                if e.kind() != io::ErrorKind::NotFound {
                    vigil_core::vigil_debug!("cannot open {}: {e}", path.display());
                }
                self.forget(&name);
                return None;
            }
        };
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                self.forget(&name);
                return None;
            }
            Err(fs4::TryLockError::Error(e)) => {
                // A file system without locks: carry on without the
                // several-processes guarantee.
                vigil_core::vigil_debug!("cannot lock {}: {e}", path.display());
            }
        }
        if file.metadata().is_ok_and(|m| m.len() == 0) {
            // Truncated by the sender that delivered it, before removal.
            let _ = fs::remove_file(&path);
            self.forget(&name);
            return None;
        }
        Some(Claimed {
            spool: Arc::clone(self),
            path,
            name,
            entry,
            file: Some(file),
        })
    }

    /// Drops a claimed name from the index.
    fn forget(&self, name: &str) {
        let mut index = self.lock();
        if let Some(size) = index.in_flight.remove(name) {
            index.bytes = index.bytes.saturating_sub(size);
        }
    }

    /// Puts a claimed name back into the backlog.
    fn put_back(&self, name: String, mut entry: Entry) {
        let mut index = self.lock();
        if index.in_flight.remove(&name).is_some() {
            entry.queued = false;
            index.pending.insert(name, entry);
        }
    }

    /// Moves a corrupt file into `corrupt/`, keeping at most
    /// [`MAX_CORRUPT`] files there.
    fn move_aside(&self, path: &Path, name: &str) {
        let corrupt = self.dir.join(CORRUPT_DIR);
        let moved =
            fs::create_dir_all(&corrupt).and_then(|()| fs::rename(path, corrupt.join(name)));
        if let Err(e) = moved {
            vigil_core::vigil_debug!("cannot move {} aside ({e}); removing it", path.display());
            let _ = fs::remove_file(path);
            return;
        }
        if let Ok(listing) = fs::read_dir(&corrupt) {
            let mut names: Vec<_> = listing.flatten().map(|e| e.path()).collect();
            if names.len() > MAX_CORRUPT {
                names.sort();
                for old in &names[..names.len() - MAX_CORRUPT] {
                    let _ = fs::remove_file(old);
                }
            }
        }
    }
}

/// `fsync`s a directory so a rename inside it is durable (Unix only; other
/// systems cannot open a directory as a file).
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        vigil_core::vigil_debug!("cannot fsync {}: {e}", dir.display());
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A stored file this spool holds the lock of. Dropping it without
/// [`complete`](Claimed::complete) or [`quarantine`](Claimed::quarantine)
/// puts it back into the backlog.
#[derive(Debug)]
pub(crate) struct Claimed {
    spool: Arc<Spool>,
    path: PathBuf,
    name: String,
    entry: Entry,
    /// `None` once handled.
    file: Option<File>,
}

impl Claimed {
    /// The file's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Reads and parses the file.
    pub(crate) fn envelope(&mut self) -> Result<Envelope, String> {
        let Some(file) = self.file.as_mut() else {
            return Err("already handled".into());
        };
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        Envelope::from_slice(&bytes).map_err(|e| e.to_string())
    }

    /// The server answered for good (or the file is dropped): truncate,
    /// remove, unlock.
    pub(crate) fn complete(mut self) {
        if let Some(file) = self.file.take() {
            let _ = file.set_len(0);
            if let Err(e) = fs::remove_file(&self.path) {
                if e.kind() != io::ErrorKind::NotFound {
                    vigil_core::vigil_debug!("cannot remove {}: {e}", self.path.display());
                }
            }
            drop(file);
        }
        self.spool.forget(&self.name);
    }

    /// The file does not parse: moved into `corrupt/` and counted as one
    /// `internal_sdk_error` item.
    pub(crate) fn quarantine(mut self) {
        if let Some(file) = self.file.take() {
            vigil_core::vigil_debug!(
                "stored envelope {} is corrupt; moved to {}/ (counted as internal_sdk_error)",
                self.name,
                CORRUPT_DIR
            );
            self.spool.move_aside(&self.path, &self.name);
            drop(file);
            let category = if self.entry.has_event {
                DataCategory::Error
            } else {
                DataCategory::Default
            };
            self.spool
                .recorder
                .record(DiscardReason::InternalSdkError, category, 1);
        }
        self.spool.forget(&self.name);
    }

    /// Not sent now (offline, rate limited): unlock and back to the
    /// backlog.
    pub(crate) fn release(self) {
        drop(self);
    }
}

impl Drop for Claimed {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            drop(file);
            self.spool
                .put_back(std::mem::take(&mut self.name), self.entry.clone());
        }
    }
}

#[cfg(test)]
mod tests;
