//! Relay's typed attributes, shared by the item oracles whose records
//! carry them (`relay_logs.rs`, `relay_trace_metrics.rs`): each attribute
//! is `{"value", "type"}` (and an optional `unit`) with a type of
//! `string`, `boolean`, `integer` (an i64), `double` or `array` (of one
//! primitive type) whose value matches it (`protocol-telemetry.md` §D.2).

use serde_json::{Map, Value};

/// Whether `text` is `len` hex digits, of either case.
pub(crate) fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks a record's `attributes` field: an object of valid attributes.
/// Returns the object, for rules of the record that look at its keys.
pub(crate) fn check_attributes(attributes: &Value) -> Result<&Map<String, Value>, String> {
    let attributes = attributes
        .as_object()
        .ok_or("attributes is not an object")?;
    for (key, attribute) in attributes {
        check_attribute(attribute).map_err(|e| format!("attribute {key:?}: {e}"))?;
    }
    Ok(attributes)
}

/// The attribute type of a primitive JSON value, `None` for the others.
fn primitive(value: &Value) -> Option<&'static str> {
    Some(match value {
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() => "integer",
        Value::Number(n) if n.is_f64() => "double",
        _ => return None,
    })
}

/// Checks one attribute: known fields, a known type, a value of it.
fn check_attribute(attribute: &Value) -> Result<(), String> {
    let attribute = attribute.as_object().ok_or("not an object")?;
    if let Some(key) = attribute
        .keys()
        .find(|k| !["value", "type", "unit"].contains(&k.as_str()))
    {
        return Err(format!("unknown field {key:?}"));
    }
    let value = attribute.get("value").ok_or("no value")?;
    let ty = attribute
        .get("type")
        .and_then(Value::as_str)
        .ok_or("no type")?;
    let matches = match ty {
        "string" | "boolean" | "integer" => primitive(value) == Some(ty),
        // A whole number is a valid double too.
        "double" => value.is_number() && value.as_f64().is_some_and(f64::is_finite),
        "array" => value.as_array().is_some_and(|values| {
            let first = values.first().and_then(primitive);
            first.is_some() && values.iter().all(|v| primitive(v) == first)
        }),
        other => return Err(format!("unknown type {other:?}")),
    };
    if matches {
        Ok(())
    } else {
        Err(format!("value {value} is not of type {ty}"))
    }
}
