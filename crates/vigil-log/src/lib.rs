//! Vigil for the [`log`] crate: error records become events, warnings and
//! info records become breadcrumbs, and records can become Sentry's
//! structured logs.
//!
//! [`VigilLogger`] is a [`log::Log`] implementation. It can wrap the logger
//! you already use (every record is forwarded to it, whatever Vigil does
//! with the record) or stand alone ([`VigilLogger::new`]).
//!
//! # Usage
//!
//! Install it once, after `vigil::init`:
//!
//! ```rust,standalone_crate
//! use vigil_core::protocol::Level;
//!
//! // let _guard = vigil::init("https://key@sentry.example.com/1");
//! vigil_log::VigilLogger::new().install().expect("no other logger set");
//!
//! # let events = vigil_core::test::with_captured_events(|| {
//! log::info!("loading config");
//! log::error!(target: "my_app::config", "cannot read {}", "app.toml");
//! # });
//! // The error is captured as an event, with the info record as breadcrumb.
//! assert_eq!(events.len(), 1);
//! assert_eq!(events[0].message.as_deref(), Some("cannot read app.toml"));
//! assert_eq!(events[0].logger.as_deref(), Some("my_app::config"));
//! assert_eq!(events[0].level, Level::Error);
//! let crumb = &events[0].breadcrumbs[0];
//! assert_eq!(crumb.message.as_deref(), Some("loading config"));
//! ```
//!
//! To keep your own logger, wrap it: `VigilLogger::with_dest(inner)`,
//! then `install()` (or pass the wrapper to whatever installs `inner`
//! today, and set [`log::set_max_level`] to
//! [`VigilLogger::max_level`]).
//!
//! # What records become
//!
//! A filter, `Fn(&log::Metadata) -> LogFilter`, decides per record. The
//! [default](default_filter):
//!
//! | level | becomes |
//! |---|---|
//! | `error` | an event ([`LogFilter::Event`]) |
//! | `warn`, `info` | a breadcrumb ([`LogFilter::Breadcrumb`]) |
//! | `debug`, `trace` | nothing ([`LogFilter::Ignore`]) |
//!
//! When the current client has
//! [`enable_logs`](vigil_core::ClientOptions::enable_logs) on, the default
//! filter also makes a [structured log](#structured-logs)
//! ([`LogFilter::Log`]) of every `error`, `warn` and `info` record, on top
//! of the event or breadcrumb above. With it off (the default), no logs.
//!
//! Replace it with [`VigilLogger::filter`]. A [`LogFilter`] is a set of
//! actions: `LogFilter::Event | LogFilter::Breadcrumb` (also spelt
//! [`LogFilter::EventAndBreadcrumb`]) captures an event and then leaves a
//! breadcrumb pointing at it.
//!
//! An **event** has:
//! - `level`: `error` → `error`, `warn` → `warning`, `info` → `info`,
//!   `debug` and `trace` → `debug`;
//! - `message`: the formatted message;
//! - `logger`: the record's target;
//! - `contexts.log`: `module_path`, `file` and `line`, those the record has;
//! - `extra`: the record's key-values (feature `kv`), numbers, booleans and
//!   strings as such, other values as text.
//!
//! A **breadcrumb** has type `default`, `category` = the target, the
//! mapped `level`, the formatted `message`, and the key-values as `data`
//! (feature `kv`).
//!
//! Change either with [`VigilLogger::event_mapper`] and
//! [`VigilLogger::breadcrumb_mapper`], which start from the defaults.
//! Everything then goes through the normal pipeline of the current hub:
//! scope data, event processors, `before_send` / `before_breadcrumb` /
//! `before_send_log`.
//!
//! # Structured logs
//!
//! With [`LogFilter::Log`] in the filter's answer, the record is captured
//! as a structured log ([`log_from_record`]) with `Hub::capture_log`,
//! whatever the client's `enable_logs` says (that option only changes
//! what the default filter asks for). A log has:
//! - `level`: `error` → `error`, `warn` → `warn`, `info` → `info`,
//!   `debug` → `debug`, `trace` → `trace`
//!   ([`convert_log_level_to_sentry_log_level`]);
//! - `body`: the formatted message;
//! - an attribute per key-value of the record (`log::info!(user_id = 42,
//!   request_id = "abc"; "..")`, always, with or without the `kv`
//!   feature): integers as `integer`, floats as `double`, booleans as
//!   `boolean`, strings as `string`; other values (captured with `:?`,
//!   `:%`, `:err`, ...), non-finite floats and integers outside the `i64` range as
//!   their text;
//! - `logger.target`: the record's target;
//! - `code.file.path`, `code.line.number`, `code.module.name`: the
//!   record's file, line and module path, those it has;
//! - `sentry.origin`: `auto.log.log`.
//!
//! These last attributes win over key-values of the same name. The client
//! then adds the trace and span of the scope and its default attributes
//! (`sentry.sdk.name`, `sentry.environment`, `sentry.release`, ...), and
//! sends logs in batches.
//!
//! ```rust,standalone_crate
//! use vigil_core::protocol::{EnvelopeItem, ItemContainer, LogAttribute, LogLevel};
//! use vigil_log::{LogFilter, VigilLogger, default_filter};
//!
//! // Everything the default filter does, plus a log of every record.
//! VigilLogger::new()
//!     .filter(|md| default_filter(md) | LogFilter::Log)
//!     .install()
//!     .expect("no other logger set");
//!
//! # let envelopes = vigil_core::test::with_captured_envelopes(|| {
//! log::debug!(user_id = 42, cached = true; "profile loaded");
//! # });
//! # let Some(EnvelopeItem::ItemContainer(ItemContainer::Logs(logs))) = envelopes[0].items().next() else {
//! #     panic!("a log item");
//! # };
//! assert_eq!(logs[0].level, LogLevel::Debug);
//! assert_eq!(logs[0].body, "profile loaded");
//! assert_eq!(logs[0].attributes["user_id"], LogAttribute::from(42));
//! assert_eq!(logs[0].attributes["cached"], LogAttribute::from(true));
//! ```
//!
//! # Which hub
//! Records are captured into the current hub of the thread that logs
//! ([`Hub::current`](vigil_core::Hub::current)): inside a future bound to a
//! request's hub, that hub.
//!
//! # The SDK's own output
//! The SDK never logs through `log` (its diagnostics go to stderr), and the
//! logger makes sure it cannot capture itself:
//! - a record logged by code that runs while this thread is capturing (a
//!   `before_send` callback, an event processor, a custom transport) is
//!   forwarded but not captured;
//! - records logged on the SDK's own threads (named `vigil-*`, e.g. what
//!   the HTTP client logs on the `vigil-transport` worker) and records
//!   whose target is in a `vigil` or `vigil_*` crate are never captured.
//!
//! # Migrating from the reference SDK
//! Code written for `sentry-log` compiles after renaming the crate:
//! [`SentryLogger`] is [`VigilLogger`], [`NoopLogger`] is [`NoLogger`], and
//! [`LogFilter`] combines with `|` like the reference's flags. What differs:
//! - the default filter asks for structured logs only when `enable_logs`
//!   is on, and then for `error`, `warn` and `info` records;
//! - a structured log has the record's location as `code.file.path`,
//!   `code.line.number` and `code.module.name`;
//! - an event has the record's location in `contexts.log` and its
//!   key-values in `extra`, a breadcrumb has type `default`;
//! - with `Event | Breadcrumb` the event is captured first and the
//!   breadcrumb then refers to it, so the event does not list its own
//!   record as a breadcrumb;
//! - there is no `mapper`: use [`VigilLogger::event_mapper`] and
//!   [`VigilLogger::breadcrumb_mapper`].
//!
//! # Feature flags
//! - `kv`: attach the records' key-values (`log::info!(user = 7; "..")`)
//!   to events and breadcrumbs too (structured logs always carry them:
//!   this crate always enables `log/kv`).
//!
//! # Cost
//! A record is formatted for Vigil only when the filter wants it and an
//! enabled client is bound; otherwise the logger costs one filter call on
//! top of the destination logger (for the default filter and an `error`,
//! `warn` or `info` record, that call looks up the current client's
//! `enable_logs`: one atomic load while no client is bound).
#![cfg_attr(docsrs, feature(doc_cfg))]

mod convert;
mod logger;

pub use crate::convert::{
    LOG_ORIGIN, breadcrumb_from_record, convert_log_level, convert_log_level_to_sentry_log_level,
    event_from_record, exception_from_record, log_from_record,
};
pub use crate::logger::{LogFilter, NoLogger, SentryLogger, VigilLogger, default_filter};

/// The reference SDK's name of [`NoLogger`], for migrating code that uses
/// it.
pub use crate::logger::NoLogger as NoopLogger;
