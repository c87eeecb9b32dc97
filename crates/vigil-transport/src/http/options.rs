//! The settings of the HTTP transport: timeouts, retries and back-off, the
//! proxy, and the disk queue.

#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
use std::path::Path;
use std::path::PathBuf;
#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
use std::sync::Arc;
use std::time::Duration;

use vigil_core::TransportContext;
use vigil_core::protocol::Scheme;

use crate::http::tls::TlsSettings;
#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
use crate::http::tls::{self, InvalidCertificates, TrustedRoots};
use crate::spool::options::DiskQueueOptions;
#[cfg(doc)]
use crate::{http::HttpTransport, spool::options::Durability};

/// Settings of an [`HttpTransport`] beyond what
/// [`ClientOptions`](vigil_core::ClientOptions) holds.
///
/// The defaults suit production use:
///
/// | setting | default |
/// | --- | --- |
/// | [`connect_timeout`](HttpTransportOptions::connect_timeout) | 5 s |
/// | [`timeout`](HttpTransportOptions::timeout) (whole request) | 15 s |
/// | [`max_attempts`](HttpTransportOptions::max_attempts) | 3 |
/// | [`initial_backoff`](HttpTransportOptions::initial_backoff) | 100 ms, doubling |
/// | [`max_backoff`](HttpTransportOptions::max_backoff) | 2 s |
/// | [`proxy`](HttpTransportOptions::proxy) | none (then the environment's) |
/// | [`proxy_from_env`](HttpTransportOptions::proxy_from_env) | on |
/// | [`disk_queue`](HttpTransportOptions::disk_queue) | off |
/// | [`root_certificates_pem`](HttpTransportOptions::root_certificates_pem) | Mozilla's roots, built in |
/// | [`platform_verifier`](HttpTransportOptions::platform_verifier) | off |
/// | [`danger_accept_invalid_certs`](HttpTransportOptions::danger_accept_invalid_certs) | off |
///
/// ```
/// use std::time::Duration;
/// use vigil_transport::{HttpTransport, HttpTransportOptions};
/// let options = HttpTransportOptions::new()
///     .timeout(Duration::from_secs(5))
///     .max_attempts(5);
/// let factory = HttpTransport::factory_with(options);
/// let client_options = vigil_core::ClientOptions::new().transport(factory);
/// # let _ = client_options;
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpTransportOptions {
    /// How long establishing a connection (name resolution, TCP, TLS, a
    /// proxy's `CONNECT`) may take; clamped to 10 ms ..= 10 min.
    pub connect_timeout: Duration,
    /// How long one request may take in all, from connecting to reading the
    /// response; clamped to 10 ms ..= 1 h. A request that runs out of time
    /// is a network error.
    pub timeout: Duration,
    /// How many times an envelope is tried when the network fails
    /// (connection refused or reset, timeout, name resolution); 1 ..= 100.
    /// HTTP error statuses are never retried.
    pub max_attempts: u32,
    /// The pause before the first retry (1 ms ..= 1 h); it doubles for each
    /// further one.
    /// Each pause is jittered (between half and all of it) and never runs
    /// past the deadline of a pending flush or shutdown.
    pub initial_backoff: Duration,
    /// The longest pause between two attempts (`initial_backoff` ..= 1 h).
    pub max_backoff: Duration,
    /// Use the proxy named by `ALL_PROXY`, `HTTPS_PROXY` or `HTTP_PROXY`
    /// (or their lowercase forms), except for the hosts in `NO_PROXY`.
    pub proxy_from_env: bool,
    /// Store envelopes on disk before sending them, so that they survive
    /// network outages and restarts; off (`None`) by default. See
    /// [`HttpTransportOptions::disk_queue`].
    pub disk_queue: Option<DiskQueueOptions>,
    /// The proxy set with [`HttpTransportOptions::proxy`] (validated; it
    /// wins over the environment's).
    proxy: Option<String>,
    /// Trusted roots, verification, the rustls provider.
    pub(crate) tls: TlsSettings,
}

impl std::fmt::Debug for HttpTransportOptions {
    /// The proxy's credentials, if any, are not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpTransportOptions")
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("proxy_from_env", &self.proxy_from_env)
            .field("disk_queue", &self.disk_queue)
            .field("tls", &self.tls)
            .field(
                "proxy",
                &self
                    .proxy
                    .as_deref()
                    .map(|url| vigil_core::privacy::filter_url(url, false)),
            )
            .finish()
    }
}

/// A proxy URL [`HttpTransportOptions::proxy`] cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidProxy {
    url: String,
    reason: String,
}

impl std::fmt::Display for InvalidProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid proxy URL {:?}: {} (expected http://, https://, socks4://, socks4a:// or socks5:// with a host)",
            vigil_core::privacy::filter_url(&self.url, false),
            self.reason
        )
    }
}

impl std::error::Error for InvalidProxy {}

impl Default for HttpTransportOptions {
    fn default() -> HttpTransportOptions {
        HttpTransportOptions {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(15),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            proxy_from_env: true,
            disk_queue: None,
            proxy: None,
            tls: TlsSettings::default(),
        }
    }
}

impl HttpTransportOptions {
    /// The defaults (see the table above).
    pub fn new() -> HttpTransportOptions {
        HttpTransportOptions::default()
    }

    /// Sets [`connect_timeout`](HttpTransportOptions::connect_timeout).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> HttpTransportOptions {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`timeout`](HttpTransportOptions::timeout).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> HttpTransportOptions {
        self.timeout = timeout;
        self
    }

    /// Sets [`max_attempts`](HttpTransportOptions::max_attempts) (0 counts
    /// as 1).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> HttpTransportOptions {
        self.max_attempts = attempts;
        self
    }

    /// Sets [`initial_backoff`](HttpTransportOptions::initial_backoff) and
    /// [`max_backoff`](HttpTransportOptions::max_backoff).
    #[must_use]
    pub fn backoff(mut self, initial: Duration, max: Duration) -> HttpTransportOptions {
        self.initial_backoff = initial;
        self.max_backoff = max;
        self
    }

    /// Sends through the proxy at `url` (`http://`, `https://`,
    /// `socks4://`, `socks4a://` or `socks5://`, with `user:password@` if
    /// it needs them), whatever the environment says. Self-hosted Sentry
    /// behind a corporate proxy is the usual case.
    ///
    /// ```
    /// use vigil_transport::HttpTransportOptions;
    /// let options = HttpTransportOptions::new().proxy("http://proxy.internal:3128")?;
    /// assert_eq!(options.proxy_url(), Some("http://proxy.internal:3128"));
    /// let err = HttpTransportOptions::new().proxy("ftp://proxy").unwrap_err();
    /// assert!(err.to_string().starts_with("invalid proxy URL \"ftp://proxy\""));
    /// # Ok::<(), vigil_transport::InvalidProxy>(())
    /// ```
    ///
    /// # Errors
    /// [`InvalidProxy`] when `url` is not a proxy URL ureq can use.
    pub fn proxy(mut self, url: &str) -> Result<HttpTransportOptions, InvalidProxy> {
        match ureq::Proxy::new(url) {
            Ok(_) => {
                self.proxy = Some(url.to_owned());
                Ok(self)
            }
            Err(e) => Err(InvalidProxy {
                url: url.to_owned(),
                reason: e.to_string(),
            }),
        }
    }

    /// These options with the client's `http_proxy` / `https_proxy`
    /// applied when no proxy was set here: `https_proxy` (then
    /// `http_proxy`) for an `https://` DSN, `http_proxy` for `http://`.
    /// An empty string turns the environment's proxy off; an invalid URL is
    /// reported on stderr and ignored (the transport goes direct).
    pub(crate) fn with_client_proxy(mut self, ctx: &TransportContext<'_>) -> HttpTransportOptions {
        if ctx.options.accept_invalid_certs {
            self.tls.accept_invalid_certs = true;
        }
        if self.proxy.is_some() {
            return self;
        }
        let options = ctx.options;
        let chosen = match ctx.dsn.scheme() {
            Scheme::Https => options.https_proxy.as_ref().or(options.http_proxy.as_ref()),
            _ => options.http_proxy.as_ref(),
        };
        let Some(url) = chosen else {
            return self;
        };
        self.proxy_from_env = false;
        if url.is_empty() {
            return self;
        }
        match self.clone().proxy(url) {
            Ok(with_proxy) => with_proxy,
            Err(e) => {
                // Not only in `debug` output: events would otherwise go
                // direct without a word where a proxy was required.
                eprintln!("[vigil] {e}; sending without a proxy");
                self
            }
        }
    }

    /// The proxy set with [`proxy`](HttpTransportOptions::proxy), if any.
    pub fn proxy_url(&self) -> Option<&str> {
        self.proxy.as_deref()
    }

    /// Sets [`proxy_from_env`](HttpTransportOptions::proxy_from_env).
    #[must_use]
    pub fn proxy_from_env(mut self, on: bool) -> HttpTransportOptions {
        self.proxy_from_env = on;
        self
    }

    #[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "rustls-no-provider", feature = "native-tls")))
    )]
    /// Trusts exactly the certificate authorities of a PEM bundle (a
    /// private CA of a self-hosted Sentry), instead of Mozilla's roots.
    /// Other PEM items in the bundle (keys) are skipped.
    ///
    /// ```
    /// use vigil_transport::HttpTransportOptions;
    /// let err = HttpTransportOptions::new().root_certificates_pem(b"not pem").unwrap_err();
    /// assert!(err.to_string().contains("no certificate found"));
    /// ```
    ///
    /// # Errors
    /// [`InvalidCertificates`] when the bundle holds no certificate or a
    /// block does not parse.
    pub fn root_certificates_pem(
        mut self,
        pem: &[u8],
    ) -> Result<HttpTransportOptions, InvalidCertificates> {
        let certs = tls::parse_pem_bundle(pem, "the PEM bundle")?;
        self.tls.roots = TrustedRoots::Specific(Arc::new(certs));
        Ok(self)
    }

    #[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "rustls-no-provider", feature = "native-tls")))
    )]
    /// [`root_certificates_pem`](HttpTransportOptions::root_certificates_pem)
    /// with the bundle read from a file (such as
    /// `/etc/ssl/certs/my-ca.pem`), now.
    ///
    /// # Errors
    /// [`InvalidCertificates`] when the file cannot be read, holds no
    /// certificate or a block does not parse.
    pub fn root_certificates_file(
        mut self,
        path: impl AsRef<Path>,
    ) -> Result<HttpTransportOptions, InvalidCertificates> {
        let certs = tls::read_pem_file(path.as_ref())?;
        self.tls.roots = TrustedRoots::Specific(Arc::new(certs));
        Ok(self)
    }

    /// Trusts what the operating system trusts (its certificate store and
    /// policies, corporate roots included) instead of Mozilla's roots.
    /// With `native-tls` that is the platform library's own store; with
    /// rustls it needs the feature `platform-verifier`.
    #[cfg(any(feature = "platform-verifier", feature = "native-tls"))]
    #[cfg_attr(
        docsrs,
        doc(cfg(any(feature = "platform-verifier", feature = "native-tls")))
    )]
    #[must_use]
    pub fn platform_verifier(mut self) -> HttpTransportOptions {
        self.tls.roots = TrustedRoots::Platform;
        self
    }

    /// Accepts any server certificate, valid or not: the connection is
    /// encrypted but the server is not authenticated. Only for a test
    /// server with a self-signed certificate; prefer
    /// [`root_certificates_pem`](HttpTransportOptions::root_certificates_pem).
    /// The client option `accept_invalid_certs` does the same.
    #[must_use]
    pub fn danger_accept_invalid_certs(mut self, on: bool) -> HttpTransportOptions {
        self.tls.accept_invalid_certs = on;
        self
    }

    /// The rustls crypto provider for this transport, for a build with
    /// `rustls-no-provider` (no ring) whose program has not installed a
    /// process-wide default. Without either, `https` envelopes are not
    /// sent: each is counted as an SDK error and stderr says why.
    #[cfg(feature = "rustls-no-provider")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls-no-provider")))]
    #[must_use]
    pub fn rustls_crypto_provider(
        mut self,
        provider: Arc<rustls::crypto::CryptoProvider>,
    ) -> HttpTransportOptions {
        self.tls.provider = Some(tls::CryptoProvider(provider));
        self
    }

    /// Turns the disk queue on, in `dir`, with the default
    /// [`DiskQueueOptions`] (1000 envelopes, 50 MiB,
    /// [`Durability::Buffered`], 100 ms between backlog sends).
    ///
    /// Every envelope is then written to a file before it is sent, and the
    /// file is removed only once the server accepted or rejected it for
    /// good (`2xx`, `4xx`, `5xx` but `502`-`504`): after a network failure,
    /// an outage status (`502`, `503`, `504`) or a redirect it stays, and is
    /// sent when the server is reachable again or the next time the program
    /// starts with the same directory. See the crate docs, *Disk queue*.
    ///
    /// On Unix the directory is created private to the process's user
    /// (`0700`, files `0600`); an existing one that belongs to another user
    /// or that group or others can write is not used (a message on stderr
    /// says why) and envelopes are sent as without a disk queue.
    ///
    /// ```
    /// use vigil_transport::{HttpTransport, HttpTransportOptions};
    /// // A directory of the service's own, not the shared temp dir: the
    /// // queue refuses one that other users can write.
    /// let options = vigil_core::ClientOptions::new().transport(HttpTransport::factory_with(
    ///     HttpTransportOptions::new().disk_queue("/var/lib/my-app/vigil"),
    /// ));
    /// # let _ = options;
    /// ```
    pub fn disk_queue(self, dir: impl Into<PathBuf>) -> HttpTransportOptions {
        self.disk_queue_with(DiskQueueOptions::new(dir))
    }

    /// Turns the disk queue on with `options` (see [`DiskQueueOptions`]).
    #[must_use]
    pub fn disk_queue_with(mut self, options: DiskQueueOptions) -> HttpTransportOptions {
        self.disk_queue = Some(options);
        self
    }

    /// The options with every value brought into its bounds (see the
    /// fields' docs), each change reported in debug output: a duration
    /// too long to add to a clock reading, or zero where zero would make
    /// every request fail or a loop spin, is clamped rather than allowed
    /// to panic or spin later.
    pub(crate) fn normalized(mut self) -> HttpTransportOptions {
        self.connect_timeout = clamp(
            "connect_timeout",
            self.connect_timeout,
            MIN_TIMEOUT,
            MAX_CONNECT_TIMEOUT,
        );
        self.timeout = clamp("timeout", self.timeout, MIN_TIMEOUT, MAX_TIMEOUT);
        if !(1..=MAX_ATTEMPTS).contains(&self.max_attempts) {
            let attempts = self.max_attempts.clamp(1, MAX_ATTEMPTS);
            vigil_core::vigil_debug!(
                "max_attempts {} is out of bounds; using {attempts}",
                self.max_attempts
            );
            self.max_attempts = attempts;
        }
        self.initial_backoff = clamp(
            "initial_backoff",
            self.initial_backoff,
            MIN_BACKOFF,
            MAX_BACKOFF,
        );
        self.max_backoff = clamp(
            "max_backoff",
            self.max_backoff,
            self.initial_backoff,
            MAX_BACKOFF,
        );
        self.disk_queue = self.disk_queue.map(DiskQueueOptions::normalized);
        self
    }

    /// The pause after failed attempt number `attempt` (1-based), before
    /// jitter: `initial_backoff * 2^(attempt - 1)`, capped.
    pub(crate) fn backoff_before_retry(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.initial_backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// The shortest request or connection timeout.
const MIN_TIMEOUT: Duration = Duration::from_millis(10);
/// The longest connection timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// The longest request timeout.
const MAX_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// The most attempts per envelope.
const MAX_ATTEMPTS: u32 = 100;
/// The shortest pause between attempts.
const MIN_BACKOFF: Duration = Duration::from_millis(1);
/// The longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60 * 60);

/// `value` clamped to `min..=max`, the change reported in debug output.
pub(crate) fn clamp(name: &str, value: Duration, min: Duration, max: Duration) -> Duration {
    let clamped = value.clamp(min, max.max(min));
    if clamped != value {
        vigil_core::vigil_debug!("{name} {value:?} is out of bounds; using {clamped:?}");
    }
    clamped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let o = HttpTransportOptions::new();
        assert_eq!(o.backoff_before_retry(1), Duration::from_millis(100));
        assert_eq!(o.backoff_before_retry(2), Duration::from_millis(200));
        assert_eq!(o.backoff_before_retry(5), Duration::from_millis(1600));
        assert_eq!(o.backoff_before_retry(6), Duration::from_secs(2));
        assert_eq!(o.backoff_before_retry(40), Duration::from_secs(2));
        assert_eq!(o.backoff_before_retry(u32::MAX), Duration::from_secs(2));
    }
}
