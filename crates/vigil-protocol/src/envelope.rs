//! The envelope: Sentry's newline-delimited container for events and other
//! items (`protocol.md` §2).

use std::fmt;
use std::io::{self, Write};
use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{ClientReport, ClientSdkInfo, DataCategory, Event, EventId, SessionUpdate};

/// The first line of an envelope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnvelopeHeaders {
    /// The id of the event the envelope carries; required when it carries
    /// an event or attachments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The DSN the envelope is meant for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// The dynamic sampling context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Map<String, Value>>,
    /// Header fields this version does not know; kept when reading.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A file attached to an event.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attachment {
    /// The file name (no path component).
    pub filename: String,
    /// MIME type; `application/octet-stream` when absent.
    pub content_type: Option<String>,
    /// Sentry attachment type; `event.attachment` when absent.
    pub attachment_type: Option<String>,
    /// The content.
    pub bytes: Vec<u8>,
}

impl Attachment {
    /// An attachment with a file name and content.
    pub fn new(filename: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Attachment {
        Attachment {
            filename: filename.into(),
            content_type: None,
            attachment_type: None,
            bytes: bytes.into(),
        }
    }

    /// Sets the MIME type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Attachment {
        self.content_type = Some(content_type.into());
        self
    }
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("attachment_type", &self.attachment_type)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// An item of a type this version does not model, kept as raw bytes.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RawItem {
    /// The item header (including `type`).
    pub headers: Map<String, Value>,
    /// The payload.
    pub payload: Vec<u8>,
}

impl RawItem {
    /// The item's `type`.
    pub fn ty(&self) -> &str {
        self.headers
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// One item of an envelope.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EnvelopeItem {
    /// An error or message event.
    Event(Box<Event>),
    /// An attachment.
    Attachment(Attachment),
    /// A client report.
    ClientReport(ClientReport),
    /// A session update.
    Session(Box<SessionUpdate>),
    /// Any other item, kept verbatim.
    Raw(RawItem),
}

impl EnvelopeItem {
    /// The item's wire `type`.
    pub fn ty(&self) -> &str {
        match self {
            EnvelopeItem::Event(_) => "event",
            EnvelopeItem::Attachment(_) => "attachment",
            EnvelopeItem::ClientReport(_) => "client_report",
            EnvelopeItem::Session(_) => "session",
            EnvelopeItem::Raw(raw) => raw.ty(),
        }
    }

    /// The rate-limit / client-report category of the item.
    pub fn category(&self) -> DataCategory {
        category_of(self.ty())
    }

    /// How many units the item counts for in client reports (bytes for
    /// attachments, 1 otherwise).
    pub fn quantity(&self) -> u64 {
        match self {
            EnvelopeItem::Attachment(a) => (a.bytes.len() as u64).max(1),
            _ => 1,
        }
    }
}

/// Maps an item type to its data category (`protocol.md` §2.5).
pub fn category_of(item_type: &str) -> DataCategory {
    match item_type {
        "event" => DataCategory::Error,
        "transaction" => DataCategory::Transaction,
        "span" => DataCategory::Span,
        "attachment" => DataCategory::Attachment,
        "session" | "sessions" => DataCategory::Session,
        "check_in" => DataCategory::Monitor,
        "log" => DataCategory::LogItem,
        "feedback" => DataCategory::Feedback,
        "client_report" => DataCategory::Internal,
        _ => DataCategory::Default,
    }
}

impl From<Event> for EnvelopeItem {
    fn from(event: Event) -> EnvelopeItem {
        EnvelopeItem::Event(Box::new(event))
    }
}

impl From<Attachment> for EnvelopeItem {
    fn from(a: Attachment) -> EnvelopeItem {
        EnvelopeItem::Attachment(a)
    }
}

impl From<ClientReport> for EnvelopeItem {
    fn from(r: ClientReport) -> EnvelopeItem {
        EnvelopeItem::ClientReport(r)
    }
}

impl From<SessionUpdate> for EnvelopeItem {
    fn from(s: SessionUpdate) -> EnvelopeItem {
        EnvelopeItem::Session(Box::new(s))
    }
}

/// An envelope: headers and a list of items.
///
/// ```
/// use vigil_protocol::{Envelope, Event};
/// let event = Event { message: Some("hello".into()), ..Default::default() };
/// let id = event.event_id;
/// let envelope = Envelope::from_event(event);
/// let bytes = envelope.to_vec().unwrap();
/// let back = Envelope::from_slice(&bytes).unwrap();
/// assert_eq!(back.headers().event_id, Some(id));
/// assert_eq!(back.event().unwrap().message.as_deref(), Some("hello"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Envelope {
    headers: EnvelopeHeaders,
    items: Vec<EnvelopeItem>,
}

impl Envelope {
    /// An empty envelope with empty headers.
    pub fn new() -> Envelope {
        Envelope::default()
    }

    /// An envelope carrying one event, its id copied into the headers.
    pub fn from_event(event: impl Into<Box<Event>>) -> Envelope {
        let event = event.into();
        let mut envelope = Envelope::new();
        envelope.headers.event_id = Some(event.event_id);
        envelope.items.push(EnvelopeItem::Event(event));
        envelope
    }

    /// The headers.
    pub fn headers(&self) -> &EnvelopeHeaders {
        &self.headers
    }

    /// The headers, mutably.
    pub fn headers_mut(&mut self) -> &mut EnvelopeHeaders {
        &mut self.headers
    }

    /// Adds an item. An event's id is copied into the headers when they
    /// have none.
    pub fn add_item(&mut self, item: impl Into<EnvelopeItem>) {
        let item = item.into();
        if let EnvelopeItem::Event(event) = &item {
            self.headers.event_id.get_or_insert(event.event_id);
        }
        self.items.push(item);
    }

    /// The items, in order.
    pub fn items(&self) -> &[EnvelopeItem] {
        &self.items
    }

    /// Keeps only the items for which `keep` returns true.
    pub fn retain_items(&mut self, keep: impl FnMut(&EnvelopeItem) -> bool) {
        self.items.retain(keep);
    }

    /// Takes the items out, leaving the envelope empty.
    pub fn into_items(self) -> Vec<EnvelopeItem> {
        self.items
    }

    /// The first event item, if any.
    pub fn event(&self) -> Option<&Event> {
        self.items.iter().find_map(|i| match i {
            EnvelopeItem::Event(e) => Some(&**e),
            _ => None,
        })
    }

    /// Whether the envelope has no items (such an envelope is not sent).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Writes the envelope in the wire format. Every item header declares
    /// its `length`. An event whose JSON exceeds Sentry's 1 MiB limit is
    /// written with its optional parts shed (see
    /// [`limits::shed_heavy_parts`](crate::limits::shed_heavy_parts)).
    ///
    /// # Errors
    /// The writer's own I/O errors, and `InvalidData` for an event that
    /// exceeds 1 MiB even without its optional parts.
    pub fn to_writer<W: Write>(&self, w: W) -> io::Result<()> {
        // Items are serialized into a per-thread scratch buffer first (their
        // length goes into the item header), so a thread that writes many
        // envelopes allocates it once. A nested call gets a fresh buffer.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        /// Larger scratch buffers are not kept between envelopes.
        const KEEP_SCRATCH: usize = 64 * 1024;
        let scratch = SCRATCH
            .try_with(|cell| {
                cell.try_borrow_mut()
                    .map(|mut b| std::mem::take(&mut *b))
                    .ok()
            })
            .ok()
            .flatten();
        let mut payload = scratch.unwrap_or_default();
        let result = self.write_with(w, &mut payload);
        if payload.capacity() <= KEEP_SCRATCH {
            let _ = SCRATCH.try_with(|cell| {
                if let Ok(mut b) = cell.try_borrow_mut() {
                    if b.capacity() < payload.capacity() {
                        *b = payload;
                    }
                }
            });
        }
        result
    }

    fn write_with<W: Write>(&self, mut w: W, payload: &mut Vec<u8>) -> io::Result<()> {
        serde_json::to_writer(&mut w, &self.headers)?;
        for item in &self.items {
            w.write_all(b"\n")?;
            payload.clear();
            match item {
                EnvelopeItem::Event(event) => {
                    serde_json::to_writer(&mut *payload, event)?;
                    if payload.len() > crate::limits::MAX_EVENT_SIZE {
                        shed_until_it_fits(event, payload)?;
                    }
                    write!(w, r#"{{"type":"event","length":{}}}"#, payload.len())?;
                }
                EnvelopeItem::ClientReport(report) => {
                    serde_json::to_writer(&mut *payload, report)?;
                    write!(
                        w,
                        r#"{{"type":"client_report","length":{}}}"#,
                        payload.len()
                    )?;
                }
                EnvelopeItem::Session(session) => {
                    serde_json::to_writer(&mut *payload, session)?;
                    write!(w, r#"{{"type":"session","length":{}}}"#, payload.len())?;
                }
                EnvelopeItem::Attachment(a) => {
                    let mut headers = Map::new();
                    headers.insert("type".into(), "attachment".into());
                    headers.insert("length".into(), a.bytes.len().into());
                    headers.insert("filename".into(), a.filename.clone().into());
                    if let Some(ct) = &a.content_type {
                        headers.insert("content_type".into(), ct.clone().into());
                    }
                    if let Some(at) = &a.attachment_type {
                        headers.insert("attachment_type".into(), at.clone().into());
                    }
                    serde_json::to_writer(&mut w, &headers)?;
                    w.write_all(b"\n")?;
                    w.write_all(&a.bytes)?;
                    continue;
                }
                EnvelopeItem::Raw(raw) => {
                    let mut headers = raw.headers.clone();
                    headers.insert("length".into(), raw.payload.len().into());
                    serde_json::to_writer(&mut w, &headers)?;
                    w.write_all(b"\n")?;
                    w.write_all(&raw.payload)?;
                    continue;
                }
            }
            w.write_all(b"\n")?;
            w.write_all(payload)?;
        }
        w.write_all(b"\n")?;
        Ok(())
    }

    /// The envelope in the wire format.
    ///
    /// # Errors
    /// None in practice; the `Result` mirrors [`Envelope::to_writer`].
    pub fn to_vec(&self) -> io::Result<Vec<u8>> {
        // Room for a typical event envelope, so that it is written without
        // growing the buffer.
        let mut out = Vec::with_capacity(4096);
        self.to_writer(&mut out)?;
        Ok(out)
    }

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

/// Serializes a copy of `event` with optional parts shed
/// ([`limits::shed_heavy_parts`](crate::limits::shed_heavy_parts)) until it
/// fits Sentry's 1 MiB event limit. The size is checked here, where the
/// bytes are produced, so an event is serialized once in the common case.
fn shed_until_it_fits(event: &Event, payload: &mut Vec<u8>) -> io::Result<()> {
    let mut event = event.clone();
    while payload.len() > crate::limits::MAX_EVENT_SIZE {
        if !crate::limits::shed_heavy_parts(&mut event) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "event exceeds 1 MiB even without its optional parts",
            ));
        }
        payload.clear();
        serde_json::to_writer(&mut *payload, &event)?;
    }
    Ok(())
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
        "client_report" => {
            EnvelopeItem::ClientReport(serde_json::from_slice(payload).map_err(invalid)?)
        }
        "session" => {
            EnvelopeItem::Session(Box::new(serde_json::from_slice(payload).map_err(invalid)?))
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
                bytes: payload.to_vec(),
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

/// Why an envelope could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The first line is not a JSON object.
    InvalidEnvelopeHeader {
        /// The parser's message, for logging only.
        detail: String,
    },
    /// An item header is not a JSON object or has a bad field.
    InvalidItemHeader {
        /// Which item (0-based).
        index: usize,
        /// What was wrong, for logging only.
        detail: String,
    },
    /// An item header has no string `type`.
    MissingItemType {
        /// Which item (0-based).
        index: usize,
    },
    /// The data ended before the declared `length`.
    PayloadTooShort {
        /// Which item (0-based).
        index: usize,
        /// The declared length.
        declared: u64,
        /// The bytes that were left.
        available: u64,
    },
    /// A length-prefixed payload is followed by something other than a
    /// newline or the end.
    MissingNewlineAfterPayload {
        /// Which item (0-based).
        index: usize,
    },
    /// A known item type whose payload does not parse.
    InvalidPayload {
        /// Which item (0-based).
        index: usize,
        /// The item type.
        item_type: String,
        /// The parser's message, for logging only.
        detail: String,
    },
}

impl fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvelopeError::InvalidEnvelopeHeader { detail } => {
                write!(f, "invalid envelope header: {detail}")
            }
            EnvelopeError::InvalidItemHeader { index, detail } => {
                write!(f, "invalid header of item {index}: {detail}")
            }
            EnvelopeError::MissingItemType { index } => {
                write!(f, "item {index} has no type")
            }
            EnvelopeError::PayloadTooShort {
                index,
                declared,
                available,
            } => write!(
                f,
                "item {index} declares {declared} bytes but only {available} follow"
            ),
            EnvelopeError::MissingNewlineAfterPayload { index } => {
                write!(f, "item {index} payload is not followed by a newline")
            }
            EnvelopeError::InvalidPayload {
                index,
                item_type,
                detail,
            } => write!(f, "invalid {item_type} payload in item {index}: {detail}"),
        }
    }
}

impl std::error::Error for EnvelopeError {}
