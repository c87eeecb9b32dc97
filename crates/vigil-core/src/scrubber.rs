//! The event scrubber: the last step of the client's pipeline before
//! `before_send` / `before_send_transaction`, on by default
//! ([`ClientOptions::event_scrubber`](crate::ClientOptions::event_scrubber)).
//!
//! It filters values by the name of their key, wherever a payload holds
//! free-form data; [`EventScrubber`] says which keys and where.

mod names;
mod walk;

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use vigil_protocol::{Event, Transaction};

use self::names::NameSet;

/// Key names containing one of these (ignoring ASCII case) are sensitive:
/// the key rule of Relay's default `@password` scrubbing.
const DEFAULT_KEY_PARTS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "api_key",
    "api-key",
    "apikey",
    "auth",
    "credentials",
    "mysql_pwd",
    "privatekey",
    "private_key",
    "private-key",
    "token",
];

/// Key names that are sensitive as a whole (ignoring ASCII case, `-` and
/// `_` taken as the same): sentry-python's `DEFAULT_DENYLIST` (less
/// `x_forwarded_for`, which is on the PII list: an integration sends it
/// only with `send_default_pii`) and Relay's whole-key rules (`otp`,
/// `two_factor`).
const DEFAULT_DENYLIST: &[&str] = &[
    "session",
    "sessionid",
    "csrftoken",
    "x_csrftoken",
    "csrf",
    "csrf_token",
    "_csrf",
    "_csrf_token",
    "xsrf_token",
    "_xsrf",
    "set_cookie",
    "cookie",
    "authorization",
    "proxy_authorization",
    "x_api_key",
    "aiohttp_session",
    "connect.sid",
    "phpsessid",
    "_session",
    "symfony",
    "user_session",
    "otp",
    "two_factor",
];

/// Key names that identify the user's machine, sensitive only without
/// `send_default_pii` (sentry-python's `DEFAULT_PII_DENYLIST`).
const DEFAULT_PII_DENYLIST: &[&str] =
    &["x_forwarded_for", "x_real_ip", "ip_address", "remote_addr"];

/// The default scrubber, built once.
static DEFAULT: LazyLock<EventScrubber> = LazyLock::new(|| {
    EventScrubber::from_lists(
        DEFAULT_KEY_PARTS.iter().map(|s| (*s).to_owned()).collect(),
        DEFAULT_DENYLIST.iter().map(|s| (*s).to_owned()).collect(),
        DEFAULT_PII_DENYLIST
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    )
});

/// Filters secrets out of events and transactions by key name, before
/// `before_send` sees them.
///
/// A value is replaced by `"[Filtered]"` when its key is sensitive:
/// - its name contains a **key part** (ignoring ASCII case): by default
///   `password`, `passwd`, `secret`, `api_key`, `api-key`, `apikey`,
///   `auth`, `credentials`, `mysql_pwd`, `privatekey`, `private_key`,
///   `private-key`, `token` (Relay's `@password` key rule, so `author`
///   and `tokens_used` are filtered too, as Relay would filter them);
/// - or its whole name is on the **denylist** (ignoring ASCII case, `-`
///   and `_` the same): by default sentry-python's `DEFAULT_DENYLIST`
///   (`session`, `sessionid`, `csrf`, `csrftoken`, `cookie`,
///   `set_cookie`, `authorization`, `x_api_key`, `phpsessid`, …) and
///   `otp`, `two_factor`;
/// - or, without `send_default_pii`, its whole name is on the **PII
///   denylist**: `x_forwarded_for`, `x_real_ip`, `ip_address`,
///   `remote_addr`.
///
/// Where, at any depth of nested objects and arrays: `extra`; every
/// context's own fields (`contexts.*`, the trace context's `data`);
/// breadcrumb `data`; `request.data`, `request.env`, `request.headers`
/// (also by the header rule, [`is_sensitive_header`]), `request.cookies`
/// (cookie by cookie, [`filter_cookies`]); the user's `data` (and
/// `ip_address`, without `send_default_pii`); span `data`; the further
/// fields of a user feedback's `feedback` context (not its message,
/// contact e-mail and name, which the user chose to send). Log and
/// `tracing` fields are in `extra` and breadcrumb `data`, so they are
/// covered.
///
/// Besides keys, URLs and queries are filtered where a payload names
/// them (`request.url`, `request.query_string`, a feedback's `url`, the `url` and
/// `http.query` of breadcrumb and span data, a transaction name with a
/// query): the values of sensitive query parameters
/// ([`is_sensitive_parameter`]) and URL user info.
///
/// Not touched: tags (they are indexed names chosen in code; Relay does
/// not filter them by key either), messages, exception values and other
/// free text. Patterns *inside* values (card numbers, IBANs, e-mail
/// addresses, IP addresses in text, PEM keys, `Bearer` tokens in text)
/// are left to the server's data scrubbing, which Sentry runs by default.
///
/// ```
/// use vigil_core::EventScrubber;
/// use vigil_core::protocol::Event;
///
/// let scrubber = EventScrubber::new().extend_denylist(["customer_ssn"]);
/// let mut event = Event::new();
/// event.extra.insert("db_password".into(), "hunter2".into());
/// event.extra.insert("customer_ssn".into(), "078-05-1120".into());
/// event.extra.insert("order".into(), 42.into());
/// scrubber.scrub_event(&mut event, false);
/// assert_eq!(event.extra["db_password"], "[Filtered]");
/// assert_eq!(event.extra["customer_ssn"], "[Filtered]");
/// assert_eq!(event.extra["order"], 42);
/// ```
///
/// [`is_sensitive_header`]: crate::privacy::is_sensitive_header
/// [`filter_cookies`]: crate::privacy::filter_cookies
/// [`is_sensitive_parameter`]: crate::privacy::is_sensitive_parameter
#[derive(Clone, Debug)]
pub struct EventScrubber {
    /// The key parts, lower-cased.
    key_parts: Vec<String>,
    /// Finds any key part in a name, ignoring ASCII case (`None` without
    /// parts).
    parts: Option<AhoCorasick>,
    /// Whole names.
    denylist: NameSet,
    /// Whole names sensitive without `send_default_pii`.
    pii_denylist: NameSet,
}

impl Default for EventScrubber {
    fn default() -> EventScrubber {
        DEFAULT.clone()
    }
}

impl EventScrubber {
    /// The default rules (see the type's docs).
    pub fn new() -> EventScrubber {
        EventScrubber::default()
    }

    fn from_lists(
        key_parts: Vec<String>,
        denylist: Vec<String>,
        pii_denylist: Vec<String>,
    ) -> EventScrubber {
        let key_parts: Vec<String> = key_parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|p| p.to_ascii_lowercase())
            .collect();
        // Only a pattern set too large for the automaton's ids fails to
        // build, which no list of key names reaches.
        let parts = if key_parts.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(&key_parts)
                .ok()
        };
        EventScrubber {
            key_parts,
            parts,
            denylist: NameSet::new(denylist),
            pii_denylist: NameSet::new(pii_denylist),
        }
    }

    /// Replaces the key parts (substrings that make a key sensitive).
    #[must_use]
    pub fn with_key_parts<S: Into<String>>(self, parts: impl IntoIterator<Item = S>) -> Self {
        EventScrubber::from_lists(
            parts.into_iter().map(Into::into).collect(),
            self.denylist.names().to_vec(),
            self.pii_denylist.names().to_vec(),
        )
    }

    /// Adds key parts to the current ones.
    #[must_use]
    pub fn extend_key_parts<S: Into<String>>(self, parts: impl IntoIterator<Item = S>) -> Self {
        let mut all = self.key_parts.clone();
        all.extend(parts.into_iter().map(Into::into));
        self.with_key_parts(all)
    }

    /// Replaces the denylist (whole key names that are sensitive).
    #[must_use]
    pub fn with_denylist<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.denylist = NameSet::new(keys.into_iter().map(Into::into));
        self
    }

    /// Adds whole key names to the denylist.
    #[must_use]
    pub fn extend_denylist<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        let mut all = self.denylist.names().to_vec();
        all.extend(keys.into_iter().map(Into::into));
        self.denylist = NameSet::new(all);
        self
    }

    /// Replaces the PII denylist (whole key names sensitive only without
    /// `send_default_pii`).
    #[must_use]
    pub fn with_pii_denylist<S: Into<String>>(mut self, keys: impl IntoIterator<Item = S>) -> Self {
        self.pii_denylist = NameSet::new(keys.into_iter().map(Into::into));
        self
    }

    /// Whether a value under the key `key` is filtered, with
    /// `send_default_pii` as given.
    ///
    /// ```
    /// use vigil_core::EventScrubber;
    /// let scrubber = EventScrubber::new();
    /// assert!(scrubber.is_sensitive_key("X-Access-Token", true));
    /// assert!(scrubber.is_sensitive_key("PHPSESSID", true));
    /// assert!(scrubber.is_sensitive_key("remote_addr", false));
    /// assert!(!scrubber.is_sensitive_key("remote_addr", true));
    /// assert!(!scrubber.is_sensitive_key("order_id", false));
    /// ```
    pub fn is_sensitive_key(&self, key: &str, send_default_pii: bool) -> bool {
        if self.parts.as_ref().is_some_and(|p| p.is_match(key)) {
            return true;
        }
        if self.denylist.is_empty() && (send_default_pii || self.pii_denylist.is_empty()) {
            return false;
        }
        self.denylist.contains(key) || (!send_default_pii && self.pii_denylist.contains(key))
    }

    /// Filters `event` in place (see the type's docs for what and where).
    pub fn scrub_event(&self, event: &mut Event, send_default_pii: bool) {
        walk::Walker::new(self, send_default_pii).event(event);
    }

    /// Filters `transaction` in place, its spans' data included.
    pub fn scrub_transaction(&self, transaction: &mut Transaction, send_default_pii: bool) {
        walk::Walker::new(self, send_default_pii).transaction(transaction);
    }
}

#[cfg(test)]
mod tests;
