//! A recorded request, and its body decoded on demand: inflated when
//! gzipped, then parsed as an envelope.

use std::io::Read;
use std::sync::OnceLock;
use std::time::Instant;

use vigil_protocol::{Envelope, EnvelopeItem, EventId};

use crate::server::http::RawRequest;

/// One request the server read completely.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Request {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target, e.g. `/api/42/envelope/`.
    pub path: String,
    /// The headers, names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The body as it came over the wire.
    pub raw_body: Vec<u8>,
    /// The status answered: set as the response is written (and reset to 0
    /// if writing fails); 0 when the server wrote no HTTP response (hang,
    /// reset, garbage, close, or the server stopped first).
    pub status: u16,
    /// When the server finished reading the request.
    pub received_at: Instant,
    /// The inflated body and the envelope parsed from it, worked out on
    /// first use (off the server's response path).
    decoded: OnceLock<DecodedBody>,
}

/// A request body after inflating and parsing.
#[derive(Clone, Debug)]
struct DecodedBody {
    body: Vec<u8>,
    envelope: Option<Envelope>,
}

impl Request {
    /// A request just read off the wire, received now and not answered yet
    /// (status 0).
    pub(super) fn received(raw: RawRequest) -> Request {
        Request {
            method: raw.method,
            path: raw.path,
            headers: raw.headers,
            raw_body: raw.body,
            status: 0,
            received_at: Instant::now(),
            decoded: OnceLock::new(),
        }
    }

    /// The value of the first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    fn decoded(&self) -> &DecodedBody {
        self.decoded.get_or_init(|| {
            let gzipped = self
                .header("content-encoding")
                .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
            let body = if gzipped {
                let mut plain = Vec::new();
                match flate2::read::GzDecoder::new(&self.raw_body[..]).read_to_end(&mut plain) {
                    Ok(_) => plain,
                    Err(_) => self.raw_body.clone(),
                }
            } else {
                self.raw_body.clone()
            };
            let envelope = Envelope::from_slice(&body).ok();
            DecodedBody { body, envelope }
        })
    }

    /// The body, gunzipped when `Content-Encoding: gzip` (the raw body if
    /// it does not inflate).
    pub fn body(&self) -> &[u8] {
        &self.decoded().body
    }

    /// The body parsed as an envelope, if it is one.
    pub fn try_envelope(&self) -> Option<&Envelope> {
        self.decoded().envelope.as_ref()
    }

    /// The body parsed as an envelope.
    ///
    /// # Panics
    /// When the body is not a valid envelope.
    #[track_caller]
    pub fn envelope(&self) -> Envelope {
        match self.try_envelope() {
            Some(envelope) => envelope.clone(),
            None => panic!(
                "the body is not a valid envelope: {}",
                String::from_utf8_lossy(self.body())
            ),
        }
    }

    /// The ids of the event items in the body (none when it is not an
    /// envelope).
    pub fn event_ids(&self) -> Vec<EventId> {
        self.try_envelope()
            .into_iter()
            .flat_map(Envelope::items)
            .filter_map(|i| match i {
                EnvelopeItem::Event(e) => Some(e.event_id),
                _ => None,
            })
            .collect()
    }

    /// How many event items the body holds.
    pub fn events(&self) -> u64 {
        self.event_ids().len() as u64
    }

    /// Whether the server accepted the request (`2xx`).
    pub fn is_accepted(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Whether the server accounted for what it got: accepted (`2xx`) or
    /// rate limited (`429`, which a Sentry server counts itself, so the SDK
    /// does not).
    pub fn accounted_by_server(&self) -> bool {
        self.is_accepted() || self.status == 429
    }
}
