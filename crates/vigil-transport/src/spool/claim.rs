//! Claiming stored files: a file is locked before it is sent or deleted,
//! so that of several processes sharing the directory one handles it, and
//! what becomes of a claimed file (removed, moved aside, or put back).

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use vigil_core::protocol::{DataCategory, DiscardReason, Envelope};

use crate::spool::{Entry, Spool, trust};

/// The sub-directory corrupt files are moved into.
pub(super) const CORRUPT_DIR: &str = "corrupt";
/// At most this many files are kept in `corrupt/`; the oldest go first.
pub(super) const MAX_CORRUPT: usize = 100;
/// At most this many unreadable or empty files are skipped by one call of
/// [`Spool::next_backlog`].
const MAX_SKIPPED: usize = 16;

impl Spool {
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
    pub(super) fn open_claimed(self: &Arc<Self>, name: String, entry: Entry) -> Option<Claimed> {
        let path = self.dir.join(&name);
        // Never through a link planted under the file's name.
        let file = match trust::open_stored(&path) {
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
            match fs::remove_file(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => self.forget_for_good(&name),
                _ => self.forget(&name),
            }
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

    /// Moves aside a file found too large to be one of the spool's (never
    /// read, not locked: nothing in it is trusted), counted as one
    /// `internal_sdk_error` item.
    pub(super) fn quarantine_unread(&self, name: &str) {
        vigil_core::vigil_debug!(
            "stored file {name} is larger than the disk queue's max_bytes; moved to {CORRUPT_DIR}/ unread (counted as internal_sdk_error)"
        );
        self.move_aside(&self.dir.join(name), name);
        let category = if super::naming::names_an_event(name) {
            DataCategory::Error
        } else {
            DataCategory::Default
        };
        self.recorder
            .record(DiscardReason::InternalSdkError, category, 1);
    }

    /// Moves a corrupt file into `corrupt/`, keeping at most
    /// [`MAX_CORRUPT`] files there.
    /// `corrupt/` must be a real directory of this user (a link planted
    /// there would have files moved, and old ones deleted, elsewhere);
    /// only files named by the spool's scheme are ever deleted from it.
    fn move_aside(&self, path: &Path, name: &str) {
        let corrupt = self.dir.join(CORRUPT_DIR);
        let usable = match trust::prepare_dir(&corrupt) {
            Ok(Ok(())) if trust::is_real_dir(&corrupt) => Ok(()),
            Ok(Ok(())) => Err(format!("{} is a link", corrupt.display())),
            Ok(Err(why)) => Err(why.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let moved =
            usable.and_then(|()| fs::rename(path, corrupt.join(name)).map_err(|e| e.to_string()));
        if let Err(e) = moved {
            vigil_core::vigil_debug!("cannot move {} aside ({e}); removing it", path.display());
            if let Err(e) = fs::remove_file(path)
                && e.kind() != io::ErrorKind::NotFound
            {
                vigil_core::vigil_debug!("cannot remove {} either: {e}", path.display());
                self.forget_for_good(name);
            }
            return;
        }
        if let Ok(listing) = fs::read_dir(&corrupt) {
            let mut names: Vec<_> = listing
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter(|e| {
                    e.file_name()
                        .to_str()
                        .is_some_and(super::naming::is_envelope_name)
                })
                .map(|e| e.path())
                .collect();
            if names.len() > MAX_CORRUPT {
                names.sort();
                for old in &names[..names.len() - MAX_CORRUPT] {
                    let _ = fs::remove_file(old);
                }
            }
        }
    }
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

    /// The `(category, quantity)` of its items if the spool knew them
    /// (files found by a scan are read only when needed); taken, so asked
    /// once.
    pub(super) fn take_known_items(&mut self) -> Option<Vec<(DataCategory, u64)>> {
        self.entry.items.take()
    }

    /// Reads and parses the file: at most the spool's `max_bytes` are
    /// read, and a longer file is refused unread (whatever its size claims
    /// to be, the file is read through a bound).
    pub(crate) fn envelope(&mut self) -> Result<Envelope, String> {
        let Some(file) = self.file.as_mut() else {
            return Err("already handled".into());
        };
        let limit = self.spool.options.max_bytes;
        let mut bytes = Vec::new();
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.take(limit.saturating_add(1)).read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        if bytes.len() as u64 > limit {
            return Err(format!("larger than the disk queue's max_bytes ({limit})"));
        }
        Envelope::from_slice(&bytes).map_err(|e| e.to_string())
    }

    /// The server answered for good (or the file is dropped): truncate,
    /// remove, unlock.
    /// A file that cannot be removed (a read-only directory) is never
    /// handed out again by this spool.
    pub(crate) fn complete(mut self) {
        let mut removed = true;
        if let Some(file) = self.file.take() {
            let _ = file.set_len(0);
            if let Err(e) = fs::remove_file(&self.path)
                && e.kind() != io::ErrorKind::NotFound
            {
                vigil_core::vigil_debug!("cannot remove {}: {e}", self.path.display());
                removed = false;
            }
            drop(file);
        }
        if removed {
            self.spool.forget(&self.name);
        } else {
            self.spool.forget_for_good(&self.name);
        }
    }

    /// The file does not parse: moved into `corrupt/` and counted as one
    /// `internal_sdk_error` item.
    pub(crate) fn quarantine(mut self) {
        self.move_aside_and_count();
    }

    /// [`quarantine`](Claimed::quarantine), for a claim still held (its
    /// drop then has nothing left to do).
    fn move_aside_and_count(&mut self) {
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
    /// Puts the file back into the backlog, unless it is dropped by a
    /// panic: whatever panicked while the file was held (reading, writing
    /// or sending it) would panic again at every attempt, holding the
    /// backlog up behind it, so the file is moved into `corrupt/` and
    /// counted as `internal_sdk_error`.
    fn drop(&mut self) {
        if self.file.is_none() {
            return;
        }
        if std::thread::panicking() {
            vigil_core::vigil_debug!("a panic while {} was being handled", self.name);
            self.move_aside_and_count();
            return;
        }
        if let Some(file) = self.file.take() {
            drop(file);
            self.spool
                .put_back(std::mem::take(&mut self.name), self.entry.clone());
        }
    }
}
