//! Where the hand-written JSON goes: [`JsonSink`], with [`JsonBuffer`]
//! appending the bytes to a `Vec<u8>` and [`JsonSize`] only counting them.

use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use super::escape::{escaped_size, write_escaped};
use crate::limits::json_size::{json_size, serialized_size};
use crate::time::{RFC3339_LEN, Rfc3339Formatter};

/// The destination of a hand-written JSON writer: the same writing code
/// either produces the bytes ([`JsonBuffer`]) or measures them
/// ([`JsonSize`]).
///
/// Each method writes one complete piece of JSON; the writer puts the
/// punctuation and the object keys between them with [`raw`](Self::raw).
pub(crate) trait JsonSink {
    /// Bytes that are already JSON: punctuation and literal keys such as
    /// `,"op":`.
    fn raw(&mut self, json: &[u8]);

    /// `text` as a JSON string, escaped as `serde_json` escapes it.
    fn string(&mut self, text: &str);

    /// A JSON string of `N` bytes that need no escape (the hex digits of
    /// an id), made by `text` only when the bytes are written: a count
    /// needs only their number.
    fn verbatim_string<const N: usize>(&mut self, text: impl FnOnce() -> [u8; N]);

    /// `time` as a JSON string in RFC 3339 with microseconds, as
    /// `crate::time::rfc3339` writes it.
    fn timestamp(&mut self, time: SystemTime);

    /// A free JSON value, as `serde_json` writes it.
    fn value(&mut self, value: &Value);

    /// Any other part, written by its `Serialize` impl through
    /// `serde_json`.
    fn serialized<T: Serialize + ?Sized>(&mut self, part: &T);

    /// A JSON string of `text` that is known to need no escape (a wire name
    /// such as a span status).
    fn plain_string(&mut self, text: &'static str) {
        debug_assert!(!text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\'));
        self.raw(b"\"");
        self.raw(text.as_bytes());
        self.raw(b"\"");
    }
}

/// A [`JsonSink`] that appends to a byte buffer. The first error of a part
/// written through `serde_json` is kept for [`finish`](Self::finish)
/// (none of the protocol's types fails in practice).
#[derive(Debug)]
pub(crate) struct JsonBuffer<'a> {
    out: &'a mut Vec<u8>,
    error: Option<serde_json::Error>,
    timestamps: Rfc3339Formatter,
}

impl<'a> JsonBuffer<'a> {
    /// Appends to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> JsonBuffer<'a> {
        JsonBuffer {
            out,
            error: None,
            timestamps: Rfc3339Formatter::default(),
        }
    }

    /// Ends the writing.
    ///
    /// # Errors
    /// The first error of a part written through `serde_json`; the bytes
    /// are then incomplete.
    pub(crate) fn finish(self) -> Result<(), serde_json::Error> {
        self.error.map_or(Ok(()), Err)
    }
}

impl JsonSink for JsonBuffer<'_> {
    #[inline]
    fn raw(&mut self, json: &[u8]) {
        self.out.extend_from_slice(json);
    }

    #[inline]
    fn string(&mut self, text: &str) {
        write_escaped(self.out, text);
    }

    #[inline]
    fn verbatim_string<const N: usize>(&mut self, text: impl FnOnce() -> [u8; N]) {
        let text = text();
        self.out.reserve(N + 2);
        self.out.push(b'"');
        self.out.extend_from_slice(&text);
        self.out.push(b'"');
    }

    fn timestamp(&mut self, time: SystemTime) {
        let text = self.timestamps.format(time);
        self.verbatim_string(|| text);
    }

    /// Written by hand but for numbers, as `serde_json` writes a
    /// [`Value`]: the entries of an object in the map's own order.
    fn value(&mut self, value: &Value) {
        match value {
            Value::Null => self.raw(b"null"),
            Value::Bool(true) => self.raw(b"true"),
            Value::Bool(false) => self.raw(b"false"),
            Value::Number(number) => self.serialized(number),
            Value::String(text) => self.string(text),
            Value::Array(items) => {
                self.raw(b"[");
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        self.raw(b",");
                    }
                    self.value(item);
                }
                self.raw(b"]");
            }
            Value::Object(map) => {
                self.raw(b"{");
                for (index, (key, item)) in map.iter().enumerate() {
                    if index > 0 {
                        self.raw(b",");
                    }
                    self.string(key);
                    self.raw(b":");
                    self.value(item);
                }
                self.raw(b"}");
            }
        }
    }

    fn serialized<T: Serialize + ?Sized>(&mut self, part: &T) {
        if let Err(error) = serde_json::to_writer(&mut *self.out, part) {
            self.error.get_or_insert(error);
        }
    }
}

/// A [`JsonSink`] that counts the bytes instead of writing them, with the
/// rule of the size limits (`limits::json_size`): a float inside a
/// [`Value`] or a part written through `serde_json` counts as the longer of
/// its JSON and `Display` forms. The count is therefore never less than
/// what [`JsonBuffer`] writes, and equal to it when no float is longer in
/// its `Display` form.
#[derive(Debug, Default)]
pub(crate) struct JsonSize(usize);

impl JsonSize {
    /// The bytes counted so far.
    pub(crate) fn bytes(&self) -> usize {
        self.0
    }
}

impl JsonSink for JsonSize {
    #[inline]
    fn raw(&mut self, json: &[u8]) {
        self.0 += json.len();
    }

    #[inline]
    fn string(&mut self, text: &str) {
        self.0 += escaped_size(text);
    }

    #[inline]
    fn verbatim_string<const N: usize>(&mut self, _: impl FnOnce() -> [u8; N]) {
        self.0 += N + 2;
    }

    #[inline]
    fn timestamp(&mut self, _: SystemTime) {
        self.0 += RFC3339_LEN + 2;
    }

    fn value(&mut self, value: &Value) {
        self.0 += json_size(value);
    }

    fn serialized<T: Serialize + ?Sized>(&mut self, part: &T) {
        self.0 += serialized_size(part);
    }
}
