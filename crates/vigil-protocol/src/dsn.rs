//! DSN parsing and the `X-Sentry-Auth` header (`protocol.md` §1.1–1.3).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// The scheme of a DSN.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// `http`, default port 80.
    Http,
    /// `https`, default port 443.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }

    /// 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// A parsed DSN: `{scheme}://{public_key}[:{secret_key}]@{host}[:{port}]{path}/{project_id}`.
///
/// ```
/// use vigil_protocol::Dsn;
/// let dsn: Dsn = "https://abc@o123.ingest.sentry.io/sub/42".parse().unwrap();
/// assert_eq!(dsn.public_key(), "abc");
/// assert_eq!(dsn.project_id(), "42");
/// assert_eq!(dsn.org_id(), Some(123));
/// assert_eq!(dsn.envelope_url(), "https://o123.ingest.sentry.io/sub/api/42/envelope/");
/// assert!("ftp://abc@host/1".parse::<Dsn>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Dsn {
    scheme: Scheme,
    public_key: String,
    secret_key: Option<String>,
    host: String,
    port: Option<u16>,
    path: String,
    project_id: ProjectId,
}

/// The project id at the end of a DSN's path, as written (usually digits,
/// but any non-empty path segment is kept as it is).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ProjectId(String);

impl ProjectId {
    /// The id as written in the DSN.
    pub fn value(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for ProjectId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl AsRef<str> for ProjectId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Why a DSN could not be parsed. Each message says what to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DsnError {
    /// The string is empty (an empty DSN disables the SDK instead; this
    /// error only comes from parsing an empty string directly).
    Empty,
    /// No `://` separates the scheme from the rest.
    MissingScheme,
    /// The scheme is neither `http` nor `https`.
    UnsupportedScheme(String),
    /// No `public_key@` before the host.
    MissingPublicKey,
    /// The host is empty.
    MissingHost,
    /// The port is not a number from 1 to 65535.
    InvalidPort(String),
    /// The path has no project id as its last segment.
    MissingProjectId,
    /// The DSN contains whitespace, a query string or a fragment.
    InvalidCharacter(char),
}

impl fmt::Display for DsnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DsnError::Empty => f.write_str("invalid dsn: empty string"),
            DsnError::MissingScheme => {
                f.write_str("invalid dsn: missing scheme (expected https://KEY@HOST/PROJECT_ID)")
            }
            DsnError::UnsupportedScheme(s) => {
                write!(
                    f,
                    "invalid dsn: unsupported scheme {s:?} (expected http or https)"
                )
            }
            DsnError::MissingPublicKey => f.write_str("invalid dsn: missing public key before '@'"),
            DsnError::MissingHost => f.write_str("invalid dsn: missing host"),
            DsnError::InvalidPort(p) => write!(f, "invalid dsn: invalid port {p:?}"),
            DsnError::MissingProjectId => {
                f.write_str("invalid dsn: missing project id (the last path segment)")
            }
            DsnError::InvalidCharacter(c) => {
                write!(f, "invalid dsn: unexpected character {c:?}")
            }
        }
    }
}

impl std::error::Error for DsnError {}

impl FromStr for Dsn {
    type Err = DsnError;

    fn from_str(s: &str) -> Result<Dsn, DsnError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DsnError::Empty);
        }
        if let Some(c) = s
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'))
        {
            return Err(DsnError::InvalidCharacter(c));
        }
        let (scheme, rest) = s.split_once("://").ok_or(DsnError::MissingScheme)?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err(DsnError::UnsupportedScheme(scheme.to_owned())),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (userinfo, hostport) = authority
            .rsplit_once('@')
            .ok_or(DsnError::MissingPublicKey)?;
        let (public_key, secret_key) = match userinfo.split_once(':') {
            Some((k, s)) => (k, (!s.is_empty()).then(|| s.to_owned())),
            None => (userinfo, None),
        };
        if public_key.is_empty() {
            return Err(DsnError::MissingPublicKey);
        }
        let (host, port) = split_host_port(hostport)?;
        if host.is_empty() {
            return Err(DsnError::MissingHost);
        }
        let path = path.trim_matches('/');
        let (prefix, project_id) = match path.rsplit_once('/') {
            Some((prefix, id)) => (format!("/{prefix}"), id),
            None => (String::new(), path),
        };
        if project_id.is_empty() {
            return Err(DsnError::MissingProjectId);
        }
        Ok(Dsn {
            scheme,
            public_key: public_key.to_owned(),
            secret_key,
            host: host.to_owned(),
            port: port.filter(|&p| p != scheme.default_port()),
            path: prefix,
            project_id: ProjectId(project_id.to_owned()),
        })
    }
}

fn split_host_port(hostport: &str) -> Result<(&str, Option<u16>), DsnError> {
    let (host, port) = if let Some(rest) = hostport.strip_prefix('[') {
        // IPv6 literal: [::1]:9000
        let end = rest.find(']').ok_or(DsnError::MissingHost)?;
        let host = &hostport[..end + 2];
        match &rest[end + 1..] {
            "" => (host, None),
            p => (
                host,
                Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| DsnError::InvalidPort(p.to_owned()))?,
                ),
            ),
        }
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(DsnError::InvalidPort(p.to_owned())),
        },
    };
    Ok((host, port))
}

impl Dsn {
    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The public key (`sentry_key`).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The deprecated secret key, if the DSN has one.
    pub fn secret_key(&self) -> Option<&str> {
        self.secret_key.as_deref()
    }

    /// The host name or address (IPv6 literals keep their brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, explicit or the scheme's default.
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }

    /// The path prefix before the project id (`""` or `/sub/path`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The project id. It compares equal to a `&str` and displays as
    /// written; [`ProjectId::value`] gives the text.
    pub fn project_id(&self) -> &ProjectId {
        &self.project_id
    }

    /// The organisation id encoded in sentry.io host names
    /// (`o123.ingest.sentry.io` → 123).
    pub fn org_id(&self) -> Option<u64> {
        let rest = self.host.strip_prefix('o')?;
        let (digits, _) = rest.split_once('.')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }

    fn base_url(&self) -> String {
        match self.port {
            Some(p) => format!(
                "{}://{}:{}{}",
                self.scheme.as_str(),
                self.host,
                p,
                self.path
            ),
            None => format!("{}://{}{}", self.scheme.as_str(), self.host, self.path),
        }
    }

    /// `{scheme}://{host}[:{port}]{path}/api/{project_id}/envelope/`.
    pub fn envelope_url(&self) -> String {
        format!("{}/api/{}/envelope/", self.base_url(), self.project_id)
    }

    /// The `X-Sentry-Auth` header value for a client named
    /// `client` (e.g. `vigil.rust/0.1.0`).
    pub fn auth_header(&self, client: &str) -> String {
        let mut header = format!(
            "Sentry sentry_version=7, sentry_client={client}, sentry_key={}",
            self.public_key
        );
        if let Some(secret) = &self.secret_key {
            header.push_str(", sentry_secret=");
            header.push_str(secret);
        }
        header
    }
}

impl Dsn {
    /// The DSN without its secret key: what envelope headers carry (the
    /// secret goes in the `X-Sentry-Auth` header only, never into anything
    /// stored or printed).
    pub fn to_public_string(&self) -> String {
        without_secret(&self.to_string()).into_owned()
    }
}

/// `dsn` (a DSN's text) without the secret key of its user info, if it
/// has one: `https://public:secret@host/1` → `https://public@host/1`.
/// Text that is not a DSN is returned as it is.
pub(crate) fn without_secret(dsn: &str) -> Cow<'_, str> {
    let Some(scheme_end) = dsn.find("://").map(|i| i + 3) else {
        return Cow::Borrowed(dsn);
    };
    let rest = &dsn[scheme_end..];
    let authority = rest.find(['/', '?', '#']).map_or(rest, |end| &rest[..end]);
    let Some(at) = authority.rfind('@') else {
        return Cow::Borrowed(dsn);
    };
    let Some(colon) = authority[..at].find(':') else {
        return Cow::Borrowed(dsn);
    };
    let mut public = String::with_capacity(dsn.len());
    public.push_str(&dsn[..scheme_end + colon]);
    public.push_str(&dsn[scheme_end + at..]);
    Cow::Owned(public)
}

impl fmt::Display for Dsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme.as_str(), self.public_key)?;
        if let Some(secret) = &self.secret_key {
            write!(f, ":{secret}")?;
        }
        write!(f, "@{}", self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}/{}", self.path, self.project_id)
    }
}

impl fmt::Debug for Dsn {
    /// Never prints the secret key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dsn")
            .field("scheme", &self.scheme)
            .field("public_key", &self.public_key)
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "[redacted]"),
            )
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path", &self.path)
            .field("project_id", &self.project_id.value())
            .finish()
    }
}
