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
//! A transaction goes through [`fit_transaction`] instead: the same field
//! limits, the span limits below, then span data and whole spans (oldest
//! first) are shed until it fits [`MAX_EVENT_SIZE`].
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
//! | `trace` context | `op` and `origin` 128 chars; `origin` removed unless made of `a-zA-Z0-9_.`; `status` is a [`SpanStatus`](crate::SpanStatus), so always one Relay knows (reading JSON drops unknown names) |
//! | `feedback` context | `message` 4096 chars (Sentry's feedback limit; the 8 KiB of a context apply too) |
//! | `modules` | 8 KiB |
//! | `debug_meta` | none (Relay cuts neither paths nor the list of images) |
//! | `sdk.name` / `.version` | 256 chars |
//! | `spans[].op` / `.origin` | as in the `trace` context |
//! | `spans[].description` | 1024 chars (Relay does not cut it; a client-side bound) |
//! | `spans[].tags` values | 200 chars (Relay does not cut them) |
//! | `spans[].data` | as `extra` (Relay does not limit it) |
//!
//! `fingerprint` entries are strings by construction
//! ([`Event::fingerprint`](crate::Event::fingerprint) is a `Vec<String>`),
//! and Relay puts no limit on them.
//!
//! Tags named `release`, `dist`, `user`, `filename` or `function` are kept:
//! Relay drops them silently (its validator reports nothing), while Bugsink
//! and GlitchTip store them as sent, so removing them on the client would
//! only lose data.

// The field rules (the table above) live in `fields` and its children. They
// cut text with the helpers in `text` and fit data bags with those in
// `bags`, which measure JSON as Relay does (`json_size`). Shedding optional
// parts until an event fits `MAX_EVENT_SIZE` lives in `shedding`; fitting a
// transaction (its field rules are in `fields`) in `transaction`.

mod bags;
pub(crate) mod fields;
pub(crate) mod json_size;
mod shedding;
mod text;
mod transaction;

pub use self::fields::trim_event;
pub use self::shedding::shed_heavy_parts;
pub use self::transaction::fit_transaction;

/// The largest serialized `event` or `transaction` item Sentry accepts:
/// 1 MiB.
///
/// The client serializes a trimmed event and, while it is larger than this,
/// calls [`shed_heavy_parts`]; [`fit_transaction`] makes a transaction fit.
pub const MAX_EVENT_SIZE: usize = 1024 * 1024;

#[cfg(test)]
mod tests;
