//! [`Iter`]: borrowing iteration over a [`Breadcrumbs`](super::Breadcrumbs)
//! list.

use std::sync::Arc;

use super::entry::Entry;
use crate::breadcrumb::Breadcrumb;

/// Iterator over [`Breadcrumbs`](super::Breadcrumbs), oldest first.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    pub(super) shared: std::collections::vec_deque::Iter<'a, Arc<Entry>>,
    pub(super) own: std::slice::Iter<'a, Arc<Entry>>,
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
