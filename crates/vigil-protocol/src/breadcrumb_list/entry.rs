//! One stored breadcrumb with its limits state and cached JSON.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::breadcrumb::Breadcrumb;
use crate::limits::fields::interfaces::trim_breadcrumb;

/// One stored breadcrumb. Immutable once shared: a change goes to a copy
/// (`Arc::make_mut`), which starts with an empty cache.
pub(super) struct Entry {
    pub(super) crumb: Breadcrumb,
    /// Whether `crumb` was fitted to the protocol limits since it last
    /// changed.
    pub(super) fitted: bool,
    /// The breadcrumb's JSON, written the first time it is serialized and
    /// reused by every later event that carries it.
    pub(super) json: OnceLock<Box<RawValue>>,
}

impl Entry {
    /// A new entry holding `crumb` fitted to the protocol limits.
    pub(super) fn new(crumb: Breadcrumb) -> Arc<Entry> {
        let mut crumb = crumb;
        trim_breadcrumb(&mut crumb);
        Arc::new(Entry {
            crumb,
            fitted: true,
            json: OnceLock::new(),
        })
    }

    /// [`Entry::new`] in the allocation of `spare` (an entry just dropped
    /// from a list) when nothing else holds it: its breadcrumb is dropped
    /// in place and `crumb` takes its room, saving an allocation and a
    /// free per breadcrumb in a full list.
    pub(super) fn new_in(spare: Option<Arc<Entry>>, crumb: Breadcrumb) -> Arc<Entry> {
        let Some(mut spare) = spare else {
            return Entry::new(crumb);
        };
        let Some(entry) = Arc::get_mut(&mut spare) else {
            return Entry::new(crumb);
        };
        let mut crumb = crumb;
        trim_breadcrumb(&mut crumb);
        *entry = Entry {
            crumb,
            fitted: true,
            json: OnceLock::new(),
        };
        spare
    }

    /// The breadcrumb for writing: the copy (if shared) loses its cache and
    /// is re-fitted when the event is trimmed.
    pub(super) fn make_mut(entry: &mut Arc<Entry>) -> &mut Breadcrumb {
        let entry = Arc::make_mut(entry);
        entry.fitted = false;
        entry.json = OnceLock::new();
        &mut entry.crumb
    }

    /// The breadcrumb's JSON: the cached copy, written and cached first if
    /// there is none yet; `None` when `serde_json` cannot write it.
    pub(super) fn json(&self) -> Option<&RawValue> {
        if let Some(json) = self.json.get() {
            return Some(json);
        }
        let json = serde_json::value::to_raw_value(&self.crumb).ok()?;
        Some(self.json.get_or_init(|| json))
    }
}

impl Clone for Entry {
    fn clone(&self) -> Entry {
        Entry {
            crumb: self.crumb.clone(),
            fitted: self.fitted,
            json: OnceLock::new(),
        }
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.json() {
            Some(json) => json.serialize(serializer),
            None => self.crumb.serialize(serializer),
        }
    }
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.crumb.fmt(f)
    }
}
