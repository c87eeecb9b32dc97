//! Vigil for [`slog`]: error records become events, warnings and info
//! records become breadcrumbs, with their key-values, and records can
//! become Sentry's structured logs.
//!
//! [`VigilDrain`] is a [`slog::Drain`] that wraps the drain you already use:
//! every record is passed on to it, whatever Vigil does with the record, and
//! its result is returned. Wrap [`slog::Discard`] to feed only Vigil.
//!
//! # Usage
//!
//! ```rust
//! use vigil_core::protocol::Level;
//! use vigil_slog::VigilDrain;
//!
//! // let _guard = vigil::init("https://key@sentry.example.com/1");
//! let drain = VigilDrain::new(slog::Discard);
//! let root = slog::Logger::root(drain, slog::o!("service" => "billing"));
//!
//! # let events = vigil_core::test::with_captured_events(|| {
//! slog::info!(root, "loading config"; "path" => "app.toml");
//! slog::error!(root, "cannot read {}", "app.toml"; "attempt" => 3);
//! # });
//! // The error is captured as an event, with the info record as breadcrumb.
//! assert_eq!(events.len(), 1);
//! let event = &events[0];
//! assert_eq!(event.message.as_deref(), Some("cannot read app.toml"));
//! assert_eq!(event.level, Level::Error);
//! assert_eq!(event.extra["attempt"], 3);
//! assert_eq!(event.extra["service"], "billing");
//! let crumb = &event.breadcrumbs[0];
//! assert_eq!(crumb.message.as_deref(), Some("loading config"));
//! assert_eq!(crumb.data["path"], "app.toml");
//! ```
//!
//! With a terminal or JSON drain, wrap that drain. With
//! `slog_async::Async`, wrap the `Async` drain (fused), not the drain inside
//! it, so that records are captured on the thread that logs them: see
//! [Which hub](#which-hub).
//!
//! # What records become
//!
//! A filter, `Fn(slog::Level) -> LevelFilter`, decides per record. The
//! [default](default_filter):
//!
//! | level | becomes |
//! |---|---|
//! | `critical`, `error` | an event ([`LevelFilter::Event`]) |
//! | `warning`, `info` | a breadcrumb ([`LevelFilter::Breadcrumb`]) |
//! | `debug`, `trace` | nothing ([`LevelFilter::Ignore`]) |
//!
//! When the current client has
//! [`enable_logs`](vigil_core::ClientOptions::enable_logs) on, the default
//! filter also makes a [structured log](#structured-logs)
//! ([`LevelFilter::Log`]) of every `critical`, `error`, `warning` and
//! `info` record, on top of the event or breadcrumb above. With it off (the
//! default), no logs.
//!
//! Replace it with [`VigilDrain::filter`]. A [`LevelFilter`] is a set of
//! actions: `LevelFilter::Event | LevelFilter::Breadcrumb` (also spelt
//! [`LevelFilter::EventAndBreadcrumb`]) captures an event and then leaves
//! a breadcrumb pointing at it. The filter also answers
//! [`Drain::is_enabled`](slog::Drain::is_enabled), together with the
//! wrapped drain.
//!
//! An **event** ([`event_from_record`]) has:
//! - `level`: `critical` → `fatal`, `error` → `error`, `warning` →
//!   `warning`, `info` → `info`, `debug` and `trace` → `debug`
//!   ([`convert_log_level`]);
//! - `message`: the formatted message;
//! - `logger`: the record's module;
//! - `contexts.log`: `module_path`, `file`, `line`, and the record's `tag`
//!   when it has one;
//! - `extra`: the key-values.
//!
//! A **breadcrumb** ([`breadcrumb_from_record`]) has type `default`,
//! `category` = the module, the mapped `level`, the formatted `message`,
//! and the key-values as `data`.
//!
//! The **key-values** are the record's (`slog::info!(log, "..."; "user" =>
//! 7)`) and those of the logger it went through (`slog::o!(..)` of the root
//! and of every child logger). Numbers, booleans and strings keep their
//! JSON type, `None` and `()` become `null`, nested values
//! (`slog::Serde(..)`) become JSON, other values (`%x`, `?x`, errors) their
//! text. When a key repeats, the value nearest to the logging statement
//! wins: the record's over the logger's, a child logger's over its
//! parent's.
//!
//! To build something else, set a [mapper](VigilDrain::mapper): it turns
//! each record the filter does not ignore into a [`RecordMapping`].
//! Everything then goes through the normal pipeline of the current hub:
//! scope data, event processors, `before_send` / `before_breadcrumb` /
//! `before_send_log`.
//!
//! # Structured logs
//!
//! With [`LevelFilter::Log`] in the filter's answer, the record is
//! captured as a structured log ([`log_from_record`]) with
//! `Hub::capture_log`, whatever the client's `enable_logs` says (that
//! option only changes what the default filter asks for). A log has:
//! - `level`: `critical` → `fatal`, `error` → `error`, `warning` → `warn`,
//!   `info` → `info`, `debug` → `debug`, `trace` → `trace`
//!   ([`convert_log_level_to_sentry_log_level`]);
//! - `body`: the formatted message;
//! - an attribute per key-value, the record's and its logger's, chosen as
//!   for events when a key repeats: integers as `integer`, floats as
//!   `double`, booleans as `boolean`, strings as `string`; values written
//!   with `%x` or `?x`, errors, non-finite floats and integers outside the
//!   `i64` range as their text; `None` and `()` as `null` and nested values
//!   (`slog::Serde(..)`) as their JSON, which a
//!   [`LogAttribute`](vigil_core::protocol::LogAttribute) sends typed as
//!   it does any JSON value;
//! - `logger.target` and `code.module.name`: the record's module;
//! - `code.file.path` and `code.line.number`: the record's file and line;
//! - `sentry.origin`: `auto.log.slog`.
//!
//! These last attributes win over key-values of the same name. The client
//! then adds the trace and span of the scope and its default attributes
//! (`sentry.sdk.name`, `sentry.environment`, `sentry.release`, ...), and
//! sends logs in batches.
//!
//! ```rust
//! use vigil_core::protocol::{EnvelopeItem, ItemContainer, LogAttribute, LogLevel};
//! use vigil_slog::{LevelFilter, VigilDrain, default_filter};
//!
//! // Everything the default filter does, plus a log of every record.
//! let drain = VigilDrain::new(slog::Discard).filter(|level| default_filter(level) | LevelFilter::Log);
//! let root = slog::Logger::root(drain, slog::o!("service" => "billing"));
//!
//! # let envelopes = vigil_core::test::with_captured_envelopes(|| {
//! slog::debug!(root, "profile loaded"; "user_id" => 42, "cached" => true);
//! # });
//! # let Some(EnvelopeItem::ItemContainer(ItemContainer::Logs(logs))) = envelopes[0].items().next() else {
//! #     panic!("a log item");
//! # };
//! assert_eq!(logs[0].level, LogLevel::Debug);
//! assert_eq!(logs[0].body, "profile loaded");
//! assert_eq!(logs[0].attributes["user_id"], LogAttribute::from(42));
//! assert_eq!(logs[0].attributes["cached"], LogAttribute::from(true));
//! assert_eq!(logs[0].attributes["service"], LogAttribute::from("billing"));
//! ```
//!
//! # Which hub
//! Records are captured into the current hub of the thread that calls the
//! drain ([`Hub::current`](vigil_core::Hub::current)). Behind a drain that
//! moves records to another thread (`slog_async::Async`), that would be the
//! hub of that thread, not of the code that logged: put `VigilDrain` in
//! front of such a drain, not behind it.
//!
//! # The SDK's own output
//! The SDK never logs through `slog`, and the drain makes sure it cannot
//! capture itself:
//! - a record logged by code that runs while this thread is capturing (a
//!   `before_send` callback, an event processor, a custom transport) is
//!   passed on but not captured;
//! - records logged on the SDK's own threads (named `vigil-*`) and records
//!   from a module of a `vigil` or `vigil_*` crate are never captured.
//!
//! # Migrating from the reference SDK
//! Code written for `sentry-slog` compiles after renaming the crate:
//! [`SentryDrain`] is [`VigilDrain`], and [`LevelFilter`],
//! [`RecordMapping`], [`default_filter`] and the converters keep their
//! names. What differs:
//! - the default filter ignores `debug` and `trace` records, makes events
//!   of `error` and `critical` records and breadcrumbs of `warning`
//!   records (like the `log` integration);
//! - `critical` maps to the `fatal` level;
//! - [`LevelFilter`] is a set that combines with `|`, with a `Log` action
//!   for structured logs (which the default filter asks for only when
//!   `enable_logs` is on);
//! - a mapper is only asked about records the filter does not ignore;
//! - an event has the record's module as `logger` and its location in
//!   `contexts.log`, a breadcrumb has type `default` and the module as
//!   `category`.
//!
//! # Cost
//! A record is converted for Vigil only when the filter wants it and an
//! enabled client is bound; otherwise the drain costs one filter call on
//! top of the wrapped drain (for the default filter and a record of
//! `info` or above, that call looks up the current client's
//! `enable_logs`: one atomic load while no client is bound).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod convert;
mod drain;

pub use crate::convert::{
    LOG_ORIGIN, breadcrumb_from_record, convert_log_level, convert_log_level_to_sentry_log_level,
    event_from_record, exception_from_record, log_from_record,
};
pub use crate::drain::{LevelFilter, RecordMapping, SentryDrain, VigilDrain, default_filter};
