//! Which outgoing requests get the trace propagation headers
//! (`trace_propagation_targets`).

use std::fmt;

use crate::options::ClientOptions;

/// A rule for the URLs that get the trace propagation headers; see
/// [`ClientOptions::trace_propagation_targets`].
///
/// ```
/// use vigil_core::TracePropagationTarget;
/// let local = TracePropagationTarget::contains("localhost");
/// let api = TracePropagationTarget::regex(r"^https://api\.example\.com/v[2-4]/").unwrap();
/// assert!(local.matches("http://mylocalhost:8080/api/users"));
/// assert!(api.matches("https://api.example.com/v2/orders"));
/// assert!(!api.matches("https://api.example.com/v1/orders"));
/// ```
#[derive(Clone)]
pub struct TracePropagationTarget {
    rule: Rule,
}

#[derive(Clone)]
enum Rule {
    Contains(String),
    Regex(regex_lite::Regex),
}

/// A [`TracePropagationTarget::regex`] pattern that does not compile.
#[derive(Clone, Debug)]
pub struct InvalidTargetPattern(String);

impl fmt::Display for InvalidTargetPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid trace propagation target: {}", self.0)
    }
}

impl std::error::Error for InvalidTargetPattern {}

impl TracePropagationTarget {
    /// URLs that contain `text` (plain text: a `.` is a dot).
    pub fn contains(text: impl Into<String>) -> TracePropagationTarget {
        TracePropagationTarget {
            rule: Rule::Contains(text.into()),
        }
    }

    /// URLs that the regular expression `pattern` matches anywhere (anchor
    /// it with `^`/`$` to match whole URLs).
    ///
    /// # Errors
    /// [`InvalidTargetPattern`] when the pattern does not compile.
    pub fn regex(pattern: &str) -> Result<TracePropagationTarget, InvalidTargetPattern> {
        let regex =
            regex_lite::Regex::new(pattern).map_err(|e| InvalidTargetPattern(e.to_string()))?;
        Ok(TracePropagationTarget {
            rule: Rule::Regex(regex),
        })
    }

    /// Whether `url` matches.
    pub fn matches(&self, url: &str) -> bool {
        match &self.rule {
            Rule::Contains(text) => url.contains(text.as_str()),
            Rule::Regex(regex) => regex.is_match(url),
        }
    }
}

impl fmt::Debug for TracePropagationTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Rule::Contains(text) => f.debug_tuple("Contains").field(text).finish(),
            Rule::Regex(regex) => f.debug_tuple("Regex").field(&regex.as_str()).finish(),
        }
    }
}

impl ClientOptions {
    /// Whether a request to `url` gets the trace propagation headers: never
    /// one to the DSN's own host and port (where Sentry, Relay or Spotlight
    /// listens; other services on the same host get them, as in
    /// sentry-python); otherwise every URL when
    /// [`trace_propagation_targets`](ClientOptions::trace_propagation_targets)
    /// is `None`, none when it is empty, else the URLs one of its targets
    /// matches.
    pub fn should_propagate_trace_to(&self, url: &str) -> bool {
        if let Some(dsn) = &self.dsn
            && let Some((host, port)) = host_and_port(url)
        {
            let dsn_host = dsn.host().trim_start_matches('[').trim_end_matches(']');
            if host.eq_ignore_ascii_case(dsn_host) && port.is_none_or(|p| p == dsn.port()) {
                return false;
            }
        }
        match &self.trace_propagation_targets {
            None => true,
            Some(targets) => targets.iter().any(|t| t.matches(url)),
        }
    }
}

/// The host (IPv6 literals without brackets) and port (explicit, else the
/// scheme's default; `None` for a scheme without one) of an absolute URL
/// (`scheme://[userinfo@]host[:port]/...`).
fn host_and_port(url: &str) -> Option<(&str, Option<u16>)> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(port) => Some(port.parse().ok()?),
        None if scheme.eq_ignore_ascii_case("http") => Some(80),
        None if scheme.eq_ignore_ascii_case("https") => Some(443),
        None => None,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_dsns_host_and_port_are_excluded() {
        let options = ClientOptions::new()
            .try_dsn("http://key@127.0.0.1:8969/0")
            .unwrap();
        assert!(!options.should_propagate_trace_to("http://127.0.0.1:8969/stream"));
        assert!(options.should_propagate_trace_to("http://127.0.0.1:41173/inventory"));
        assert!(options.should_propagate_trace_to("http://127.0.0.1/"));
        let options = ClientOptions::new()
            .try_dsn("https://key@o1.ingest.sentry.io/5")
            .unwrap();
        assert!(!options.should_propagate_trace_to("https://o1.ingest.sentry.io/api/5/envelope/"));
        assert!(!options.should_propagate_trace_to("https://O1.INGEST.sentry.io:443/x"));
        assert!(options.should_propagate_trace_to("http://o1.ingest.sentry.io/x"));
        let options = ClientOptions::new()
            .try_dsn("http://key@[::1]:9000/1")
            .unwrap();
        assert!(!options.should_propagate_trace_to("http://[::1]:9000/x"));
        assert!(options.should_propagate_trace_to("http://[::1]:9001/x"));
        assert!(options.should_propagate_trace_to("not a url"));
    }

    #[test]
    fn the_spec_example_matches_as_documented() {
        // `['localhost', /^\//, /myApi.com\/v[2-4]/]` of the propagation spec.
        let targets = [
            TracePropagationTarget::contains("localhost"),
            TracePropagationTarget::regex(r"^/").unwrap(),
            TracePropagationTarget::regex(r"myApi.com/v[2-4]/").unwrap(),
        ];
        let matches = |url: &str| targets.iter().any(|t| t.matches(url));
        assert!(matches("mylocalhost:8080/api/users"));
        assert!(matches("/api/orders"));
        assert!(matches("https://myApi.com/v2/projects"));
        assert!(!matches("https://myApi.com/v1/projects"));
        // A plain-text target's dot is a dot.
        assert!(!TracePropagationTarget::contains("a.b").matches("axb"));
    }

    #[test]
    fn unset_means_every_url_empty_means_none_and_never_the_dsn_host() {
        let mut options = ClientOptions::new()
            .try_dsn("https://key@o1.ingest.sentry.io/2")
            .unwrap();
        assert!(options.should_propagate_trace_to("https://api.example.com/x"));
        assert!(!options.should_propagate_trace_to("https://o1.ingest.sentry.io/api/2/envelope/"));
        assert!(!options.should_propagate_trace_to("https://user@O1.INGEST.SENTRY.IO:443/"));
        options.trace_propagation_targets = Some(Vec::new());
        assert!(!options.should_propagate_trace_to("https://api.example.com/x"));
        options.trace_propagation_targets =
            Some(vec![TracePropagationTarget::contains("example.com")]);
        assert!(options.should_propagate_trace_to("https://api.example.com/x"));
        assert!(!options.should_propagate_trace_to("https://other.org/x"));
    }

    #[test]
    fn hosts_and_ports_are_read_from_urls() {
        assert_eq!(
            host_and_port("https://a.b:8080/x"),
            Some(("a.b", Some(8080)))
        );
        assert_eq!(host_and_port("http://u:p@h/x?y"), Some(("h", Some(80))));
        assert_eq!(host_and_port("https://h#f"), Some(("h", Some(443))));
        assert_eq!(host_and_port("http://[::1]:80/"), Some(("::1", Some(80))));
        assert_eq!(host_and_port("ws://h/"), Some(("h", None)));
        assert_eq!(host_and_port("http://h:port/"), None);
        assert_eq!(host_and_port("/relative"), None);
        assert_eq!(host_and_port("http:///x"), None);
    }

    #[test]
    fn a_bad_pattern_is_an_error() {
        assert!(TracePropagationTarget::regex("(").is_err());
    }
}
