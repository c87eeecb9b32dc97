//! [`SpanId`]: the 64-bit id of one span of a trace.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::trace::error::TraceHeaderError;
use crate::trace::hex::{self, Letters};

/// The id of a span: 8 bytes, never all zeros, written as 16 lowercase hex
/// digits.
///
/// [`SpanId::new`] (and `Default`) draws a random id. Parsing with
/// [`FromStr`] is strict, as the propagation headers require: exactly 16
/// lowercase hex digits, not all zeros. Reading JSON is lenient, as Relay
/// is: upper-case digits are accepted too.
///
/// ```
/// use vigil_protocol::SpanId;
/// let id: SpanId = "b0e6f15b45c36b12".parse().unwrap();
/// assert_eq!(id.to_string(), "b0e6f15b45c36b12");
/// assert_eq!(SpanId::from_bytes(id.to_bytes()), Some(id));
/// assert!("0000000000000000".parse::<SpanId>().is_err());
/// let json: SpanId = serde_json::from_str(r#""B0E6F15B45C36B12""#).unwrap();
/// assert_eq!(serde_json::to_string(&json).unwrap(), r#""b0e6f15b45c36b12""#);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanId([u8; 8]);

impl SpanId {
    /// A new random id, drawn from the thread's fast generator
    /// ([`fastrand`], seeded randomly per thread): ids need to be unique
    /// and evenly spread, not unpredictable.
    pub fn new() -> SpanId {
        loop {
            if let Some(id) = SpanId::from_bytes(fastrand::u64(..).to_be_bytes()) {
                return id;
            }
        }
    }

    /// The id with these bytes; `None` when they are all zeros, which is
    /// not a valid id.
    pub const fn from_bytes(bytes: [u8; 8]) -> Option<SpanId> {
        if u64::from_ne_bytes(bytes) == 0 {
            None
        } else {
            Some(SpanId(bytes))
        }
    }

    /// The 8 bytes of the id.
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }

    /// The 16 lowercase hex digits of the id, as written.
    pub(crate) fn to_hex(self) -> [u8; 16] {
        hex::encode_array(&self.0)
    }

    /// Reads the id as Relay does: 16 hex digits in either case, never all
    /// zeros.
    fn parse_lenient(text: &str) -> Result<SpanId, TraceHeaderError> {
        let bytes = hex::decode(text.as_bytes(), Letters::AnyCase)
            .ok_or(TraceHeaderError::InvalidSpanId)?;
        SpanId::from_bytes(bytes).ok_or(TraceHeaderError::ZeroId)
    }
}

impl Default for SpanId {
    /// A new random id, as [`SpanId::new`].
    fn default() -> SpanId {
        SpanId::new()
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(hex::as_text(&self.to_hex()))
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

impl FromStr for SpanId {
    type Err = TraceHeaderError;

    /// Accepts exactly 16 lowercase hex digits, not all zeros.
    fn from_str(s: &str) -> Result<SpanId, TraceHeaderError> {
        let bytes =
            hex::decode(s.as_bytes(), Letters::Lowercase).ok_or(TraceHeaderError::InvalidSpanId)?;
        SpanId::from_bytes(bytes).ok_or(TraceHeaderError::ZeroId)
    }
}

impl Serialize for SpanId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(hex::as_text(&self.to_hex()))
    }
}

impl<'de> Deserialize<'de> for SpanId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SpanId, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        SpanId::parse_lenient(&text).map_err(serde::de::Error::custom)
    }
}
