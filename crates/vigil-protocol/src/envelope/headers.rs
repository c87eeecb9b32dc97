//! The envelope headers: the first line of an envelope.

use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::EventId;
use crate::sdk::ClientSdkInfo;
use crate::trace::dynamic_sampling_context::DynamicSamplingContext;

/// The first line of an envelope.
///
/// The DSN's secret key (of a legacy `public:secret@` DSN) is never kept:
/// it is dropped when headers are read, when they are written, and from
/// their `Debug` output.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvelopeHeaders {
    /// The id of the event the envelope carries; required when it carries
    /// an event, a transaction or attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The DSN the envelope is meant for (without a secret key).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "public_dsn::serialize",
        deserialize_with = "public_dsn::deserialize"
    )]
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

impl EnvelopeHeaders {
    /// Empty headers.
    pub fn new() -> EnvelopeHeaders {
        EnvelopeHeaders::default()
    }

    /// These headers with `event_id` set.
    #[must_use]
    pub fn with_event_id(mut self, event_id: impl Into<EventId>) -> EnvelopeHeaders {
        self.event_id = Some(event_id.into());
        self
    }

    /// These headers with `dsn` set (written without a secret key).
    #[must_use]
    pub fn with_dsn(mut self, dsn: impl Into<String>) -> EnvelopeHeaders {
        self.dsn = Some(dsn.into());
        self
    }

    /// These headers with `sdk` set.
    #[must_use]
    pub fn with_sdk(mut self, sdk: ClientSdkInfo) -> EnvelopeHeaders {
        self.sdk = Some(sdk);
        self
    }

    /// These headers with `sent_at` set.
    #[must_use]
    pub fn with_sent_at(mut self, sent_at: SystemTime) -> EnvelopeHeaders {
        self.sent_at = Some(sent_at);
        self
    }

    /// These headers with the trace's dynamic sampling context set.
    #[must_use]
    pub fn with_trace(mut self, trace: impl Into<Arc<DynamicSamplingContext>>) -> EnvelopeHeaders {
        self.trace = Some(trace.into());
        self
    }
}

impl std::fmt::Debug for EnvelopeHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvelopeHeaders")
            .field("event_id", &self.event_id)
            .field("dsn", &self.dsn.as_deref().map(crate::dsn::without_secret))
            .field("sdk", &self.sdk)
            .field("sent_at", &self.sent_at)
            .field("trace", &self.trace)
            .field("other", &self.other)
            .finish()
    }
}

/// The `dsn` header without a secret key, in both directions.
mod public_dsn {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::dsn::without_secret;

    #[expect(
        clippy::ref_option,
        reason = "the signature serde's serialize_with asks for"
    )]
    pub(super) fn serialize<S: Serializer>(
        dsn: &Option<String>,
        out: S,
    ) -> Result<S::Ok, S::Error> {
        match dsn {
            Some(dsn) => out.serialize_some(&*without_secret(dsn)),
            None => out.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        input: D,
    ) -> Result<Option<String>, D::Error> {
        let dsn = Option::<String>::deserialize(input)?;
        Ok(dsn.map(|dsn| without_secret(&dsn).into_owned()))
    }
}
