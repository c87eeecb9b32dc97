//! What [`add_breadcrumb`](crate::add_breadcrumb) accepts. The storage
//! is [`vigil_protocol::Breadcrumbs`], shared between a scope, the scopes
//! pushed from it and the events captured in them.

use vigil_protocol::Breadcrumb;

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
