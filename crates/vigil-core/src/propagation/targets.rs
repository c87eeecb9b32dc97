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
    /// one to the DSN's own host; otherwise every URL when
    /// [`trace_propagation_targets`](ClientOptions::trace_propagation_targets)
    /// is `None`, none when it is empty, else the URLs one of its targets
    /// matches.
    pub fn should_propagate_trace_to(&self, url: &str) -> bool {
        if let Some(dsn) = &self.dsn
            && host_of(url).is_some_and(|host| host.eq_ignore_ascii_case(dsn.host()))
        {
            return false;
        }
        match &self.trace_propagation_targets {
            None => true,
            Some(targets) => targets.iter().any(|t| t.matches(url)),
        }
    }
}

/// The host of an absolute URL (`scheme://[userinfo@]host[:port]/...`).
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.0,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            .dsn("https://key@o1.ingest.sentry.io/2")
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
    fn hosts_are_read_from_urls() {
        assert_eq!(host_of("https://a.b:8080/x"), Some("a.b"));
        assert_eq!(host_of("http://u:p@h/x?y"), Some("h"));
        assert_eq!(host_of("http://[::1]:80/"), Some("::1"));
        assert_eq!(host_of("/relative"), None);
        assert_eq!(host_of("http:///x"), None);
    }

    #[test]
    fn a_bad_pattern_is_an_error() {
        assert!(TracePropagationTarget::regex("(").is_err());
    }
}
