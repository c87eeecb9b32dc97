//! The W3C `traceparent` header, read into and written from a
//! [`SentryTrace`].

use crate::trace::error::TraceHeaderError;
use crate::trace::hex::{self, Letters};
use crate::trace::ows::trim_ows;
use crate::trace::sentry_trace::{MAX_HEADER_LEN, SentryTrace};

/// The one `traceparent` version this crate writes and fully knows.
const VERSION_00: u8 = 0x00;
/// The version W3C forbids.
const VERSION_INVALID: u8 = 0xff;
/// The `sampled` bit of the trace flags.
const FLAG_SAMPLED: u8 = 0x01;

impl SentryTrace {
    /// Reads a W3C `traceparent` header value:
    /// `{version}-{trace_id}-{span_id}-{flags}`.
    ///
    /// Surrounding spaces and tabs are ignored. The version is two
    /// lowercase hex digits other than `ff`; version `00` has exactly these
    /// four parts, while a later version may have more after the flags,
    /// which are ignored. The ids are lowercase hex and not all zeros, the
    /// flags two lowercase hex digits of which only the `sampled` bit
    /// (`0x01`) is read: the result's [`sampled`](SentryTrace::sampled) is
    /// always decided. Input longer than 256 bytes is rejected before it is
    /// looked at.
    ///
    /// ```
    /// use vigil_protocol::SentryTrace;
    /// let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    /// let parent = SentryTrace::parse_traceparent(header).unwrap();
    /// assert_eq!(parent.sampled, Some(true));
    /// assert_eq!(parent.to_traceparent(), header);
    /// assert_eq!(parent.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1");
    /// ```
    pub fn parse_traceparent(header: &str) -> Result<SentryTrace, TraceHeaderError> {
        if header.len() > MAX_HEADER_LEN {
            return Err(TraceHeaderError::TooLong {
                limit: MAX_HEADER_LEN,
            });
        }
        let mut parts = trim_ows(header).split('-');
        let version = parts.next().and_then(hex_byte);
        let version = version
            .filter(|&v| v != VERSION_INVALID)
            .ok_or(TraceHeaderError::InvalidVersion)?;
        let trace_id = parts.next().ok_or(TraceHeaderError::Malformed)?.parse()?;
        let span_id = parts.next().ok_or(TraceHeaderError::Malformed)?.parse()?;
        let flags = parts.next().ok_or(TraceHeaderError::Malformed)?;
        let flags = hex_byte(flags).ok_or(TraceHeaderError::InvalidSampled)?;
        if version == VERSION_00 && parts.next().is_some() {
            return Err(TraceHeaderError::Malformed);
        }
        let sampled = flags & FLAG_SAMPLED == FLAG_SAMPLED;
        Ok(SentryTrace::new(trace_id, span_id, Some(sampled)))
    }

    /// This header as a version-00 W3C `traceparent` value:
    /// `00-{trace_id}-{span_id}-01` when sampled, `-00` when not sampled or
    /// deferred.
    pub fn to_traceparent(&self) -> String {
        // `00-{trace id}-{span id}-{flags}`, written in one piece.
        let mut text = *b"00-________________________________-________________-00";
        text[3..35].copy_from_slice(&self.trace_id.to_hex());
        text[36..52].copy_from_slice(&self.span_id.to_hex());
        if self.sampled == Some(true) {
            text[54] = b'1';
        }
        String::from_utf8_lossy(&text).into_owned()
    }
}

/// Two lowercase hex digits as a byte.
fn hex_byte(text: &str) -> Option<u8> {
    hex::decode::<1>(text.as_bytes(), Letters::Lowercase).map(|[byte]| byte)
}
