//! Data bags: free JSON (`extra`, contexts, breadcrumb `data`, request
//! bodies and headers) fitted to a byte budget and a depth limit.

use std::collections::BTreeMap;

use serde_json::Value;

use super::json_size::{escaped_len, json_size, map_size, str_size};
use super::text::{ELLIPSIS, cut_with_ellipsis};

/// What Relay's size estimate may add per `k=v` pair of a query string or
/// cookie header once it has parsed them into `[["k","v"], ...]`.
pub(super) const PAIR_OVERHEAD: usize = 12;

/// What Relay's estimate of a `[key, value]` header pair may exceed the
/// compact `"key":"value"` form by.
const PAIR_EXTRA: usize = 4;

/// Applies a bag's depth and size limits to `value`, which sits at `level`
/// (the bag itself is level 1). Returns `false` if nothing of it fits.
pub(super) fn fit_bag(value: &mut Value, (bytes, depth): (usize, usize), level: usize) -> bool {
    limit_depth(value, level, depth);
    fit_value(value, bytes)
}

/// [`fit_bag`] for a bag held as a map (the map is level 1).
pub(super) fn fit_map_bag(map: &mut BTreeMap<String, Value>, (bytes, depth): (usize, usize)) {
    if map.is_empty() {
        return;
    }
    for value in map.values_mut() {
        limit_depth(value, 2, depth);
    }
    if map_size(map) <= bytes {
        return;
    }
    let mut value = Value::Object(std::mem::take(map).into_iter().collect());
    fit_value(&mut value, bytes);
    if let Value::Object(fitted) = value {
        *map = fitted.into_iter().collect();
    }
}

/// Replaces arrays and objects at `level >= max_depth` by their compact
/// JSON text. Returns whether anything changed.
pub(super) fn limit_depth(value: &mut Value, level: usize, max_depth: usize) -> bool {
    match value {
        Value::Array(_) | Value::Object(_) if level >= max_depth => {
            let text = serde_json::to_string(value).unwrap_or_default();
            *value = Value::String(text);
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |changed, v| {
            limit_depth(v, level + 1, max_depth) | changed
        }),
        Value::Object(map) => map.values_mut().fold(false, |changed, v| {
            limit_depth(v, level + 1, max_depth) | changed
        }),
        _ => false,
    }
}

/// Whether [`limit_depth`] would leave `value`, at `level`, unchanged: no
/// array or object in it sits at `max_depth` or deeper.
pub(super) fn within_depth(value: &Value, level: usize, max_depth: usize) -> bool {
    match value {
        Value::Array(_) | Value::Object(_) if level >= max_depth => false,
        Value::Array(items) => items.iter().all(|v| within_depth(v, level + 1, max_depth)),
        Value::Object(map) => map.values().all(|v| within_depth(v, level + 1, max_depth)),
        _ => true,
    }
}

/// Shrinks `value` so that [`json_size`] is at most `budget`: strings are
/// cut, arrays and objects keep their leading entries. Returns `false` if
/// not even a shortened value fits (the caller drops it).
pub(super) fn fit_value(value: &mut Value, budget: usize) -> bool {
    if json_size(value) <= budget {
        return true;
    }
    match value {
        Value::String(s) => fit_str(s, budget),
        Value::Array(items) => {
            if budget < 2 {
                return false;
            }
            let mut used = 2;
            let mut keep = 0;
            for item in items.iter_mut() {
                let sep = usize::from(keep > 0);
                let size = json_size(item);
                if used + sep + size <= budget {
                    used += sep + size;
                    keep += 1;
                    continue;
                }
                if used + sep < budget && fit_value(item, budget - used - sep) {
                    keep += 1;
                }
                break;
            }
            items.truncate(keep);
            true
        }
        Value::Object(map) => {
            let entries: Vec<(String, usize)> = map
                .iter()
                .map(|(k, v)| (k.clone(), str_size(k) + 1 + json_size(v)))
                .collect();
            shrink_largest_first(entries, budget, |key, target| match target {
                Some(target) => map.get_mut(key).is_some_and(|v| fit_value(v, target)),
                None => {
                    map.remove(key);
                    true
                }
            })
        }
        // Numbers, booleans and null cannot be shortened.
        _ => false,
    }
}

/// Cuts `s` so that its JSON form (quotes and escapes included) takes at
/// most `budget` bytes, ending in `...`.
fn fit_str(s: &mut String, budget: usize) -> bool {
    if str_size(s) <= budget {
        return true;
    }
    let Some(room) = budget.checked_sub(2 + ELLIPSIS.len()) else {
        return false;
    };
    cut_with_ellipsis(s, room, escaped_len);
    true
}

/// [`fit_str`] for an optional string, removing it when nothing of it fits.
pub(super) fn fit_opt_str(s: &mut Option<String>, bytes: usize) {
    if let Some(text) = s
        && !fit_str(text, bytes)
    {
        *s = None;
    }
}

/// Shrinks an object whose `entries` (key and size, separators excluded)
/// exceed `budget`: the largest entry is cut to what is still needed, or
/// dropped when cutting cannot make it small enough, until the object fits.
/// `apply(key, Some(target))` fits an entry's value into `target` bytes
/// (returning whether it could); `apply(key, None)` removes it.
fn shrink_largest_first(
    mut entries: Vec<(String, usize)>,
    budget: usize,
    mut apply: impl FnMut(&str, Option<usize>) -> bool,
) -> bool {
    if budget < 2 {
        return false;
    }
    let total = |entries: &[(String, usize)]| {
        2 + entries.iter().map(|(_, size)| size).sum::<usize>() + entries.len().saturating_sub(1)
    };
    // Ties go to the later key, so equal entries are dropped from the end.
    entries.sort_by_key(|(_, size)| *size);
    let mut size = total(&entries);
    while size > budget {
        let Some((key, entry_size)) = entries.pop() else {
            return false;
        };
        let excess = size - budget;
        let value_size = entry_size - (str_size(&key) + 1);
        // Cut the value if at least a few bytes of it can stay.
        if value_size >= excess + 8 && apply(&key, Some(value_size - excess)) {
            return true;
        }
        apply(&key, None);
        size = total(&entries);
    }
    true
}

/// Fits a map of strings that Relay measures as a list of `[key, value]`
/// pairs (request headers) or as an object (request env, modules), with
/// [`shrink_largest_first`].
pub(super) fn fit_string_pairs(map: &mut BTreeMap<String, String>, budget: usize) {
    // Relay counts about `["key","value"],` per header, one byte more than
    // that; the object form plus 4 bytes covers it.
    let entry_size = |k: &str, v: &str| str_size(k) + 1 + str_size(v) + PAIR_EXTRA;
    let size =
        2 + map.iter().map(|(k, v)| entry_size(k, v)).sum::<usize>() + map.len().saturating_sub(1);
    if size <= budget {
        return;
    }
    let entries: Vec<(String, usize)> = map
        .iter()
        .map(|(k, v)| (k.clone(), entry_size(k, v)))
        .collect();
    shrink_largest_first(entries, budget, |key, target| match target {
        // The pair overhead stays with the entry.
        Some(target) => map
            .get_mut(key)
            .is_some_and(|v| fit_str(v, target.saturating_sub(PAIR_EXTRA))),
        None => {
            map.remove(key);
            true
        }
    });
}

/// Fits a `k=v<sep>k=v` string (query string, cookie header) by cutting it
/// between pairs; a single pair that is too long is cut itself.
pub(super) fn fit_pair_list(s: &mut String, sep: char, budget: usize) {
    let cost = |pair: &str| str_size(pair) + PAIR_OVERHEAD;
    let mut used = 2;
    let mut offset = 0;
    let mut overflow = None;
    for (index, pair) in s.split(sep).enumerate() {
        if used + cost(pair) > budget {
            overflow = Some((index, offset));
            break;
        }
        used += cost(pair);
        offset += pair.len() + sep.len_utf8();
    }
    match overflow {
        None => {}
        Some((0, _)) => {
            // Even the first pair is too long: keep a cut version of it.
            let first = s.find(sep).unwrap_or(s.len());
            s.truncate(first);
            if !fit_str(s, budget.saturating_sub(2 + PAIR_OVERHEAD)) {
                s.clear();
            }
        }
        Some((_, start)) => s.truncate(start - sep.len_utf8()),
    }
}
