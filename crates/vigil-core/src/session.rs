//! Release health: sessions (see [`SessionMode`] for the behaviour).

mod aggregate;
mod live;

pub use vigil_protocol::SessionStatus;

pub(crate) use self::aggregate::SessionAggregator;
pub(crate) use self::live::{Session, SessionKind};

/// How sessions are tracked: per process run or per request.
///
/// A session is one run of the program (application mode) or one request
/// to a server (request mode). Sentry computes crash-free sessions and
/// users per release from them, so they need
/// [`release`](crate::ClientOptions::release) to be set: without one no
/// session starts (each one counted as `insufficient_data` in client
/// reports).
///
/// - **Application mode**: `init` starts a session on the main hub when
///   [`auto_session_tracking`](crate::ClientOptions::auto_session_tracking)
///   is on (the default) and sends its `init` update at once. The first
///   error event (an event with an exception at level `error` or above)
///   sends an update in the same envelope; later errors are only counted.
///   An unhandled error (a panic captured by the panic integration or the
///   tower layer) ends it as `crashed`, in the envelope of the crash
///   event. Closing the client (dropping the `init` guard) ends it as
///   `exited` with its duration and error count. Messages never count,
///   whatever their level. Events sampled out by `sample_rate` still
///   count; events dropped by an event processor or `before_send` do not.
/// - **Request mode**: server integrations start a session per request
///   ([`Hub::start_request_session`](crate::Hub::start_request_session))
///   and end it when the response is ready (or the request is dropped).
///   Ended sessions are counted per start minute (`exited`, `errored`,
///   `crashed`, `abnormal`; grouped by the user's id when one is set) and
///   sent as `sessions` items every 60 s and when the client is flushed or
///   closed. Counting one is an atomic increment (a short lock when the
///   request has a user).
///
/// Which mode applies is this option: by default
/// ([`SessionMode::Auto`]) application mode until a server integration
/// handles its first request, request mode from then on.
///
/// Session updates are envelopes like events: rate limits for the
/// `session` category, a full queue, shutdown and failed sends drop them
/// and count them in client reports; with the disk queue on they are
/// stored and survive a restart.
///
/// The reference SDK's names: `Application` and `Request`. `Auto`, the
/// default, suits both programs and servers: a program gets application
/// mode, a server built with a server integration request mode.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SessionMode {
    /// One session per process run, started by `init`.
    Application,
    /// One session per request, counted per minute; no session for the
    /// process.
    Request,
    /// Application mode until a server integration (such as the tower
    /// layer) handles its first request: the process's session then ends
    /// as `exited`, and every request is a session from then on.
    #[default]
    Auto,
}
