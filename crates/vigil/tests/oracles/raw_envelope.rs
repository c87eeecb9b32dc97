//! An envelope split into its headers and items the way Relay frames it
//! (a JSON header line, then per item a header line and a payload of its
//! `length`, or up to the next newline), without Vigil's own reader: the
//! item oracles judge the bytes independently of the code under test.

use serde_json::{Map, Value};

/// One item: its header and its payload bytes.
pub(crate) struct RawItem<'a> {
    pub(crate) header: Map<String, Value>,
    pub(crate) payload: &'a [u8],
}

impl RawItem<'_> {
    /// The item's `type`.
    pub(crate) fn ty(&self) -> Option<&str> {
        self.header.get("type").and_then(Value::as_str)
    }
}

/// The envelope header and the items of `bytes`.
pub(crate) fn split(bytes: &[u8]) -> Result<(Map<String, Value>, Vec<RawItem<'_>>), String> {
    let mut lines = Lines { bytes, at: 0 };
    let header = serde_json::from_slice(lines.next_line().ok_or("empty envelope")?)
        .map_err(|e| format!("envelope header: {e}"))?;
    let mut items = Vec::new();
    while let Some(item_header) = lines.next_line() {
        if item_header.is_empty() {
            continue;
        }
        let header: Map<String, Value> =
            serde_json::from_slice(item_header).map_err(|e| format!("item header: {e}"))?;
        let payload = match header.get("length").and_then(Value::as_u64) {
            Some(length) => lines
                .take(length as usize)
                .ok_or("payload shorter than its length")?,
            None => lines.next_line().unwrap_or_default(),
        };
        items.push(RawItem { header, payload });
    }
    Ok((header, items))
}

/// The lines of an envelope, and payloads of a known length.
struct Lines<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Option<&'a [u8]> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let rest = &self.bytes[self.at..];
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        self.at += end + 1;
        Some(&rest[..end])
    }

    fn take(&mut self, length: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(length)?;
        let payload = self.bytes.get(self.at..end)?;
        self.at = end + 1;
        Some(payload)
    }
}
