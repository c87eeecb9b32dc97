//! The names of stored files, and reading the directory for files this
//! spool does not know yet (written by an earlier run or another process).

use std::fs;
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::spool::{Entry, Spool};

/// The file name suffix of stored envelopes.
pub(super) const SUFFIX: &str = ".envelope";
/// Temporary files older than this are left-overs of a crash: removed.
const STALE_TEMP: Duration = Duration::from_secs(10 * 60);

/// Whether `name` follows the spool's naming scheme
/// (`<16 digits>-<8 hex digits>-<10 digits>-<e|x>.envelope`). Files named
/// otherwise are not the spool's: it never reads, sends, moves or deletes
/// them.
pub(crate) fn is_envelope_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(SUFFIX) else {
        return false;
    };
    let mut parts = stem.split('-');
    let mut next = |len: usize, valid: fn(u8) -> bool| {
        parts
            .next()
            .is_some_and(|part| part.len() == len && part.bytes().all(valid))
    };
    next(16, |b| b.is_ascii_digit())
        && next(8, |b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && next(10, |b| b.is_ascii_digit())
        && next(1, |b| b == b'e' || b == b'x')
        && parts.next().is_none()
}

/// Whether `name` is one of the spool's temporary files
/// (`.<envelope name>.tmp`).
fn is_temp_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .is_some_and(is_envelope_name)
}

/// Whether the file `name` holds an envelope with an event (its `kind` is
/// `e`).
pub(super) fn names_an_event(name: &str) -> bool {
    name.ends_with(&format!("-e{SUFFIX}"))
}

impl Spool {
    /// The name of the next file this spool writes.
    pub(super) fn next_name(&self, has_event: bool) -> String {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros());
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let kind = if has_event { 'e' } else { 'x' };
        format!("{micros:016}-{}-{seq:010}-{kind}{SUFFIX}", self.tag)
    }

    /// Reads the directory: files not known yet join the backlog; temporary
    /// files left by a crash long ago are removed. Then the bounds are
    /// enforced. A missing directory is an empty queue.
    pub(crate) fn scan(self: &Arc<Self>) {
        if self.is_refused() {
            return;
        }
        if self.dir.exists()
            && let Err(why) = super::trust::check_dir(&self.dir)
        {
            self.refuse(&why);
            return;
        }
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
                if is_temp_name(&name)
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
            if is_envelope_name(&name) {
                found.push((name, meta.len()));
            }
        }
        let mut oversized = Vec::new();
        {
            let mut index = self.lock();
            if !index.finished.is_empty() {
                let seen: std::collections::HashSet<&str> =
                    found.iter().map(|(name, _)| name.as_str()).collect();
                index.finished.retain(|name| seen.contains(name.as_str()));
            }
            for (name, size) in found {
                if index.pending.contains_key(&name)
                    || index.in_flight.contains_key(&name)
                    || index.finished.contains(&name)
                {
                    continue;
                }
                // Larger than the spool ever writes (a file damaged, or
                // sparse): never read, and never a reason to evict the
                // real backlog.
                if size > self.options.max_bytes {
                    oversized.push(name);
                    continue;
                }
                let has_event = names_an_event(&name);
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
        for name in oversized {
            self.quarantine_unread(&name);
        }
        self.make_room(0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_spools_own_names_are_recognised() {
        let ours = "0001733412345678-0a1b2c3d-0000000042-e.envelope";
        assert!(is_envelope_name(ours));
        assert!(is_envelope_name(&ours.replace("-e.", "-x.")));
        assert!(is_temp_name(&format!(".{ours}.tmp")));
        for other in [
            "notes.envelope",
            "0001733412345678-0a1b2c3d-0000000042-e.envelope.bak",
            "0001733412345678-0A1B2C3D-0000000042-e.envelope",
            "0001733412345678-0a1b2c3d-0000000042-q.envelope",
            "0001733412345678-0a1b2c3d-42-e.envelope",
            "0001733412345678-0a1b2c3d-0000000042-e-x.envelope",
            "../0001733412345678-0a1b2c3d-0000000042-e.envelope",
        ] {
            assert!(!is_envelope_name(other), "{other}");
        }
        for other in [".other.tmp", ".0001733412345678.tmp", ".x.envelope.tmp"] {
            assert!(!is_temp_name(other), "{other}");
        }
    }
}
