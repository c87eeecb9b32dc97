//! Vigil for [`slog`]: error records become events, warnings and info
//! records become breadcrumbs, with their key-values.
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
//! scope data, event processors, `before_send` / `before_breadcrumb`.
//!
//! Structured logs (Sentry's log items, with key-values as attributes) do
//! not exist in Vigil yet; a future release adds them as another
//! [`LevelFilter`] action.
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
//! - [`LevelFilter`] is a set that combines with `|`, and `Log`
//!   (structured logs) does not exist yet;
//! - a mapper is only asked about records the filter does not ignore;
//! - an event has the record's module as `logger` and its location in
//!   `contexts.log`, a breadcrumb has type `default` and the module as
//!   `category`.
//!
//! # Cost
//! A record is converted for Vigil only when the filter wants it and an
//! enabled client is bound; otherwise the drain costs one filter call on
//! top of the wrapped drain.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod convert;
mod drain;

pub use crate::convert::{
    breadcrumb_from_record, convert_log_level, event_from_record, exception_from_record,
};
pub use crate::drain::{LevelFilter, RecordMapping, SentryDrain, VigilDrain, default_filter};
