//! Errors as events: the `source()` chain becomes exception values.

use std::error::Error;

use vigil_protocol::{Event, Exception, Level, Mechanism};

/// The type name of an error seen through `dyn Error`: the leading path of
/// its `Debug` output (`Custom { .. }` → `Custom`, `ParseIntError { .. }`
/// → `ParseIntError`, `my::Error(..)` → `my::Error`), or `Error` if it
/// has none.
///
/// ```
/// let err = "x".parse::<u8>().unwrap_err();
/// assert_eq!(vigil_core::parse_type_from_debug(&format!("{err:?}")), "ParseIntError");
/// assert_eq!(vigil_core::parse_type_from_debug("\"a string\""), "Error");
/// ```
pub fn parse_type_from_debug(debug: &str) -> &str {
    let end = debug
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(debug.len());
    let name = debug[..end].trim_end_matches(':');
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        "Error"
    } else {
        name
    }
}

fn type_from_debug(debug: &str) -> String {
    parse_type_from_debug(debug).to_owned()
}

/// The type of an error in a `source()` chain: well-known std errors by
/// downcasting (their `Debug` output names a private variant, such as
/// `Custom` for `io::Error`), others from their `Debug` output.
fn type_of_source(e: &(dyn Error + 'static)) -> String {
    macro_rules! known {
        ($($ty:ty => $name:literal),* $(,)?) => {
            $(if e.is::<$ty>() {
                return $name.to_owned();
            })*
        };
    }
    known!(
        std::io::Error => "std::io::Error",
        std::fmt::Error => "std::fmt::Error",
        std::num::ParseIntError => "ParseIntError",
        std::num::ParseFloatError => "ParseFloatError",
        std::str::Utf8Error => "Utf8Error",
        std::string::FromUtf8Error => "FromUtf8Error",
        std::net::AddrParseError => "AddrParseError",
    );
    type_from_debug(&format!("{e:?}"))
}

fn short_type_name(full: &str) -> String {
    // `my_crate::errors::ConfigError<T>` → `ConfigError<T>`: the module goes
    // into `Exception::module`.
    let base = full.split('<').next().unwrap_or(full);
    match base.rfind("::") {
        Some(i) => full[i + 2..].to_owned(),
        None => full.to_owned(),
    }
}

fn module_of(full: &str) -> Option<String> {
    let base = full.split('<').next().unwrap_or(full);
    base.rfind("::").map(|i| base[..i].to_owned())
}

/// Builds an error event from an error and its whole `source()` chain.
///
/// Exceptions are ordered as Sentry expects: the root cause first, the
/// error passed in last. The last one carries the mechanism
/// `{"type": "generic", "handled": true}`. The type of the outermost error
/// is its Rust type name when known statically; for `dyn Error` values and
/// for sources it is taken from their `Debug` output.
///
/// ```
/// use std::error::Error;
/// use std::fmt;
/// #[derive(Debug)] struct Outer(std::io::Error);
/// impl fmt::Display for Outer {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("loading config failed") }
/// }
/// impl Error for Outer { fn source(&self) -> Option<&(dyn Error + 'static)> { Some(&self.0) } }
///
/// let err = Outer(std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"));
/// let event = vigil_core::event_from_error(&err);
/// let values = &event.exception.values;
/// assert_eq!(values.len(), 2);
/// assert_eq!(values[0].value.as_deref(), Some("no such file"));
/// assert_eq!(values[1].ty, "Outer");
/// assert_eq!(values[1].value.as_deref(), Some("loading config failed"));
/// ```
pub fn event_from_error<E: Error + ?Sized>(err: &E) -> Event {
    let full = std::any::type_name::<E>();
    let (ty, module) = if full.starts_with("dyn ") || full.starts_with('&') {
        (None, None)
    } else {
        (Some(short_type_name(full)), module_of(full))
    };
    let mut values = vec![Exception {
        ty: ty.unwrap_or_else(|| type_from_debug(&format!("{err:?}"))),
        value: Some(err.to_string()),
        module,
        mechanism: Some(Mechanism {
            ty: "generic".into(),
            handled: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    }];
    let mut source = err.source();
    // Guard against cyclic chains.
    while let Some(e) = source {
        if values.len() >= 64 {
            break;
        }
        values.push(Exception {
            ty: type_of_source(e),
            value: Some(e.to_string()),
            ..Default::default()
        });
        source = e.source();
    }
    values.reverse();
    Event {
        level: Level::Error,
        exception: values.into(),
        ..Event::default()
    }
}

/// The fatal, unhandled event of a panic a server integration caught: one
/// exception of type `panic` whose value is the payload's text (a `&str`
/// or `String` payload; `Box<dyn Any>` for any other), with `mechanism`
/// as its mechanism type.
///
/// ```
/// use vigil_core::event_from_panic;
/// use vigil_core::protocol::Level;
/// let payload = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
/// let event = event_from_panic(&*payload, "auto.http.example");
/// assert_eq!(event.level, Level::Fatal);
/// assert_eq!(event.exception.values[0].value.as_deref(), Some("boom"));
/// ```
pub fn event_from_panic(payload: &(dyn std::any::Any + Send), mechanism: &str) -> Event {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned());
    let mut event = Event::new();
    event.level = Level::Fatal;
    event.exception.values.push(Exception {
        ty: "panic".to_owned(),
        value: Some(message),
        mechanism: Some(Mechanism {
            ty: mechanism.to_owned(),
            handled: Some(false),
            ..Mechanism::default()
        }),
        ..Exception::default()
    });
    event
}
