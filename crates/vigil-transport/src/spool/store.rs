//! Writing envelopes into the spool, and making room when it is full (the
//! oldest files go, counted as `cache_overflow`).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use vigil_core::protocol::{DiscardReason, Envelope, EnvelopeItem};

use crate::loss::{countable_items, record_counts};
use crate::spool::{Entry, Spool, trust};

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

/// Whether the envelope holds an event or user feedback: what the disk
/// queue evicts last and, with [`Durability::Sync`](super::Durability::Sync),
/// writes before the capture returns.
pub(crate) fn has_event(envelope: &Envelope) -> bool {
    envelope
        .items()
        .any(|i| matches!(i, EnvelopeItem::Event(_) | EnvelopeItem::Feedback(_)))
}

impl Spool {
    /// Creates the directory unless that was done already.
    fn ensure_dir(&self) -> io::Result<()> {
        if self.is_refused() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the disk queue's directory is not used (see the message on stderr)",
            ));
        }
        if !self.dir_ready.load(Ordering::Relaxed) {
            if let Err(why) = trust::prepare_dir(&self.dir)? {
                self.refuse(&why);
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    why.to_string(),
                ));
            }
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
                    items: Some(countable_items(envelope)),
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

    /// Writes `bytes` into the new file `temp` (`fsync`ed with `sync`).
    fn write_temp(&self, temp: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
        self.ensure_dir()?;
        let mut file = trust::create_private_file(temp)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        Ok(())
    }

    /// Deletes the oldest files until `files` more files of `incoming`
    /// bytes together fit, counting their items as `cache_overflow`.
    pub(super) fn make_room(self: &Arc<Self>, files: usize, incoming: u64) {
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
            let items = match claimed.take_known_items() {
                Some(items) => items,
                None => match claimed.envelope() {
                    Ok(envelope) => countable_items(&envelope),
                    Err(_) => {
                        claimed.quarantine();
                        continue;
                    }
                },
            };
            vigil_core::vigil_debug!(
                "disk queue full; oldest envelope {} dropped (counted as cache_overflow)",
                claimed.name()
            );
            claimed.complete();
            record_counts(&self.recorder, items, DiscardReason::CacheOverflow);
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
