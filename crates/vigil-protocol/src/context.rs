use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::Map;
use crate::feedback::Feedback;
use smol_str::SmolStr;

use crate::trace::span_id::SpanId;
use crate::trace::span_status::SpanStatus;
use crate::trace::trace_id::TraceId;

/// One entry of an event's `contexts`: a typed well-known context or a free
/// object.
///
/// On the wire each context is an object with a `"type"` key:
///
/// ```
/// use vigil_protocol::{Context, OsContext};
/// let os = Context::from(OsContext { name: Some("Linux".into()), ..Default::default() });
/// assert_eq!(serde_json::to_string(&os).unwrap(), r#"{"type":"os","name":"Linux"}"#);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
#[non_exhaustive]
pub enum Context {
    /// The operating system.
    Os(Box<OsContext>),
    /// The language runtime.
    Runtime(Box<RuntimeContext>),
    /// The machine.
    Device(Box<DeviceContext>),
    /// The application.
    App(Box<AppContext>),
    /// The trace this event belongs to.
    Trace(Box<TraceContext>),
    /// What a user reported, in a feedback event (see [`Feedback`]).
    Feedback(Box<Feedback>),
    /// Any other context, as a free JSON object (its own `type` key, if any,
    /// is kept).
    #[serde(untagged)]
    Other(Map<String, Value>),
}

macro_rules! into_context {
    ($($ty:ident => $variant:ident),* $(,)?) => {
        $(impl From<$ty> for Context {
            fn from(c: $ty) -> Context {
                Context::$variant(Box::new(c))
            }
        })*
    };
}

into_context!(
    OsContext => Os,
    RuntimeContext => Runtime,
    DeviceContext => Device,
    AppContext => App,
    TraceContext => Trace,
    Feedback => Feedback,
);

impl From<serde_json::Map<String, Value>> for Context {
    fn from(map: serde_json::Map<String, Value>) -> Context {
        Context::Other(map.into_iter().collect())
    }
}

impl From<BTreeMap<String, Value>> for Context {
    fn from(map: BTreeMap<String, Value>) -> Context {
        Context::Other(map)
    }
}

/// The `os` context: the operating system the event came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OsContext {
    /// Name, e.g. `Linux`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Version, e.g. `12`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Build identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// Kernel version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    /// Free-form description such as `uname -a` output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_description: Option<String>,
    /// Further fields.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `runtime` context, e.g. the Rust compiler that built the program.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeContext {
    /// Name, e.g. `rustc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Version, e.g. `1.85.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Free-form description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_description: Option<String>,
    /// Further fields (e.g. `channel`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `device` context: the machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceContext {
    /// Device name (the host name; personal data on desktops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// CPU architecture, e.g. `x86_64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Total memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<u64>,
    /// Free memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_memory: Option<u64>,
    /// Number of logical CPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_count: Option<u64>,
    /// Boot time.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    pub boot_time: Option<SystemTime>,
    /// Further fields.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `app` context: the running application.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppContext {
    /// When the application started.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    pub app_start_time: Option<SystemTime>,
    /// Application name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// Application version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// Build identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_build: Option<String>,
    /// Further fields.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The `trace` context: ties an event to a distributed trace, and on a
/// transaction describes the transaction's own span.
///
/// `Default` gives a new random trace and span id. Reading JSON drops a
/// `status` that is no [`SpanStatus`] (as Relay does) and keys this type
/// does not model.
///
/// ```
/// use vigil_protocol::{Context, SpanStatus, TraceContext};
/// let trace = TraceContext {
///     trace_id: "771a43a4192642f0b136d5159a501700".parse().unwrap(),
///     span_id: "b0e6f15b45c36b12".parse().unwrap(),
///     op: Some("http.server".into()),
///     status: Some(SpanStatus::Ok),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_string(&Context::from(trace)).unwrap(),
///     r#"{"type":"trace","trace_id":"771a43a4192642f0b136d5159a501700","span_id":"b0e6f15b45c36b12","op":"http.server","status":"ok"}"#,
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceContext {
    /// The trace.
    pub trace_id: TraceId,
    /// The span: the transaction's own span, or the span that was active
    /// when an error event was captured.
    pub span_id: SpanId,
    /// The parent span, e.g. the upstream span of a continued trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<SpanId>,
    /// The operation, e.g. `http.server` (lowercase, dotted, low
    /// cardinality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<SmolStr>,
    /// A description of the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// How the operation ended.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::trace::span_status::deserialize_lenient"
    )]
    pub status: Option<SpanStatus>,
    /// What created the span, e.g. `manual` or `auto.http.axum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<SmolStr>,
    /// Further data about the span.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
}
