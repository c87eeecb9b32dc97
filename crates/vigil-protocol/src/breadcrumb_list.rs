//! [`Breadcrumbs`]: the breadcrumb list of scopes and events, shared
//! rather than copied.

mod entry;
mod iter;
mod traits;
mod wire;

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use serde_json::value::RawValue;

use self::entry::Entry;
pub use self::iter::Iter;
use crate::breadcrumb::Breadcrumb;

static EMPTY: VecDeque<Arc<Entry>> = VecDeque::new();

/// The breadcrumbs of a scope or an event, oldest first.
///
/// Cloning is O(1): the list and every breadcrumb in it are shared, so a
/// scope pushed from another, and every event captured in a scope, carry
/// the parent's breadcrumbs without copying them. Writing to a shared list
/// copies the list of pointers, never the breadcrumbs themselves;
/// [`iter_mut`](Breadcrumbs::iter_mut) copies the breadcrumbs it yields.
///
/// Each breadcrumb is fitted to the protocol limits when added (see
/// [`limits`](crate::limits)) and its JSON is kept once written, so a
/// breadcrumb carried by many events is serialized once. The cache is
/// specific to JSON: other serde formats see it as an opaque value.
///
/// On the wire this is `{"values": [...]}`.
///
/// ```
/// use vigil_protocol::{Breadcrumb, Breadcrumbs};
/// let mut crumbs = Breadcrumbs::new();
/// crumbs.push(Breadcrumb::message("first"));
/// crumbs.push(Breadcrumb::message("second"));
/// let copy = crumbs.clone(); // shares both breadcrumbs
/// crumbs.keep_newest(1);
/// assert_eq!(crumbs.iter().next().unwrap().message.as_deref(), Some("second"));
/// assert_eq!(copy.len(), 2);
/// ```
#[derive(Clone, Default)]
pub struct Breadcrumbs {
    /// Oldest first; `None` while empty, so an empty list allocates
    /// nothing. Possibly shared with the lists copied from this one; the
    /// first `skip` entries are not part of this list (they were dropped
    /// as the oldest while the deque was shared).
    shared: Option<Arc<VecDeque<Arc<Entry>>>>,
    skip: usize,
    /// Appended while `shared` was shared, oldest first; folded into a
    /// deque of this list's own past [`OWN_MAX`]. A list copied from a
    /// parent that appends a few breadcrumbs so never copies the parent's.
    own: Vec<Arc<Entry>>,
}

/// Entries a list appends beside a shared deque before it takes a deque
/// of its own.
const OWN_MAX: usize = 32;

impl Breadcrumbs {
    /// An empty list.
    pub const fn new() -> Breadcrumbs {
        Breadcrumbs {
            shared: None,
            skip: 0,
            own: Vec::new(),
        }
    }

    /// The part of this list in the (maybe shared) deque.
    fn shared_part(&self) -> std::collections::vec_deque::Iter<'_, Arc<Entry>> {
        match &self.shared {
            Some(deque) => deque.range(self.skip..),
            None => EMPTY.iter(),
        }
    }

    fn shared_len(&self) -> usize {
        self.shared.as_ref().map_or(0, |d| d.len() - self.skip)
    }

    /// The entries, oldest first.
    fn entries(&self) -> impl DoubleEndedIterator<Item = &Arc<Entry>> {
        self.shared_part().chain(self.own.iter())
    }

    /// The list as one deque of its own holding exactly its entries (for
    /// the rarer edits: copies pointers if the deque is shared).
    fn entries_mut(&mut self) -> &mut VecDeque<Arc<Entry>> {
        let own = std::mem::take(&mut self.own);
        let skip = std::mem::take(&mut self.skip);
        let deque = self.shared.get_or_insert_with(Arc::default);
        match Arc::get_mut(deque) {
            Some(unique) => {
                unique.drain(..skip);
            }
            None => {
                let mut copy = VecDeque::with_capacity(deque.len() - skip + own.len());
                copy.extend(deque.range(skip..).cloned());
                *deque = Arc::new(copy);
            }
        }
        let unique = Arc::make_mut(deque);
        unique.extend(own);
        unique
    }

    /// Gives this list storage of its own (copying the pointers to its
    /// breadcrumbs if the storage is shared), so that copying it later
    /// touches no reference count shared with the lists it came from.
    pub fn detach(&mut self) {
        let shared = self
            .shared
            .as_mut()
            .is_some_and(|d| Arc::get_mut(d).is_none());
        if shared || !self.own.is_empty() || self.skip != 0 {
            self.entries_mut();
        }
    }

    /// Number of breadcrumbs.
    pub fn len(&self) -> usize {
        self.shared_len() + self.own.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The breadcrumbs, oldest first.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            shared: self.shared_part(),
            own: self.own.iter(),
        }
    }

    /// The breadcrumb at `index` (0 is the oldest).
    pub fn get(&self, index: usize) -> Option<&Breadcrumb> {
        let shared = self.shared_len();
        let entry = if index < shared {
            self.shared.as_ref()?.get(self.skip + index)
        } else {
            self.own.get(index - shared)
        };
        entry.map(|e| &e.crumb)
    }

    /// The breadcrumb at `index` for writing (0 is the oldest), copied
    /// first if it is shared with another list. The list's storage becomes
    /// its own (see [`detach`](Breadcrumbs::detach)).
    pub fn get_mut(&mut self, index: usize) -> Option<&mut Breadcrumb> {
        if index >= self.len() {
            return None;
        }
        self.entries_mut().get_mut(index).map(Entry::make_mut)
    }

    /// The newest breadcrumb.
    pub fn last(&self) -> Option<&Breadcrumb> {
        self.entries().next_back().map(|e| &e.crumb)
    }

    /// The breadcrumbs for writing, oldest first. Each one yielded is
    /// copied first if it is shared with another list.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Breadcrumb> {
        let entries = if self.is_empty() {
            Default::default()
        } else {
            self.entries_mut().iter_mut()
        };
        entries.map(Entry::make_mut)
    }

    /// Appends a breadcrumb (the newest).
    pub fn push(&mut self, crumb: Breadcrumb) {
        self.push_capped(crumb, usize::MAX);
    }

    /// Appends a breadcrumb, then drops the oldest while there are more
    /// than `max`.
    pub fn push_capped(&mut self, crumb: Breadcrumb, max: usize) {
        if max == 0 {
            self.clear();
            return;
        }
        let deque = self.shared.get_or_insert_with(Arc::default);
        if let Some(unique) = Arc::get_mut(deque) {
            // Nobody else holds the deque: work in it directly.
            if self.skip != 0 || !self.own.is_empty() {
                unique.drain(..self.skip);
                self.skip = 0;
                unique.extend(self.own.drain(..));
            }
            // The last entry dropped to make room lends its allocation.
            let mut spare = None;
            while unique.len() >= max {
                spare = unique.pop_front();
            }
            unique.push_back(Entry::new_in(spare, crumb));
            return;
        }
        self.own.push(Entry::new(crumb));
        self.keep_newest(max);
        if self.own.len() > OWN_MAX {
            self.entries_mut();
        }
    }

    /// Appends every breadcrumb of `other` after this list's (sharing
    /// them).
    pub fn append(&mut self, other: Breadcrumbs) {
        if other.is_empty() {
            return;
        }
        if self.is_empty() {
            *self = other;
            return;
        }
        let added: Vec<Arc<Entry>> = other.entries().cloned().collect();
        self.entries_mut().extend(added);
    }

    /// Keeps only the newest `max` breadcrumbs.
    pub fn keep_newest(&mut self, max: usize) {
        let len = self.len();
        if len <= max {
            return;
        }
        if max == 0 {
            self.clear();
            return;
        }
        let excess = len - max;
        let from_shared = excess.min(self.shared_len());
        match self.shared.as_mut().and_then(Arc::get_mut) {
            Some(unique) => {
                unique.drain(..self.skip + from_shared);
                self.skip = 0;
            }
            // Hidden, not removed: the deque is someone else's too.
            None => self.skip += from_shared,
        }
        self.own.drain(..excess - from_shared);
        if self.shared_len() == 0 {
            self.shared = None;
            self.skip = 0;
        }
    }

    /// Keeps only the breadcrumbs for which `keep` returns true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Breadcrumb) -> bool) {
        let verdicts: Vec<bool> = self.iter().map(&mut keep).collect();
        if verdicts.iter().all(|&k| k) {
            return;
        }
        let mut verdicts = verdicts.into_iter();
        self.entries_mut()
            .retain(|_| verdicts.next().unwrap_or(true));
    }

    /// Removes every breadcrumb.
    pub fn clear(&mut self) {
        *self = Breadcrumbs::new();
    }

    /// Whether both lists are the same view of the same storage (so
    /// neither has changed since one was cloned from the other).
    pub fn shares_storage_with(&self, other: &Breadcrumbs) -> bool {
        let same_deque = match (&self.shared, &other.shared) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_deque
            && self.skip == other.skip
            && self.own.len() == other.own.len()
            && self
                .own
                .iter()
                .zip(&other.own)
                .all(|(a, b)| Arc::ptr_eq(a, b))
    }

    /// If this list is `base` with breadcrumbs appended (and possibly its
    /// oldest dropped), the appended ones, shared; `None` when it does not
    /// extend `base` (it was cleared or rebuilt).
    pub fn added_since(&self, base: &Breadcrumbs) -> Option<Breadcrumbs> {
        let entries: Vec<&Arc<Entry>> = self.entries().collect();
        let start = match base.entries().next_back() {
            None => 0,
            Some(newest) => entries.iter().rposition(|e| Arc::ptr_eq(e, newest))? + 1,
        };
        Some(
            entries[start..]
                .iter()
                .map(|e| Arc::clone(e))
                .collect::<VecDeque<_>>()
                .into(),
        )
    }

    /// Fits every breadcrumb changed since it was added to the protocol
    /// limits.
    pub(crate) fn fit_changed(&mut self, fit: impl Fn(&mut Breadcrumb)) {
        if self.entries().all(|e| e.fitted) {
            return;
        }
        for entry in self.entries_mut().iter_mut().filter(|e| !e.fitted) {
            let entry = Arc::make_mut(entry);
            entry.json = OnceLock::new();
            fit(&mut entry.crumb);
            entry.fitted = true;
        }
    }

    /// Applies `change` to every breadcrumb for which `applies` is true
    /// (copying those that are shared). Returns whether any was changed.
    pub(crate) fn change_where(
        &mut self,
        applies: impl Fn(&Breadcrumb) -> bool,
        mut change: impl FnMut(&mut Breadcrumb),
    ) -> bool {
        if !self.iter().any(&applies) {
            return false;
        }
        for entry in self.entries_mut().iter_mut() {
            if applies(&entry.crumb) {
                change(Entry::make_mut(entry));
            }
        }
        true
    }

    /// Each breadcrumb with its JSON, oldest first, as the list's
    /// `Serialize` impl writes them: the cached JSON, written and cached
    /// first where there is none yet; `None` for a breadcrumb `serde_json`
    /// cannot write.
    pub(crate) fn crumbs_with_json(&self) -> impl Iterator<Item = (&Breadcrumb, Option<&str>)> {
        self.entries()
            .map(|entry| (&entry.crumb, entry.json().map(RawValue::get)))
    }

    /// The breadcrumbs as an owned vector, oldest first.
    pub fn to_vec(&self) -> Vec<Breadcrumb> {
        self.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests;
