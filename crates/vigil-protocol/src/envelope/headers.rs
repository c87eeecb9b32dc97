//! The envelope headers: the first line of an envelope.

use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::EventId;
use crate::sdk::ClientSdkInfo;
use crate::trace::dynamic_sampling_context::DynamicSamplingContext;

/// The first line of an envelope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvelopeHeaders {
    /// The id of the event the envelope carries; required when it carries
    /// an event, a transaction or attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The DSN the envelope is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dsn: Option<String>,
    /// The SDK that wrote the envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<ClientSdkInfo>,
    /// When the envelope was sent (RFC 3339). Set by the transport right
    /// before sending, never stored.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    pub sent_at: Option<SystemTime>,
    /// The trace's dynamic sampling context, written as an object of
    /// strings. Shared: a trace's context does not change once it is sent,
    /// so every envelope of the trace holds the same one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Arc<DynamicSamplingContext>>,
    /// Header fields this version does not know; kept when reading.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
