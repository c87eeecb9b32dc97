//! The JSON of the interfaces a transaction carries: its contexts (the
//! `trace` context by hand, the others through `serde_json`), the user,
//! the request and the SDK, byte for byte as the derived `Serialize` impls
//! write them.
//!
//! Keep these writers in step with the `#[serde(...)]` attributes of
//! `TraceContext`, `User`, `Geo`, `Request`, `ClientSdkInfo` and `ClientSdkPackage`;
//! the property test in `json_writer::tests` compares them with
//! `serde_json`.

use super::object::{Fields, write_map, write_opt_string};
use super::sink::JsonSink;
use crate::context::{Context, TraceContext};
use crate::request::Request;
use crate::sdk::ClientSdkInfo;
use crate::user::{Geo, User};

/// Writes `context` as `Context`'s derived `Serialize` impl does.
pub(super) fn write_context<S: JsonSink>(context: &Context, out: &mut S) {
    match context {
        Context::Trace(trace) => write_trace_context(trace, out),
        other => out.serialized(other),
    }
}

/// Writes a `trace` context with its `type` tag first, as the derived
/// `Serialize` impl of `Context::Trace` does.
fn write_trace_context<S: JsonSink>(trace: &TraceContext, out: &mut S) {
    out.raw(br#"{"type":"trace","trace_id":"#);
    out.verbatim_string(|| trace.trace_id.to_hex());
    out.raw(br#","span_id":"#);
    out.verbatim_string(|| trace.span_id.to_hex());
    if let Some(parent) = trace.parent_span_id {
        out.raw(br#","parent_span_id":"#);
        out.verbatim_string(|| parent.to_hex());
    }
    write_opt_string(out, br#","op":"#, &trace.op);
    write_opt_string(out, br#","description":"#, &trace.description);
    if let Some(status) = trace.status {
        out.raw(br#","status":"#);
        out.plain_string(status.as_str());
    }
    write_opt_string(out, br#","origin":"#, &trace.origin);
    if !trace.data.is_empty() {
        out.raw(br#","data":"#);
        write_map(out, &trace.data, |out, value| out.value(value));
    }
    out.raw(b"}");
}

/// The names of `User`'s own fields: an `other` entry of the same name is
/// not written (the JSON would have the key twice).
const USER_FIELDS: [&str; 6] = ["id", "email", "ip_address", "username", "geo", "data"];

/// Writes `user` as its derived `Serialize` impl does.
pub(super) fn write_user<S: JsonSink>(user: &User, out: &mut S) {
    let mut fields = Fields::open(out);
    fields.opt_string(br#""id":"#, &user.id);
    fields.opt_string(br#""email":"#, &user.email);
    fields.opt_string(br#""ip_address":"#, &user.ip_address);
    fields.opt_string(br#""username":"#, &user.username);
    if let Some(geo) = &user.geo {
        write_geo(geo, fields.key(br#""geo":"#));
    }
    if !user.data.is_empty() {
        write_map(fields.key(br#""data":"#), &user.data, |out, value| {
            out.value(value);
        });
    }
    for (key, value) in &user.other {
        if USER_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let out = fields.entry();
        out.string(key);
        out.raw(b":");
        out.value(value);
    }
    fields.close();
}

/// Writes `request` as its derived `Serialize` impl does.
pub(super) fn write_request<S: JsonSink>(request: &Request, out: &mut S) {
    let mut fields = Fields::open(out);
    fields.opt_string(br#""url":"#, &request.url);
    fields.opt_string(br#""method":"#, &request.method);
    if let Some(data) = &request.data {
        fields.key(br#""data":"#).value(data);
    }
    fields.opt_string(br#""query_string":"#, &request.query_string);
    fields.opt_string(br#""cookies":"#, &request.cookies);
    for (key, map) in [
        (&br#""headers":"#[..], &request.headers),
        (br#""env":"#, &request.env),
    ] {
        if !map.is_empty() {
            write_map(fields.key(key), map, |out, value| out.string(value));
        }
    }
    fields.close();
}

/// Writes `geo` as its derived `Serialize` impl does.
fn write_geo<S: JsonSink>(geo: &Geo, out: &mut S) {
    let mut fields = Fields::open(out);
    fields.opt_string(br#""city":"#, &geo.city);
    fields.opt_string(br#""country_code":"#, &geo.country_code);
    fields.opt_string(br#""region":"#, &geo.region);
    fields.close();
}

/// Writes `sdk` as its derived `Serialize` impl does.
pub(super) fn write_sdk<S: JsonSink>(sdk: &ClientSdkInfo, out: &mut S) {
    out.raw(br#"{"name":"#);
    out.string(&sdk.name);
    out.raw(br#","version":"#);
    out.string(&sdk.version);
    if !sdk.integrations.is_empty() {
        out.raw(br#","integrations":["#);
        for (index, integration) in sdk.integrations.iter().enumerate() {
            if index > 0 {
                out.raw(b",");
            }
            out.string(integration);
        }
        out.raw(b"]");
    }
    if !sdk.packages.is_empty() {
        out.raw(br#","packages":["#);
        for (index, package) in sdk.packages.iter().enumerate() {
            if index > 0 {
                out.raw(b",");
            }
            out.raw(br#"{"name":"#);
            out.string(&package.name);
            out.raw(br#","version":"#);
            out.string(&package.version);
            out.raw(b"}");
        }
        out.raw(b"]");
    }
    out.raw(b"}");
}
