//! Request bodies: the size option, the tap that keeps a bounded copy of
//! the payload while the application reads it, and the conversion of that
//! copy into the event's `request.data`.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::{self, HeaderMap};
use bytes::Bytes;
use futures_core::Stream;
use vigil_core::privacy::{FILTERED, is_sensitive_parameter};
use vigil_core::protocol::Value;

/// How much of a request body the middleware may keep, to attach it to the
/// events captured during the request (the reference SDK's option of the
/// same name; here an option of the middleware, see
/// [`VigilMiddleware::max_request_body_size`](crate::VigilMiddleware::max_request_body_size)).
///
/// The body is read by the application as usual; the middleware keeps a
/// copy of at most this many bytes as it streams through. A body that
/// turns out larger is not attached, and its copy is dropped as soon as
/// the limit is passed. A `Content-Length` above the limit skips the copy
/// altogether.
///
/// ```
/// use vigil_actix::MaxRequestBodySize;
/// assert_eq!(MaxRequestBodySize::default(), MaxRequestBodySize::None);
/// assert_eq!(MaxRequestBodySize::Small.limit(), Some(1_000));
/// assert_eq!(MaxRequestBodySize::Medium.limit(), Some(10_000));
/// assert_eq!(MaxRequestBodySize::Always.limit(), Some(usize::MAX));
/// assert_eq!(MaxRequestBodySize::Explicit(64).limit(), Some(64));
/// assert_eq!(MaxRequestBodySize::None.limit(), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MaxRequestBodySize {
    /// Never attach a body (the default).
    #[default]
    None,
    /// Attach bodies of up to 1,000 bytes.
    Small,
    /// Attach bodies of up to 10,000 bytes.
    Medium,
    /// Attach bodies of any size: the whole body is kept in memory while
    /// the request runs (the client then fits `request.data` to the 8 KiB
    /// Relay keeps of it).
    Always,
    /// Attach bodies of up to this many bytes.
    Explicit(usize),
}

impl MaxRequestBodySize {
    /// The largest body attached, in bytes: `None` for
    /// [`MaxRequestBodySize::None`], `usize::MAX` for
    /// [`MaxRequestBodySize::Always`].
    pub fn limit(self) -> Option<usize> {
        match self {
            MaxRequestBodySize::None => None,
            MaxRequestBodySize::Small => Some(1_000),
            MaxRequestBodySize::Medium => Some(10_000),
            MaxRequestBodySize::Always => Some(usize::MAX),
            MaxRequestBodySize::Explicit(limit) => Some(limit),
        }
    }

    /// Whether a body of `content_length` bytes is attached.
    pub fn is_within_size_limit(self, content_length: usize) -> bool {
        self.limit().is_some_and(|limit| content_length <= limit)
    }
}

/// What kind of body a request declares (its `Content-Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyKind {
    /// `application/json` or `*/*+json`: attached as parsed JSON.
    Json,
    /// `application/x-www-form-urlencoded`: attached as an object of its
    /// fields, sensitive ones filtered.
    Form,
    /// Anything else: attached as text when it is UTF-8, and only with
    /// `send_default_pii`.
    Other,
}

impl BodyKind {
    fn of(headers: &HeaderMap) -> BodyKind {
        let Some(content_type) = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
        else {
            return BodyKind::Other;
        };
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if essence == "application/json" || essence.ends_with("+json") {
            BodyKind::Json
        } else if essence == "application/x-www-form-urlencoded" {
            BodyKind::Form
        } else {
            BodyKind::Other
        }
    }
}

/// Decides whether a request's body is worth a tap: the option allows
/// bodies, the body's kind may be sent (JSON and forms always, anything
/// else only with `send_default_pii`), and its declared length (if any)
/// is within the limit. Returns the limit and the kind.
pub(crate) fn tap_plan(
    size: MaxRequestBodySize,
    headers: &HeaderMap,
    send_default_pii: bool,
) -> Option<(usize, BodyKind)> {
    let limit = size.limit()?;
    let kind = BodyKind::of(headers);
    if kind == BodyKind::Other && !send_default_pii {
        return None;
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(0) => None,
        Some(length) if usize::try_from(length).map_or(true, |l| l > limit) => None,
        _ => Some((limit, kind)),
    }
}

/// The copy of a body kept while it streams to the application.
#[derive(Debug)]
pub(crate) struct BodyCopy {
    limit: usize,
    kind: BodyKind,
    /// At most `limit` bytes; emptied (and freed) once the body is larger.
    kept: Vec<u8>,
    /// The body is larger than `limit`: nothing is attached.
    too_large: bool,
    /// The application read the body to its end.
    complete: bool,
    /// Reading the body failed: nothing is attached.
    failed: bool,
}

/// The copy, shared by the tap (which fills it) and the request's event
/// processor (which reads it when an event is captured).
pub(crate) type SharedBodyCopy = Arc<Mutex<BodyCopy>>;

impl BodyCopy {
    fn new(limit: usize, kind: BodyKind) -> BodyCopy {
        BodyCopy {
            limit,
            kind,
            kept: Vec::new(),
            too_large: false,
            complete: false,
            failed: false,
        }
    }

    fn push(&mut self, chunk: &[u8]) {
        if self.too_large || self.failed {
            return;
        }
        match self.kept.len().checked_add(chunk.len()) {
            Some(total) if total <= self.limit => {
                // Exactly what is needed: the copy never holds (or
                // reserves) more than the limit.
                self.kept.reserve_exact(chunk.len());
                self.kept.extend_from_slice(chunk);
            }
            _ => {
                self.too_large = true;
                self.kept = Vec::new();
            }
        }
    }

    /// The body as the event's `request.data`: only a body read to its
    /// end and within the limit; JSON parsed, forms as objects (with the
    /// values of sensitive fields filtered), other UTF-8 text as a
    /// string. `None` for an empty body, one not read to its end, one
    /// larger than the limit, or one that is neither of those.
    pub(crate) fn data(&self) -> Option<Value> {
        if !self.complete || self.too_large || self.failed || self.kept.is_empty() {
            return None;
        }
        match self.kind {
            BodyKind::Json => serde_json::from_slice(&self.kept).ok(),
            BodyKind::Form => form_data(&self.kept),
            BodyKind::Other => std::str::from_utf8(&self.kept)
                .ok()
                .map(|text| Value::from(text.to_owned())),
        }
    }
}

/// The fields of a form body as an object (a field sent more than once
/// as an array of its values), the values of sensitive fields
/// ([`is_sensitive_parameter`]) replaced by `[Filtered]`.
fn form_data(body: &[u8]) -> Option<Value> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let mut fields = serde_json::Map::new();
    for (name, value) in pairs {
        let value = if is_sensitive_parameter(&name) {
            Value::from(FILTERED)
        } else {
            Value::from(value)
        };
        match fields.get_mut(&name) {
            Some(Value::Array(values)) => values.push(value),
            Some(first) => {
                let first = first.take();
                fields.insert(name, Value::Array(vec![first, value]));
            }
            None => {
                fields.insert(name, value);
            }
        }
    }
    Some(Value::Object(fields))
}

/// Wraps `payload` in a tap that keeps a copy of at most `limit` bytes;
/// returns the new payload (the same bytes, chunk for chunk, errors
/// included) and the copy.
pub(crate) fn tap(payload: Payload, limit: usize, kind: BodyKind) -> (Payload, SharedBodyCopy) {
    let copy = Arc::new(Mutex::new(BodyCopy::new(limit, kind)));
    let tap = Tap {
        inner: payload,
        copy: Arc::clone(&copy),
    };
    (
        Payload::Stream {
            payload: Box::pin(tap),
        },
        copy,
    )
}

/// The stream the application reads instead of the original payload.
struct Tap {
    inner: Payload,
    copy: SharedBodyCopy,
}

impl Stream for Tap {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(item) = &polled {
            let mut copy = self.copy.lock().unwrap_or_else(PoisonError::into_inner);
            match item {
                Some(Ok(chunk)) => copy.push(chunk),
                Some(Err(_)) => {
                    copy.failed = true;
                    copy.kept = Vec::new();
                }
                None => copy.complete = true,
            }
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy_of(limit: usize, kind: BodyKind, chunks: &[&[u8]]) -> BodyCopy {
        let mut copy = BodyCopy::new(limit, kind);
        for chunk in chunks {
            copy.push(chunk);
        }
        copy.complete = true;
        copy
    }

    #[test]
    fn keeps_at_most_the_limit() {
        let copy = copy_of(10, BodyKind::Other, &[b"hello", b" world"]);
        assert!(copy.too_large);
        assert_eq!(copy.kept.capacity(), 0, "freed once too large");
        assert_eq!(copy.data(), None);

        let copy = copy_of(11, BodyKind::Other, &[b"hello", b" world"]);
        assert!(copy.kept.capacity() <= 11);
        assert_eq!(copy.data(), Some(Value::from("hello world")));
    }

    #[test]
    fn json_forms_and_text() {
        let copy = copy_of(100, BodyKind::Json, &[br#"{"a":1,"#, br#""b":[true]}"#]);
        assert_eq!(copy.data(), Some(serde_json::json!({"a": 1, "b": [true]})));
        let copy = copy_of(100, BodyKind::Json, &[b"{not json"]);
        assert_eq!(copy.data(), None);
        let copy = copy_of(
            100,
            BodyKind::Form,
            &[b"name=Ada+L&password=hunter2&tag=a&tag=b&csrf_token=x"],
        );
        assert_eq!(
            copy.data(),
            Some(serde_json::json!({
                "name": "Ada L",
                "password": "[Filtered]",
                "tag": ["a", "b"],
                "csrf_token": "[Filtered]",
            }))
        );
        let copy = copy_of(100, BodyKind::Other, &[b"\xff\xfe"]);
        assert_eq!(copy.data(), None, "not UTF-8");
    }

    #[test]
    fn incomplete_bodies_are_not_attached() {
        let mut copy = BodyCopy::new(100, BodyKind::Other);
        copy.push(b"half");
        assert_eq!(copy.data(), None);
    }

    #[test]
    fn plan_follows_length_kind_and_pii() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(
                    header::HeaderName::from_static(name),
                    header::HeaderValue::from_static(value),
                );
            }
            map
        };
        let json = headers(&[("content-type", "application/json; charset=utf-8")]);
        assert_eq!(
            tap_plan(MaxRequestBodySize::Small, &json, false),
            Some((1_000, BodyKind::Json))
        );
        assert_eq!(tap_plan(MaxRequestBodySize::None, &json, true), None);
        let big = headers(&[
            ("content-type", "application/json"),
            ("content-length", "1001"),
        ]);
        assert_eq!(tap_plan(MaxRequestBodySize::Small, &big, true), None);
        assert!(tap_plan(MaxRequestBodySize::Medium, &big, true).is_some());
        let text = headers(&[("content-type", "text/plain")]);
        assert_eq!(tap_plan(MaxRequestBodySize::Always, &text, false), None);
        assert_eq!(
            tap_plan(MaxRequestBodySize::Always, &text, true),
            Some((usize::MAX, BodyKind::Other))
        );
        let empty = headers(&[
            ("content-type", "application/json"),
            ("content-length", "0"),
        ]);
        assert_eq!(tap_plan(MaxRequestBodySize::Small, &empty, true), None);
    }
}
