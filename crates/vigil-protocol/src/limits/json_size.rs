//! Measuring values as compact JSON, never less than Relay's own size
//! estimate: strings escaped as `serde_json` writes them, each float as the
//! longer of `serde_json`'s and `Display`'s forms.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};

use serde::Serialize;
use serde_json::Value;
use serde_json::ser::{CompactFormatter, Formatter};

use crate::json_writer::escaped_size;

/// The length of `c` inside a JSON string as `serde_json` writes it.
pub(super) fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if u32::from(c) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The size of `s` as a JSON string, quotes included.
pub(super) fn str_size(s: &str) -> usize {
    escaped_size(s)
}

/// The compact JSON size of `value`, counting each float as the longer of
/// `serde_json`'s and `Display`'s forms (Relay uses the latter, which
/// writes `1e300` with all its digits).
pub(crate) fn json_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => {
            let json = display_len(n);
            match n.as_f64() {
                Some(f) if n.is_f64() => json.max(display_len(&f)),
                _ => json,
            }
        }
        Value::String(s) => str_size(s),
        Value::Array(items) => {
            2 + items.iter().map(json_size).sum::<usize>() + items.len().saturating_sub(1)
        }
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| str_size(k) + 1 + json_size(v))
                .sum::<usize>()
                + map.len().saturating_sub(1)
        }
    }
}

/// The compact JSON size of `map` as an object.
pub(super) fn map_size(map: &BTreeMap<String, Value>) -> usize {
    2 + map
        .iter()
        .map(|(k, v)| str_size(k) + 1 + json_size(v))
        .sum::<usize>()
        + map.len().saturating_sub(1)
}

/// The size of `value` serialized as compact JSON, counted without keeping
/// the bytes, each float as the longer of `serde_json`'s and `Display`'s
/// forms (as [`json_size`] counts a [`Value`]).
pub(crate) fn serialized_size<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut count = Count(0);
    let mut serializer = serde_json::Serializer::with_formatter(&mut count, FloatsAtLongest);
    // Writing to `Count` cannot fail; a value that cannot be serialized
    // counts what was written before the error.
    let _ = value.serialize(&mut serializer);
    count.0
}

/// A writer that only counts bytes.
struct Count(usize);

impl fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

impl io::Write for Count {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Compact JSON, except that a float shorter than its `Display` form is
/// padded to that length (the output is for counting only).
struct FloatsAtLongest;

impl Formatter for FloatsAtLongest {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        let mut json = Count(0);
        CompactFormatter.write_f64(&mut json, value)?;
        CompactFormatter.write_f64(writer, value)?;
        pad(writer, display_len(&value).saturating_sub(json.0))
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        let mut json = Count(0);
        CompactFormatter.write_f32(&mut json, value)?;
        CompactFormatter.write_f32(writer, value)?;
        pad(writer, display_len(&value).saturating_sub(json.0))
    }
}

/// Writes `n` spaces.
fn pad<W: ?Sized + io::Write>(writer: &mut W, n: usize) -> io::Result<()> {
    io::copy(&mut io::repeat(b' ').take(n as u64), writer).map(drop)
}

/// How many bytes `value` writes with `Display`, without allocating.
fn display_len(value: &dyn fmt::Display) -> usize {
    let mut count = Count(0);
    let _ = fmt::write(&mut count, format_args!("{value}"));
    count.0
}
