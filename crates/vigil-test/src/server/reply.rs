//! The script's vocabulary: what the server answers to one request.

use std::time::Duration;

/// What the server does with the connection after reading a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behavior {
    /// Answer with the reply's status, headers and body, and keep the
    /// connection open for the next request.
    Respond,
    /// Never answer: hold the connection until the client closes it, the
    /// server stops, or 60 s pass (a safety net).
    Hang,
    /// Reset the connection (TCP `RST`, by closing with a zero linger
    /// time) without answering.
    Reset,
    /// Write these bytes, which are not HTTP, then close the connection.
    Garbage(Vec<u8>),
    /// Close the connection (TCP `FIN`) without answering.
    Close,
}

/// What the server answers to one request.
///
/// Build one with [`Reply::status`], [`Reply::ok`], [`Reply::hang`],
/// [`Reply::reset`], [`Reply::garbage`] or [`Reply::close`], then adjust it
/// with [`header`](Reply::header), [`body`](Reply::body) and
/// [`delay`](Reply::delay).
///
/// ```
/// use std::time::Duration;
/// use vigil_test::Reply;
/// let slow_limit = Reply::status(429)
///     .header("X-Sentry-Rate-Limits", "60:error:key")
///     .delay(Duration::from_millis(5));
/// assert_eq!(slow_limit.status, 429);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reply {
    /// The status code (only used by [`Behavior::Respond`]).
    pub status: u16,
    /// Extra response headers, in order. `Content-Length` and
    /// `Content-Type: application/json` are always sent.
    pub headers: Vec<(String, String)>,
    /// The response body.
    pub body: String,
    /// How long to wait after reading the request, before doing anything.
    pub delay: Duration,
    /// What to do with the connection.
    pub behavior: Behavior,
}

impl Reply {
    /// Answers with `status`. A `2xx` gets the body Sentry sends
    /// (`{"id":"…"}`), any other status an empty one.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: if (200..300).contains(&status) {
                r#"{"id":"00000000000000000000000000000000"}"#.into()
            } else {
                String::new()
            },
            delay: Duration::ZERO,
            behavior: Behavior::Respond,
        }
    }

    /// Answers `200 OK`.
    pub fn ok() -> Reply {
        Reply::status(200)
    }

    /// Never answers (see [`Behavior::Hang`]); the client must time out.
    pub fn hang() -> Reply {
        Reply::without_answer(Behavior::Hang)
    }

    /// Resets the connection without answering (see [`Behavior::Reset`]).
    pub fn reset() -> Reply {
        Reply::without_answer(Behavior::Reset)
    }

    /// Writes `bytes` instead of an HTTP response, then closes the
    /// connection.
    pub fn garbage(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply::without_answer(Behavior::Garbage(bytes.into()))
    }

    /// Closes the connection without answering.
    pub fn close() -> Reply {
        Reply::without_answer(Behavior::Close)
    }

    fn without_answer(behavior: Behavior) -> Reply {
        Reply {
            behavior,
            ..Reply::status(0)
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the response body.
    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.into();
        self
    }

    /// Waits this long after reading the request before answering (or
    /// hanging, resetting, …).
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}
