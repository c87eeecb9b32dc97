//! The `ureq` side of the HTTP transport: building the agent (with a DNS
//! cache) and sorting `ureq` errors into retryable, network and internal
//! failures.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::http::options::HttpTransportOptions;

/// The `ureq` agent of one transport: no redirects, HTTP error statuses
/// returned as responses, the timeouts of `options`, the proxy from the
/// environment when asked, and a [`CachingResolver`], whose cache is
/// returned too (to drop it when a connection fails).
pub(crate) fn build_agent(
    options: &HttpTransportOptions,
    user_agent: &str,
) -> (ureq::Agent, ResolveCache) {
    let proxy = match options.proxy_url() {
        // Validated when it was set.
        Some(url) => ureq::Proxy::new(url).ok(),
        None if options.proxy_from_env => ureq::Proxy::try_from_env(),
        None => None,
    };
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .timeout_resolve(Some(options.connect_timeout))
        .timeout_connect(Some(options.connect_timeout))
        .timeout_global(Some(options.timeout))
        .user_agent(user_agent)
        .proxy(proxy);
    #[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
    let config = config.tls_config(options.tls.to_ureq());
    let resolver = CachingResolver::<ureq::unversioned::resolver::DefaultResolver>::default();
    let cache = resolver.cache.clone();
    let agent = ureq::Agent::with_parts(
        config.build(),
        ureq::unversioned::transport::DefaultConnector::new(),
        resolver,
    );
    (agent, cache)
}

/// How long a resolved address is reused.
const RESOLVE_TTL: Duration = Duration::from_secs(60);

/// Resolves host names through ureq's resolver, reusing the answer for
/// [`RESOLVE_TTL`]. ureq resolves before every request, even on a kept-alive
/// connection, and with a resolve timeout it does so on a new thread each
/// time: one thread per envelope. The transport talks to one host, so one
/// cached answer removes that cost. The answer is dropped when a request
/// fails on the network ([`ResolveCache::forget`]), so that a fail-over to
/// other addresses is followed at the next attempt, not a minute later.
#[derive(Debug, Default)]
struct CachingResolver<R = ureq::unversioned::resolver::DefaultResolver> {
    inner: R,
    cache: ResolveCache,
}

/// The cached answer of a [`CachingResolver`], shared with the code that
/// sees requests fail.
#[derive(Clone, Debug, Default)]
pub(crate) struct ResolveCache(Arc<Mutex<Option<CachedAddrs>>>);

impl ResolveCache {
    /// Drops the cached answer: the next request resolves the name again.
    pub(crate) fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<CachedAddrs>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The last answer of [`CachingResolver`].
#[derive(Debug)]
struct CachedAddrs {
    /// `scheme://authority` that was resolved.
    key: String,
    /// When it was resolved.
    at: Instant,
    /// The addresses.
    addrs: ureq::unversioned::resolver::ResolvedSocketAddrs,
}

impl<R: ureq::unversioned::resolver::Resolver> ureq::unversioned::resolver::Resolver
    for CachingResolver<R>
{
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let key = format!(
            "{}://{}",
            uri.scheme_str().unwrap_or(""),
            uri.authority().map(|a| a.as_str()).unwrap_or("")
        );
        {
            let cache = self.cache.lock();
            if let Some(c) = cache.as_ref()
                && c.key == key
                && c.at.elapsed() < RESOLVE_TTL
            {
                return Ok(c.addrs.clone());
            }
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *self.cache.lock() = Some(CachedAddrs {
            key,
            at: Instant::now(),
            addrs: addrs.clone(),
        });
        Ok(addrs)
    }
}

/// How a `ureq` error is handled.
pub(crate) enum Failure {
    /// Worth another attempt (connection, timeout, name resolution).
    Retryable,
    /// A network failure not worth retrying (TLS).
    Network,
    /// An SDK or configuration failure (bad URL or header, proxy URL).
    Internal,
}

/// How `error` is handled: retried, given up as a network failure, or
/// taken for an SDK failure.
pub(crate) fn classify(error: &ureq::Error) -> Failure {
    match error {
        ureq::Error::Io(_)
        | ureq::Error::Timeout(_)
        | ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::Protocol(_) => Failure::Retryable,
        ureq::Error::Http(_) | ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl => {
            Failure::Internal
        }
        _ => Failure::Network,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use ureq::unversioned::resolver::{DefaultResolver, Resolver};
    use ureq::unversioned::transport::NextTimeout;

    /// The default resolver, counting its calls.
    #[derive(Debug, Default)]
    struct Counting {
        inner: DefaultResolver,
        calls: Arc<AtomicUsize>,
    }

    impl Resolver for Counting {
        fn resolve(
            &self,
            uri: &ureq::http::Uri,
            config: &ureq::config::Config,
            timeout: NextTimeout,
        ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
            self.calls.fetch_add(1, Ordering::Relaxed);
            self.inner.resolve(uri, config, timeout)
        }
    }

    #[test]
    fn an_answer_is_reused_until_a_request_fails() {
        let calls = Arc::new(AtomicUsize::new(0));
        let resolver = CachingResolver {
            inner: Counting {
                inner: DefaultResolver::default(),
                calls: calls.clone(),
            },
            cache: ResolveCache::default(),
        };
        let uri: ureq::http::Uri = "http://127.0.0.1:9/api/1/envelope/".parse().unwrap();
        let config = ureq::config::Config::default();
        let resolve = || {
            resolver
                .resolve(&uri, &config, NextTimeout::default())
                .unwrap()
        };
        resolve();
        resolve();
        assert_eq!(calls.load(Ordering::Relaxed), 1, "cached");
        resolver.cache.forget();
        resolve();
        assert_eq!(
            calls.load(Ordering::Relaxed),
            2,
            "resolved again after a failure"
        );
    }
}
