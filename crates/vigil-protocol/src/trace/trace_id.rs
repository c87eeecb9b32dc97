//! [`TraceId`]: the 128-bit id shared by every span of a trace.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::trace::error::TraceHeaderError;
use crate::trace::hex::{self, Letters};

/// The id of a distributed trace: 16 bytes, never all zeros, written as 32
/// lowercase hex digits.
///
/// [`TraceId::new`] (and `Default`) draws a random id. Parsing with
/// [`FromStr`] is strict, as the propagation headers require: exactly 32
/// lowercase hex digits, not all zeros. Reading JSON is lenient, as Relay
/// is: upper-case digits and the dashed UUID form are accepted too.
///
/// ```
/// use vigil_protocol::TraceId;
/// let id: TraceId = "771a43a4192642f0b136d5159a501700".parse().unwrap();
/// assert_eq!(id.to_string(), "771a43a4192642f0b136d5159a501700");
/// assert_eq!(TraceId::from_bytes(id.to_bytes()), Some(id));
/// assert!("771A43A4192642F0B136D5159A501700".parse::<TraceId>().is_err());
/// let json: TraceId = serde_json::from_str(r#""771a43a4-1926-42f0-b136-d5159a501700""#).unwrap();
/// assert_eq!(json, id);
/// assert_ne!(TraceId::new(), TraceId::new());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceId([u8; 16]);

impl TraceId {
    /// A new random id, drawn from the thread's fast generator
    /// ([`fastrand`], seeded randomly per thread): ids need to be unique
    /// and evenly spread (the trace's `sample_rand` is derived from one),
    /// not unpredictable.
    pub fn new() -> TraceId {
        loop {
            if let Some(id) = TraceId::from_bytes(fastrand::u128(..).to_be_bytes()) {
                return id;
            }
        }
    }

    /// The id with these bytes; `None` when they are all zeros, which is
    /// not a valid id.
    pub const fn from_bytes(bytes: [u8; 16]) -> Option<TraceId> {
        if u128::from_ne_bytes(bytes) == 0 {
            None
        } else {
            Some(TraceId(bytes))
        }
    }

    /// The 16 bytes of the id.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// The 32 lowercase hex digits of the id, as written.
    pub(crate) fn to_hex(self) -> [u8; 32] {
        hex::encode_array(&self.0)
    }

    /// Reads the id as Relay does: 32 hex digits in either case, or a UUID
    /// with dashes (`8-4-4-4-12`); never all zeros.
    pub(crate) fn parse_lenient(text: &str) -> Result<TraceId, TraceHeaderError> {
        let mut undashed = [0; 32];
        let digits = match text.len() {
            36 => undash(text.as_bytes(), &mut undashed).ok_or(TraceHeaderError::InvalidTraceId)?,
            _ => text.as_bytes(),
        };
        let bytes =
            hex::decode(digits, Letters::AnyCase).ok_or(TraceHeaderError::InvalidTraceId)?;
        TraceId::from_bytes(bytes).ok_or(TraceHeaderError::ZeroId)
    }
}

/// The digits of a dashed UUID (`8-4-4-4-12` characters), copied into
/// `out`; `None` when the groups have other lengths.
fn undash<'a>(text: &[u8], out: &'a mut [u8; 32]) -> Option<&'a [u8]> {
    let mut groups = text.split(|&c| c == b'-');
    let mut at = 0;
    for len in [8, 4, 4, 4, 12] {
        let group = groups.next().filter(|group| group.len() == len)?;
        out[at..at + len].copy_from_slice(group);
        at += len;
    }
    groups.next().is_none().then_some(&out[..])
}

impl Default for TraceId {
    /// A new random id, as [`TraceId::new`].
    fn default() -> TraceId {
        TraceId::new()
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(hex::as_text(&self.to_hex()))
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl FromStr for TraceId {
    type Err = TraceHeaderError;

    /// Accepts exactly 32 lowercase hex digits, not all zeros.
    fn from_str(s: &str) -> Result<TraceId, TraceHeaderError> {
        let bytes = hex::decode(s.as_bytes(), Letters::Lowercase)
            .ok_or(TraceHeaderError::InvalidTraceId)?;
        TraceId::from_bytes(bytes).ok_or(TraceHeaderError::ZeroId)
    }
}

impl Serialize for TraceId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(hex::as_text(&self.to_hex()))
    }
}

impl<'de> Deserialize<'de> for TraceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TraceId, D::Error> {
        let text = Cow::<'de, str>::deserialize(d)?;
        TraceId::parse_lenient(&text).map_err(serde::de::Error::custom)
    }
}
