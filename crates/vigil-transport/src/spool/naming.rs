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

/// Whether the file `name` holds an envelope with an event (its `kind` is
/// `e`).
fn names_an_event(name: &str) -> bool {
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
        self.make_room(0, 0);
    }
}
