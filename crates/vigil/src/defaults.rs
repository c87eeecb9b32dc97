//! Defaults the facade adds to the core.

use std::sync::Arc;

use vigil_core::TransportFactory;

/// The transport used when the options name none: the HTTP transport
/// (feature `http`, on by default).
pub(crate) fn default_transport() -> Option<Arc<dyn TransportFactory>> {
    #[cfg(feature = "http")]
    {
        Some(Arc::new(vigil_transport::http()))
    }
    #[cfg(not(feature = "http"))]
    {
        None
    }
}

/// `factory`, lent the HTTP transport's Spotlight transport when it
/// cannot build one itself (a transport of the caller's still gets
/// Spotlight's copy). Without the `http` feature, `factory` as it is.
pub(crate) fn with_spotlight_support(
    factory: Arc<dyn TransportFactory>,
) -> Arc<dyn TransportFactory> {
    #[cfg(feature = "http")]
    {
        Arc::new(LentSpotlight { factory })
    }
    #[cfg(not(feature = "http"))]
    {
        factory
    }
}

#[cfg(feature = "http")]
struct LentSpotlight {
    factory: Arc<dyn TransportFactory>,
}

#[cfg(feature = "http")]
impl TransportFactory for LentSpotlight {
    fn create_transport(
        &self,
        ctx: &vigil_core::TransportContext<'_>,
    ) -> Arc<dyn vigil_core::Transport> {
        self.factory.create_transport(ctx)
    }

    fn create_spotlight_transport(&self, url: &str) -> Option<Arc<dyn vigil_core::Transport>> {
        self.factory
            .create_spotlight_transport(url)
            .or_else(|| vigil_transport::http().create_spotlight_transport(url))
    }
}

/// The environment of a client `init` creates when neither the options nor
/// `SENTRY_ENVIRONMENT` set one: `development` in a build with debug
/// assertions (`cargo run`, `cargo test`), `production` otherwise, as the
/// reference SDK does.
pub(crate) fn default_environment(options: &mut vigil_core::ClientOptions) {
    if options.environment.is_none() {
        options.environment = Some(
            if cfg!(debug_assertions) {
                "development"
            } else {
                "production"
            }
            .into(),
        );
    }
}

/// The options as `init` completes them: unset values read from the
/// `SENTRY_*` environment variables (see [`init`](crate::init)), the
/// default environment, the HTTP transport when none is set (feature
/// `http`), and the default integrations in front of the user's when
/// `default_integrations` is on (see [`integrations`](crate::integrations)).
///
/// For a client built by hand (`Client::new(apply_defaults(options))`) that
/// should behave like the one `init` makes. An invalid `SENTRY_DSN` is
/// reported on stderr and ignored.
pub fn apply_defaults(mut options: vigil_core::ClientOptions) -> vigil_core::ClientOptions {
    if let Err(e) = options.apply_env() {
        eprintln!("[vigil] SENTRY_DSN ignored: {e}");
    }
    default_integrations(&mut options);
    default_environment(&mut options);
    if options.transport.is_none() {
        options.transport = default_transport();
    }
    options
}

/// Adds the default integrations in front of the user's when
/// `default_integrations` is on: those compiled in (features `backtrace`,
/// `contexts`, `debug-images`, `panic`) whose name is not already among
/// `options.integrations` (a user-configured instance wins). With
/// `default_integrations` off nothing is added.
pub(crate) fn default_integrations(options: &mut vigil_core::ClientOptions) {
    if !options.default_integrations {
        return;
    }
    let mut defaults = crate::integrations::defaults();
    defaults.retain(|d| !options.integrations.iter().any(|i| i.name() == d.name()));
    options.integrations.splice(0..0, defaults);
}
