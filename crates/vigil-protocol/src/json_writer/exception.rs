//! The JSON of an event's exceptions and threads, with their stack traces
//! and mechanisms, byte for byte as the derived `Serialize` impls write
//! them.
//!
//! Keep these writers in step with the `#[serde(...)]` attributes of
//! `Values`, `Exception`, `Mechanism`, `Stacktrace`, `Frame` and `Thread`;
//! the property test in `json_writer::tests::event` compares them with
//! `serde_json`.

use super::object::{Fields, write_bool, write_list, write_map, write_opt_string};
use super::sink::JsonSink;
use crate::event::Values;
use crate::exception::{Exception, Frame, Mechanism, Stacktrace, Thread};

/// Writes `exceptions` as `{"values":[...]}`.
pub(super) fn write_exceptions<S: JsonSink>(exceptions: &Values<Exception>, out: &mut S) {
    write_values(exceptions, out, |out, exception| {
        write_exception(exception, out);
    });
}

/// Writes `threads` as `{"values":[...]}`.
pub(super) fn write_threads<S: JsonSink>(threads: &Values<Thread>, out: &mut S) {
    write_values(threads, out, |out, thread| write_thread(thread, out));
}

/// Writes `values` as `{"values":[...]}`, each item with `write_item`.
fn write_values<S: JsonSink, T>(
    values: &Values<T>,
    out: &mut S,
    write_item: impl FnMut(&mut S, &T),
) {
    out.raw(br#"{"values":"#);
    write_list(out, &values.values, write_item);
    out.raw(b"}");
}

/// Writes `exception` as its derived `Serialize` impl does.
fn write_exception<S: JsonSink>(exception: &Exception, out: &mut S) {
    let mut fields = Fields::open(out);
    fields.nonempty_string(br#""type":"#, &exception.ty);
    fields.opt_string(br#""value":"#, &exception.value);
    fields.opt_string(br#""module":"#, &exception.module);
    if let Some(stacktrace) = &exception.stacktrace {
        write_stacktrace(stacktrace, fields.key(br#""stacktrace":"#));
    }
    if let Some(mechanism) = &exception.mechanism {
        write_mechanism(mechanism, fields.key(br#""mechanism":"#));
    }
    if let Some(thread_id) = &exception.thread_id {
        fields.key(br#""thread_id":"#).value(thread_id);
    }
    fields.close();
}

/// Writes `mechanism` as its derived `Serialize` impl does: its `type`
/// first and always, so each following field carries its own comma.
fn write_mechanism<S: JsonSink>(mechanism: &Mechanism, out: &mut S) {
    out.raw(br#"{"type":"#);
    out.string(&mechanism.ty);
    if let Some(handled) = mechanism.handled {
        out.raw(br#","handled":"#);
        write_bool(handled, out);
    }
    for (key, field) in [
        (&br#","description":"#[..], &mechanism.description),
        (br#","help_link":"#, &mechanism.help_link),
    ] {
        if let Some(text) = field {
            out.raw(key);
            out.string(text);
        }
    }
    if let Some(synthetic) = mechanism.synthetic {
        out.raw(br#","synthetic":"#);
        write_bool(synthetic, out);
    }
    for (key, field) in [
        (&br#","exception_id":"#[..], mechanism.exception_id),
        (br#","parent_id":"#, mechanism.parent_id),
    ] {
        if let Some(number) = field {
            out.raw(key);
            out.serialized(&number);
        }
    }
    write_opt_string(out, br#","source":"#, &mechanism.source);
    if !mechanism.data.is_empty() {
        out.raw(br#","data":"#);
        write_map(out, &mechanism.data, |out, value| out.value(value));
    }
    out.raw(b"}");
}

/// Writes `thread` as its derived `Serialize` impl does.
fn write_thread<S: JsonSink>(thread: &Thread, out: &mut S) {
    let mut fields = Fields::open(out);
    if let Some(id) = &thread.id {
        fields.key(br#""id":"#).value(id);
    }
    fields.opt_string(br#""name":"#, &thread.name);
    fields.opt_bool(br#""crashed":"#, thread.crashed);
    fields.opt_bool(br#""current":"#, thread.current);
    fields.opt_bool(br#""main":"#, thread.main);
    if let Some(stacktrace) = &thread.stacktrace {
        write_stacktrace(stacktrace, fields.key(br#""stacktrace":"#));
    }
    fields.close();
}

/// Writes `stacktrace` as `{"frames":[...]}`.
fn write_stacktrace<S: JsonSink>(stacktrace: &Stacktrace, out: &mut S) {
    out.raw(br#"{"frames":"#);
    write_list(out, &stacktrace.frames, |out, frame| {
        write_frame(frame, out)
    });
    out.raw(b"}");
}

/// Writes `frame` as its derived `Serialize` impl does.
fn write_frame<S: JsonSink>(frame: &Frame, out: &mut S) {
    let mut fields = Fields::open(out);
    fields.opt_string(br#""function":"#, &frame.function);
    fields.opt_string(br#""raw_function":"#, &frame.raw_function);
    fields.opt_string(br#""module":"#, &frame.module);
    fields.opt_string(br#""filename":"#, &frame.filename);
    fields.opt_string(br#""abs_path":"#, &frame.abs_path);
    fields.opt_number(br#""lineno":"#, frame.lineno);
    fields.opt_number(br#""colno":"#, frame.colno);
    fields.opt_bool(br#""in_app":"#, frame.in_app);
    fields.opt_string(br#""instruction_addr":"#, &frame.instruction_addr);
    fields.opt_string(br#""symbol_addr":"#, &frame.symbol_addr);
    fields.close();
}
