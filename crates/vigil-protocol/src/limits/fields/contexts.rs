//! Limits of contexts: a size budget and depth per context, room for the
//! fields Relay derives in `os` and `runtime`, valid `trace` fields (its
//! `status` is valid by type: reading JSON drops unknown names), a
//! `feedback` message of at most 4096 characters.

use serde_json::Value;

use crate::Map;

use super::span::{clean_origin, trim_op};
use crate::context::Context;
use crate::feedback::Feedback;
use crate::json_writer::context_size;
use crate::limits::bags::{fit_opt_str, fit_value, limit_depth, within_depth};
use crate::limits::json_size::{json_size, str_size};
use crate::limits::text::truncate_chars;

/// Caps `os`/`runtime` name-like fields (in bytes of JSON) so the room kept
/// for Relay's derived fields stays bounded.
const OS_RUNTIME_FIELD_BYTES: usize = 1024;
/// `(bytes, depth)` of each context.
const CONTEXT_BAG: (usize, usize) = (8 * 1024, 7);

/// Fits the context called `name` to its size and depth limits, keeping
/// its `type` and room for what Relay adds to it.
pub(in crate::limits) fn trim_context(name: &str, context: &mut Context) {
    let reserve = fit_fields(name, context);
    let (budget, depth) = CONTEXT_BAG;
    if clearly_within_limits(context, budget.saturating_sub(reserve), depth) {
        return;
    }
    fit_as_value(context, reserve);
}

/// Applies the limits of the fields of a typed context and returns the
/// room to keep for what Relay adds to the context called `name` before it
/// measures it.
pub(in crate::limits) fn fit_fields(name: &str, context: &mut Context) -> usize {
    match context {
        Context::Os(os) => {
            for field in [
                &mut os.name,
                &mut os.version,
                &mut os.build,
                &mut os.kernel_version,
                &mut os.raw_description,
            ] {
                fit_opt_str(field, OS_RUNTIME_FIELD_BYTES);
            }
            derived_reserve(&os.name, &os.version, &os.raw_description)
        }
        Context::Runtime(rt) => {
            for field in [&mut rt.name, &mut rt.version, &mut rt.raw_description] {
                fit_opt_str(field, OS_RUNTIME_FIELD_BYTES);
            }
            derived_reserve(&rt.name, &rt.version, &rt.raw_description)
        }
        Context::Trace(trace) => {
            trim_op(&mut trace.op);
            clean_origin(&mut trace.origin);
            0
        }
        Context::Feedback(feedback) => {
            truncate_chars(&mut feedback.message, Feedback::MAX_MESSAGE_CHARS);
            0
        }
        // Relay adds `"type": <name>` when it is missing.
        Context::Other(map) if !map.contains_key("type") => str_size(name) + str_size("type") + 2,
        _ => 0,
    }
}

/// Fits `context` to its byte budget, less `reserve`, and depth as a JSON
/// object, keeping its `type`; a context that needs no change is left as it
/// is. This is the whole check, which [`trim_context`] skips for contexts
/// that are [`clearly_within_limits`].
pub(in crate::limits) fn fit_as_value(context: &mut Context, reserve: usize) {
    let (budget, depth) = CONTEXT_BAG;
    let Ok(Value::Object(mut map)) = serde_json::to_value(&*context) else {
        return;
    };
    // Keep `type` out of the trimming so it can never be cut off.
    let ty = map.remove("type");
    let type_size = ty
        .as_ref()
        .map_or(0, |t| str_size("type") + 2 + json_size(t));
    let mut value = Value::Object(map);
    let mut changed = limit_depth(&mut value, 1, depth);
    let budget = budget.saturating_sub(reserve + type_size);
    if json_size(&value) > budget {
        fit_value(&mut value, budget);
        changed = true;
    }
    if !changed {
        return;
    }
    let Value::Object(mut map) = value else {
        return;
    };
    if let Some(ty) = ty {
        map.insert("type".into(), ty);
    }
    *context = serde_json::from_value(Value::Object(map.clone()))
        .unwrap_or_else(|_| Context::Other(map.into_iter().collect()));
}

/// Whether trimming `context` would certainly change nothing, found
/// without building a [`Value`] of it (most contexts are far within their
/// limits): no free value in it is nested as deep as `depth`, and its JSON
/// is smaller than `room`, the budget less the reserve.
///
/// Measured with its `type` entry, the JSON is at least the size of the
/// rest of it plus the `type` entry, less one byte (a context holding only
/// `type` loses no comma), so `size < room` leaves the trimming below
/// nothing to do. The size is counted as [`json_size`] counts, never less
/// than the `Value` the trimming would measure (a key written twice by a
/// flattened map counts twice here, once there).
fn clearly_within_limits(context: &Context, room: usize, depth: usize) -> bool {
    let (values, level) = free_values(context);
    values
        .values()
        .all(|value| within_depth(value, level, depth))
        && context_size(context) < room
}

/// The free JSON values of `context` and the level they sit at (the
/// context is level 1); its other fields are strings, numbers and
/// timestamps.
fn free_values(context: &Context) -> (&Map<String, Value>, usize) {
    match context {
        // Flattened into the context.
        Context::Os(os) => (&os.other, 2),
        Context::Runtime(runtime) => (&runtime.other, 2),
        Context::Device(device) => (&device.other, 2),
        Context::App(app) => (&app.other, 2),
        Context::Other(map) => (map, 2),
        Context::Feedback(feedback) => (&feedback.other, 2),
        // Inside the context's `data` object.
        Context::Trace(trace) => (&trace.data, 3),
    }
}

/// Room for the fields Relay adds to an `os` or `runtime` context before
/// it measures it: `os`/`runtime` = "name version" when there is a name;
/// otherwise it parses `raw_description` into `name`, `version`, `build`
/// and that same field, together at most about twice its size.
fn derived_reserve(
    name: &Option<String>,
    version: &Option<String>,
    raw_description: &Option<String>,
) -> usize {
    let size = |field: &Option<String>| field.as_deref().map_or(0, str_size);
    if name.is_some() {
        size(name) + size(version) + 16
    } else if raw_description.is_some() {
        2 * size(raw_description) + 48
    } else {
        16
    }
}
