//! Breadcrumb storage: a persistent list shared between a scope and the
//! scopes pushed from it, so a pushed scope that adds one breadcrumb
//! allocates one node instead of copying its parent's list.

use std::sync::Arc;

use vigil_protocol::Breadcrumb;

struct Node {
    crumb: Breadcrumb,
    prev: Option<Arc<Node>>,
}

/// The breadcrumbs of a scope, newest first internally.
#[derive(Clone, Default)]
pub(crate) struct Breadcrumbs {
    head: Option<Arc<Node>>,
    len: usize,
}

impl Breadcrumbs {
    /// Adds a breadcrumb. Once more than twice `max` are stored, the list is
    /// rebuilt with the newest `max` (amortised O(1) per push; memory stays
    /// bounded).
    pub(crate) fn push(&mut self, crumb: Breadcrumb, max: usize) {
        let prev = self.head.take();
        self.head = Some(Arc::new(Node { crumb, prev }));
        self.len += 1;
        if self.len > max.saturating_mul(2).max(1) {
            self.truncate(max);
        }
    }

    /// Keeps only the newest `max` breadcrumbs. Nodes this list owns alone
    /// are moved, not cloned; nodes shared with another scope are cloned.
    pub(crate) fn truncate(&mut self, max: usize) {
        if self.len <= max {
            return;
        }
        let mut keep = Vec::with_capacity(max);
        let mut next = self.head.take();
        while keep.len() < max {
            let Some(node) = next else { break };
            match Arc::try_unwrap(node) {
                Ok(mut n) => {
                    next = n.prev.take();
                    keep.push(n.crumb);
                }
                Err(shared) => {
                    keep.push(shared.crumb.clone());
                    next = shared.prev.clone();
                }
            }
        }
        // The older rest is unlinked iteratively by `Drop`.
        drop(Breadcrumbs { head: next, len: 0 });
        self.len = 0;
        for crumb in keep.into_iter().rev() {
            let prev = self.head.take();
            self.head = Some(Arc::new(Node { crumb, prev }));
            self.len += 1;
        }
    }

    /// Number of stored breadcrumbs.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Iterates newest first.
    pub(crate) fn iter_newest_first(&self) -> impl Iterator<Item = &Breadcrumb> {
        let mut node = self.head.as_deref();
        std::iter::from_fn(move || {
            let n = node?;
            node = n.prev.as_deref();
            Some(&n.crumb)
        })
    }

    /// The newest `max` breadcrumbs, oldest first.
    pub(crate) fn newest(&self, max: usize) -> Vec<Breadcrumb> {
        let mut out: Vec<Breadcrumb> = self.iter_newest_first().take(max).cloned().collect();
        out.reverse();
        out
    }

    /// Whether both lists share the same newest node (or are both empty).
    pub(crate) fn same_as(&self, other: &Breadcrumbs) -> bool {
        match (&self.head, &other.head) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// If `self` is `base` plus breadcrumbs pushed on top, those
    /// breadcrumbs oldest first; `None` if `self` does not extend `base`.
    pub(crate) fn added_since(&self, base: &Breadcrumbs) -> Option<Vec<Breadcrumb>> {
        let mut added = Vec::new();
        let mut node = self.head.as_ref();
        loop {
            match (node, &base.head) {
                (None, None) => break,
                (Some(n), Some(b)) if Arc::ptr_eq(n, b) => break,
                (Some(n), _) => {
                    added.push(n.crumb.clone());
                    node = n.prev.as_ref();
                }
                (None, Some(_)) => return None,
            }
        }
        added.reverse();
        Some(added)
    }
}

impl Drop for Breadcrumbs {
    /// Unlinks iteratively so that a long list cannot overflow the stack.
    fn drop(&mut self) {
        let mut next = self.head.take();
        while let Some(node) = next {
            match Arc::try_unwrap(node) {
                Ok(mut n) => next = n.prev.take(),
                Err(_) => break,
            }
        }
    }
}

/// What [`add_breadcrumb`](crate::add_breadcrumb) accepts: a breadcrumb, a
/// `Vec` or `Option` of them, or a closure producing any of these (run only
/// when a client is active, so building the breadcrumb costs nothing when
/// the SDK is disabled).
pub trait IntoBreadcrumbs {
    /// The breadcrumbs, as an iterator (a single breadcrumb allocates
    /// nothing).
    type Output: IntoIterator<Item = Breadcrumb>;

    /// The breadcrumbs.
    fn into_breadcrumbs(self) -> Self::Output;
}

impl IntoBreadcrumbs for Breadcrumb {
    type Output = Option<Breadcrumb>;

    fn into_breadcrumbs(self) -> Option<Breadcrumb> {
        Some(self)
    }
}

impl IntoBreadcrumbs for Vec<Breadcrumb> {
    type Output = Vec<Breadcrumb>;

    fn into_breadcrumbs(self) -> Vec<Breadcrumb> {
        self
    }
}

impl IntoBreadcrumbs for Option<Breadcrumb> {
    type Output = Option<Breadcrumb>;

    fn into_breadcrumbs(self) -> Option<Breadcrumb> {
        self
    }
}

impl<F, I> IntoBreadcrumbs for F
where
    F: FnOnce() -> I,
    I: IntoBreadcrumbs,
{
    type Output = I::Output;

    fn into_breadcrumbs(self) -> I::Output {
        self().into_breadcrumbs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crumb(i: usize) -> Breadcrumb {
        Breadcrumb::message(i.to_string())
    }

    fn messages(list: &[Breadcrumb]) -> Vec<String> {
        list.iter().map(|c| c.message.clone().unwrap()).collect()
    }

    #[test]
    fn keeps_newest_in_order() {
        let mut b = Breadcrumbs::default();
        for i in 0..10 {
            b.push(crumb(i), 3);
        }
        assert_eq!(messages(&b.newest(3)), ["7", "8", "9"]);
        assert!(b.len() <= 6);
    }

    #[test]
    fn pushed_copy_shares_parent_nodes() {
        let mut parent = Breadcrumbs::default();
        for i in 0..20 {
            parent.push(crumb(i), 100);
        }
        let mut child = parent.clone();
        child.push(crumb(99), 100);
        assert_eq!(child.len(), 21);
        assert_eq!(parent.len(), 20);
        assert_eq!(messages(&child.added_since(&parent).unwrap()), ["99"]);
        assert!(parent.added_since(&child).is_none());
        assert_eq!(messages(&parent.newest(1)), ["19"]);
    }

    #[test]
    fn long_list_drops_without_overflow() {
        let mut b = Breadcrumbs::default();
        for i in 0..200_000 {
            b.push(crumb(i), 1_000_000);
        }
        drop(b);
    }
}
