//! The standard traits of [`Breadcrumbs`]: building a list from
//! breadcrumbs, indexing, iterating by reference, equality and `Debug`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use super::entry::Entry;
use super::{Breadcrumbs, Iter};
use crate::breadcrumb::Breadcrumb;

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
