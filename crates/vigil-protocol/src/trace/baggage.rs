//! The W3C `baggage` header: reading the `sentry-` members into a
//! [`DynamicSamplingContext`] and writing them back.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::trace::dynamic_sampling_context::DynamicSamplingContext;
use crate::trace::error::TraceHeaderError;
use crate::trace::ows::trim_ows;

/// The longest `baggage` header W3C requires a reader to accept, in bytes.
const MAX_BAGGAGE_LEN: usize = 8192;
/// The most list members W3C requires a reader to accept.
const MAX_BAGGAGE_MEMBERS: usize = 64;
/// The key prefix of Sentry's members.
const SENTRY_PREFIX: &str = "sentry-";
/// What is percent-encoded in names and values: everything but ASCII
/// letters, digits and `-._~`. That covers all that `baggage` forbids
/// (controls, space, `"`, `,`, `;`, `\`, non-ASCII) plus `%` and `=`, and
/// writes `@` and `/` as the other SDKs do (`upstream%401.0`,
/// `GET%20%2Fapi`).
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl DynamicSamplingContext {
    /// Reads the `sentry-` members of a `baggage` header value.
    ///
    /// The value is a comma-separated list of `key=value;properties`
    /// members, with optional spaces and tabs around members, `=` and `;`.
    /// Members whose key starts with `sentry-` become entries: the rest of
    /// the key (`sentry-trace_id` → `trace_id`, `sentry-a-b` → `a-b`) and
    /// the value without its properties, both percent-decoded. Other
    /// vendors' members are skipped, so they are never forwarded, and so
    /// are empty members and members without `=`. A header without
    /// `sentry-` members gives an empty DSC.
    ///
    /// Hostile input is rejected, never read at length: a header longer
    /// than 8192 bytes or with more than 64 members (W3C's limits), a
    /// `sentry-` entry named twice, or a name or value that is not UTF-8
    /// once decoded. The caller then starts a fresh trace.
    pub fn from_baggage(header: &str) -> Result<DynamicSamplingContext, TraceHeaderError> {
        if header.len() > MAX_BAGGAGE_LEN {
            return Err(TraceHeaderError::TooLong {
                limit: MAX_BAGGAGE_LEN,
            });
        }
        let mut dsc = DynamicSamplingContext::new();
        let members = header.split(',').map(trim_ows).filter(|m| !m.is_empty());
        for (index, member) in members.enumerate() {
            if index == MAX_BAGGAGE_MEMBERS {
                return Err(TraceHeaderError::TooManyMembers {
                    limit: MAX_BAGGAGE_MEMBERS,
                });
            }
            let Some((key, value)) = member.split_once('=') else {
                continue;
            };
            let Some(name) = trim_ows(key).strip_prefix(SENTRY_PREFIX) else {
                continue;
            };
            let value = value.split(';').next().map_or("", trim_ows);
            let name = decode(name)?;
            if dsc.get(&name).is_some() {
                return Err(TraceHeaderError::DuplicateEntry);
            }
            dsc.set(name, decode(value)?);
        }
        Ok(dsc)
    }

    /// The DSC as a `baggage` header value: `sentry-{name}={value}` members
    /// joined by `,`, names and values percent-encoded. Empty when the DSC
    /// is.
    pub fn to_baggage(&self) -> String {
        let mut header = String::new();
        for (name, value) in self.iter() {
            if !header.is_empty() {
                header.push(',');
            }
            header.push_str(SENTRY_PREFIX);
            header.extend(utf8_percent_encode(name, ENCODED));
            header.push('=');
            header.extend(utf8_percent_encode(value, ENCODED));
        }
        header
    }

    /// The `baggage` value for an outgoing request that may already carry
    /// one (`existing`): its members of other vendors in their order, then
    /// this DSC's. Its `sentry-` members are dropped, as this DSC replaces
    /// them. Empty when there is nothing to send.
    ///
    /// ```
    /// use vigil_protocol::DynamicSamplingContext;
    /// let mut dsc = DynamicSamplingContext::new();
    /// dsc.set("trace_id", "771a43a4192642f0b136d5159a501700");
    /// assert_eq!(
    ///     dsc.merge_into_baggage(Some("a=1, sentry-trace_id=old,b=2")),
    ///     "a=1,b=2,sentry-trace_id=771a43a4192642f0b136d5159a501700",
    /// );
    /// ```
    pub fn merge_into_baggage(&self, existing: Option<&str>) -> String {
        let others = existing
            .unwrap_or_default()
            .split(',')
            .map(trim_ows)
            .filter(|m| !m.is_empty() && !m.starts_with(SENTRY_PREFIX));
        let mut header = others.collect::<Vec<_>>().join(",");
        if !self.is_empty() {
            if !header.is_empty() {
                header.push(',');
            }
            header.push_str(&self.to_baggage());
        }
        header
    }
}

/// `text` percent-decoded; an error when the bytes are not UTF-8. A `%`
/// not followed by two hex digits is kept as it is.
fn decode(text: &str) -> Result<String, TraceHeaderError> {
    match percent_decode_str(text).decode_utf8() {
        Ok(decoded) => Ok(decoded.into_owned()),
        Err(_) => Err(TraceHeaderError::InvalidUtf8),
    }
}
