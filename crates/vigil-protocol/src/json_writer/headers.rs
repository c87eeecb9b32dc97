//! The JSON of the envelope headers, byte for byte as the derived
//! `Serialize` impl of [`EnvelopeHeaders`] writes it.
//!
//! Keep this writer in step with the `#[serde(...)]` attributes of
//! `EnvelopeHeaders`; the property test in `json_writer::tests` compares
//! it with `serde_json`.

use super::interfaces::write_sdk;
use super::object::Fields;
use super::sink::JsonSink;
use crate::envelope::EnvelopeHeaders;

/// Writes `headers` as their derived `Serialize` impl does: the known
/// fields, then the entries of `other` (flattened into the same object).
pub(super) fn write_envelope_headers<S: JsonSink>(headers: &EnvelopeHeaders, out: &mut S) {
    let mut fields = Fields::open(out);
    if let Some(event_id) = headers.event_id {
        fields
            .key(br#""event_id":"#)
            .verbatim_string(|| event_id.to_hex());
    }
    if let Some(dsn) = &headers.dsn {
        fields
            .key(br#""dsn":"#)
            .string(&crate::dsn::without_secret(dsn));
    }
    if let Some(sdk) = &headers.sdk {
        write_sdk(sdk, fields.key(br#""sdk":"#));
    }
    if let Some(sent_at) = headers.sent_at {
        fields.key(br#""sent_at":"#).timestamp(sent_at);
    }
    if let Some(trace) = &headers.trace {
        let out = fields.key(br#""trace":"#);
        out.raw(b"{");
        for (index, (name, value)) in trace.iter().enumerate() {
            if index > 0 {
                out.raw(b",");
            }
            out.string(name);
            out.raw(b":");
            out.string(value);
        }
        out.raw(b"}");
    }
    for (key, value) in &headers.other {
        let out = fields.entry();
        out.string(key);
        out.raw(b":");
        out.value(value);
    }
    fields.close();
}
