//! TLS settings of the HTTP transport: which certificates are trusted, and
//! (feature `rustls-no-provider`) the rustls crypto provider.
//!
//! The TLS stack is chosen at build time by features: `rustls` (rustls with
//! the ring provider, the default), `rustls-no-provider` (rustls with a
//! provider the program installs: no ring), `native-tls` (the platform's
//! library, used whenever the feature is on).

use std::fmt;
#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
use std::path::Path;
#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
use std::sync::Arc;

#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

/// Which certificate authorities a server certificate must chain to.
#[derive(Clone, Default)]
pub(crate) enum TrustedRoots {
    /// Mozilla's root certificates (`webpki-roots`), built in.
    #[default]
    WebPki,
    /// The operating system's trust store (with rustls: through
    /// `rustls-platform-verifier`, feature `platform-verifier`).
    #[cfg(any(feature = "platform-verifier", feature = "native-tls"))]
    Platform,
    /// Exactly these certificates (a private CA of a self-hosted server).
    #[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
    Specific(Arc<Vec<Certificate<'static>>>),
}

impl PartialEq for TrustedRoots {
    fn eq(&self, other: &TrustedRoots) -> bool {
        match (self, other) {
            #[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
            (TrustedRoots::Specific(a), TrustedRoots::Specific(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|(x, y)| x.der() == y.der())
            }
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

impl Eq for TrustedRoots {}

impl fmt::Debug for TrustedRoots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustedRoots::WebPki => f.write_str("WebPki"),
            #[cfg(any(feature = "platform-verifier", feature = "native-tls"))]
            TrustedRoots::Platform => f.write_str("Platform"),
            #[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
            TrustedRoots::Specific(certs) => write!(f, "Specific({} certificates)", certs.len()),
        }
    }
}

/// The TLS part of [`HttpTransportOptions`](crate::HttpTransportOptions).
#[derive(Clone, Default, PartialEq, Eq, Debug)]
pub(crate) struct TlsSettings {
    pub(crate) roots: TrustedRoots,
    pub(crate) accept_invalid_certs: bool,
    #[cfg(feature = "rustls-no-provider")]
    pub(crate) provider: Option<CryptoProvider>,
}

/// A rustls crypto provider, compared by identity.
#[cfg(feature = "rustls-no-provider")]
#[derive(Clone)]
pub(crate) struct CryptoProvider(pub(crate) Arc<rustls::crypto::CryptoProvider>);

#[cfg(feature = "rustls-no-provider")]
impl PartialEq for CryptoProvider {
    fn eq(&self, other: &CryptoProvider) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

#[cfg(feature = "rustls-no-provider")]
impl Eq for CryptoProvider {}

#[cfg(feature = "rustls-no-provider")]
impl fmt::Debug for CryptoProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CryptoProvider")
    }
}

impl TlsSettings {
    /// The `ureq` TLS configuration: the provider the features chose, the
    /// trusted roots, verification on unless turned off.
    #[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
    pub(crate) fn to_ureq(&self) -> TlsConfig {
        let provider = if cfg!(feature = "native-tls") {
            TlsProvider::NativeTls
        } else {
            TlsProvider::Rustls
        };
        let roots = match &self.roots {
            TrustedRoots::WebPki => RootCerts::WebPki,
            #[cfg(any(feature = "platform-verifier", feature = "native-tls"))]
            TrustedRoots::Platform => RootCerts::PlatformVerifier,
            TrustedRoots::Specific(certs) => RootCerts::Specific(certs.clone()),
        };
        let builder = TlsConfig::builder()
            .provider(provider)
            .root_certs(roots)
            .disable_verification(self.accept_invalid_certs);
        #[cfg(feature = "rustls-no-provider")]
        let builder = match &self.provider {
            Some(provider) => builder.unversioned_rustls_crypto_provider(provider.0.clone()),
            None => builder,
        };
        builder.build()
    }

    /// Why TLS cannot work as built and configured, if it cannot: no TLS
    /// feature at all, or rustls without a crypto provider (none given and
    /// none installed for the process). Checked before each `https`
    /// request, because `ureq` would panic instead.
    pub(crate) fn unusable(&self) -> Option<&'static str> {
        if cfg!(feature = "native-tls") {
            return None;
        }
        #[cfg(feature = "rustls-no-provider")]
        {
            if cfg!(feature = "rustls")
                || self.provider.is_some()
                || rustls::crypto::CryptoProvider::get_default().is_some()
            {
                return None;
            }
            Some(
                "no rustls crypto provider: install one before the first envelope is sent \
                 (rustls::crypto::CryptoProvider::install_default), or give one with \
                 HttpTransportOptions::rustls_crypto_provider, or build with the feature \
                 `rustls` (ring) or `native-tls`",
            )
        }
        #[cfg(not(feature = "rustls-no-provider"))]
        Some(
            "this build has no TLS: enable one of the features `rustls`, \
             `rustls-no-provider` or `native-tls`",
        )
    }
}

#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
/// Certificates [`HttpTransportOptions::root_certificates_pem`](crate::HttpTransportOptions::root_certificates_pem)
/// or [`root_certificates_file`](crate::HttpTransportOptions::root_certificates_file)
/// cannot use.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
pub struct InvalidCertificates {
    source: String,
    reason: String,
}

#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
impl fmt::Display for InvalidCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid root certificates in {}: {}",
            self.source, self.reason
        )
    }
}

#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
impl std::error::Error for InvalidCertificates {}

/// The certificates of a PEM bundle (other PEM items, such as keys, are
/// skipped); an error when there is none or one does not parse.
#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
pub(crate) fn parse_pem_bundle(
    pem: &[u8],
    source: &str,
) -> Result<Vec<Certificate<'static>>, InvalidCertificates> {
    let invalid = |reason: String| InvalidCertificates {
        source: source.to_owned(),
        reason,
    };
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(e) => return Err(invalid(e.to_string())),
        }
    }
    if certs.is_empty() {
        return Err(invalid(
            "no certificate found (expected PEM blocks \"-----BEGIN CERTIFICATE-----\")".into(),
        ));
    }
    Ok(certs)
}

/// The certificates of the PEM file at `path`.
#[cfg(any(feature = "rustls-no-provider", feature = "native-tls"))]
pub(crate) fn read_pem_file(path: &Path) -> Result<Vec<Certificate<'static>>, InvalidCertificates> {
    let source = path.display().to_string();
    let pem = std::fs::read(path).map_err(|e| InvalidCertificates {
        source: source.clone(),
        reason: format!("cannot read the file: {e}"),
    })?;
    parse_pem_bundle(&pem, &source)
}
