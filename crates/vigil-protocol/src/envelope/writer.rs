//! Writing an envelope in the wire format.

use std::io::{self, Write};

use serde_json::Map;

use super::Envelope;
use super::items::EnvelopeItem;
use crate::event::Event;
use crate::json_writer::{
    write_envelope_headers, write_event, write_log_container, write_metric_container,
    write_transaction,
};
use crate::limits::{MAX_EVENT_SIZE, shed_heavy_parts};
use crate::log::ItemContainer;

impl Envelope {
    /// Writes the envelope in the wire format. Every item header declares
    /// its `length`. An event whose JSON exceeds Sentry's 1 MiB limit is
    /// written with its optional parts shed (see
    /// [`limits::shed_heavy_parts`](crate::limits::shed_heavy_parts)); a
    /// transaction is written as it is (fit it first with
    /// [`limits::fit_transaction`](crate::limits::fit_transaction)).
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
                if let Ok(mut b) = cell.try_borrow_mut()
                    && b.capacity() < payload.capacity()
                {
                    *b = payload;
                }
            });
        }
        result
    }

    fn write_with<W: Write>(&self, mut w: W, payload: &mut Vec<u8>) -> io::Result<()> {
        payload.clear();
        write_envelope_headers(&self.headers, payload)?;
        w.write_all(payload)?;
        for item in &self.items {
            w.write_all(b"\n")?;
            payload.clear();
            match item {
                EnvelopeItem::Event(event) => {
                    write_event(event, payload)?;
                    if payload.len() > MAX_EVENT_SIZE {
                        shed_until_it_fits(event, payload, MAX_EVENT_SIZE)?;
                    }
                    write!(w, r#"{{"type":"event","length":{}}}"#, payload.len())?;
                }
                EnvelopeItem::Feedback(event) => {
                    write_feedback(event, payload)?;
                    if payload.len() > MAX_EVENT_SIZE {
                        shed_until_it_fits(event, payload, MAX_EVENT_SIZE - FEEDBACK_TYPE.len())?;
                        mark_as_feedback(payload);
                    }
                    write!(w, r#"{{"type":"feedback","length":{}}}"#, payload.len())?;
                }
                EnvelopeItem::Transaction(transaction) => {
                    write_transaction(transaction, payload)?;
                    write!(w, r#"{{"type":"transaction","length":{}}}"#, payload.len())?;
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
                EnvelopeItem::SessionAggregates(sessions) => {
                    serde_json::to_writer(&mut *payload, sessions)?;
                    write!(w, r#"{{"type":"sessions","length":{}}}"#, payload.len())?;
                }
                EnvelopeItem::CheckIn(check_in) => {
                    serde_json::to_writer(&mut *payload, check_in)?;
                    write!(w, r#"{{"type":"check_in","length":{}}}"#, payload.len())?;
                }
                EnvelopeItem::ItemContainer(container) => {
                    match container {
                        ItemContainer::Logs(logs) => write_log_container(logs, payload)?,
                        ItemContainer::Metrics(metrics) => {
                            write_metric_container(metrics, payload)?;
                        }
                    }
                    write!(
                        w,
                        r#"{{"type":"{}","item_count":{},"content_type":"{}","length":{}}}"#,
                        container.ty(),
                        container.len(),
                        container.content_type(),
                        payload.len()
                    )?;
                }
                EnvelopeItem::Attachment(a) => {
                    let mut headers = Map::new();
                    headers.insert("type".into(), "attachment".into());
                    headers.insert("length".into(), a.buffer.len().into());
                    headers.insert("filename".into(), a.filename.clone().into());
                    if let Some(ct) = &a.content_type {
                        headers.insert("content_type".into(), ct.clone().into());
                    }
                    if let Some(at) = &a.attachment_type {
                        headers.insert("attachment_type".into(), at.clone().into());
                    }
                    serde_json::to_writer(&mut w, &headers)?;
                    w.write_all(b"\n")?;
                    w.write_all(&a.buffer)?;
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
}

/// What a feedback event's JSON starts with after its `{`.
const FEEDBACK_TYPE: &[u8] = br#""type":"feedback","#;

/// Appends the JSON of a feedback event: the event's JSON with
/// `"type":"feedback"` as its first key.
fn write_feedback(event: &Event, payload: &mut Vec<u8>) -> io::Result<()> {
    write_event(event, payload)?;
    mark_as_feedback(payload);
    Ok(())
}

/// Inserts `"type":"feedback",` after the opening brace of the event JSON
/// in `payload` (an event always has at least its `event_id`).
fn mark_as_feedback(payload: &mut Vec<u8>) {
    if payload.first() == Some(&b'{') {
        payload.splice(1..1, FEEDBACK_TYPE.iter().copied());
    }
}

/// Serializes a copy of `event` with optional parts shed
/// ([`limits::shed_heavy_parts`](crate::limits::shed_heavy_parts)) until it
/// fits `limit` bytes (Sentry's 1 MiB event limit, less what is added to
/// the JSON afterwards). The size is checked here, where the
/// bytes are produced, so an event is serialized once in the common case.
fn shed_until_it_fits(event: &Event, payload: &mut Vec<u8>, limit: usize) -> io::Result<()> {
    let mut event = event.clone();
    while payload.len() > limit {
        if !shed_heavy_parts(&mut event) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "event exceeds 1 MiB even without its optional parts",
            ));
        }
        payload.clear();
        write_event(&event, payload)?;
    }
    Ok(())
}
