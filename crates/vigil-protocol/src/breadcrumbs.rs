//! [`Breadcrumbs`]: the breadcrumb list of scopes and events, shared
//! rather than copied.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::de::Deserializer;
use serde::ser::{SerializeSeq, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Breadcrumb;

/// One stored breadcrumb. Immutable once shared: a change goes to a copy
/// (`Arc::make_mut`), which starts with an empty cache.
struct Entry {
    crumb: Breadcrumb,
    /// Whether `crumb` was fitted to the protocol limits since it last
    /// changed.
    fitted: bool,
    /// The breadcrumb's JSON, written the first time it is serialized and
    /// reused by every later event that carries it.
    json: OnceLock<Box<RawValue>>,
}

impl Entry {
    fn new(crumb: Breadcrumb) -> Arc<Entry> {
        let mut crumb = crumb;
        crate::limits::trim_breadcrumb(&mut crumb);
        Arc::new(Entry {
            crumb,
            fitted: true,
            json: OnceLock::new(),
        })
    }

    /// The breadcrumb for writing: the copy (if shared) loses its cache and
    /// is re-fitted when the event is trimmed.
    fn make_mut(entry: &mut Arc<Entry>) -> &mut Breadcrumb {
        let entry = Arc::make_mut(entry);
        entry.fitted = false;
        entry.json = OnceLock::new();
        &mut entry.crumb
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
        if let Some(json) = self.json.get() {
            return json.serialize(serializer);
        }
        match serde_json::value::to_raw_value(&self.crumb) {
            Ok(json) => self.json.get_or_init(|| json).serialize(serializer),
            Err(_) => self.crumb.serialize(serializer),
        }
    }
}

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
    /// `None` while empty, so an empty list allocates nothing.
    entries: Option<Arc<VecDeque<Arc<Entry>>>>,
}

impl Breadcrumbs {
    /// An empty list.
    pub const fn new() -> Breadcrumbs {
        Breadcrumbs { entries: None }
    }

    fn entries(&self) -> &VecDeque<Arc<Entry>> {
        self.entries.as_deref().unwrap_or(&EMPTY)
    }

    fn entries_mut(&mut self) -> &mut VecDeque<Arc<Entry>> {
        Arc::make_mut(self.entries.get_or_insert_with(Arc::default))
    }

    /// Number of breadcrumbs.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The breadcrumbs, oldest first.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.entries().iter(),
        }
    }

    /// The breadcrumb at `index` (0 is the oldest).
    pub fn get(&self, index: usize) -> Option<&Breadcrumb> {
        self.entries().get(index).map(|e| &e.crumb)
    }

    /// The newest breadcrumb.
    pub fn last(&self) -> Option<&Breadcrumb> {
        self.entries().back().map(|e| &e.crumb)
    }

    /// The breadcrumbs for writing, oldest first. Each one yielded is
    /// copied first if it is shared with another list.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Breadcrumb> {
        let entries = match &mut self.entries {
            Some(entries) => Arc::make_mut(entries).iter_mut(),
            None => Default::default(),
        };
        entries.map(Entry::make_mut)
    }

    /// Appends a breadcrumb (the newest).
    pub fn push(&mut self, crumb: Breadcrumb) {
        self.entries_mut().push_back(Entry::new(crumb));
    }

    /// The list for appending: a shared list is copied with room for a
    /// few more, so the pushes that follow a copy do not regrow it.
    fn entries_for_push(&mut self, max: usize) -> &mut VecDeque<Arc<Entry>> {
        /// Room left after copying a shared list.
        const HEADROOM: usize = 8;
        let entries = self.entries.get_or_insert_with(Arc::default);
        if Arc::get_mut(entries).is_none() {
            let len = entries.len();
            let mut copy = VecDeque::with_capacity((len + HEADROOM).min(max.max(len + 1)));
            copy.extend(entries.iter().cloned());
            *entries = Arc::new(copy);
        }
        Arc::make_mut(entries)
    }

    /// Appends a breadcrumb, then drops the oldest while there are more
    /// than `max`.
    pub fn push_capped(&mut self, crumb: Breadcrumb, max: usize) {
        if max == 0 {
            self.clear();
            return;
        }
        let entries = self.entries_for_push(max);
        if entries.len() >= max {
            let excess = entries.len() + 1 - max;
            entries.drain(..excess);
        }
        entries.push_back(Entry::new(crumb));
    }

    /// Appends every breadcrumb of `other` after this list's (sharing
    /// them).
    pub fn append(&mut self, other: Breadcrumbs) {
        match (&self.entries, other.entries) {
            (_, None) => {}
            (None, Some(entries)) => self.entries = Some(entries),
            (Some(_), Some(other)) => self.entries_mut().extend(other.iter().cloned()),
        }
    }

    /// Keeps only the newest `max` breadcrumbs.
    pub fn keep_newest(&mut self, max: usize) {
        let len = self.len();
        if len > max {
            if max == 0 {
                self.clear();
            } else {
                self.entries_mut().drain(..len - max);
            }
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
        self.entries = None;
    }

    /// Whether both lists are the same shared storage (so neither has
    /// changed since one was cloned from the other).
    pub fn shares_storage_with(&self, other: &Breadcrumbs) -> bool {
        match (&self.entries, &other.entries) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// If this list is `base` with breadcrumbs appended (and possibly its
    /// oldest dropped), the appended ones, shared; `None` when it does not
    /// extend `base` (it was cleared or rebuilt).
    pub fn added_since(&self, base: &Breadcrumbs) -> Option<Breadcrumbs> {
        let entries = self.entries();
        let start = match base.entries().back() {
            None => 0,
            Some(newest) => entries.iter().rposition(|e| Arc::ptr_eq(e, newest))? + 1,
        };
        Some(
            entries
                .range(start..)
                .cloned()
                .collect::<VecDeque<_>>()
                .into(),
        )
    }

    /// Fits every breadcrumb changed since it was added to the protocol
    /// limits.
    pub(crate) fn fit_changed(&mut self, fit: impl Fn(&mut Breadcrumb)) {
        if self.entries().iter().all(|e| e.fitted) {
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

    /// The breadcrumbs as an owned vector, oldest first.
    pub fn to_vec(&self) -> Vec<Breadcrumb> {
        self.iter().cloned().collect()
    }
}

impl From<VecDeque<Arc<Entry>>> for Breadcrumbs {
    fn from(entries: VecDeque<Arc<Entry>>) -> Breadcrumbs {
        Breadcrumbs {
            entries: (!entries.is_empty()).then(|| Arc::new(entries)),
        }
    }
}

impl From<Vec<Breadcrumb>> for Breadcrumbs {
    fn from(crumbs: Vec<Breadcrumb>) -> Breadcrumbs {
        crumbs.into_iter().collect()
    }
}

impl FromIterator<Breadcrumb> for Breadcrumbs {
    fn from_iter<I: IntoIterator<Item = Breadcrumb>>(iter: I) -> Breadcrumbs {
        iter.into_iter()
            .map(Entry::new)
            .collect::<VecDeque<_>>()
            .into()
    }
}

impl Extend<Breadcrumb> for Breadcrumbs {
    fn extend<I: IntoIterator<Item = Breadcrumb>>(&mut self, iter: I) {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_some() {
            self.entries_mut().extend(iter.map(Entry::new));
        }
    }
}

impl std::ops::Index<usize> for Breadcrumbs {
    type Output = Breadcrumb;

    /// The breadcrumb at `index` (0 is the oldest); panics when out of
    /// bounds.
    fn index(&self, index: usize) -> &Breadcrumb {
        &self.entries()[index].crumb
    }
}

impl<'a> IntoIterator for &'a Breadcrumbs {
    type Item = &'a Breadcrumb;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl PartialEq for Breadcrumbs {
    fn eq(&self, other: &Breadcrumbs) -> bool {
        self.shares_storage_with(other) || self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Breadcrumbs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over [`Breadcrumbs`], oldest first.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    inner: std::collections::vec_deque::Iter<'a, Arc<Entry>>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Breadcrumb;

    fn next(&mut self) -> Option<&'a Breadcrumb> {
        self.inner.next().map(|e| &e.crumb)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|e| &e.crumb)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.crumb.fmt(f)
    }
}

struct EntriesOnWire<'a>(&'a VecDeque<Arc<Entry>>);

impl Serialize for EntriesOnWire<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for entry in self.0 {
            seq.serialize_element(&**entry)?;
        }
        seq.end()
    }
}

impl Serialize for Breadcrumbs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Breadcrumbs", 1)?;
        s.serialize_field("values", &EntriesOnWire(self.entries()))?;
        s.end()
    }
}

impl<'de> Deserialize<'de> for Breadcrumbs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Breadcrumbs, D::Error> {
        /// Sentry accepts both `{"values": [...]}` and a bare list.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Wrapped {
                #[serde(default)]
                values: Vec<Breadcrumb>,
            },
            Bare(Vec<Breadcrumb>),
        }
        Ok(match Wire::deserialize(d)? {
            Wire::Wrapped { values } | Wire::Bare(values) => values.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crumb(i: usize) -> Breadcrumb {
        Breadcrumb::message(i.to_string())
    }

    fn messages(list: &Breadcrumbs) -> Vec<String> {
        list.iter().map(|c| c.message.clone().unwrap()).collect()
    }

    #[test]
    fn capped_push_keeps_newest_in_order() {
        let mut b = Breadcrumbs::new();
        for i in 0..10 {
            b.push_capped(crumb(i), 3);
        }
        assert_eq!(messages(&b), ["7", "8", "9"]);
        b.push_capped(crumb(10), 0);
        assert!(b.is_empty());
    }

    #[test]
    fn a_clone_shares_and_diverges() {
        let mut parent = Breadcrumbs::new();
        for i in 0..20 {
            parent.push_capped(crumb(i), 100);
        }
        let mut child = parent.clone();
        assert!(child.shares_storage_with(&parent));
        child.push_capped(crumb(99), 100);
        assert!(!child.shares_storage_with(&parent));
        assert_eq!((child.len(), parent.len()), (21, 20));
        assert_eq!(messages(&child.added_since(&parent).unwrap()), ["99"]);
        assert!(parent.added_since(&child).is_none());
        // The breadcrumbs themselves are shared, not copied.
        let a = parent.entries().front().unwrap();
        let b = child.entries().front().unwrap();
        assert!(Arc::ptr_eq(a, b));
    }

    #[test]
    fn added_since_survives_dropping_the_oldest() {
        let mut base = Breadcrumbs::new();
        for i in 0..3 {
            base.push_capped(crumb(i), 3);
        }
        let mut edited = base.clone();
        edited.push_capped(crumb(3), 3);
        edited.push_capped(crumb(4), 3);
        assert_eq!(messages(&edited.added_since(&base).unwrap()), ["3", "4"]);
        let mut cleared = base.clone();
        cleared.clear();
        cleared.push(crumb(7));
        assert!(cleared.added_since(&base).is_none());
        assert!(base.added_since(&Breadcrumbs::new()).is_some());
    }

    #[test]
    fn iter_mut_copies_only_this_list() {
        let mut a: Breadcrumbs = vec![crumb(1), crumb(2)].into();
        let b = a.clone();
        for c in a.iter_mut() {
            c.message = Some("changed".into());
        }
        assert_eq!(messages(&a), ["changed", "changed"]);
        assert_eq!(messages(&b), ["1", "2"]);
    }

    #[test]
    fn cached_json_matches_fresh_json_and_follows_changes() {
        let mut list: Breadcrumbs = vec![crumb(1), crumb(2)].into();
        let fresh = serde_json::json!({"values": [
            serde_json::to_value(list.iter().next().unwrap()).unwrap(),
            serde_json::to_value(list.iter().nth(1).unwrap()).unwrap(),
        ]});
        let first = serde_json::to_string(&list).unwrap();
        let second = serde_json::to_string(&list).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&first).unwrap(),
            fresh
        );
        let shared = list.clone();
        list.iter_mut().next().unwrap().message = Some("edited".into());
        let edited: serde_json::Value = serde_json::to_value(&list).unwrap();
        assert_eq!(edited["values"][0]["message"], "edited");
        let untouched: serde_json::Value = serde_json::to_value(&shared).unwrap();
        assert_eq!(untouched["values"][0]["message"], "1");
    }

    #[test]
    fn round_trips_and_reads_both_wire_forms() {
        // Float timestamps round to the microsecond: compare the JSON.
        let list: Breadcrumbs = vec![crumb(1), crumb(2)].into();
        let json = serde_json::to_value(&list).unwrap();
        let back: Breadcrumbs = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
        let bare = serde_json::to_value(list.to_vec()).unwrap();
        let back: Breadcrumbs = serde_json::from_value(bare).unwrap();
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }

    #[test]
    fn added_breadcrumbs_are_fitted_and_changed_ones_refitted() {
        let long = "x".repeat(200);
        let mut list = Breadcrumbs::new();
        list.push(Breadcrumb {
            ty: long.clone().into(),
            ..Breadcrumb::default()
        });
        assert!(list.last().unwrap().ty.chars().count() <= 128);
        list.iter_mut().next().unwrap().ty = long.into();
        list.fit_changed(crate::limits::trim_breadcrumb);
        assert!(list.last().unwrap().ty.chars().count() <= 128);
    }

    #[test]
    fn retain_and_keep_newest() {
        let mut list: Breadcrumbs = (0..6).map(crumb).collect();
        list.retain(|c| c.message.as_deref() != Some("2"));
        assert_eq!(messages(&list), ["0", "1", "3", "4", "5"]);
        list.keep_newest(2);
        assert_eq!(messages(&list), ["4", "5"]);
        list.keep_newest(0);
        assert!(list.is_empty());
    }
}
