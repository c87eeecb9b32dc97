use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use smol_str::SmolStr;
use uuid::Uuid;

use crate::breadcrumb_list::Breadcrumbs;
use crate::context::Context;
use crate::debug_meta::DebugMeta;
use crate::exception::{Exception, Thread};
use crate::level::Level;
use crate::request::Request;
use crate::sdk::ClientSdkInfo;
use crate::user::User;

/// The identifier of an event: a UUID written as 32 lowercase hex characters.
///
/// `EventId::default()` is the nil id, which the capture functions return
/// when an event was dropped.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId(Uuid);

impl EventId {
    /// A new random (v4) id.
    pub fn new() -> EventId {
        EventId(Uuid::new_v4())
    }

    /// The nil id (all zeros).
    pub const fn nil() -> EventId {
        EventId(Uuid::nil())
    }

    /// Whether this is the nil id.
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The id as 32 hex digits without dashes (as [`Display`](fmt::Display)
    /// writes it, and as Sentry shows it).
    pub fn simple(&self) -> uuid::fmt::Simple {
        self.0.simple()
    }

    /// The id in the dashed UUID form.
    pub fn hyphenated(&self) -> uuid::fmt::Hyphenated {
        self.0.hyphenated()
    }

    /// The 32 lowercase hex digits of the id, as written.
    pub(crate) fn to_hex(self) -> [u8; 32] {
        crate::trace::hex::encode_array(self.0.as_bytes())
    }
}

impl From<Uuid> for EventId {
    fn from(uuid: Uuid) -> EventId {
        EventId(uuid)
    }
}

impl From<EventId> for Uuid {
    fn from(id: EventId) -> Uuid {
        id.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.simple(), f)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0.simple())
    }
}

/// The error returned when parsing an [`EventId`] from a string that is not a
/// UUID.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseEventIdError;

impl fmt::Display for ParseEventIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid event id (expected 32 hex characters or a dashed UUID)")
    }
}

impl std::error::Error for ParseEventIdError {}

impl FromStr for EventId {
    type Err = ParseEventIdError;

    /// Accepts 32 hex characters or the 36-character dashed form.
    fn from_str(s: &str) -> Result<EventId, ParseEventIdError> {
        match s.len() {
            32 | 36 => Uuid::try_parse(s)
                .map(EventId)
                .map_err(|_| ParseEventIdError),
            _ => Err(ParseEventIdError),
        }
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Uuid::encode_buffer();
        s.serialize_str(self.0.simple().encode_lower(&mut buf))
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EventId, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A list wrapped as `{"values": [...]}`, the form Sentry uses for
/// `exception`, `breadcrumbs` and `threads`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Values<T> {
    /// The items.
    pub values: Vec<T>,
}

impl<T> Default for Values<T> {
    fn default() -> Values<T> {
        Values { values: Vec::new() }
    }
}

impl<T> Values<T> {
    /// An empty list.
    pub fn new() -> Values<T> {
        Values::default()
    }

    /// Whether there are no items.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A `Values` reads and changes as the `Vec` it wraps:
/// `event.exception[0]`, `event.exception.push(..)`, `for e in &event.exception`.
impl<T> std::ops::Deref for Values<T> {
    type Target = Vec<T>;

    fn deref(&self) -> &Vec<T> {
        &self.values
    }
}

impl<T> std::ops::DerefMut for Values<T> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.values
    }
}

impl<T> IntoIterator for Values<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> std::vec::IntoIter<T> {
        self.values.into_iter()
    }
}

impl<'a, T> IntoIterator for &'a Values<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> std::slice::Iter<'a, T> {
        self.values.iter()
    }
}

impl<'a, T> IntoIterator for &'a mut Values<T> {
    type Item = &'a mut T;
    type IntoIter = std::slice::IterMut<'a, T>;

    fn into_iter(self) -> std::slice::IterMut<'a, T> {
        self.values.iter_mut()
    }
}

impl<T> FromIterator<T> for Values<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Values<T> {
        Values {
            values: iter.into_iter().collect(),
        }
    }
}

impl<T> From<Vec<T>> for Values<T> {
    fn from(values: Vec<T>) -> Values<T> {
        Values { values }
    }
}

/// A structured log message (`logentry`): a template with parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    /// The template, e.g. `"user %s logged in"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The final message (required by Sentry when `message` has parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Parameters substituted into `message`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Value>,
}

/// The platform of events and transactions: Relay knows no `rust`.
pub(crate) fn native() -> String {
    "native".into()
}

/// An error or message event, serialized exactly as Sentry's event payload.
///
/// Build one with a struct literal and `..Default::default()`; the default
/// has a fresh random id, the current time, level `error` and platform
/// `native`. Empty fields are left out of the JSON.
///
/// ```
/// use vigil_protocol::{Event, Level};
/// let event = Event {
///     message: Some("disk full".into()),
///     level: Level::Warning,
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["message"], "disk full");
/// assert_eq!(json["level"], "warning");
/// assert_eq!(json["event_id"].as_str().unwrap().len(), 32);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id, also written in the envelope header.
    #[serde(default)]
    pub event_id: EventId,
    /// Severity. A level set on the scope overrides it at capture.
    #[serde(default = "error_level")]
    pub level: Level,
    /// Grouping fingerprint; empty means Sentry's default grouping.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprint: Vec<String>,
    /// The route or operation the event happened in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// A plain message (`capture_message`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A structured message with parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logentry: Option<LogEntry>,
    /// The logger that produced the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// Loaded modules or packages and their versions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub modules: BTreeMap<String, String>,
    /// The platform, `native` for Rust. Always written: Relay replaces a
    /// missing platform by `other`.
    #[serde(default = "native")]
    pub platform: String,
    /// When the event happened.
    #[serde(with = "crate::time::float", default = "SystemTime::now")]
    pub timestamp: SystemTime,
    /// The host name (personal data; only set when allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// The release, e.g. `my-app@1.2.3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The distribution of the release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dist: Option<String>,
    /// The environment, e.g. `production`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The affected user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The HTTP request, on servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// Contexts keyed by name (`os`, `runtime`, `trace`, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contexts: BTreeMap<String, Context>,
    /// Breadcrumbs, oldest first.
    #[serde(default, skip_serializing_if = "Breadcrumbs::is_empty")]
    pub breadcrumbs: Breadcrumbs,
    /// Exceptions, root cause first.
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    pub exception: Values<Exception>,
    /// Threads.
    #[serde(default, skip_serializing_if = "Values::is_empty")]
    pub threads: Values<Thread>,
    /// The images loaded into the process, with which the server
    /// symbolicates native stack frames (`debug_meta`); left out when it
    /// has none.
    #[serde(default, skip_serializing_if = "DebugMeta::is_empty")]
    pub debug_meta: DebugMeta,
    /// Searchable string tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<SmolStr, SmolStr>,
    /// Arbitrary extra data.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
    /// The SDK that produced the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<ClientSdkInfo>,
}

fn error_level() -> Level {
    Level::Error
}

impl Default for Event {
    fn default() -> Event {
        Event {
            event_id: EventId::new(),
            level: Level::Error,
            fingerprint: Vec::new(),
            transaction: None,
            message: None,
            logentry: None,
            logger: None,
            modules: BTreeMap::new(),
            platform: native(),
            timestamp: SystemTime::now(),
            server_name: None,
            release: None,
            dist: None,
            environment: None,
            user: None,
            request: None,
            contexts: BTreeMap::new(),
            breadcrumbs: Breadcrumbs::new(),
            exception: Values::new(),
            threads: Values::new(),
            debug_meta: DebugMeta::default(),
            tags: BTreeMap::new(),
            extra: BTreeMap::new(),
            sdk: None,
        }
    }
}

impl Event {
    /// A new event with a fresh id, stamped now (same as `Event::default()`).
    pub fn new() -> Event {
        Event::default()
    }

    /// An event carrying a message at the given level.
    pub fn from_message(message: impl Into<String>, level: Level) -> Event {
        Event {
            message: Some(message.into()),
            level,
            ..Event::default()
        }
    }

    /// The event's text: the plain message, else the log entry's formatted
    /// text or template.
    pub fn message_text(&self) -> Option<&str> {
        self.message.as_deref().or_else(|| {
            self.logentry
                .as_ref()
                .and_then(|l| l.formatted.as_deref().or(l.message.as_deref()))
        })
    }

    /// What the event is about, in one line: its outermost exception as
    /// `Type: value`, else its [`message_text`](Event::message_text).
    ///
    /// ```
    /// use vigil_protocol::{Event, Exception, Level, Values};
    /// assert_eq!(
    ///     Event::from_message("disk full", Level::Error).headline().as_deref(),
    ///     Some("disk full")
    /// );
    /// let mut event = Event::new();
    /// event.exception = Values::from(vec![Exception {
    ///     ty: "ConfigError".into(),
    ///     value: Some("missing key".into()),
    ///     ..Default::default()
    /// }]);
    /// assert_eq!(event.headline().as_deref(), Some("ConfigError: missing key"));
    /// ```
    pub fn headline(&self) -> Option<String> {
        self.exception
            .values
            .last()
            .map(|e| {
                format!(
                    "{}: {}",
                    if e.ty.is_empty() { "error" } else { &e.ty },
                    e.value.as_deref().unwrap_or("")
                )
            })
            .or_else(|| self.message_text().map(str::to_owned))
    }
}
