//! Relay's length and size limits, applied to an event before it is sent
//! (`protocol.md` §3.8).
//!
//! Relay trims over-long values when it ingests an event and rejects a few
//! malformed ones. [`trim_event`] does the same on the client, before
//! serializing, so that Relay's normalizer has nothing left to trim or
//! reject and servers that do not normalize (Bugsink, GlitchTip) store the
//! same data Sentry would. If the serialized event is still larger than
//! [`MAX_EVENT_SIZE`], the client calls [`shed_heavy_parts`] until it fits
//! or nothing optional is left.
//!
//! # Conventions
//!
//! - A string over a length limit is cut on a character boundary to
//!   `limit - 3` characters followed by `...`, so it ends up exactly `limit`
//!   characters long. `release` and `environment` are limited in bytes, as
//!   Relay counts them in bytes (the same for ASCII).
//! - A *data bag* (free JSON such as `extra`, breadcrumb `data`, contexts)
//!   has a byte budget and a depth limit. Sizes are measured as compact
//!   JSON (floats counted as Rust's `Display` writes them, which is how
//!   Relay counts them), which is never smaller than Relay's own estimate.
//!   An object over its budget has its largest entry cut to what is still
//!   needed (or dropped, when cutting cannot be enough) until it fits; an
//!   array keeps its leading elements, cuts the first one that does not fit
//!   whole into the space left and drops the rest; strings end in `...`.
//! - An array or object nested deeper than a bag's depth limit is replaced
//!   by its compact JSON text, exactly what Relay does silently; counting
//!   the bag itself as level 1, containers at the last level become text.
//!
//! # Limits
//!
//! | field | limit |
//! |---|---|
//! | `message`, `logentry.message`, `logentry.formatted` | 8192 chars; a `logentry` with neither `message` nor `formatted` is removed |
//! | `logentry.params` | 2 KiB, depth 5; without `formatted`, `message` is shortened by their size (Relay substitutes them into it) |
//! | `exception[].type` / `.module` / `.value` | 256 / 256 / 8192 chars |
//! | `mechanism.type` / `.source` / `.help_link` / `.description` | 128 / 128 / 256 / 8192 chars |
//! | `mechanism.data` | 2 KiB, depth 5 |
//! | stack traces (exceptions and threads) | the newest 250 frames; an empty stack trace is removed |
//! | `frame.function`, `frame.raw_function` | 512 chars |
//! | `threads[].name` | 1024 chars |
//! | `logger` | 64 chars, `\r` and `\n` removed |
//! | `transaction` | 200 chars, surrounding whitespace removed |
//! | `server_name` | 200 chars (Relay copies it into a `server_name` tag, whose values are limited to 200) |
//! | `release` | 200 bytes, whitespace trimmed; removed when empty, `.`, `..`, `latest` or containing `/`, `\` or a control character |
//! | `environment` | 64 bytes, whitespace trimmed; removed when empty, `.`, `..`, `none` or containing `/`, `\` or a control character |
//! | `dist` | 64 chars, whitespace trimmed; removed when empty or containing a character other than `a-zA-Z0-9_.-` |
//! | tag keys | 200 chars; a space becomes `-`, any other character outside `a-zA-Z0-9_.:-` becomes `_` |
//! | tag values | 200 chars; `\r`/`\n` become spaces, surrounding whitespace is removed |
//! | tags | removed when the key or the value ends up empty; when two keys become equal, the one that was already valid wins |
//! | `user.email` / `.id` / `.username` | 75 / 128 / 128 chars |
//! | `user.ip_address` | removed unless an IP address or `{{auto}}` |
//! | `user.geo.*` | 1024 chars |
//! | `request.url` | 256 chars once percent-encoded (Relay re-encodes URLs before measuring them) |
//! | `request.data` | 8 KiB, depth 7 |
//! | `request.headers` / `.env` | 8 KiB each |
//! | `request.query_string` / `.cookies` | 1 KiB / 2 KiB, cut between `&`- / `;`-separated pairs |
//! | `request.cookies` pairs | removed when Relay cannot parse them: no `=`, an empty name, or not UTF-8 once percent-decoded |
//! | `breadcrumbs[].type` / `.category` / `.message` | 128 / 128 / 8192 chars |
//! | `breadcrumbs[].data` | 2 KiB per breadcrumb, depth 5 |
//! | `extra` | each value 16 KiB, depth 7; all values together 256 KiB (the largest values are dropped first) |
//! | `contexts` | 8 KiB per context, depth 7; `type` is never cut off |
//! | `os` and `runtime` contexts | `name`, `version`, `build`, `kernel_version`, `raw_description` 1 KiB each (as JSON); the 8 KiB include room for the `os`/`runtime` field Relay derives from them |
//! | `trace` context | `op` and `origin` 128 chars; `origin` removed unless made of `a-zA-Z0-9_.`; `status` removed unless a span status Relay knows |
//! | `modules` | 8 KiB |
//! | `sdk.name` / `.version` | 256 chars |
//!
//! `fingerprint` entries are strings by construction ([`Event::fingerprint`]
//! is a `Vec<String>`), and Relay puts no limit on them.
//!
//! Tags named `release`, `dist`, `user`, `filename` or `function` are kept:
//! Relay drops them silently (its validator reports nothing), while Bugsink
//! and GlitchTip store them as sent, so removing them on the client would
//! only lose data.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde_json::Value;

use crate::{
    Breadcrumb, Context, Event, Exception, Frame, Request, SmolStr, Stacktrace, Thread, User,
};

/// The largest serialized `event` item Sentry accepts: 1 MiB.
///
/// The client serializes a trimmed event and, while it is larger than this,
/// calls [`shed_heavy_parts`].
pub const MAX_EVENT_SIZE: usize = 1024 * 1024;

const ELLIPSIS: &str = "...";

const MESSAGE_CHARS: usize = 8192;
const EXCEPTION_TYPE_CHARS: usize = 256;
const MODULE_CHARS: usize = 256;
const MECHANISM_TYPE_CHARS: usize = 128;
const MECHANISM_SOURCE_CHARS: usize = 128;
const HELP_LINK_CHARS: usize = 256;
const FUNCTION_CHARS: usize = 512;
const THREAD_NAME_CHARS: usize = 1024;
const LOGGER_CHARS: usize = 64;
const TRANSACTION_CHARS: usize = 200;
const SERVER_NAME_CHARS: usize = 200;
const RELEASE_BYTES: usize = 200;
const ENVIRONMENT_BYTES: usize = 64;
const DIST_CHARS: usize = 64;
const TAG_KEY_CHARS: usize = 200;
const TAG_VALUE_CHARS: usize = 200;
const EMAIL_CHARS: usize = 75;
const USER_ID_CHARS: usize = 128;
const USERNAME_CHARS: usize = 128;
const GEO_CHARS: usize = 1024;
const URL_CHARS: usize = 256;
const BREADCRUMB_TYPE_CHARS: usize = 128;
const BREADCRUMB_CATEGORY_CHARS: usize = 128;
const TRACE_OP_CHARS: usize = 128;
const SDK_CHARS: usize = 256;
/// Caps `os`/`runtime` name-like fields (in bytes of JSON) so the room kept
/// for Relay's derived fields stays bounded.
const OS_RUNTIME_FIELD_BYTES: usize = 1024;

const MAX_FRAMES: usize = 250;

/// The span statuses Relay accepts in `contexts.trace.status`.
const SPAN_STATUSES: [&str; 19] = [
    "ok",
    "cancelled",
    "unknown",
    "unknown_error",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal_error",
    "unavailable",
    "data_loss",
    "unauthenticated",
    "success",
];

/// `(bytes, depth)` of each data bag.
const PARAMS_BAG: (usize, usize) = (2048, 5);
const MECHANISM_DATA_BAG: (usize, usize) = (2048, 5);
const BREADCRUMB_DATA_BAG: (usize, usize) = (2048, 5);
const EXTRA_VALUE_BAG: (usize, usize) = (16 * 1024, 7);
const EXTRA_TOTAL_BYTES: usize = 256 * 1024;
const CONTEXT_BAG: (usize, usize) = (8 * 1024, 7);
const REQUEST_DATA_BAG: (usize, usize) = (8 * 1024, 7);
const REQUEST_HEADERS_BYTES: usize = 8 * 1024;
const REQUEST_ENV_BYTES: usize = 8 * 1024;
const QUERY_STRING_BYTES: usize = 1024;
const COOKIES_BYTES: usize = 2048;
const MODULES_BYTES: usize = 8 * 1024;

/// What Relay's size estimate may add per `k=v` pair of a query string or
/// cookie header once it has parsed them into `[["k","v"], ...]`.
const PAIR_OVERHEAD: usize = 12;

/// What Relay's estimate of a `[key, value]` header pair may exceed the
/// compact `"key":"value"` form by.
const PAIR_EXTRA: usize = 4;

/// Stack traces longer than this lose frame details in [`shed_heavy_parts`].
const DETAILED_FRAMES: usize = 50;
/// Breadcrumbs kept by the first breadcrumb step of [`shed_heavy_parts`].
const SHED_KEEP_BREADCRUMBS: usize = 10;
/// Contexts [`shed_heavy_parts`] never removes.
const CORE_CONTEXTS: [&str; 5] = ["os", "runtime", "device", "app", "trace"];

/// Applies Relay's length and size limits to `event` in place (see the
/// [module documentation](self) for the full list).
///
/// Call it before serializing: afterwards Relay's normalizer neither trims
/// nor rejects any field. It does not make the event fit
/// [`MAX_EVENT_SIZE`]; [`shed_heavy_parts`] does that.
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
    if let Some(transaction) = &mut event.transaction {
        trim_whitespace(transaction);
        truncate_chars(transaction, TRANSACTION_CHARS);
    }
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

    if let Some(sdk) = &mut event.sdk {
        truncate_cow(&mut sdk.name, SDK_CHARS);
        truncate_cow(&mut sdk.version, SDK_CHARS);
    }
}

/// Removes the next heaviest optional part of `event`; returns `false` when
/// nothing is left to remove.
///
/// The client calls this repeatedly while the serialized event is larger
/// than [`MAX_EVENT_SIZE`]. Each call performs the first of these steps
/// that changes something:
///
/// 1. remove the `data` of every breadcrumb;
/// 2. remove the request body (`request.data`);
/// 3. remove `extra`;
/// 4. in every stack trace longer than 50 frames, strip the details of all
///    but the newest 50 frames: `raw_function` (when `function` is set),
///    `abs_path` (when `filename` is set), `module`, `colno`,
///    `symbol_addr` and `instruction_addr` (when `function` or `filename`
///    is set);
/// 5. keep only the newest 10 breadcrumbs;
/// 6. remove all breadcrumbs;
/// 7. remove every context other than `os`, `runtime`, `device`, `app` and
///    `trace`.
///
/// ```
/// use vigil_protocol::{Event, Value, limits};
/// let mut event = Event::new();
/// event.extra.insert("blob".into(), Value::from("x".repeat(100)));
/// assert!(limits::shed_heavy_parts(&mut event));
/// assert!(event.extra.is_empty());
/// assert!(!limits::shed_heavy_parts(&mut event));
/// ```
pub fn shed_heavy_parts(event: &mut Event) -> bool {
    shed_breadcrumb_data(event)
        || event
            .request
            .as_mut()
            .is_some_and(|r| r.data.take().is_some())
        || shed_extra(event)
        || shed_frame_details(event)
        || shed_breadcrumbs(event, SHED_KEEP_BREADCRUMBS)
        || shed_breadcrumbs(event, 0)
        || shed_contexts(event)
}

fn shed_breadcrumb_data(event: &mut Event) -> bool {
    event
        .breadcrumbs
        .change_where(|crumb| !crumb.data.is_empty(), |crumb| crumb.data.clear())
}

fn shed_extra(event: &mut Event) -> bool {
    let changed = !event.extra.is_empty();
    event.extra.clear();
    changed
}

fn shed_frame_details(event: &mut Event) -> bool {
    let exceptions = event.exception.values.iter_mut().map(|e| &mut e.stacktrace);
    let threads = event.threads.values.iter_mut().map(|t| &mut t.stacktrace);
    let mut changed = false;
    for stacktrace in exceptions.chain(threads).flatten() {
        let frames = &mut stacktrace.frames;
        let older = frames.len().saturating_sub(DETAILED_FRAMES);
        for frame in &mut frames[..older] {
            changed |= strip_frame(frame);
        }
    }
    changed
}

/// Keeps one name and one location of a frame. Returns whether anything
/// was removed.
fn strip_frame(frame: &mut Frame) -> bool {
    let mut changed = false;
    if frame.function.is_some() {
        changed |= frame.raw_function.take().is_some();
    }
    if frame.filename.is_some() {
        changed |= frame.abs_path.take().is_some();
    }
    if frame.function.is_some() || frame.filename.is_some() {
        changed |= frame.instruction_addr.take().is_some();
    }
    changed |= frame.module.take().is_some();
    changed |= frame.colno.take().is_some();
    changed |= frame.symbol_addr.take().is_some();
    changed
}

fn shed_breadcrumbs(event: &mut Event, keep: usize) -> bool {
    if event.breadcrumbs.len() <= keep {
        return false;
    }
    event.breadcrumbs.keep_newest(keep);
    true
}

fn shed_contexts(event: &mut Event) -> bool {
    let before = event.contexts.len();
    event
        .contexts
        .retain(|name, _| CORE_CONTEXTS.contains(&name.as_str()));
    event.contexts.len() != before
}

// ---------------------------------------------------------------- strings

/// Cuts `s` to `limit` characters (`limit - 3` plus `...`) if it is longer.
fn truncate_chars(s: &mut String, limit: usize) {
    // A string of at most `limit` bytes has at most `limit` chars.
    if s.len() <= limit || s.chars().nth(limit).is_none() {
        return;
    }
    let keep = limit.saturating_sub(ELLIPSIS.len());
    let cut = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    s.push_str(ELLIPSIS);
}

fn truncate_cow(s: &mut std::borrow::Cow<'static, str>, limit: usize) {
    if s.len() > limit {
        truncate_chars(s.to_mut(), limit);
    }
}

fn truncate_opt(s: &mut Option<String>, limit: usize) {
    if let Some(s) = s {
        truncate_chars(s, limit);
    }
}

fn fit_opt_str(s: &mut Option<String>, bytes: usize) {
    if let Some(text) = s {
        if !fit_str(text, bytes) {
            *s = None;
        }
    }
}

/// Cuts `s` to at most `limit` bytes (on a char boundary, plus `...`).
fn truncate_bytes(s: &mut String, limit: usize) {
    if s.len() <= limit {
        return;
    }
    let mut cut = limit.saturating_sub(ELLIPSIS.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s.push_str(ELLIPSIS);
}

/// How many characters `c` may become once Relay has parsed and
/// re-serialized a URL: percent-encoded (`%XX` per byte) or, in a host name,
/// Punycode (`xn--` and a few characters per code point).
fn url_len(c: char) -> usize {
    if c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%|^\\".contains(c) {
        1
    } else if c.is_ascii() {
        3
    } else {
        4 * c.len_utf8()
    }
}

/// Cuts a URL so that even its percent-encoded form has at most `limit`
/// characters (`...` included).
fn truncate_url(url: &mut String, limit: usize) {
    if url.chars().map(url_len).sum::<usize>() <= limit {
        return;
    }
    cut_with_ellipsis(url, limit.saturating_sub(ELLIPSIS.len()), url_len);
}

/// Cuts `s` after the longest prefix whose chars cost at most `room`
/// (each as `cost` says), then appends `...`.
fn cut_with_ellipsis(s: &mut String, room: usize, cost: impl Fn(char) -> usize) {
    let mut used = 0;
    let cut = s
        .char_indices()
        .find(|&(_, c)| {
            used += cost(c);
            used > room
        })
        .map_or(s.len(), |(i, _)| i);
    s.truncate(cut);
    s.push_str(ELLIPSIS);
}

fn trim_whitespace(s: &mut String) {
    if !s.starts_with(char::is_whitespace) && !s.ends_with(char::is_whitespace) {
        return;
    }
    let trimmed = s.trim();
    if trimmed.len() != s.len() {
        *s = trimmed.to_owned();
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

// ---------------------------------------------------------------- interfaces

fn trim_exception(exception: &mut Exception) {
    truncate_opt(&mut exception.ty, EXCEPTION_TYPE_CHARS);
    truncate_opt(&mut exception.value, MESSAGE_CHARS);
    truncate_opt(&mut exception.module, MODULE_CHARS);
    if let Some(mechanism) = &mut exception.mechanism {
        truncate_chars(&mut mechanism.ty, MECHANISM_TYPE_CHARS);
        truncate_opt(&mut mechanism.description, MESSAGE_CHARS);
        truncate_opt(&mut mechanism.help_link, HELP_LINK_CHARS);
        truncate_opt(&mut mechanism.source, MECHANISM_SOURCE_CHARS);
        fit_map_bag(&mut mechanism.data, MECHANISM_DATA_BAG);
    }
    trim_stacktrace(&mut exception.stacktrace);
}

fn trim_thread(thread: &mut Thread) {
    truncate_opt(&mut thread.name, THREAD_NAME_CHARS);
    trim_stacktrace(&mut thread.stacktrace);
}

/// Keeps the newest [`MAX_FRAMES`] frames; removes a stack trace without
/// frames (Relay rejects an empty `frames`).
fn trim_stacktrace(stacktrace: &mut Option<Stacktrace>) {
    let Some(st) = stacktrace else { return };
    if st.frames.is_empty() {
        *stacktrace = None;
        return;
    }
    if st.frames.len() > MAX_FRAMES {
        // Oldest first: the newest frames are at the end.
        st.frames.drain(..st.frames.len() - MAX_FRAMES);
    }
    for frame in &mut st.frames {
        truncate_opt(&mut frame.function, FUNCTION_CHARS);
        truncate_opt(&mut frame.raw_function, FUNCTION_CHARS);
    }
}

/// Fits one breadcrumb (done when it is added to a [`Breadcrumbs`](crate::Breadcrumbs)).
pub(crate) fn trim_breadcrumb(crumb: &mut Breadcrumb) {
    truncate_cow(&mut crumb.ty, BREADCRUMB_TYPE_CHARS);
    if let Some(category) = &mut crumb.category {
        truncate_cow(category, BREADCRUMB_CATEGORY_CHARS);
    }
    truncate_opt(&mut crumb.message, MESSAGE_CHARS);
    fit_map_bag(&mut crumb.data, BREADCRUMB_DATA_BAG);
}

fn trim_user(user: &mut User) {
    truncate_opt(&mut user.id, USER_ID_CHARS);
    truncate_opt(&mut user.username, USERNAME_CHARS);
    truncate_opt(&mut user.email, EMAIL_CHARS);
    if user
        .ip_address
        .as_deref()
        .is_some_and(|ip| ip != "{{auto}}" && ip.parse::<IpAddr>().is_err())
    {
        user.ip_address = None;
    }
    if let Some(geo) = &mut user.geo {
        truncate_opt(&mut geo.city, GEO_CHARS);
        truncate_opt(&mut geo.country_code, GEO_CHARS);
        truncate_opt(&mut geo.region, GEO_CHARS);
    }
}

fn trim_request(request: &mut Request) {
    if let Some(url) = &mut request.url {
        truncate_url(url, URL_CHARS);
    }
    if let Some(data) = &mut request.data {
        if !fit_bag(data, REQUEST_DATA_BAG, 1) {
            request.data = None;
        }
    }
    if let Some(query) = &mut request.query_string {
        fit_pair_list(query, '&', QUERY_STRING_BYTES);
    }
    if let Some(cookies) = &mut request.cookies {
        clean_cookies(cookies);
        fit_pair_list(cookies, ';', COOKIES_BYTES);
    }
    fit_string_pairs(&mut request.headers, REQUEST_HEADERS_BYTES);
    fit_string_pairs(&mut request.env, REQUEST_ENV_BYTES);
}

/// Removes the `;`-separated pairs of a cookie header that Relay rejects:
/// without `=`, with an empty name, or not UTF-8 once percent-decoded.
fn clean_cookies(cookies: &mut String) {
    let valid = |pair: &str| {
        let pair = pair.trim();
        pair.is_empty()
            || pair
                .split_once('=')
                .is_some_and(|(name, _)| !name.trim().is_empty() && percent_decodes(pair))
    };
    if cookies.split(';').all(valid) {
        return;
    }
    let kept: Vec<&str> = cookies
        .split(';')
        .filter(|pair| !pair.trim().is_empty() && valid(pair))
        .collect();
    *cookies = kept.join(";");
}

/// Whether percent-decoding `s` (`%XX` with two hex digits; anything else
/// stays as it is) gives UTF-8.
fn percent_decodes(s: &str) -> bool {
    if !s.contains('%') {
        return true;
    }
    let bytes = s.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if let (b'%', Some(&hi), Some(&lo)) = (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            if let (Some(hi), Some(lo)) = (hex(hi), hex(lo)) {
                decoded.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        decoded.push(bytes[i]);
        i += 1;
    }
    std::str::from_utf8(&decoded).is_ok()
}

fn trim_context(name: &str, context: &mut Context) {
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
            truncate_opt(&mut trace.op, TRACE_OP_CHARS);
            if let Some(Value::String(origin)) = trace.other.get_mut("origin") {
                truncate_chars(origin, TRACE_OP_CHARS);
                let valid = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.';
                if !origin.chars().all(valid) {
                    trace.other.remove("origin");
                }
            }
            if trace
                .status
                .as_deref()
                .is_some_and(|s| !SPAN_STATUSES.contains(&s))
            {
                trace.status = None;
            }
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

// ---------------------------------------------------------------- tags

fn is_tag_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-')
}

fn trim_tags(tags: &mut BTreeMap<SmolStr, SmolStr>) {
    // Checked on every event: bytes, not chars (a key char is ASCII).
    let needs_work = tags.iter().any(|(k, v)| {
        k.is_empty()
            || k.len() > TAG_KEY_CHARS
            || !k.bytes().all(|b| is_tag_key_char(char::from(b)))
            || v.is_empty()
            || v.len() > TAG_VALUE_CHARS
            || v.bytes().any(|b| b == b'\r' || b == b'\n')
            || v.starts_with(char::is_whitespace)
            || v.ends_with(char::is_whitespace)
    });
    if !needs_work {
        return;
    }
    let mut renamed = Vec::new();
    let mut out = BTreeMap::new();
    for (key, value) in std::mem::take(tags) {
        let key = String::from(key);
        let mut value = if value.contains(['\r', '\n']) {
            value.replace("\r\n", " ").replace(['\r', '\n'], " ")
        } else {
            String::from(value)
        };
        trim_whitespace(&mut value);
        truncate_chars(&mut value, TAG_VALUE_CHARS);
        if value.is_empty() {
            continue;
        }
        if key.chars().all(is_tag_key_char) {
            let mut key = key;
            truncate_chars(&mut key, TAG_KEY_CHARS);
            if !key.is_empty() {
                out.entry(SmolStr::from(key))
                    .or_insert_with(|| SmolStr::from(value));
            }
        } else {
            let mut key: String = key
                .chars()
                .map(|c| match c {
                    ' ' => '-',
                    c if is_tag_key_char(c) => c,
                    _ => '_',
                })
                .collect();
            truncate_chars(&mut key, TAG_KEY_CHARS);
            renamed.push((key, value));
        }
    }
    // Keys that were valid as given win over rewritten ones.
    for (key, value) in renamed {
        if !key.is_empty() {
            out.entry(SmolStr::from(key))
                .or_insert_with(|| SmolStr::from(value));
        }
    }
    *tags = out;
}

// ---------------------------------------------------------------- extra

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

// ---------------------------------------------------------------- data bags

/// Applies a bag's depth and size limits to `value`, which sits at `level`
/// (the bag itself is level 1). Returns `false` if nothing of it fits.
fn fit_bag(value: &mut Value, (bytes, depth): (usize, usize), level: usize) -> bool {
    limit_depth(value, level, depth);
    fit_value(value, bytes)
}

/// [`fit_bag`] for a bag held as a map (the map is level 1).
fn fit_map_bag(map: &mut BTreeMap<String, Value>, (bytes, depth): (usize, usize)) {
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
fn limit_depth(value: &mut Value, level: usize, max_depth: usize) -> bool {
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

/// Shrinks `value` so that [`json_size`] is at most `budget`: strings are
/// cut, arrays and objects keep their leading entries. Returns `false` if
/// not even a shortened value fits (the caller drops it).
fn fit_value(value: &mut Value, budget: usize) -> bool {
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
fn fit_string_pairs(map: &mut BTreeMap<String, String>, budget: usize) {
    // Relay counts about `["key","value"],` per header, one byte more than
    // that; the object form plus 4 bytes covers it.
    let entries: Vec<(String, usize)> = map
        .iter()
        .map(|(k, v)| (k.clone(), str_size(k) + 1 + str_size(v) + PAIR_EXTRA))
        .collect();
    let size = 2 + entries.iter().map(|(_, s)| s).sum::<usize>() + entries.len().saturating_sub(1);
    if size <= budget {
        return;
    }
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
fn fit_pair_list(s: &mut String, sep: char, budget: usize) {
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

// ---------------------------------------------------------------- sizes

/// The length of `c` inside a JSON string as `serde_json` writes it.
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if u32::from(c) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// The size of `s` as a JSON string, quotes included.
fn str_size(s: &str) -> usize {
    2 + s.chars().map(escaped_len).sum::<usize>()
}

/// The compact JSON size of `value`, counting each float as the longer of
/// `serde_json`'s and `Display`'s forms (Relay uses the latter, which
/// writes `1e300` with all its digits).
fn json_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => {
            let json = display_len(n);
            match n.as_f64() {
                Some(f) if n.is_f64() => json.max(display_len(&f)),
                _ => json,
            }
        }
        Value::String(s) => str_size(s),
        Value::Array(items) => {
            2 + items.iter().map(json_size).sum::<usize>() + items.len().saturating_sub(1)
        }
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| str_size(k) + 1 + json_size(v))
                .sum::<usize>()
                + map.len().saturating_sub(1)
        }
    }
}

fn map_size(map: &BTreeMap<String, Value>) -> usize {
    2 + map
        .iter()
        .map(|(k, v)| str_size(k) + 1 + json_size(v))
        .sum::<usize>()
        + map.len().saturating_sub(1)
}

fn display_len(value: &dyn fmt::Display) -> usize {
    struct Count(usize);
    impl fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = fmt::write(&mut count, format_args!("{value}"));
    count.0
}

#[cfg(test)]
mod tests;
