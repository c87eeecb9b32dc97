//! The JSON of an [`Event`], written by hand into a [`JsonSink`]: byte for
//! byte what `serde_json` writes for the derived `Serialize` impl (same
//! field order, same fields left out), with the object keys as literal
//! bytes and the id copied in without an escape scan.
//!
//! Breadcrumbs are copied from the JSON each one caches (see
//! [`Breadcrumbs`]), as their own `Serialize` impl does. The contexts
//! other than `trace`, and the numbers (the float timestamp, line numbers,
//! numbers inside free JSON values), go through `serde_json`.
//!
//! Keep these writers in step with the `#[serde(...)]` attributes of
//! `Event` and `LogEntry`; the property test in `json_writer::tests::event`
//! compares them with `serde_json`.
//!
//! The event starts with a field that is always written (`event_id`), so
//! each following field carries its own leading comma.

use super::debug_meta::write_debug_meta;
use super::exception::{write_exceptions, write_threads};
use super::interfaces::{write_context, write_request, write_sdk, write_user};
use super::object::{Fields, write_list, write_map, write_opt_string};
use super::sink::JsonSink;
use crate::breadcrumb_list::Breadcrumbs;
use crate::event::{Event, LogEntry};

/// Writes `event` as its derived `Serialize` impl does.
pub(super) fn write_event<S: JsonSink>(event: &Event, out: &mut S) {
    let e = event;
    out.raw(br#"{"event_id":"#);
    out.verbatim_string(|| e.event_id.to_hex());
    out.raw(br#","level":"#);
    out.plain_string(e.level.as_str());
    if !e.fingerprint.is_empty() {
        out.raw(br#","fingerprint":"#);
        write_list(out, &e.fingerprint, |out, part| out.string(part));
    }
    write_opt_string(out, br#","transaction":"#, &e.transaction);
    write_opt_string(out, br#","message":"#, &e.message);
    if let Some(logentry) = &e.logentry {
        out.raw(br#","logentry":"#);
        write_log_entry(logentry, out);
    }
    write_opt_string(out, br#","logger":"#, &e.logger);
    if !e.modules.is_empty() {
        out.raw(br#","modules":"#);
        write_map(out, &e.modules, |out, version| out.string(version));
    }
    out.raw(br#","platform":"#);
    out.string(&e.platform);
    out.raw(br#","timestamp":"#);
    out.serialized(&crate::time::to_f64(e.timestamp));
    write_opt_string(out, br#","server_name":"#, &e.server_name);
    write_opt_string(out, br#","release":"#, &e.release);
    write_opt_string(out, br#","dist":"#, &e.dist);
    write_opt_string(out, br#","environment":"#, &e.environment);
    if let Some(user) = &e.user {
        out.raw(br#","user":"#);
        write_user(user, out);
    }
    if let Some(request) = &e.request {
        out.raw(br#","request":"#);
        write_request(request, out);
    }
    if !e.contexts.is_empty() {
        out.raw(br#","contexts":"#);
        write_map(out, &e.contexts, |out, context| write_context(context, out));
    }
    if !e.breadcrumbs.is_empty() {
        out.raw(br#","breadcrumbs":"#);
        write_breadcrumbs(&e.breadcrumbs, out);
    }
    if !e.exception.is_empty() {
        out.raw(br#","exception":"#);
        write_exceptions(&e.exception, out);
    }
    if !e.threads.is_empty() {
        out.raw(br#","threads":"#);
        write_threads(&e.threads, out);
    }
    if !e.debug_meta.is_empty() {
        out.raw(br#","debug_meta":"#);
        write_debug_meta(&e.debug_meta, out);
    }
    if !e.tags.is_empty() {
        out.raw(br#","tags":"#);
        write_map(out, &e.tags, |out, value| out.string(value));
    }
    if !e.extra.is_empty() {
        out.raw(br#","extra":"#);
        write_map(out, &e.extra, |out, value| out.value(value));
    }
    if let Some(sdk) = &e.sdk {
        out.raw(br#","sdk":"#);
        write_sdk(sdk, out);
    }
    out.raw(b"}");
}

/// Writes `logentry` as its derived `Serialize` impl does.
fn write_log_entry<S: JsonSink>(logentry: &LogEntry, out: &mut S) {
    let mut fields = Fields::open(out);
    fields.opt_string(br#""message":"#, &logentry.message);
    fields.opt_string(br#""formatted":"#, &logentry.formatted);
    if !logentry.params.is_empty() {
        write_list(
            fields.key(br#""params":"#),
            &logentry.params,
            |out, param| {
                out.value(param);
            },
        );
    }
    fields.close();
}

/// Writes `breadcrumbs` as `{"values":[...]}`, each breadcrumb copied from
/// its cached JSON (written and cached first where there is none yet), as
/// the list's `Serialize` impl does. A breadcrumb `serde_json` cannot write
/// goes through it again, which keeps its error.
fn write_breadcrumbs<S: JsonSink>(breadcrumbs: &Breadcrumbs, out: &mut S) {
    out.raw(br#"{"values":["#);
    for (index, (crumb, json)) in breadcrumbs.crumbs_with_json().enumerate() {
        if index > 0 {
            out.raw(b",");
        }
        match json {
            Some(json) => out.raw(json.as_bytes()),
            None => out.serialized(crumb),
        }
    }
    out.raw(b"]}");
}
