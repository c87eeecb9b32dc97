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
        let entry = Entry::new(crumb);
        let deque = self.shared.get_or_insert_with(Arc::default);
        if let Some(unique) = Arc::get_mut(deque) {
            // Nobody else holds the deque: work in it directly.
            if self.skip != 0 || !self.own.is_empty() {
                unique.drain(..self.skip);
                self.skip = 0;
                unique.extend(self.own.drain(..));
            }
            while unique.len() >= max {
                unique.pop_front();
            }
            unique.push_back(entry);
            return;
        }
        self.own.push(entry);
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

    /// The breadcrumbs as an owned vector, oldest first.
    pub fn to_vec(&self) -> Vec<Breadcrumb> {
        self.iter().cloned().collect()
    }
}

impl From<VecDeque<Arc<Entry>>> for Breadcrumbs {
    fn from(entries: VecDeque<Arc<Entry>>) -> Breadcrumbs {
        Breadcrumbs {
            shared: (!entries.is_empty()).then(|| Arc::new(entries)),
            skip: 0,
            own: Vec::new(),
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
        match self.get(index) {
            Some(crumb) => crumb,
            None => panic!(
                "breadcrumb index {index} out of bounds (len {})",
                self.len()
            ),
        }
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
    shared: std::collections::vec_deque::Iter<'a, Arc<Entry>>,
    own: std::slice::Iter<'a, Arc<Entry>>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Breadcrumb;

    fn next(&mut self) -> Option<&'a Breadcrumb> {
        self.shared
            .next()
            .or_else(|| self.own.next())
            .map(|e| &e.crumb)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.shared.len() + self.own.len();
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.own
            .next_back()
            .or_else(|| self.shared.next_back())
            .map(|e| &e.crumb)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.crumb.fmt(f)
    }
}

struct EntriesOnWire<'a>(&'a Breadcrumbs);

impl Serialize for EntriesOnWire<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for entry in self.0.entries() {
            seq.serialize_element(&**entry)?;
        }
        seq.end()
    }
}

impl Serialize for Breadcrumbs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Breadcrumbs", 1)?;
        s.serialize_field("values", &EntriesOnWire(self))?;
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
        let a = parent.entries().next().unwrap();
        let b = child.entries().next().unwrap();
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
        // Compared as text: parsing floats back may differ in the last bit.
        let mut list: Breadcrumbs = vec![crumb(1), crumb(2)].into();
        let fresh = format!(
            r#"{{"values":[{},{}]}}"#,
            serde_json::to_string(list.iter().next().unwrap()).unwrap(),
            serde_json::to_string(list.iter().nth(1).unwrap()).unwrap(),
        );
        let first = serde_json::to_string(&list).unwrap();
        let second = serde_json::to_string(&list).unwrap();
        assert_eq!(first, fresh);
        assert_eq!(second, fresh);
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

#[cfg(test)]
mod model {
    //! The list checked against a plain vector under random edits, with a
    //! second list sharing its storage.

    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Op {
        Push(usize, u8),
        PushOther(usize, u8),
        CopyToOther,
        CopyFromOther,
        KeepNewest(usize),
        AppendOther,
        Retain(u8),
        Clear,
        Edit,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            // Caps above `OWN_MAX` make a copied list fold its own part.
            4 => prop_oneof![1usize..12, 30usize..50].prop_flat_map(|m| any::<u8>().prop_map(move |v| Op::Push(m, v))),
            2 => (1usize..12, any::<u8>()).prop_map(|(m, v)| Op::PushOther(m, v)),
            1 => Just(Op::CopyToOther),
            1 => Just(Op::CopyFromOther),
            1 => (0usize..10).prop_map(Op::KeepNewest),
            1 => Just(Op::AppendOther),
            1 => (2u8..5).prop_map(Op::Retain),
            1 => Just(Op::Clear),
            1 => Just(Op::Edit),
        ]
    }

    fn crumb(v: u8) -> Breadcrumb {
        Breadcrumb::message(v.to_string())
    }

    fn push_capped(model: &mut Vec<String>, v: u8, max: usize) {
        model.push(v.to_string());
        if model.len() > max {
            model.drain(..model.len() - max);
        }
    }

    fn check(list: &Breadcrumbs, model: &[String]) {
        let got: Vec<String> = list.iter().map(|c| c.message.clone().unwrap()).collect();
        assert_eq!(got, model);
        assert_eq!(list.len(), model.len());
        assert_eq!(list.iter().len(), model.len());
        let back: Vec<String> = list
            .iter()
            .rev()
            .map(|c| c.message.clone().unwrap())
            .collect();
        assert!(back.iter().eq(model.iter().rev()));
        for (i, m) in model.iter().enumerate() {
            assert_eq!(list.get(i).and_then(|c| c.message.as_ref()), Some(m));
        }
        assert!(list.get(model.len()).is_none());
        assert_eq!(list.last().and_then(|c| c.message.as_ref()), model.last());
        let json = serde_json::to_string(list).unwrap();
        let fresh: Breadcrumbs = list.to_vec().into();
        assert_eq!(json, serde_json::to_string(&fresh).unwrap());
    }

    proptest! {
        #[test]
        fn behaves_like_a_vector(ops in proptest::collection::vec(op(), 0..120)) {
            let (mut a, mut b) = (Breadcrumbs::new(), Breadcrumbs::new());
            let (mut ma, mut mb): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
            for op in ops {
                match op {
                    Op::Push(max, v) => {
                        a.push_capped(crumb(v), max);
                        push_capped(&mut ma, v, max);
                    }
                    Op::PushOther(max, v) => {
                        b.push_capped(crumb(v), max);
                        push_capped(&mut mb, v, max);
                    }
                    Op::CopyToOther => {
                        b = a.clone();
                        mb = ma.clone();
                    }
                    Op::CopyFromOther => {
                        a = b.clone();
                        ma = mb.clone();
                    }
                    Op::KeepNewest(n) => {
                        a.keep_newest(n);
                        if ma.len() > n {
                            ma.drain(..ma.len() - n);
                        }
                    }
                    Op::AppendOther => {
                        a.append(b.clone());
                        ma.extend(mb.iter().cloned());
                    }
                    Op::Retain(m) => {
                        let keep = |s: &str| s.parse::<u32>().unwrap() % u32::from(m) != 0;
                        a.retain(|c| keep(c.message.as_deref().unwrap()));
                        ma.retain(|s| keep(s));
                    }
                    Op::Clear => {
                        a.clear();
                        ma.clear();
                    }
                    Op::Edit => {
                        for c in a.iter_mut() {
                            let v: u32 = c.message.as_deref().unwrap().parse().unwrap();
                            c.message = Some((v + 1).to_string());
                        }
                        for s in &mut ma {
                            *s = (s.parse::<u32>().unwrap() + 1).to_string();
                        }
                    }
                }
                check(&a, &ma);
                check(&b, &mb);
            }
        }

        #[test]
        fn added_since_finds_the_appended(
            base_len in 0usize..15,
            added in 0usize..15,
            max in 1usize..20,
        ) {
            let mut base = Breadcrumbs::new();
            for i in 0..base_len {
                base.push_capped(crumb(i as u8), max);
            }
            let mut edited = base.clone();
            for i in 0..added {
                edited.push_capped(crumb(100 + i as u8), max);
            }
            let got = edited.added_since(&base);
            if base.is_empty() || added < max {
                let got = got.expect("extends base");
                let want = added.min(max);
                prop_assert_eq!(got.len(), want);
                prop_assert!(got.iter().all(|c| c.message.as_deref().unwrap().parse::<u32>().unwrap() >= 100));
            } else {
                // Every breadcrumb of base was dropped: nothing to anchor on.
                prop_assert!(got.is_none());
            }
        }
    }
}
