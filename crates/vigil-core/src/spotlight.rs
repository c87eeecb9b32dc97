//! Spotlight, Sentry's local development sidecar: the `spotlight` option,
//! `SENTRY_SPOTLIGHT`, and the transport that gives it a copy of every
//! envelope.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil_protocol::Envelope;

use crate::transport::{DeliveryStats, Transport};

/// Where Spotlight listens unless told otherwise.
pub const DEFAULT_SPOTLIGHT_URL: &str = "http://localhost:8969/stream";

/// The `spotlight` option ([`ClientOptions::spotlight`](crate::ClientOptions::spotlight)):
/// send a copy of every envelope to a local
/// [Spotlight](https://spotlightjs.com) sidecar.
///
/// Built from a `bool` (on with [`DEFAULT_SPOTLIGHT_URL`], or off) or a
/// URL string, as Sentry's other SDKs take it:
///
/// ```
/// use vigil_core::{ClientOptions, Spotlight};
/// let on = ClientOptions::new().spotlight(true);
/// assert_eq!(on.spotlight, Some(Spotlight::On));
/// let elsewhere = ClientOptions::new().spotlight("http://localhost:3000/stream");
/// assert_eq!(elsewhere.spotlight.unwrap().url(), Some("http://localhost:3000/stream"));
/// ```
///
/// With `SENTRY_SPOTLIGHT` ([`ClientOptions::apply_env`](crate::ClientOptions::apply_env),
/// which `init` calls): `true`, `t`, `y`, `yes`, `on`, `1` turn it on,
/// `false`, `f`, `n`, `no`, `off`, `0` off, anything else is the URL. The
/// option wins over the variable, except that `Spotlight::On` takes the
/// variable's URL; `Spotlight::Off` ignores the variable.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Spotlight {
    /// Off, whatever `SENTRY_SPOTLIGHT` says.
    Off,
    /// On, at `SENTRY_SPOTLIGHT`'s URL if it names one, else at
    /// [`DEFAULT_SPOTLIGHT_URL`].
    On,
    /// On, at this URL (`SENTRY_SPOTLIGHT` is ignored).
    Url(String),
}

impl Spotlight {
    /// The URL envelopes are posted to, `None` when off.
    pub fn url(&self) -> Option<&str> {
        match self {
            Spotlight::Off => None,
            Spotlight::On => Some(DEFAULT_SPOTLIGHT_URL),
            Spotlight::Url(url) => Some(url),
        }
    }

    /// The option as set in code, combined with the value of
    /// `SENTRY_SPOTLIGHT` (`env`) by Sentry's precedence rules.
    pub(crate) fn resolve(config: Option<Spotlight>, env: Option<&str>) -> Option<Spotlight> {
        let from_env = env.and_then(parse_env);
        match config {
            Some(Spotlight::On) => match from_env {
                Some(Spotlight::Url(url)) => Some(Spotlight::Url(url)),
                _ => Some(Spotlight::On),
            },
            Some(set) => Some(set),
            None => from_env,
        }
    }
}

impl From<bool> for Spotlight {
    fn from(on: bool) -> Spotlight {
        if on { Spotlight::On } else { Spotlight::Off }
    }
}

impl From<&str> for Spotlight {
    fn from(url: &str) -> Spotlight {
        Spotlight::Url(url.to_owned())
    }
}

impl From<String> for Spotlight {
    fn from(url: String) -> Spotlight {
        Spotlight::Url(url)
    }
}

/// `SENTRY_SPOTLIGHT`'s value: a truthy or falsy word, else a URL; `None`
/// when empty.
fn parse_env(value: &str) -> Option<Spotlight> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let word = value.to_ascii_lowercase();
    Some(match word.as_str() {
        "true" | "t" | "y" | "yes" | "on" | "1" => Spotlight::On,
        "false" | "f" | "n" | "no" | "off" | "0" => Spotlight::Off,
        _ => Spotlight::Url(value.to_owned()),
    })
}

/// The client's transport when Spotlight is on: every envelope goes to
/// Spotlight's transport (a copy) and to the main one, if there is one (a
/// client without a DSN sends to Spotlight only).
pub(crate) struct WithSpotlight {
    pub(crate) main: Option<Arc<dyn Transport>>,
    pub(crate) spotlight: Arc<dyn Transport>,
}

impl fmt::Debug for WithSpotlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithSpotlight")
            .field("main", &self.main.is_some())
            .finish_non_exhaustive()
    }
}

impl Transport for WithSpotlight {
    fn send_envelope(&self, envelope: Envelope) {
        match &self.main {
            Some(main) => {
                self.spotlight.send_envelope(envelope.clone());
                main.send_envelope(envelope);
            }
            None => self.spotlight.send_envelope(envelope),
        }
    }

    /// The main transport first (what the caller waits for), then what is
    /// left of `timeout` for Spotlight. What Spotlight did not get does not
    /// make the flush fail: it is a local copy.
    fn flush(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let main = self.main.as_ref().is_none_or(|m| m.flush(timeout));
        self.spotlight.flush(left_until(deadline));
        main
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let main = self.main.as_ref().is_none_or(|m| m.shutdown(timeout));
        self.spotlight.shutdown(left_until(deadline));
        main
    }

    fn delivery_stats(&self) -> Option<DeliveryStats> {
        self.main.as_ref().and_then(|m| m.delivery_stats())
    }
}

/// The time left until `deadline` (`None`: no deadline, as for a timeout
/// of `Duration::MAX`).
fn left_until(deadline: Option<Instant>) -> Duration {
    deadline.map_or(Duration::MAX, |d| {
        d.saturating_duration_since(Instant::now())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(config: Option<Spotlight>, env: Option<&str>) -> Option<Option<String>> {
        Spotlight::resolve(config, env).map(|s| s.url().map(str::to_owned))
    }

    #[test]
    fn the_environment_variable_by_sentrys_rules() {
        for on in ["true", "t", "y", "yes", "on", "1", "TRUE", " Yes "] {
            assert_eq!(parse_env(on), Some(Spotlight::On), "{on}");
        }
        for off in ["false", "f", "n", "no", "off", "0", "OFF"] {
            assert_eq!(parse_env(off), Some(Spotlight::Off), "{off}");
        }
        assert_eq!(
            parse_env("http://localhost:3000/stream"),
            Some(Spotlight::Url("http://localhost:3000/stream".into()))
        );
        assert_eq!(parse_env("  "), None);
    }

    #[test]
    fn precedence_of_the_option_over_the_variable() {
        let default = Some(Some(DEFAULT_SPOTLIGHT_URL.to_owned()));
        let env_url = "http://env:3000/stream";
        // On + a URL in the variable: the variable's URL.
        assert_eq!(
            resolve(Some(Spotlight::On), Some(env_url)),
            Some(Some(env_url.to_owned()))
        );
        assert_eq!(resolve(Some(Spotlight::On), Some("1")), default);
        assert_eq!(resolve(Some(Spotlight::On), Some("0")), default);
        assert_eq!(resolve(Some(Spotlight::On), None), default);
        // A URL in the option: always it.
        let config = Some(Spotlight::Url("http://config:3000/stream".into()));
        assert_eq!(
            resolve(config, Some(env_url)),
            Some(Some("http://config:3000/stream".to_owned()))
        );
        // Off: off whatever the variable says.
        assert_eq!(resolve(Some(Spotlight::Off), Some(env_url)), Some(None));
        assert_eq!(resolve(Some(Spotlight::Off), Some("1")), Some(None));
        // Unset: the variable decides; disabled by default.
        assert_eq!(resolve(None, Some("yes")), default);
        assert_eq!(resolve(None, Some("no")), Some(None));
        assert_eq!(resolve(None, Some(env_url)), Some(Some(env_url.to_owned())));
        assert_eq!(resolve(None, None), None);
    }
}
