//! The `logger_*!` macros: structured logs written like `format!`, with
//! attributes in front.
//!
//! ```
//! use vigil_core::protocol::{EnvelopeItem, ItemContainer, LogAttribute, LogLevel};
//!
//! let envelopes = vigil_core::test::with_captured_envelopes(|| {
//!     let user = "bob";
//!     vigil_core::logger_warn!(
//!         order.id = 1234,
//!         retry = true,
//!         "payment of {} failed for {}",
//!         "12.50 EUR",
//!         user
//!     );
//! });
//! let Some(EnvelopeItem::ItemContainer(ItemContainer::Logs(logs))) = envelopes[0].items().next() else {
//!     panic!("a log item");
//! };
//! let log = &logs[0];
//! assert_eq!(log.level, LogLevel::Warn);
//! assert_eq!(log.body, "payment of 12.50 EUR failed for bob");
//! assert_eq!(log.attributes["order.id"], LogAttribute::from(1234));
//! assert_eq!(log.attributes["sentry.message.template"], LogAttribute::from("payment of {} failed for {}"));
//! assert_eq!(log.attributes["sentry.message.parameter.1"], LogAttribute::from("bob"));
//! ```

use std::time::SystemTime;

use vigil_protocol::{Log, LogAttribute, LogLevel, Map};

/// The keys of the first format arguments, written out once.
const PARAMETER_KEYS: [&str; 8] = [
    "sentry.message.parameter.0",
    "sentry.message.parameter.1",
    "sentry.message.parameter.2",
    "sentry.message.parameter.3",
    "sentry.message.parameter.4",
    "sentry.message.parameter.5",
    "sentry.message.parameter.6",
    "sentry.message.parameter.7",
];

/// Builds the log the `logger_*!` macros capture (the macros pass arrays:
/// nothing is allocated for them). Not API.
#[doc(hidden)]
pub fn __log_record<const P: usize, const A: usize>(
    level: LogLevel,
    body: String,
    template: Option<&'static str>,
    parameters: [LogAttribute; P],
    attributes: [(&'static str, LogAttribute); A],
) -> Log {
    let mut map = Map::new();
    for (key, value) in attributes {
        map.insert(key.to_owned(), value);
    }
    // A template only with parameters, as Sentry's specification asks.
    if let Some(template) = template.filter(|_| P > 0) {
        map.insert(
            "sentry.message.template".to_owned(),
            LogAttribute::from(template),
        );
        for (i, parameter) in parameters.into_iter().enumerate() {
            let key = match PARAMETER_KEYS.get(i) {
                Some(key) => (*key).to_owned(),
                None => format!("sentry.message.parameter.{i}"),
            };
            map.insert(key, parameter);
        }
    }
    Log {
        level,
        body,
        trace_id: None,
        timestamp: SystemTime::now(),
        severity_number: None,
        attributes: map,
    }
}

/// Captures a structured log at `level` on the current hub:
/// `logger_log!(LogLevel::Info, key.path = value, .., "format {}", args..)`.
/// Attributes (`name` or `dotted.name = expression`, each value
/// `Into<LogAttribute>`) come first, then the message as for `format!`.
/// With format arguments the log also carries the template
/// (`sentry.message.template`) and each argument
/// (`sentry.message.parameter.<n>`, so each must be `Into<LogAttribute>`
/// too). Nothing is evaluated when no client is bound.
#[macro_export]
macro_rules! logger_log {
    ($level:expr, $($input:tt)+) => {
        if let ::std::option::Option::Some(hub) = $crate::Hub::current_active() {
            $crate::__logger_munch!(hub, $level, [] ; $($input)+);
        }
    };
}

/// Splits attributes from the message. Not API.
#[doc(hidden)]
#[macro_export]
macro_rules! __logger_munch {
    ($hub:ident, $level:expr, [$($attr:tt)*] ; $($key:ident).+ = $value:expr, $($rest:tt)+) => {
        $crate::__logger_munch!(
            $hub, $level, [$($attr)* (::std::stringify!($($key).+), $value)] ; $($rest)+
        )
    };
    ($hub:ident, $level:expr, [$(($key:expr, $value:expr))*] ; $template:literal $(,)?) => {
        $hub.capture_log($crate::__log_record(
            $level,
            ::std::format!($template),
            ::std::option::Option::None,
            [],
            [$(($key, $crate::protocol::LogAttribute::from($value))),*],
        ))
    };
    ($hub:ident, $level:expr, [$($attr:tt)*] ; $template:literal, $($arg:expr),+ $(,)?) => {
        $crate::__logger_bind!($hub, $level, [$($attr)*], $template, [] ; $($arg),+)
    };
}

/// Evaluates each format argument once. Not API.
#[doc(hidden)]
#[macro_export]
macro_rules! __logger_bind {
    ($hub:ident, $level:expr, $attrs:tt, $template:literal, [$($bound:ident)*] ; $first:expr $(, $rest:expr)*) => {{
        let argument = $first;
        $crate::__logger_bind!($hub, $level, $attrs, $template, [$($bound)* argument] ; $($rest),*)
    }};
    ($hub:ident, $level:expr, [$(($key:expr, $value:expr))*], $template:literal, [$($bound:ident)*] ; ) => {{
        let body = ::std::format!($template, $($bound),*);
        $hub.capture_log($crate::__log_record(
            $level,
            body,
            ::std::option::Option::Some($template),
            [$($crate::protocol::LogAttribute::from($bound)),*],
            [$(($key, $crate::protocol::LogAttribute::from($value))),*],
        ))
    }};
}

/// A structured log at level `trace` (see [`logger_log!`]).
#[macro_export]
macro_rules! logger_trace {
    ($($input:tt)+) => { $crate::logger_log!($crate::protocol::LogLevel::Trace, $($input)+) };
}

/// A structured log at level `debug` (see [`logger_log!`]).
#[macro_export]
macro_rules! logger_debug {
    ($($input:tt)+) => { $crate::logger_log!($crate::protocol::LogLevel::Debug, $($input)+) };
}

/// A structured log at level `info` (see [`logger_log!`]).
#[macro_export]
macro_rules! logger_info {
    ($($input:tt)+) => { $crate::logger_log!($crate::protocol::LogLevel::Info, $($input)+) };
}

/// A structured log at level `warn` (see [`logger_log!`]).
#[macro_export]
macro_rules! logger_warn {
    ($($input:tt)+) => { $crate::logger_log!($crate::protocol::LogLevel::Warn, $($input)+) };
}

/// A structured log at level `error` (see [`logger_log!`]).
#[macro_export]
macro_rules! logger_error {
    ($($input:tt)+) => { $crate::logger_log!($crate::protocol::LogLevel::Error, $($input)+) };
}

/// A structured log at level `fatal` (see [`logger_log!`]).
#[macro_export]
macro_rules! logger_fatal {
    ($($input:tt)+) => { $crate::logger_log!($crate::protocol::LogLevel::Fatal, $($input)+) };
}
