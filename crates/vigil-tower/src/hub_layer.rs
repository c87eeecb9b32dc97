//! A layer that only binds a hub to each request, for any request type.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower_layer::Layer;
use tower_service::Service;
use vigil_core::{Hub, HubFuture, HubFutureExt};

/// Chooses the hub a request of type `Request` runs under, for
/// [`HubLayer`].
///
/// Implemented by an `Arc<Hub>` (every request gets that hub), by
/// [`NewFromTopProvider`] (every request gets a new hub made from the
/// current one) and by any `Fn(&Request) -> H`.
pub trait HubProvider<H, Request>
where
    H: Into<Arc<Hub>>,
{
    /// The hub `request` runs under.
    fn hub(&self, request: &Request) -> H;
}

impl<H, F, Request> HubProvider<H, Request> for F
where
    F: Fn(&Request) -> H,
    H: Into<Arc<Hub>>,
{
    fn hub(&self, request: &Request) -> H {
        self(request)
    }
}

impl<Request> HubProvider<Arc<Hub>, Request> for Arc<Hub> {
    fn hub(&self, _: &Request) -> Arc<Hub> {
        Arc::clone(self)
    }
}

/// A [`HubProvider`] that gives every request a new hub made from the hub
/// current when the request arrives (`Hub::new_from_top(Hub::current())`):
/// what the request sets on its scope stays with it.
#[derive(Clone, Copy, Debug, Default)]
pub struct NewFromTopProvider;

impl<Request> HubProvider<Arc<Hub>, Request> for NewFromTopProvider {
    fn hub(&self, _: &Request) -> Arc<Hub> {
        Arc::new(Hub::new_from_top(Hub::current()))
    }
}

/// A [`tower_layer::Layer`] that runs every request under the hub its
/// [`HubProvider`] chooses, and does nothing else: unlike
/// [`VigilLayer`](crate::VigilLayer) it works for any request type (not
/// only `http::Request`) and records nothing about the request.
///
/// The hub is current while the inner service's `call` runs and whenever
/// its future is polled, on whichever thread.
///
/// ```
/// use std::sync::Arc;
/// use tower::{ServiceBuilder, ServiceExt};
/// use vigil_core::Hub;
/// use vigil_tower::HubLayer;
///
/// # let events = vigil_core::test::with_captured_events(|| {
/// let hub = Arc::new(Hub::new_from_top(Hub::current()));
/// hub.configure_scope(|scope| scope.set_tag("service", "greeter"));
/// let service = ServiceBuilder::new()
///     .layer(HubLayer::new(hub))
///     .service_fn(|name: String| async move {
///         vigil_core::capture_message(&format!("hello {name}"), vigil_core::protocol::Level::Info);
///         Ok::<_, std::convert::Infallible>(())
///     });
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(service.oneshot("ada".to_owned())).unwrap();
/// # });
/// # assert_eq!(events[0].tags["service"], "greeter");
/// ```
pub struct HubLayer<P, H, Request>
where
    P: HubProvider<H, Request>,
    H: Into<Arc<Hub>>,
{
    provider: P,
    // `fn() -> Request`: the layer is `Send` and `Sync` whatever the
    // request type is.
    _types: PhantomData<(H, fn() -> Request)>,
}

/// A [`HubLayer`] giving every request a new hub made from the current
/// one: build it with [`HubLayer::new_from_top`].
pub type NewHubLayer<Request> = HubLayer<NewFromTopProvider, Arc<Hub>, Request>;

/// The reference SDK's name of [`HubLayer`], for migrating code that uses
/// it.
pub type SentryLayer<P, H, Request> = HubLayer<P, H, Request>;

/// The reference SDK's name of [`NewHubLayer`], for migrating code that
/// uses it.
pub type NewSentryLayer<Request> = NewHubLayer<Request>;

impl<P, H, Request> HubLayer<P, H, Request>
where
    P: HubProvider<H, Request> + Clone,
    H: Into<Arc<Hub>>,
{
    /// A layer running every request under the hub `provider` chooses:
    /// an `Arc<Hub>`, [`NewFromTopProvider`] or a closure
    /// `Fn(&Request) -> impl Into<Arc<Hub>>`.
    pub fn new(provider: P) -> Self {
        HubLayer {
            provider,
            _types: PhantomData,
        }
    }
}

impl<Request> HubLayer<NewFromTopProvider, Arc<Hub>, Request> {
    /// A layer giving every request a new hub made from the hub current
    /// when it arrives (see [`NewFromTopProvider`]).
    pub fn new_from_top() -> Self {
        HubLayer::new(NewFromTopProvider)
    }
}

impl<P, H, Request> Clone for HubLayer<P, H, Request>
where
    P: HubProvider<H, Request> + Clone,
    H: Into<Arc<Hub>>,
{
    fn clone(&self) -> Self {
        HubLayer::new(self.provider.clone())
    }
}

impl<P, H, Request> fmt::Debug for HubLayer<P, H, Request>
where
    P: HubProvider<H, Request> + fmt::Debug,
    H: Into<Arc<Hub>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubLayer")
            .field("provider", &self.provider)
            .finish()
    }
}

impl<S, P, H, Request> Layer<S> for HubLayer<P, H, Request>
where
    P: HubProvider<H, Request> + Clone,
    H: Into<Arc<Hub>>,
{
    type Service = HubService<S, P, H, Request>;

    fn layer(&self, inner: S) -> Self::Service {
        HubService {
            inner,
            provider: self.provider.clone(),
            _types: PhantomData,
        }
    }
}

/// The service made by [`HubLayer`]: runs every request of the inner
/// service under the hub its [`HubProvider`] chooses.
pub struct HubService<S, P, H, Request>
where
    P: HubProvider<H, Request>,
    H: Into<Arc<Hub>>,
{
    inner: S,
    provider: P,
    _types: PhantomData<(H, fn() -> Request)>,
}

/// A [`HubService`] giving every request a new hub made from the current
/// one: build it with [`HubService::new_from_top`].
pub type NewHubService<S, Request> = HubService<S, NewFromTopProvider, Arc<Hub>, Request>;

/// The reference SDK's name of [`HubService`], for migrating code that
/// uses it.
pub type SentryService<S, P, H, Request> = HubService<S, P, H, Request>;

/// The reference SDK's name of [`NewHubService`], for migrating code that
/// uses it.
pub type NewSentryService<S, Request> = NewHubService<S, Request>;

impl<S, P, H, Request> HubService<S, P, H, Request>
where
    P: HubProvider<H, Request> + Clone,
    H: Into<Arc<Hub>>,
{
    /// Wraps `inner`, like `HubLayer::new(provider).layer(inner)`.
    pub fn new(provider: P, inner: S) -> Self {
        HubService {
            inner,
            provider,
            _types: PhantomData,
        }
    }

    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, Request> HubService<S, NewFromTopProvider, Arc<Hub>, Request> {
    /// Wraps `inner`, giving every request a new hub made from the hub
    /// current when it arrives.
    pub fn new_from_top(inner: S) -> Self {
        HubService::new(NewFromTopProvider, inner)
    }
}

impl<S, P, H, Request> Clone for HubService<S, P, H, Request>
where
    S: Clone,
    P: HubProvider<H, Request> + Clone,
    H: Into<Arc<Hub>>,
{
    fn clone(&self) -> Self {
        HubService::new(self.provider.clone(), self.inner.clone())
    }
}

impl<S, P, H, Request> fmt::Debug for HubService<S, P, H, Request>
where
    S: fmt::Debug,
    P: HubProvider<H, Request> + fmt::Debug,
    H: Into<Arc<Hub>>,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubService")
            .field("inner", &self.inner)
            .field("provider", &self.provider)
            .finish()
    }
}

impl<S, P, H, Request> Service<Request> for HubService<S, P, H, Request>
where
    S: Service<Request>,
    P: HubProvider<H, Request>,
    H: Into<Arc<Hub>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = HubFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> HubFuture<S::Future> {
        let hub: Arc<Hub> = self.provider.hub(&request).into();
        let inner = &mut self.inner;
        let future = Hub::run(Arc::clone(&hub), || inner.call(request));
        future.bind_hub(hub)
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    fn is_send_sync<T: Send + Sync>() {}

    #[test]
    fn send_and_sync_whatever_the_request() {
        is_send_sync::<NewHubLayer<Rc<()>>>();
        is_send_sync::<NewHubService<(), Rc<()>>>();
        is_send_sync::<HubLayer<Arc<Hub>, Arc<Hub>, Rc<()>>>();
    }
}
