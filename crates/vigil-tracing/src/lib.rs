//! Vigil for [`tracing`](https://docs.rs/tracing): a
//! [`Layer`](tracing_subscriber::Layer) that turns `ERROR` events into Vigil
//! events and `WARN`/`INFO` events into breadcrumbs (and, with the client's
//! `enable_logs` on, all three into structured logs), attaches the fields of
//! the enclosing spans to error events, captures into the hub a span was
//! created under, and, with tracing on, makes spans Sentry spans.
//!
//! # Usage
//!
//! Add [`VigilLayer`] to your subscriber, after `vigil::init`:
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use vigil_core::protocol::Level;
//!
//! // let _guard = vigil::init("https://key@sentry.example.com/1");
//! let subscriber = tracing_subscriber::registry().with(vigil_tracing::layer());
//! // Usually `subscriber.init()` or `tracing::subscriber::set_global_default`.
//! # let events = vigil_core::test::with_captured_events(|| {
//! tracing::subscriber::with_default(subscriber, || {
//!     let span = tracing::info_span!("import", file = "orders.csv");
//!     let _entered = span.enter();
//!     tracing::info!(rows = 120, "parsed");
//!     tracing::error!(row = 7, "bad date");
//! });
//! # });
//!
//! // The error is captured as an event, with the info event as breadcrumb.
//! assert_eq!(events.len(), 1);
//! let event = &events[0];
//! assert_eq!(event.message.as_deref(), Some("bad date"));
//! assert_eq!(event.level, Level::Error);
//! let fields = serde_json::to_value(&event.contexts["Rust Tracing Fields"]).unwrap();
//! assert_eq!(fields["row"], 7);
//! assert_eq!(event.breadcrumbs[0].data["rows"], 120);
//! let spans = serde_json::to_value(&event.contexts["tracing_spans"]).unwrap();
//! assert_eq!(spans["spans"][0]["name"], "import");
//! assert_eq!(spans["spans"][0]["fields"]["file"], "orders.csv");
//! ```
//!
//! # What events become
//!
//! An event filter, `Fn(&tracing::Metadata) -> EventFilter`, decides per
//! event. The [default](default_event_filter):
//!
//! | level | becomes |
//! |---|---|
//! | `ERROR` | a Vigil event ([`EventFilter::Event`]) |
//! | `WARN`, `INFO` | a breadcrumb ([`EventFilter::Breadcrumb`]) |
//! | `DEBUG`, `TRACE` | nothing ([`EventFilter::Ignore`]) |
//!
//! When the current hub's client has
//! [`enable_logs`](vigil_core::ClientOptions::enable_logs) on, the default
//! filter also sends `ERROR`, `WARN` and `INFO` events as structured logs
//! ([`EventFilter::Log`]); it is off by default, and the table above is
//! then the whole story.
//!
//! Replace it with [`VigilLayer::event_filter`]. An [`EventFilter`] is a
//! set: `EventFilter::Event | EventFilter::Breadcrumb` captures an event
//! and then leaves a breadcrumb pointing at it (`event_id`). A filter that
//! returns [`EventFilter::Log`] gets its logs whatever `enable_logs` says.
//!
//! A **Vigil event** has:
//! - `level`: `ERROR` → `error`, `WARN` → `warning`, `INFO` → `info`,
//!   `DEBUG` and `TRACE` → `debug`;
//! - `message`: the `message` field (the format string and its arguments),
//!   else a text `error` field (what `#[instrument(err)]` records);
//! - `logger`: the event's target;
//! - `tags`: the text, number and boolean fields named `tags.<name>`;
//! - `exception`: when a field holds an error (`error = &err as &dyn
//!   Error`), that error and its `source()` chain, as
//!   [`vigil_core::event_from_error`] builds them, with the mechanism
//!   `tracing` (the first such field; later ones are fields);
//! - `contexts["Rust Tracing Fields"]`: the other fields. Integers, floats,
//!   booleans and strings keep their JSON type; `?debug` and `%display`
//!   values become text (floats that are NaN or infinite too), an error
//!   value the list of its chain, `"Type: message"` each, outermost first;
//! - `contexts["Rust Tracing Location"]`: the event's `module_path`,
//!   `file` and `line`;
//! - `contexts.tracing_spans`: the enclosing recorded spans, oldest first,
//!   as `{"spans": [{"name": "...", "fields": {...}}, ...]}`. A list keeps
//!   the order, which JSON objects do not, and allows repeated names.
//!
//! A **breadcrumb** has type `default`, `category` = the target, the
//! mapped `level`, the message (as for events) as `message` and the other
//! fields as `data`.
//!
//! A **structured log** ([`Log`](vigil_core::protocol::Log), sent with
//! [`Hub::capture_log`](vigil_core::Hub::capture_log)) has:
//! - `level`: `ERROR` → `error`, `WARN` → `warn`, `INFO` → `info`,
//!   `DEBUG` → `debug`, `TRACE` → `trace`;
//! - `body`: the message (as for events);
//! - `attributes`: the other fields, typed as for events (an error field
//!   is the list of its chain, `"Type: message"` each, outermost first,
//!   every type named from the error's `Debug` output, as the Sentry SDK
//!   names them in logs: `Custom` for an `io::Error::new` error),
//!   `sentry.origin` = `auto.log.tracing`, `logger.target` = the event's
//!   target, and `code.module.name`, `code.file.path`, `code.line.number`
//!   where known; the client adds the SDK, release, environment and user
//!   attributes;
//! - its trace and span: those of the traced span it was emitted in (the
//!   span's id as `sentry.trace.parent_span_id`), else the scope's trace.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use vigil_core::ClientOptions;
//! use vigil_core::protocol::{EnvelopeItem, ItemContainer, LogAttribute, LogLevel};
//!
//! let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(vigil_tracing::layer()));
//! let envelopes = vigil_core::test::with_captured_envelopes_options(
//!     || tracing::dispatcher::with_default(&dispatch, || tracing::info!(rows = 120, "parsed")),
//!     ClientOptions::new().enable_logs(true),
//! );
//! let Some(EnvelopeItem::ItemContainer(ItemContainer::Logs(logs))) = envelopes[0].items().next()
//! else {
//!     panic!("a log item");
//! };
//! assert_eq!(logs[0].level, LogLevel::Info);
//! assert_eq!(logs[0].body, "parsed");
//! assert_eq!(logs[0].attributes["rows"], LogAttribute::from(120));
//! ```
//!
//! With [`VigilLayer::enable_span_attributes`], the fields of the
//! enclosing recorded spans are also added to the breadcrumb's `data`, the
//! event's `Rust Tracing Fields` and the log's attributes, as
//! `"<span name>:<field>"`.
//!
//! Change events and breadcrumbs with [`VigilLayer::map_event`] and
//! [`VigilLayer::breadcrumb_mapper`], which start from the defaults, or
//! take over with [`VigilLayer::event_mapper`], which returns an
//! [`EventMapping`] (built with [`event_from_event`],
//! [`breadcrumb_from_event`] and [`log_from_event`], say) instead of the
//! filter's decision. Then the hub's normal pipeline runs: scope data,
//! event processors, `before_send` / `before_breadcrumb` /
//! `before_send_log`.
//!
//! # One layer or several
//!
//! [`VigilLayer`] does everything. The same work is split in
//! [`SpanLayer`] (spans as Sentry spans), [`BreadcrumbLayer`] (events as
//! breadcrumbs), [`ErrorLayer`] (events as Vigil events) and [`LogLayer`]
//! (events as structured logs), which do what they do with everything
//! they see: each is limited with a per-layer filter of its own. A
//! `LogLayer` sends its logs whatever the client's `enable_logs` says.
//!
//! ```
//! use tracing::Level;
//! use tracing_subscriber::filter::{LevelFilter, filter_fn};
//! use tracing_subscriber::prelude::*;
//! use vigil_tracing::{BreadcrumbLayer, ErrorLayer, SpanLayer};
//!
//! // What `vigil_tracing::layer()` does by default.
//! let subscriber = tracing_subscriber::registry()
//!     .with(SpanLayer::new().with_filter(LevelFilter::INFO))
//!     .with(BreadcrumbLayer::new().with_filter(filter_fn(|md| {
//!         matches!(*md.level(), Level::WARN | Level::INFO)
//!     })))
//!     .with(ErrorLayer::new().with_filter(LevelFilter::ERROR));
//! # let _ = subscriber;
//! ```
//!
//! Spans and logs only, the logs linked to the spans they were emitted in:
//!
//! ```
//! use tracing_subscriber::filter::LevelFilter;
//! use tracing_subscriber::prelude::*;
//! use vigil_tracing::{LogLayer, SpanLayer};
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(SpanLayer::new().with_filter(LevelFilter::INFO))
//!     .with(LogLayer::new().with_filter(LevelFilter::INFO));
//! # let _ = subscriber;
//! ```
//!
//! Code written for the Sentry SDK's `tracing` integration finds its
//! names here too: [`SentryLayer`] is [`VigilLayer`].
//!
//! # Spans and hubs
//!
//! A span accepted by the span filter (by [default](default_span_filter)
//! `ERROR`, `WARN` and `INFO` spans) is recorded when it is created while
//! an enabled client is bound: its fields (updated by `Span::record`) and
//! the hub current at that moment ([`Hub::current`](vigil_core::Hub::current)).
//!
//! An event inside recorded spans is captured into the hub of the
//! innermost one, not into the current hub of the thread that emits it.
//! So a span created while a request's hub is current (inside a future
//! bound with [`HubFutureExt::bind_hub`](vigil_core::HubFutureExt::bind_hub)
//! or in [`Hub::run`](vigil_core::Hub::run)) keeps the events of work
//! instrumented with it in that request's hub, on whichever thread the
//! work runs:
//!
//! ```
//! use std::sync::Arc;
//! use tracing_subscriber::prelude::*;
//! use vigil_core::Hub;
//!
//! # let events = vigil_core::test::with_captured_events(|| {
//! let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(vigil_tracing::layer()));
//! let request_hub = Arc::new(Hub::new_from_top(Hub::current()));
//! request_hub.configure_scope(|scope| scope.set_tag("request_id", "42"));
//! let span = tracing::dispatcher::with_default(&dispatch, || {
//!     Hub::run(request_hub.clone(), || tracing::info_span!("request"))
//! });
//! std::thread::spawn(move || {
//!     tracing::dispatcher::with_default(&dispatch, || {
//!         let _entered = span.enter();
//!         tracing::error!("lookup failed"); // goes to `request_hub`
//!     })
//! })
//! .join()
//! .unwrap();
//! # });
//! # assert_eq!(events.len(), 1);
//! # assert_eq!(events[0].tags["request_id"], "42");
//! ```
//!
//! Events outside any recorded span go to the thread's current hub.
//!
//! # Spans as Sentry spans
//!
//! With tracing on (`traces_sample_rate` or `traces_sampler` set), a
//! recorded span also gets a Sentry span when it is created:
//!
//! - its **parent** is the Sentry span of the nearest recorded ancestor
//!   created under the same hub; else the hub's current span (the
//!   request's transaction the tower layer started, say); else, for a root
//!   span the [transaction filter](VigilLayer::transaction_filter) accepts
//!   (every one by default), a new transaction continuing the hub's trace.
//!   An ancestor created under another hub is never the parent, so a
//!   server's long-lived span does not collect the spans of every request;
//! - its **op** is the `sentry.op` or `op` field, else the span's target;
//!   its **name** (a span's description, a transaction's name) is the
//!   `sentry.name` or `otel.name` field, else the span's name (for
//!   `#[instrument]`, the function's name). A name recorded later with
//!   `Span::record` renames it, and so does an op, but for a transaction;
//! - a root span with a `sentry.trace` field (a `sentry-trace` header
//!   value) continues that trace instead of the hub's;
//! - its **data** are the other fields, and the fields recorded later with
//!   `Span::record`; text, number and boolean fields named `tags.<name>`
//!   are its tags instead;
//! - an `ERROR` event inside it sets its status to `internal_error`, and
//!   the Vigil event captured for it is linked to it;
//! - it **finishes** when the `tracing` span closes (when its last handle
//!   is dropped); a transaction is then sent with its hub's scope data.
//!   A span that closes after its transaction was sent is dropped.
//!
//! While a span is entered on a thread, its Sentry span is that hub's
//! [current span](vigil_core::Hub::current_span) on that thread: events
//! captured there (also with `vigil::capture_*`) and outgoing propagation
//! headers ([`Hub::iter_trace_propagation_headers`](vigil_core::Hub::iter_trace_propagation_headers),
//! `vigil-reqwest`) carry it. The layer does nothing on enter and exit and
//! never writes a hub's scope: when a hub asks for its current span, the
//! layer reads `tracing`'s own per-thread current span from the
//! subscriber's registry and walks up to the nearest span traced under
//! that hub. So futures that move between worker threads, spans exited out
//! of order or on another thread, and spans never entered cannot leave a
//! wrong span behind. This needs the subscriber to be built on
//! [`tracing_subscriber::registry()`] (as every `tracing_subscriber` stack
//! is); under a subscriber without a
//! [`Registry`](tracing_subscriber::Registry), spans are still recorded and
//! events inside them still linked, but other captures fall back to the
//! hub's scope span.
//!
//! In a trace sampled out, the Sentry spans keep only their ids (events
//! and outgoing headers still carry the trace and the decision): no names,
//! no data, and no allocation beyond the `tracing` span's own record.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use vigil_core::ClientOptions;
//!
//! #[tracing::instrument(fields(op = "task"))]
//! fn process(order: u32) {
//!     let _query = tracing::info_span!("load", op = "db.query").entered();
//! }
//!
//! let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(vigil_tracing::layer()));
//! let envelopes = vigil_core::test::with_captured_envelopes_options(
//!     || tracing::dispatcher::with_default(&dispatch, || process(7)),
//!     ClientOptions::new().traces_sample_rate(1.0),
//! );
//! let transaction = envelopes[0].transaction().unwrap();
//! assert_eq!(transaction.name.as_deref(), Some("process"));
//! assert_eq!(transaction.spans[0].op.as_deref(), Some("db.query"));
//! assert_eq!(transaction.spans[0].description.as_deref(), Some("load"));
//! ```
//!
//! # The SDK's own output
//! The SDK never emits `tracing` events (its diagnostics go to stderr),
//! and the layer makes sure it cannot capture itself:
//! - an event emitted by code that runs while this thread is capturing (a
//!   `before_send` callback, an event processor, a custom transport) is
//!   not captured;
//! - events emitted on the SDK's own threads (named `vigil-*`, such as the
//!   `vigil-transport` worker) and events whose target is in a `vigil` or
//!   `vigil_*` crate are never captured.
//!
//! # Cost
//! Until a client is bound, a span costs one filter call and one atomic
//! load. With tracing on, entering and exiting a span is a push and a pop
//! on a per-thread list; an unsampled span records no data. The layer sees every event (it does not take part in filtering);
//! an event it ignores costs one filter call, and the fields of the others
//! are recorded only then.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod convert;
mod engine;
mod filter;
mod layer;
mod mapping;
mod spans;
mod split;
mod visit;

pub use crate::convert::{breadcrumb_from_event, event_from_event, log_from_event};
pub use crate::filter::{EventFilter, default_event_filter, default_span_filter};
pub use crate::layer::{SentryLayer, VigilLayer, layer};
pub use crate::mapping::{CombinedEventMapping, EventMapping};
pub use crate::split::{BreadcrumbLayer, ErrorLayer, LogLayer, SpanLayer};
