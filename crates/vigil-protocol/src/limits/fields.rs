//! Relay's per-field limits (the table in the [`limits`](super) docs) and
//! [`trim_event`], which applies them to a whole event.
//!
//! The event's own attributes (message, log entry, names, release, extra,
//! modules, SDK) are fitted here; the interfaces, the request, contexts,
//! tags, spans and the transaction's attributes in the child modules.

pub(super) mod contexts;
pub(crate) mod interfaces;
mod request;
mod span;
mod tags;
pub(super) mod transaction;

use std::collections::BTreeMap;

use serde_json::Value;

use self::contexts::trim_context;
use self::interfaces::{trim_breadcrumb, trim_exception, trim_thread, trim_user};
use self::request::trim_request;
use self::tags::trim_tags;
use super::bags::{fit_bag, fit_string_pairs};
use super::json_size::{json_size, map_size, str_size};
use super::text::{trim_whitespace, truncate_bytes, truncate_chars, truncate_cow, truncate_opt};
use crate::event::Event;
use crate::sdk::ClientSdkInfo;

/// The limit of messages and other long texts (exception values,
/// descriptions), shared with the child modules.
const MESSAGE_CHARS: usize = 8192;
const LOGGER_CHARS: usize = 64;
const TRANSACTION_CHARS: usize = 200;
const SERVER_NAME_CHARS: usize = 200;
const RELEASE_BYTES: usize = 200;
const ENVIRONMENT_BYTES: usize = 64;
const DIST_CHARS: usize = 64;
const SDK_CHARS: usize = 256;

/// `(bytes, depth)` of each data bag.
const PARAMS_BAG: (usize, usize) = (2048, 5);
const EXTRA_VALUE_BAG: (usize, usize) = (16 * 1024, 7);
const EXTRA_TOTAL_BYTES: usize = 256 * 1024;
const MODULES_BYTES: usize = 8 * 1024;

/// Applies Relay's length and size limits to `event` in place (see the
/// [module documentation](super) for the full list).
///
/// Call it before serializing: afterwards Relay's normalizer neither trims
/// nor rejects any field. It does not make the event fit
/// [`MAX_EVENT_SIZE`](super::MAX_EVENT_SIZE);
/// [`shed_heavy_parts`](super::shed_heavy_parts) does that.
///
/// ```
/// use vigil_protocol::{Event, limits};
/// let mut event = Event {
///     message: Some("x".repeat(10_000)),
///     tags: [("user name".into(), "a\nb".into())].into(),
///     ..Default::default()
/// };
/// limits::trim_event(&mut event);
/// assert_eq!(event.message.as_ref().unwrap().chars().count(), 8192);
/// assert!(event.message.as_ref().unwrap().ends_with("..."));
/// assert_eq!(event.tags["user-name"], "a b");
/// ```
pub fn trim_event(event: &mut Event) {
    truncate_opt(&mut event.message, MESSAGE_CHARS);
    // Relay rejects a log entry with neither `message` nor `formatted`.
    if event
        .logentry
        .as_ref()
        .is_some_and(|l| l.message.is_none() && l.formatted.is_none())
    {
        event.logentry = None;
    }
    if let Some(logentry) = &mut event.logentry {
        let mut message_chars = MESSAGE_CHARS;
        if !logentry.params.is_empty() {
            let mut params = Value::Array(std::mem::take(&mut logentry.params));
            fit_bag(&mut params, PARAMS_BAG, 1);
            if logentry.formatted.is_none() {
                // Relay fills `formatted` by putting the params into
                // `message`; leave room for them so it is not trimmed.
                message_chars = message_chars.saturating_sub(json_size(&params));
            }
            if let Value::Array(params) = params {
                logentry.params = params;
            }
        }
        truncate_opt(&mut logentry.message, message_chars);
        truncate_opt(&mut logentry.formatted, MESSAGE_CHARS);
    }

    if let Some(logger) = &mut event.logger {
        logger.retain(|c| c != '\r' && c != '\n');
        truncate_chars(logger, LOGGER_CHARS);
    }
    trim_transaction_name(&mut event.transaction);
    truncate_opt(&mut event.server_name, SERVER_NAME_CHARS);
    clean_release(&mut event.release);
    clean_environment(&mut event.environment);
    clean_dist(&mut event.dist);

    for exception in &mut event.exception.values {
        trim_exception(exception);
    }
    for thread in &mut event.threads.values {
        trim_thread(thread);
    }
    event.breadcrumbs.fit_changed(trim_breadcrumb);
    if let Some(user) = &mut event.user {
        trim_user(user);
    }
    if let Some(request) = &mut event.request {
        trim_request(request);
    }
    for (name, context) in &mut event.contexts {
        trim_context(name, context);
    }

    trim_tags(&mut event.tags);
    trim_extra(&mut event.extra);
    fit_string_pairs(&mut event.modules, MODULES_BYTES);

    trim_sdk(&mut event.sdk);
}

/// Removes surrounding whitespace from a transaction name and cuts it to
/// 200 characters.
fn trim_transaction_name(name: &mut Option<String>) {
    if let Some(name) = name {
        trim_whitespace(name);
        truncate_chars(name, TRANSACTION_CHARS);
    }
}

/// Cuts the SDK's name and version to 256 characters.
fn trim_sdk(sdk: &mut Option<ClientSdkInfo>) {
    if let Some(sdk) = sdk {
        truncate_cow(&mut sdk.name, SDK_CHARS);
        truncate_cow(&mut sdk.version, SDK_CHARS);
    }
}

/// A character Relay rejects in a release or an environment.
fn is_bad_name_char(c: char) -> bool {
    c == '/' || c == '\\' || c.is_ascii_control()
}

fn clean_release(release: &mut Option<String>) {
    let Some(r) = release else { return };
    trim_whitespace(r);
    if r.is_empty()
        || r == "."
        || r == ".."
        || r.eq_ignore_ascii_case("latest")
        || r.contains(is_bad_name_char)
    {
        *release = None;
        return;
    }
    truncate_bytes(r, RELEASE_BYTES);
}

fn clean_environment(environment: &mut Option<String>) {
    let Some(e) = environment else { return };
    trim_whitespace(e);
    if e.is_empty()
        || e == "."
        || e == ".."
        || e.eq_ignore_ascii_case("none")
        || e.contains(is_bad_name_char)
    {
        *environment = None;
        return;
    }
    truncate_bytes(e, ENVIRONMENT_BYTES);
}

fn clean_dist(dist: &mut Option<String>) {
    let Some(d) = dist else { return };
    trim_whitespace(d);
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if d.is_empty() || !d.chars().all(valid) {
        *dist = None;
        return;
    }
    truncate_chars(d, DIST_CHARS);
}

fn trim_extra(extra: &mut BTreeMap<String, Value>) {
    if extra.is_empty() {
        return;
    }
    for value in extra.values_mut() {
        // The values sit at level 2 below `extra`.
        if !fit_bag(value, EXTRA_VALUE_BAG, 2) {
            *value = Value::Null;
        }
    }
    let mut total = map_size(extra);
    if total <= EXTRA_TOTAL_BYTES {
        return;
    }
    let mut by_size: Vec<(usize, String)> = extra
        .iter()
        .map(|(k, v)| (str_size(k) + 1 + json_size(v) + 1, k.clone()))
        .collect();
    by_size.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    for (size, key) in by_size {
        if total <= EXTRA_TOTAL_BYTES {
            break;
        }
        extra.remove(&key);
        total = total.saturating_sub(size);
    }
}
