//! Limits of contexts: a size budget and depth per context, room for the
//! fields Relay derives in `os` and `runtime`, valid `trace` fields (its
//! `status` is valid by type: reading JSON drops unknown names).

use serde_json::Value;

use super::span::{clean_origin, trim_op};
use crate::context::Context;
use crate::limits::bags::{fit_opt_str, fit_value, limit_depth};
use crate::limits::json_size::{json_size, str_size};

/// Caps `os`/`runtime` name-like fields (in bytes of JSON) so the room kept
/// for Relay's derived fields stays bounded.
const OS_RUNTIME_FIELD_BYTES: usize = 1024;
/// `(bytes, depth)` of each context.
const CONTEXT_BAG: (usize, usize) = (8 * 1024, 7);

/// Fits the context called `name` to its size and depth limits, keeping
/// its `type` and room for what Relay adds to it.
pub(super) fn trim_context(name: &str, context: &mut Context) {
    let (budget, depth) = CONTEXT_BAG;
    // Relay adds fields to some contexts before it measures them.
    let reserve = match context {
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
        // Relay adds `"type": <name>` when it is missing.
        Context::Other(map) if !map.contains_key("type") => str_size(name) + str_size("type") + 2,
        _ => 0,
    };

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
    *context = serde_json::from_value(Value::Object(map.clone())).unwrap_or(Context::Other(map));
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
