//! [`Tags`]: the tags of a scope.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use vigil_protocol::SmolStr;

type Entry = (SmolStr, SmolStr);

/// Changes a scope can make to its tags before they are written into a
/// new list.
const OVERLAY: usize = 4;

/// One change on top of the shared list: a new value, or `None` for a
/// removed key.
type Change = (SmolStr, Option<SmolStr>);

/// The tags of a scope.
///
/// The list is shared with the scope it was copied from. The first few
/// changes a scope makes are kept beside it, in the scope itself, so
/// setting a tag in a pushed scope allocates nothing (tag strings of up to
/// 23 bytes are stored inline, longer ones are shared); past those, the
/// list is rewritten once with all changes.
///
/// It is public because [`Scope::tags`](crate::Scope::tags) returns it: a
/// scope's tags are read through it ([`get`](Tags::get), iteration) and
/// changed through the scope (`set_tag`, `remove_tag`). Its layout is a
/// performance detail and may change.
#[derive(Default)]
pub struct Tags {
    /// Sorted by key, keys unique.
    base: Option<Arc<[Entry]>>,
    /// At most one change per key; a removal only for a key in `base`.
    overlay: [Option<Change>; OVERLAY],
}

impl Tags {
    fn base(&self) -> &[Entry] {
        self.base.as_deref().unwrap_or(&[])
    }

    fn base_get(&self, key: &str) -> Option<&SmolStr> {
        let base = self.base();
        let i = base.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(&base[i].1)
    }

    fn changes(&self) -> impl Iterator<Item = &Change> {
        self.overlay.iter().flatten()
    }

    fn change_slot(&self, key: &str) -> Option<usize> {
        self.overlay
            .iter()
            .position(|c| c.as_ref().is_some_and(|(k, _)| k == key))
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        let mut len = self.base().len();
        for (key, value) in self.changes() {
            match (self.base_get(key).is_some(), value.is_some()) {
                (false, true) => len += 1,
                (true, false) => len -= 1,
                _ => {}
            }
        }
        len
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        match self.change_slot(key) {
            Some(i) => self.overlay[i].as_ref()?.1.as_deref(),
            None => self.base_get(key).map(SmolStr::as_str),
        }
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The tags as `(key, value)`, sorted by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + DoubleEndedIterator {
        let mut all: Vec<(&str, &str)> = self
            .base()
            .iter()
            .filter(|(k, _)| self.change_slot(k).is_none())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .chain(
                self.changes()
                    .filter_map(|(k, v)| Some((k.as_str(), v.as_deref()?))),
            )
            .collect();
        if self.changes().next().is_some() {
            all.sort_unstable_by(|a, b| a.0.cmp(b.0));
        }
        all.into_iter()
    }

    pub(crate) fn insert(&mut self, key: &str, value: SmolStr) {
        if let Some(i) = self.change_slot(key) {
            if let Some((_, slot)) = &mut self.overlay[i] {
                *slot = Some(value);
            }
            return;
        }
        if self.base_get(key) == Some(&value) {
            return;
        }
        self.push_change((SmolStr::new(key), Some(value)));
    }

    pub(crate) fn remove(&mut self, key: &str) {
        let in_base = self.base_get(key).is_some();
        match self.change_slot(key) {
            Some(i) if in_base => {
                if let Some((_, slot)) = &mut self.overlay[i] {
                    *slot = None;
                }
            }
            Some(i) => self.overlay[i] = None,
            None if in_base => self.push_change((SmolStr::new(key), None)),
            None => {}
        }
    }

    fn push_change(&mut self, change: Change) {
        if let Some(free) = self.overlay.iter_mut().find(|c| c.is_none()) {
            *free = Some(change);
            return;
        }
        // Full: rewrite the list with every change, then keep this one.
        self.fold();
        match change {
            (key, Some(value)) => self.insert(&key, value),
            (key, None) => self.remove(&key),
        }
    }

    /// Whether changes are kept beside the shared list.
    pub(crate) fn has_changes(&self) -> bool {
        self.changes().next().is_some()
    }

    /// Whether the changes take half of the slots or more: copies would
    /// start with few free, so writing them into the list first pays.
    pub(crate) fn worth_folding(&self) -> bool {
        self.changes().count() >= OVERLAY / 2
    }

    /// Writes the changes into a new list, leaving every change slot free;
    /// the tags stay the same. The strings are shared, not copied.
    pub(crate) fn fold(&mut self) {
        if !self.has_changes() {
            return;
        }
        let mut merged: Vec<Entry> = self
            .base()
            .iter()
            .filter(|(k, _)| self.change_slot(k).is_none())
            .cloned()
            .chain(
                self.changes()
                    .filter_map(|(k, v)| Some((k.clone(), v.clone()?))),
            )
            .collect();
        merged.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.base = (!merged.is_empty()).then(|| merged.into());
        self.overlay = Default::default();
    }

    /// Adds to `map` every tag it does not have.
    pub(crate) fn fill_missing(&self, map: &mut BTreeMap<SmolStr, SmolStr>) {
        let changed = self.changes().filter_map(|(k, v)| Some((k, v.as_ref()?)));
        let kept = self
            .base()
            .iter()
            .filter(|(k, _)| self.change_slot(k).is_none())
            .map(|(k, v)| (k, v));
        // Inserted one by one: for a handful of tags this beats building
        // the map from an iterator (which collects and sorts first).
        for (k, v) in kept.chain(changed) {
            if !map.contains_key(k) {
                map.insert(k.clone(), v.clone());
            }
        }
    }

    /// Applies the changes `edited` made relative to `base` (three-way
    /// merge, see `Scope::merge_changes`).
    pub(crate) fn merge_changes(&mut self, base: &Tags, edited: &Tags) {
        if base.same_as(edited) {
            return;
        }
        for (k, v) in edited.iter() {
            if base.get(k) != Some(v) {
                self.insert(k, SmolStr::new(v));
            }
        }
        for (k, _) in base.iter() {
            if !edited.contains_key(k) {
                self.remove(k);
            }
        }
    }

    /// Whether both hold the same list and the same changes (a cheap
    /// "unchanged since copied" test).
    fn same_as(&self, other: &Tags) -> bool {
        let same_base = match (&self.base, &other.base) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_base && self.overlay == other.overlay
    }
}

impl Clone for Tags {
    /// Copies the list's handle and the used change slots; a free slot is
    /// not visited (scopes are copied for every `configure_scope`).
    fn clone(&self) -> Tags {
        let mut overlay: [Option<Change>; OVERLAY] = Default::default();
        for (copy, change) in overlay.iter_mut().zip(&self.overlay) {
            if let Some(change) = change {
                *copy = Some(change.clone());
            }
        }
        Tags {
            base: self.base.clone(),
            overlay,
        }
    }
}

impl PartialEq for Tags {
    fn eq(&self, other: &Tags) -> bool {
        self.same_as(other) || self.iter().eq(other.iter())
    }
}

impl Eq for Tags {}

impl fmt::Debug for Tags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        let mut t = Tags::default();
        for (k, v) in pairs {
            t.insert(k, SmolStr::new(v));
        }
        t
    }

    #[test]
    fn sorted_insert_replace_remove() {
        let mut t = tags(&[("b", "2"), ("a", "1"), ("c", "3")]);
        assert_eq!(
            t.iter().collect::<Vec<_>>(),
            [("a", "1"), ("b", "2"), ("c", "3")]
        );
        t.insert("b", "two".into());
        assert_eq!(t.get("b"), Some("two"));
        t.remove("a");
        t.remove("missing");
        assert_eq!(t.iter().collect::<Vec<_>>(), [("b", "two"), ("c", "3")]);
        t.remove("b");
        t.remove("c");
        assert!(t.is_empty());
    }

    #[test]
    fn a_write_does_not_reach_a_clone() {
        let parent = tags(&[("a", "1")]);
        let mut child = parent.clone();
        child.insert("a", "changed".into());
        child.insert("b", "2".into());
        assert_eq!(parent.get("a"), Some("1"));
        assert_eq!(parent.len(), 1);
        assert_eq!(child.get("a"), Some("changed"));
    }

    #[test]
    fn three_way_merge_keeps_both_sides() {
        let base = tags(&[("keep", "1"), ("drop", "2")]);
        let mut current = base.clone();
        current.insert("theirs", "x".into());
        let mut edited = base.clone();
        edited.insert("mine", "y".into());
        edited.remove("drop");
        current.merge_changes(&base, &edited);
        assert_eq!(
            current.iter().collect::<Vec<_>>(),
            [("keep", "1"), ("mine", "y"), ("theirs", "x")]
        );
    }

    #[test]
    fn folding_keeps_the_tags_and_frees_every_change_slot() {
        let mut folded = tags(&[("b", "2"), ("a", "1")]);
        let mut spilled = folded.clone();
        spilled.fold();
        spilled.remove("b");
        spilled.insert("c", "3".into());
        folded.remove("b");
        folded.insert("c", "3".into());
        let before: Vec<(String, String)> = folded
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        folded.fold();
        assert!(!folded.has_changes());
        assert_eq!(
            folded.iter().collect::<Vec<_>>(),
            before
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect::<Vec<_>>()
        );
        assert_eq!(folded, spilled);
        // A copy of the folded tags takes four changes without a new list.
        let mut child = folded.clone();
        for key in ["w", "x", "y", "z"] {
            child.insert(key, "v".into());
        }
        assert!(Arc::ptr_eq(
            child.base.as_ref().expect("a list"),
            folded.base.as_ref().expect("a list")
        ));
        assert_eq!(child.len(), 6);
    }

    #[test]
    fn many_changes_spill_into_a_new_list() {
        let parent = tags(&[("a", "1"), ("z", "26")]);
        let mut child = parent.clone();
        for i in 0..10 {
            child.insert(&format!("k{i}"), SmolStr::new(i.to_string()));
        }
        child.remove("a");
        child.insert("z", "last".into());
        assert_eq!(child.len(), 11);
        assert_eq!(child.get("a"), None);
        assert_eq!(child.get("z"), Some("last"));
        assert_eq!(child.get("k9"), Some("9"));
        let keys: Vec<_> = child.iter().map(|(k, _)| k.to_owned()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert_eq!(parent.iter().collect::<Vec<_>>(), [("a", "1"), ("z", "26")]);
    }

    #[test]
    fn removing_and_restoring_in_the_overlay() {
        let base = tags(&[("a", "1")]);
        let mut t = base.clone();
        t.remove("a");
        assert!(t.is_empty() && t.get("a").is_none());
        t.insert("a", "2".into());
        assert_eq!(t.get("a"), Some("2"));
        t.insert("b", "3".into());
        t.remove("b");
        assert_eq!(t.iter().collect::<Vec<_>>(), [("a", "2")]);
        let mut map = BTreeMap::new();
        t.fill_missing(&mut map);
        assert_eq!(map.len(), 1);
        assert_eq!(map["a"], "2");
    }

    #[test]
    fn fills_only_missing_keys() {
        let t = tags(&[("a", "scope"), ("b", "scope")]);
        let mut map = BTreeMap::from([(SmolStr::new("a"), SmolStr::new("event"))]);
        t.fill_missing(&mut map);
        assert_eq!(map["a"], "event");
        assert_eq!(map["b"], "scope");
        let mut empty = BTreeMap::new();
        t.fill_missing(&mut empty);
        assert_eq!(empty.len(), 2);
    }
}
