use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use smol_str::SmolStr;

use crate::event::EventId;
use crate::level::Level;

/// A breadcrumb: a small record of something that happened before an event.
///
/// Build one with a struct literal and `..Default::default()`; the default
/// has the current time, type `"default"` and level `info`.
///
/// ```
/// use vigil_protocol::{Breadcrumb, Level};
/// let crumb = Breadcrumb {
///     category: Some("auth".into()),
///     message: Some("user logged in".into()),
///     level: Level::Info,
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&crumb).unwrap();
/// assert_eq!(json["category"], "auth");
/// assert_eq!(json["type"], "default");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Breadcrumb {
    /// When it happened (float Unix seconds on the wire).
    #[serde(with = "crate::time::float")]
    pub timestamp: SystemTime,
    /// The breadcrumb type (`default`, `http`, `navigation`, `query`, ...).
    /// Short, so stored inline without an allocation.
    #[serde(rename = "type", default = "default_type")]
    pub ty: SmolStr,
    /// A dotted category such as `ui.click` or `auth`. Usually a literal,
    /// which is stored without copying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Cow<'static, str>>,
    /// Human-readable text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Arbitrary structured data.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, Value>,
    /// Severity; `info` by default.
    #[serde(default)]
    pub level: Level,
    /// The event this breadcrumb refers to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
}

fn default_type() -> SmolStr {
    SmolStr::new_static("default")
}

impl Default for Breadcrumb {
    fn default() -> Breadcrumb {
        Breadcrumb {
            timestamp: SystemTime::now(),
            ty: default_type(),
            category: None,
            message: None,
            data: BTreeMap::new(),
            level: Level::Info,
            event_id: None,
        }
    }
}

impl Breadcrumb {
    /// A `default`-type breadcrumb with a message, stamped now.
    pub fn message(message: impl Into<String>) -> Breadcrumb {
        Breadcrumb {
            message: Some(message.into()),
            ..Breadcrumb::default()
        }
    }
}
