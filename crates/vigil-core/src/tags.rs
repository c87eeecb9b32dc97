//! [`Tags`]: the tags of a scope.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use vigil_protocol::SmolStr;

type Entry = (SmolStr, SmolStr);

/// The tags of a scope, sorted by key.
///
/// Shared with the scopes pushed from it until one of them writes; a
/// write then makes one allocation for the new list (tag strings of up to
/// 23 bytes are stored inline, longer ones are shared), so changing a tag
/// costs the same whatever else the scope holds.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tags {
    entries: Option<Arc<[Entry]>>,
}

impl Tags {
    fn entries(&self) -> &[Entry] {
        self.entries.as_deref().unwrap_or(&[])
    }

    fn find(&self, key: &str) -> Result<usize, usize> {
        self.entries()
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
    }

    /// Number of tags.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// Whether there are no tags.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.find(key).ok()?;
        Some(self.entries()[i].1.as_str())
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.find(key).is_ok()
    }

    /// The tags as `(key, value)`, sorted by key.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + DoubleEndedIterator {
        self.entries().iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(crate) fn insert(&mut self, key: &str, value: SmolStr) {
        match self.find(key) {
            Ok(i) => {
                if self.entries()[i].1 == value {
                    return;
                }
                if let Some(entries) = self.entries.as_mut().and_then(Arc::get_mut) {
                    entries[i].1 = value;
                    return;
                }
                let mut new = self.entries().to_vec();
                new[i].1 = value;
                self.entries = Some(new.into());
            }
            Err(i) => {
                let old = self.entries();
                let mut new = Vec::with_capacity(old.len() + 1);
                new.extend_from_slice(&old[..i]);
                new.push((SmolStr::new(key), value));
                new.extend_from_slice(&old[i..]);
                self.entries = Some(new.into());
            }
        }
    }

    pub(crate) fn remove(&mut self, key: &str) {
        let Ok(i) = self.find(key) else { return };
        let old = self.entries();
        if old.len() == 1 {
            self.entries = None;
            return;
        }
        let new = old[..i].iter().chain(&old[i + 1..]).cloned().collect();
        self.entries = Some(new);
    }

    /// Adds to `map` every tag it does not have.
    pub(crate) fn fill_missing(&self, map: &mut BTreeMap<SmolStr, SmolStr>) {
        if map.is_empty() {
            // Built from sorted input in one pass.
            *map = self.entries().iter().cloned().collect();
            return;
        }
        for (k, v) in self.entries() {
            if !map.contains_key(k) {
                map.insert(k.clone(), v.clone());
            }
        }
    }

    /// Applies the changes `edited` made relative to `base` (three-way
    /// merge, see `Scope::merge_changes`).
    pub(crate) fn merge_changes(&mut self, base: &Tags, edited: &Tags) {
        if base.same_storage(edited) {
            return;
        }
        for (k, v) in edited.entries() {
            if base.get(k) != Some(v.as_str()) {
                self.insert(k, v.clone());
            }
        }
        for (k, _) in base.entries() {
            if !edited.contains_key(k) {
                self.remove(k);
            }
        }
    }

    fn same_storage(&self, other: &Tags) -> bool {
        match (&self.entries, &other.entries) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

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
