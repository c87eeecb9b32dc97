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
//! the disk, which [`Durability::Sync`](options::Durability::Sync) guards
//! against).
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
//! (at most [`MAX_CORRUPT`](claim::MAX_CORRUPT) files are kept there) and
//! counted as one `internal_sdk_error` item (`error` when the name says the
//! envelope held an event, `default` otherwise).
//!
//! # Parts
//! - [`options`], the public settings;
//! - [`naming`], file names, and reading the directory;
//! - [`store`], writing a file, and making room when the queue is full;
//! - [`claim`], locking a file to send it (or to drop it), and what
//!   happens to it afterwards;
//! - [`trust`], whether the directory may be used, and opening files in it
//!   safely;
//! - here, the index of known files shared by all of them.

pub(crate) mod claim;
mod naming;
pub(crate) mod options;
mod store;

pub(crate) use store::has_event;
pub(crate) mod trust;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use vigil_core::LossRecorder;
use vigil_core::protocol::DataCategory;

use crate::spool::options::DiskQueueOptions;

/// What the spool knows about one stored file.
#[derive(Clone, Debug)]
struct Entry {
    /// Bytes of the file.
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

/// The files this spool knows, by state.
#[derive(Debug, Default)]
struct Index {
    /// Stored and not being handled by this spool, oldest first.
    pending: BTreeMap<String, Entry>,
    /// Claimed by this spool (being sent or deleted): name → size.
    in_flight: HashMap<String, u64>,
    /// Bytes of `pending` and `in_flight` together.
    bytes: u64,
    /// Files this spool is done with (sent, or moved aside) that could not
    /// be removed (a read-only directory): never handed out again. Kept to
    /// the names the last scan saw, so it stays as small as the directory.
    finished: HashSet<String>,
}

impl Index {
    /// Files pending and in flight.
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

/// A directory of stored envelopes, shared by the transport handle (which
/// writes on the capturing thread in some cases) and its worker.
#[derive(Debug)]
pub(crate) struct Spool {
    /// The directory (`options.dir`).
    dir: PathBuf,
    options: DiskQueueOptions,
    /// Where dropped items are counted.
    recorder: LossRecorder,
    /// Random, per spool: part of every file name it writes.
    tag: String,
    /// Counts the files this spool writes: part of their names.
    seq: AtomicU64,
    /// The directory was created (or found) and may be used.
    dir_ready: AtomicBool,
    /// The directory may not be used (see [`trust`]): nothing is stored in
    /// it or read from it.
    refused: AtomicBool,
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
            refused: AtomicBool::new(false),
            index: Mutex::new(Index::default()),
        })
    }

    /// Stops using a directory that cannot be trusted, saying why once on
    /// stderr: envelopes are then sent as without a disk queue.
    fn refuse(&self, why: &trust::Untrusted) {
        if !self
            .refused
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            eprintln!(
                "[vigil] disk queue not used: {why}; envelopes are sent without it (kept in memory only)"
            );
        }
    }

    /// Whether the directory was refused.
    pub(crate) fn is_refused(&self) -> bool {
        self.refused.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The index, locked.
    fn lock(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The settings.
    pub(crate) fn options(&self) -> &DiskQueueOptions {
        &self.options
    }

    /// The directory.
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

    /// The worker will not send `name` after all (its queue was full): it
    /// becomes part of the backlog.
    pub(crate) fn unqueue(&self, name: &str) {
        if let Some(entry) = self.lock().pending.get_mut(name) {
            entry.queued = false;
        }
    }

    /// Drops a claimed name from the index.
    fn forget(&self, name: &str) {
        let mut index = self.lock();
        if let Some(size) = index.in_flight.remove(name) {
            index.bytes = index.bytes.saturating_sub(size);
        }
    }

    /// Drops a claimed name from the index for good: its file is done with
    /// but could not be removed, and later scans skip it.
    fn forget_for_good(&self, name: &str) {
        let mut index = self.lock();
        if let Some(size) = index.in_flight.remove(name) {
            index.bytes = index.bytes.saturating_sub(size);
        }
        index.finished.insert(name.to_owned());
    }

    /// Puts a claimed name back into the backlog.
    fn put_back(&self, name: String, mut entry: Entry) {
        let mut index = self.lock();
        if index.in_flight.remove(&name).is_some() {
            entry.queued = false;
            index.pending.insert(name, entry);
        }
    }
}

#[cfg(test)]
mod tests;
