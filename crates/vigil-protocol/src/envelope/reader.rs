//! Reading an envelope from the wire format, with Relay's framing rules.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::Envelope;
use super::attachment::Attachment;
use super::error::EnvelopeError;
use super::headers::EnvelopeHeaders;
use super::items::{EnvelopeItem, RawItem};
use crate::log::{ContainerPayload, ItemContainer, Log};
use crate::metric::Metric;

impl Envelope {
    /// Parses an envelope, applying Relay's framing rules: every header is a
    /// JSON object on a single line, directly followed by `\n` or the end
    /// (so CRLF line ends and trailing spaces are errors); item headers need
    /// a string `type`; a declared `length` must be exact and followed by a
    /// newline or the end; without `length` the payload runs to the next
    /// newline. As in Relay, whitespace before a header (such as an extra
    /// trailing newline) is skipped.
    ///
    /// # Errors
    /// An [`EnvelopeError`] naming the first problem found.
    pub fn from_slice(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
        let header = |detail: String| EnvelopeError::InvalidEnvelopeHeader { detail };
        let (headers, mut pos) = match read_header::<EnvelopeHeaders>(bytes, 0) {
            Ok(Some(read)) => read,
            Ok(None) => return Err(header("the envelope is empty".into())),
            Err(detail) => return Err(header(detail)),
        };
        let mut items = Vec::new();
        loop {
            let index = items.len();
            let (item_headers, after_header) = match read_header::<Map<String, Value>>(bytes, pos) {
                Ok(Some(read)) => read,
                Ok(None) => break,
                Err(detail) => return Err(EnvelopeError::InvalidItemHeader { index, detail }),
            };
            let ty = match item_headers.get("type") {
                Some(Value::String(ty)) => ty.clone(),
                _ => return Err(EnvelopeError::MissingItemType { index }),
            };
            let (payload, next) = match item_headers.get("length") {
                Some(length) => {
                    let declared = length.as_u64().ok_or(EnvelopeError::InvalidItemHeader {
                        index,
                        detail: "length is not a non-negative integer".into(),
                    })?;
                    let available = bytes.len().saturating_sub(after_header);
                    let len = usize::try_from(declared).unwrap_or(usize::MAX);
                    if len > available {
                        return Err(EnvelopeError::PayloadTooShort {
                            index,
                            declared,
                            available: available as u64,
                        });
                    }
                    let end = after_header + len;
                    let next = match bytes.get(end) {
                        None => end,
                        Some(b'\n') => end + 1,
                        Some(_) => {
                            return Err(EnvelopeError::MissingNewlineAfterPayload { index });
                        }
                    };
                    (&bytes[after_header..end], next)
                }
                None => read_line(bytes, after_header),
            };
            items.push(parse_item(index, &ty, item_headers, payload)?);
            pos = next;
        }
        Ok(Envelope { headers, items })
    }
}

/// Reads the header starting at `start` after skipping whitespace: a JSON
/// value that must fill the rest of its line. Returns the value and the
/// position after its `\n` (or the end), `None` at the end of the input,
/// or what is wrong.
fn read_header<T: DeserializeOwned>(
    bytes: &[u8],
    start: usize,
) -> Result<Option<(T, usize)>, String> {
    let skipped = bytes
        .get(start..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .count();
    let start = start + skipped;
    if start >= bytes.len() {
        return Ok(None);
    }
    let (line, next) = read_line(bytes, start);
    let mut stream = serde_json::Deserializer::from_slice(line).into_iter::<T>();
    let value = match stream.next() {
        Some(Ok(value)) => value,
        Some(Err(e)) => return Err(e.to_string()),
        None => return Err("missing header".into()),
    };
    match line.get(stream.byte_offset()) {
        None => Ok(Some((value, next))),
        Some(b'\r') => Err("the header line ends in CRLF; only \\n is allowed".into()),
        Some(&b) => Err(format!(
            "unexpected {:?} after the header JSON",
            char::from(b)
        )),
    }
}

/// The line starting at `start` (without its `\n`) and the position after
/// the `\n` (or the end).
fn read_line(bytes: &[u8], start: usize) -> (&[u8], usize) {
    let rest = &bytes[start.min(bytes.len())..];
    match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], start + i + 1),
        None => (rest, bytes.len()),
    }
}

fn parse_item(
    index: usize,
    ty: &str,
    headers: Map<String, Value>,
    payload: &[u8],
) -> Result<EnvelopeItem, EnvelopeError> {
    let invalid = |e: serde_json::Error| EnvelopeError::InvalidPayload {
        index,
        item_type: ty.to_owned(),
        detail: e.to_string(),
    };
    Ok(match ty {
        "event" => EnvelopeItem::Event(Box::new(serde_json::from_slice(payload).map_err(invalid)?)),
        // The payload's `"type": "feedback"` is not kept: the variant says it.
        "feedback" => {
            EnvelopeItem::Feedback(Box::new(serde_json::from_slice(payload).map_err(invalid)?))
        }
        "transaction" => {
            EnvelopeItem::Transaction(Box::new(serde_json::from_slice(payload).map_err(invalid)?))
        }
        "client_report" => {
            EnvelopeItem::ClientReport(serde_json::from_slice(payload).map_err(invalid)?)
        }
        "session" => {
            EnvelopeItem::Session(Box::new(serde_json::from_slice(payload).map_err(invalid)?))
        }
        "sessions" => EnvelopeItem::SessionAggregates(Box::new(
            serde_json::from_slice(payload).map_err(invalid)?,
        )),
        "check_in" => {
            EnvelopeItem::CheckIn(Box::new(serde_json::from_slice(payload).map_err(invalid)?))
        }
        "log" => {
            let logs = serde_json::from_slice::<ContainerPayload<Log>>(payload)
                .map_err(invalid)?
                .items;
            EnvelopeItem::ItemContainer(ItemContainer::Logs(logs))
        }
        "trace_metric" => {
            let metrics = serde_json::from_slice::<ContainerPayload<Metric>>(payload)
                .map_err(invalid)?
                .items;
            EnvelopeItem::ItemContainer(ItemContainer::Metrics(metrics))
        }
        "attachment" => {
            let filename = match headers.get("filename") {
                Some(Value::String(f)) => f.clone(),
                _ => {
                    return Err(EnvelopeError::InvalidItemHeader {
                        index,
                        detail: "attachment without a filename".into(),
                    });
                }
            };
            let text = |key: &str| headers.get(key).and_then(Value::as_str).map(str::to_owned);
            EnvelopeItem::Attachment(Attachment {
                filename,
                content_type: text("content_type"),
                attachment_type: text("attachment_type"),
                buffer: payload.to_vec(),
            })
        }
        _ => {
            let mut headers = headers;
            headers.remove("length");
            EnvelopeItem::Raw(RawItem {
                headers,
                payload: payload.to_vec(),
            })
        }
    })
}
