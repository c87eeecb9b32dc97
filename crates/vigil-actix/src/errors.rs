//! Events for what goes wrong in a request: actix `Error`s rendered as 5xx
//! (with their `source()` chain where the error type is known), 5xx
//! responses without an error, and panics.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt;

use actix_web::ResponseError;
use actix_web::http::StatusCode;
use vigil_core::event_from_error;
use vigil_core::protocol::{Context, Event, Exception, Level, Map, Mechanism, Value};

/// The mechanism type of everything this middleware captures.
pub(crate) const MECHANISM: &str = "auto.http.actix";

/// Reads the `std::error::Error` chain of an actix `Error` whose cause is
/// of one type; `None` when it is not.
pub(crate) type ChainReader = fn(&actix_web::Error) -> Option<Event>;

/// A [`ChainReader`] for causes of type `T`.
pub(crate) fn chain_reader<T>(error: &actix_web::Error) -> Option<Event>
where
    T: ResponseError + StdError + 'static,
{
    error.as_error::<T>().map(event_from_error)
}

/// The error types (with a `source()` chain) that actix-web itself turns
/// into `Error`s, tried after the application's own
/// ([`VigilMiddleware::error_type`](crate::VigilMiddleware::error_type)).
fn builtin_event(error: &actix_web::Error) -> Option<Event> {
    if let Some(boxed) = error.as_error::<Box<dyn StdError + 'static>>() {
        return Some(event_from_error(&**boxed));
    }
    let readers: [ChainReader; 13] = [
        chain_reader::<std::io::Error>,
        chain_reader::<serde_json::Error>,
        chain_reader::<std::str::Utf8Error>,
        chain_reader::<actix_web::error::BlockingError>,
        chain_reader::<actix_web::error::PayloadError>,
        chain_reader::<actix_web::error::JsonPayloadError>,
        chain_reader::<actix_web::error::UrlencodedError>,
        chain_reader::<actix_web::error::PathError>,
        chain_reader::<actix_web::error::QueryPayloadError>,
        chain_reader::<actix_web::error::ReadlinesError>,
        chain_reader::<actix_web::error::ContentTypeError>,
        chain_reader::<actix_web::error::ParseError>,
        chain_reader::<actix_web::error::HttpError>,
    ];
    readers.iter().find_map(|read| read(error))
}

/// The error event of an actix `Error`: the chain of its cause when its
/// type is known (the application's `error_type`s first, then actix-web's
/// own error types, `std::io::Error` and `Box<dyn Error>`), else one
/// exception with the type read from its `Debug` output and its
/// `Display` text. The outermost exception gets the mechanism
/// `auto.http.actix` (handled: the application returned the error), and
/// the event a `response` context with the status code.
pub(crate) fn error_event(
    error: &actix_web::Error,
    readers: &[ChainReader],
    status: StatusCode,
) -> Event {
    let mut event = readers
        .iter()
        .find_map(|read| read(error))
        .or_else(|| builtin_event(error))
        .unwrap_or_else(|| opaque_event(error.as_response_error()));
    if let Some(outer) = event.exception.values.last_mut() {
        outer.mechanism = Some(Mechanism {
            ty: MECHANISM.to_owned(),
            handled: Some(true),
            ..Mechanism::default()
        });
    }
    event.level = Level::Error;
    add_response_context(&mut event, status);
    event
}

/// One exception for an error of unknown type: its type as its `Debug`
/// output starts (`MyError` of `MyError { .. }`), its value its `Display`.
fn opaque_event(error: &dyn ResponseError) -> Event {
    let debug = format!("{error:?}");
    let mut event = Event::new();
    event.exception.values.push(Exception {
        ty: vigil_core::parse_type_from_debug(&debug).to_owned(),
        value: Some(error.to_string()),
        ..Exception::default()
    });
    event
}

/// The event of a 5xx response that carries no error: the message
/// `"<code> <reason>"` (e.g. `500 Internal Server Error`) at level
/// `error`, as `vigil-tower` sends.
pub(crate) fn status_event(status: StatusCode) -> Event {
    let text = match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    let mut event = Event::from_message(text, Level::Error);
    add_response_context(&mut event, status);
    event
}

fn add_response_context(event: &mut Event, status: StatusCode) {
    let mut response = Map::new();
    response.insert("type".to_owned(), Value::from("response"));
    response.insert("status_code".to_owned(), Value::from(status.as_u16()));
    event
        .contexts
        .insert("response".to_owned(), Context::Other(response));
}

/// The fatal, unhandled event of a handler's panic.
pub(crate) fn panic_event(payload: &(dyn Any + Send)) -> Event {
    vigil_core::event_from_panic(payload, MECHANISM)
}

/// The readers of the error types the application registered, for the
/// config's `Debug`.
pub(crate) struct Readers<'a>(pub(crate) &'a [ChainReader]);

impl fmt::Debug for Readers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{} error type(s)]", self.0.len())
    }
}
