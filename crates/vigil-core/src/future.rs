//! Hubs for futures: a future bound to a hub sees it as the current hub
//! whenever it is polled, on whichever thread polls it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::hub::{Hub, SwitchGuard, any_client};
use crate::scope::Scope;

pin_project! {
    /// A future that runs with a hub as the current hub while it is polled.
    /// Created by [`HubFutureExt::bind_hub`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct HubFuture<F> {
        hub: Arc<Hub>,
        #[pin]
        future: F,
    }
}

impl<F> HubFuture<F> {
    /// The hub this future runs under.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }
}

impl<F: Future> Future for HubFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let _guard = SwitchGuard::new(this.hub.clone());
        this.future.poll(cx)
    }
}

/// Binds futures to hubs.
pub trait HubFutureExt: Sized {
    /// Makes `hub` the current hub exactly while this future is polled,
    /// restoring the previous one after each poll. Work that runs
    /// concurrently with other work (a request, a spawned task) should get
    /// a hub of its own: `fut.bind_hub(Hub::new_from_top(Hub::current()))`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use vigil_core::{Hub, HubFutureExt};
    /// # let events = vigil_core::test::with_captured_events(|| {
    /// let hub = Arc::new(Hub::new_from_top(Hub::current()));
    /// hub.configure_scope(|s| s.set_tag("task", "a"));
    /// let fut = async { vigil_core::capture_message("in task", vigil_core::protocol::Level::Info) };
    /// # let waker = std::task::Waker::noop();
    /// # let mut fut = std::pin::pin!(fut.bind_hub(hub));
    /// # let _ = fut.as_mut().poll(&mut std::task::Context::from_waker(&waker));
    /// # });
    /// # assert_eq!(events[0].tags["task"], "a");
    /// ```
    fn bind_hub<H: Into<Arc<Hub>>>(self, hub: H) -> HubFuture<Self>;
}

impl<F: Future> HubFutureExt for F {
    fn bind_hub<H: Into<Arc<Hub>>>(self, hub: H) -> HubFuture<F> {
        HubFuture {
            hub: hub.into(),
            future: self,
        }
    }
}

/// The async form of [`with_scope`](crate::with_scope): runs `future` under
/// a new hub forked from the current one and configured by
/// `scope_config`. Changes stay inside the future for its whole life,
/// across `.await` points and worker threads, and never reach the caller's
/// hub or any other task.
///
/// ```
/// use vigil_core::protocol::Level;
/// # let events = vigil_core::test::with_captured_events(|| {
/// let fut = vigil_core::with_scope_async(|s| s.set_tag("job", "import"), async {
///     vigil_core::capture_message("inside", Level::Info);
/// });
/// # let waker = std::task::Waker::noop();
/// # let mut fut = std::pin::pin!(fut);
/// # let _ = fut.as_mut().poll(&mut std::task::Context::from_waker(&waker));
/// vigil_core::capture_message("outside", Level::Info);
/// # });
/// # assert_eq!(events[0].tags["job"], "import");
/// # assert!(!events[1].tags.contains_key("job"));
/// ```
pub fn with_scope_async<C, F>(scope_config: C, future: F) -> HubFuture<F>
where
    C: FnOnce(&mut Scope),
    F: Future,
{
    let current = Hub::current();
    if !any_client() || !current.is_active() {
        return future.bind_hub(current);
    }
    let hub = Arc::new(Hub::new_from_top(&*current));
    hub.configure_scope(scope_config);
    future.bind_hub(hub)
}

/// Spawns `future` on the current tokio runtime under a fork of the
/// caller's current hub, so work spawned inside a request keeps the
/// request's scope (and changes made by the task stay in the task).
///
/// # Panics
/// As [`tokio::spawn`]: when called outside a tokio runtime.
#[cfg(feature = "tokio")]
pub fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let hub = Arc::new(Hub::new_from_top(Hub::current()));
    tokio::spawn(future.bind_hub(hub))
}
