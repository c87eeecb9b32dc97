//! Release-health oracle: Relay's parsing and acceptance rules for the
//! `session` and `sessions` envelope items, restated here so that every
//! session item Vigil writes is checked by a strict, independent judge.
//!
//! No Python binding of Relay validates sessions, so the rules are ported:
//!
//! - The payload structs mirror `relay-event-schema`'s `protocol/session.rs`
//!   (`SessionUpdate`, `SessionAggregates`, `SessionAggregateItem`,
//!   `SessionAttributes`, `SessionStatus`, `AbnormalMechanism`): the same
//!   required fields, defaults, integer types and `null` handling, with the
//!   `uuid` crate's own parser for `sid`.
//! - The processing steps mirror `relay-server`'s session processing
//!   (`services/processor/session.rs`, now `processing/sessions/process.rs`):
//!   clock-drift correction from the envelope's `sent_at`, the
//!   `timestamp < started` fix-up, the 5-day / 60-second window around the
//!   receive time, release validation, and per-bucket checks in aggregates.
//! - Release and environment names follow `sentry-release-parser`'s
//!   `validate_release` / `validate_environment`, which Relay calls.
//!
//! Relay drops a bad bucket, removes a bad environment and ignores unknown
//! fields; to this oracle each of those is a failure, since a session the
//! server silently shortens is a session lost. It is stricter than Relay in
//! a few other places too, each marked "SDK rule" below: what the SDK spec
//! (and `protocol.md` §6, `protocol-telemetry.md` §C) asks of the sender.

use std::fmt;
use std::net::IpAddr;
use std::time::SystemTime;

use sentry_types::Uuid;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// How old a session timestamp may be at receipt (Relay's
/// `max_session_secs_in_past` default, `relay-config`).
const MAX_SESSION_AGE: Duration = Duration::days(5);

/// How far past the receive time a session timestamp may lie (Relay's
/// `max_secs_in_future` default, `relay-config`).
const MAX_TIME_IN_FUTURE: Duration = Duration::seconds(60);

/// The smallest difference between `sent_at` and the receive time that
/// Relay corrects (`MINIMUM_CLOCK_DRIFT`, 55 minutes, in `relay-server`).
const MINIMUM_CLOCK_DRIFT_SECS: u64 = 55 * 60;

/// The longest release name in bytes (`sentry-release-parser`).
const MAX_RELEASE_BYTES: usize = 200;

/// The longest environment name in bytes (`sentry-release-parser`).
const MAX_ENVIRONMENT_BYTES: usize = 64;

/// SDK rule: at most this many buckets in one `sessions` item.
const MAX_BUCKETS_PER_ITEM: usize = 100;

/// SDK rule: at most this many `session` and `sessions` items in one
/// envelope (Python's `MAX_ENVELOPE_ITEMS`, Relay's `max_session_count`).
const MAX_SESSION_ITEMS_PER_ENVELOPE: usize = 100;

/// The `ip_address` value Relay replaces with the client's address.
const AUTO_IP_ADDRESS: &str = "{{auto}}";

// ---------------------------------------------------------------------------
// Payloads as Relay parses them
// ---------------------------------------------------------------------------

/// A `session` item payload: one update of one session.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionUpdate {
    /// The session id; Relay invents a random one when it is absent, but
    /// rejects `null` and anything its UUID parser refuses.
    #[serde(default, deserialize_with = "present")]
    sid: Option<Uuid>,
    /// The distinct user or device id.
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed to check its type, as Relay does; no rule reads it"
    )]
    did: Option<String>,
    /// The logical clock; Relay defaults it to the current time in ms.
    #[serde(default, deserialize_with = "present")]
    seq: Option<u64>,
    /// True on the first update of the session.
    #[serde(default)]
    init: bool,
    /// When the update was made; Relay defaults it to the time it parses
    /// the item, which this oracle takes to be the receive time.
    #[serde(default, deserialize_with = "present_timestamp")]
    timestamp: Option<OffsetDateTime>,
    /// When the session started (required).
    #[serde(deserialize_with = "timestamp")]
    started: OffsetDateTime,
    /// Seconds since the start.
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed to check its type, as Relay does; no rule reads it"
    )]
    duration: Option<f64>,
    /// The state of the session.
    #[serde(default)]
    status: SessionStatus,
    /// How many errors the session saw.
    #[serde(default)]
    errors: u64,
    /// The attributes shared by every update of the session (required).
    attrs: SessionAttributes,
    /// Why an abnormal session ended; unknown names and `null` mean none.
    #[serde(default, deserialize_with = "null_as_default")]
    #[expect(
        dead_code,
        reason = "parsed to check its type, as Relay does; no rule reads it"
    )]
    abnormal_mechanism: AbnormalMechanism,
}

/// A `sessions` item payload: sessions counted per start minute.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionAggregates {
    /// The buckets (Relay lets the list be absent).
    #[serde(default)]
    aggregates: Vec<SessionAggregateItem>,
    /// The attributes every counted session shares (required).
    attrs: SessionAttributes,
}

/// One bucket of a `sessions` item.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionAggregateItem {
    /// The minute the counted sessions started in (required).
    #[serde(deserialize_with = "timestamp")]
    started: OffsetDateTime,
    /// The distinct user or device id of the counted sessions.
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed to check its type, as Relay does; no rule reads it"
    )]
    did: Option<String>,
    /// Sessions that ended normally without errors.
    #[serde(default)]
    exited: u32,
    /// Sessions that ended normally after errors.
    #[serde(default)]
    errored: u32,
    /// Sessions whose end is unknown.
    #[serde(default)]
    abnormal: u32,
    /// Sessions with an unhandled error that did not crash.
    #[serde(default)]
    unhandled: u32,
    /// Sessions that crashed.
    #[serde(default)]
    crashed: u32,
}

/// The `attrs` object of both payloads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SessionAttributes {
    /// The release (required).
    release: String,
    /// The environment.
    #[serde(default)]
    environment: Option<String>,
    /// The user's IP address, or `{{auto}}`.
    #[serde(default, deserialize_with = "ip_address")]
    #[expect(
        dead_code,
        reason = "checked while parsing, as Relay does; no rule reads it"
    )]
    ip_address: Option<String>,
    /// The user agent.
    #[serde(default)]
    #[expect(
        dead_code,
        reason = "parsed to check its type, as Relay does; no rule reads it"
    )]
    user_agent: Option<String>,
}

/// A session's state. Relay reads any string: names it does not know
/// become `Unknown`.
#[derive(Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(from = "String")]
enum SessionStatus {
    /// In progress.
    #[default]
    Ok,
    /// Ended normally.
    Exited,
    /// Ended by a crash.
    Crashed,
    /// Ended in an unknown way.
    Abnormal,
    /// Ended normally after errors (an aggregate bucket name).
    Errored,
    /// Had an unhandled error without crashing.
    Unhandled,
    /// Any other name.
    Unknown(String),
}

impl From<String> for SessionStatus {
    fn from(name: String) -> SessionStatus {
        match name.as_str() {
            "ok" => SessionStatus::Ok,
            "exited" => SessionStatus::Exited,
            "crashed" => SessionStatus::Crashed,
            "abnormal" => SessionStatus::Abnormal,
            "errored" => SessionStatus::Errored,
            "unhandled" => SessionStatus::Unhandled,
            _ => SessionStatus::Unknown(name),
        }
    }
}

/// Why an abnormal session ended. Relay maps unknown names to `None`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AbnormalMechanism {
    /// An "application not responding" in the foreground.
    AnrForeground,
    /// An "application not responding" in the background.
    AnrBackground,
    /// No mechanism, or one Relay does not know.
    #[serde(other)]
    #[default]
    None,
}

/// For a field with a default: when present, the value must parse as `T`
/// (so `null` is rejected, as by a plain serde field with a default).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// An RFC 3339 timestamp string, as the oracle requires. (Relay's chrono
/// also takes a space for the `T` and offsets without a colon; Vigil
/// never writes those, so the oracle does not accept them.)
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(d)?;
    parse_rfc3339(&text).map_err(serde::de::Error::custom)
}

/// [`timestamp`] for a field with a default.
fn present_timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
    timestamp(d).map(Some)
}

/// A value whose `null` means the default (Relay's `null_to_default`).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// An IP address string or `{{auto}}`, as Relay's `IpAddr` accepts.
fn ip_address<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let address = Option::<String>::deserialize(d)?;
    match &address {
        Some(text) if text != AUTO_IP_ADDRESS && text.parse::<IpAddr>().is_err() => Err(
            serde::de::Error::custom(format!("expected an ip address, got {text:?}")),
        ),
        _ => Ok(address),
    }
}

/// Parses an RFC 3339 timestamp into UTC.
fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(|t| t.to_offset(UtcOffset::UTC))
        .map_err(|e| format!("{text:?} is not an RFC 3339 timestamp: {e}"))
}

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

/// Why a release or environment name is refused.
#[derive(Debug, PartialEq, Eq)]
enum InvalidName {
    /// Longer than allowed (in bytes).
    TooLong,
    /// A reserved name.
    Restricted,
    /// Holds a character the Sentry API cannot carry.
    BadCharacters,
}

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidName::TooLong => "too long",
            InvalidName::Restricted => "a restricted name",
            InvalidName::BadCharacters => "has a character Sentry refuses",
        })
    }
}

/// The characters no release or environment may hold: `/`, `\`, and the
/// ASCII control characters (tab, CR and LF among them).
fn is_forbidden_name_char(c: char) -> bool {
    matches!(c, '/' | '\\' | '\u{7f}') || c < ' '
}

/// The checks release and environment names share, with their own length
/// limit and reserved word.
fn validate_name(name: &str, max_bytes: usize, reserved: &str) -> Result<(), InvalidName> {
    if name.len() > max_bytes {
        Err(InvalidName::TooLong)
    } else if name == "." || name == ".." || name.eq_ignore_ascii_case(reserved) {
        Err(InvalidName::Restricted)
    } else if name.chars().any(is_forbidden_name_char) {
        Err(InvalidName::BadCharacters)
    } else {
        Ok(())
    }
}

/// The release check Relay applies to session attributes (it does not
/// trim the name first).
fn validate_release(release: &str) -> Result<(), InvalidName> {
    validate_name(release, MAX_RELEASE_BYTES, "latest")
}

/// The environment check Relay applies to session attributes; an
/// environment that fails it is removed from the session.
fn validate_environment(environment: &str) -> Result<(), InvalidName> {
    validate_name(environment, MAX_ENVIRONMENT_BYTES, "none")
}

/// What `sentry_relay.processing.parse_release` accepts: the name trimmed,
/// then [`validate_release`].
fn parse_release_accepts(release: &str) -> bool {
    validate_release(release.trim()).is_ok()
}

// ---------------------------------------------------------------------------
// Processing
// ---------------------------------------------------------------------------

/// The receive side of an item: when it arrived and the `sent_at` header
/// of its envelope.
#[derive(Debug, Clone, Copy)]
struct Receipt {
    /// When the envelope was received.
    received_at: OffsetDateTime,
    /// The envelope's `sent_at` header, if any.
    sent_at: Option<OffsetDateTime>,
}

impl Receipt {
    /// The shift Relay adds to every client timestamp: the difference from
    /// `sent_at` to the receive time, when it is at least 55 minutes.
    fn clock_correction(&self) -> Option<Duration> {
        let drift = self.received_at - self.sent_at?;
        (drift.whole_seconds().unsigned_abs() >= MINIMUM_CLOCK_DRIFT_SECS).then_some(drift)
    }

    /// A client timestamp after clock-drift correction.
    fn corrected(&self, at: OffsetDateTime, what: &str) -> Result<OffsetDateTime, String> {
        match self.clock_correction() {
            None => Ok(at),
            Some(shift) => at
                .checked_add(shift)
                .ok_or_else(|| format!("{what} {at} is out of range after clock-drift correction")),
        }
    }

    /// Relay drops sessions whose (corrected) timestamps are more than 5
    /// days before, or more than 60 seconds after, the receive time.
    fn check_window(&self, at: OffsetDateTime, what: &str) -> Result<(), String> {
        if self.received_at - at > MAX_SESSION_AGE {
            Err(format!(
                "{what} {at} is more than 5 days before the receive time {}: Relay drops it",
                self.received_at
            ))
        } else if at - self.received_at > MAX_TIME_IN_FUTURE {
            Err(format!(
                "{what} {at} is more than 60 s after the receive time {}: Relay drops it",
                self.received_at
            ))
        } else {
            Ok(())
        }
    }
}

/// Checks one `session` or `sessions` item payload (`ty` is the item type)
/// as Relay would on receiving it at `received_at` in an envelope sent at
/// `sent_at`, plus the SDK rules. Every drop, repair or removal Relay
/// would make is an error.
pub(super) fn check_session_item(
    ty: &str,
    payload: &[u8],
    received_at: SystemTime,
    sent_at: Option<SystemTime>,
) -> Result<(), String> {
    let receipt = Receipt {
        received_at: OffsetDateTime::from(received_at),
        sent_at: sent_at.map(OffsetDateTime::from),
    };
    check_item(ty, payload, &receipt)
}

/// [`check_session_item`] with the receive side already converted.
fn check_item(ty: &str, payload: &[u8], receipt: &Receipt) -> Result<(), String> {
    match ty {
        "session" => check_update(payload, receipt),
        "sessions" => check_aggregates(payload, receipt),
        other => Err(format!("{other:?} is not a session item type")),
    }
}

/// A `session` item: parse, SDK rules, timestamps, attributes.
fn check_update(payload: &[u8], receipt: &Receipt) -> Result<(), String> {
    let update: SessionUpdate = serde_json::from_slice(payload)
        .map_err(|e| format!("Relay cannot parse the session update: {e}"))?;
    check_update_sdk_rules(&update)?;
    if update.seq == Some(u64::MAX) {
        return Err("seq is u64::MAX, which Relay's session processor drops as an overflow".into());
    }
    check_update_timestamps(&update, receipt)?;
    check_attributes(&update.attrs)
}

/// SDK rules for one update: only the four statuses the spec names,
/// `errors >= 1` when crashed, and a `sid` unless the first and only
/// update is already `exited`.
fn check_update_sdk_rules(update: &SessionUpdate) -> Result<(), String> {
    match &update.status {
        SessionStatus::Ok
        | SessionStatus::Exited
        | SessionStatus::Crashed
        | SessionStatus::Abnormal => {}
        SessionStatus::Errored => return Err(not_an_sdk_status("errored")),
        SessionStatus::Unhandled => return Err(not_an_sdk_status("unhandled")),
        SessionStatus::Unknown(name) => {
            return Err(format!(
                "status {name:?} is unknown (a processing Relay drops the session)"
            ));
        }
    }
    if update.status == SessionStatus::Crashed && update.errors == 0 {
        return Err("a crashed session must count at least one error".into());
    }
    if update.sid.is_none() && !(update.init && update.status == SessionStatus::Exited) {
        return Err("sid may be left out only when the first update is already exited".into());
    }
    Ok(())
}

/// The error for a status Relay knows but the SDK spec does not let an
/// SDK send in a single update.
fn not_an_sdk_status(name: &str) -> String {
    format!(
        "status {name:?} is not one an SDK sends (the spec lists ok, exited, crashed, abnormal)"
    )
}

/// Relay's timestamp steps for one update: default `timestamp` to the
/// receive time, correct clock drift, raise `timestamp` to `started` if
/// earlier, then require both inside the window.
fn check_update_timestamps(update: &SessionUpdate, receipt: &Receipt) -> Result<(), String> {
    let started = receipt.corrected(update.started, "started")?;
    let timestamp =
        receipt.corrected(update.timestamp.unwrap_or(receipt.received_at), "timestamp")?;
    let timestamp = timestamp.max(started);
    receipt.check_window(timestamp, "timestamp")?;
    receipt.check_window(started, "started")
}

/// A `sessions` item: parse, SDK rules, each bucket's start, attributes.
fn check_aggregates(payload: &[u8], receipt: &Receipt) -> Result<(), String> {
    let aggregates: SessionAggregates = serde_json::from_slice(payload)
        .map_err(|e| format!("Relay cannot parse the session aggregates: {e}"))?;
    check_bucket_count(aggregates.aggregates.len())?;
    for (index, bucket) in aggregates.aggregates.iter().enumerate() {
        check_bucket(bucket, receipt).map_err(|e| format!("bucket {index}: {e}"))?;
    }
    check_attributes(&aggregates.attrs)
}

/// SDK rule: a `sessions` item has between 1 and 100 buckets.
fn check_bucket_count(count: usize) -> Result<(), String> {
    if count == 0 {
        Err("a sessions item without buckets counts nothing".into())
    } else if count > MAX_BUCKETS_PER_ITEM {
        Err(format!(
            "{count} buckets in one sessions item; at most {MAX_BUCKETS_PER_ITEM}"
        ))
    } else {
        Ok(())
    }
}

/// One bucket: SDK rules (a whole minute, at least one session), then
/// Relay's window check on its corrected start (Relay drops the bucket).
fn check_bucket(bucket: &SessionAggregateItem, receipt: &Receipt) -> Result<(), String> {
    if bucket.started.second() != 0 || bucket.started.nanosecond() != 0 {
        return Err(format!(
            "started {} is not rounded down to a whole minute",
            bucket.started
        ));
    }
    if bucket_total(bucket) == 0 {
        return Err("the bucket counts no session".into());
    }
    let started = receipt.corrected(bucket.started, "started")?;
    receipt.check_window(started, "started")
}

/// How many sessions a bucket counts.
fn bucket_total(bucket: &SessionAggregateItem) -> u64 {
    [
        bucket.exited,
        bucket.errored,
        bucket.abnormal,
        bucket.unhandled,
        bucket.crashed,
    ]
    .into_iter()
    .map(u64::from)
    .sum()
}

/// The attributes: Relay's release check (a failure drops the session),
/// its environment check (a failure removes the environment, here an
/// error), and the SDK rule that the release is non-empty and untrimmed
/// (Relay keeps `" 1.0"` as is, while events' releases go through
/// `parse_release`, which trims, so the two would not match).
fn check_attributes(attrs: &SessionAttributes) -> Result<(), String> {
    validate_release(&attrs.release).map_err(|e| {
        format!(
            "release {:?} is {e}: Relay drops the session",
            attrs.release
        )
    })?;
    if attrs.release.is_empty() || attrs.release.trim() != attrs.release {
        return Err(format!(
            "release {:?} is empty or has surrounding whitespace",
            attrs.release
        ));
    }
    if let Some(environment) = &attrs.environment {
        validate_environment(environment).map_err(|e| {
            format!("environment {environment:?} is {e}: Relay removes it from the session")
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------

/// One item of an envelope exactly as written: its type and payload bytes.
#[derive(Debug)]
pub(super) struct WireItem<'a> {
    /// The item header's `type`.
    pub(super) ty: String,
    /// The payload bytes.
    pub(super) payload: &'a [u8],
}

/// An envelope split along its framing, payloads left uninterpreted.
#[derive(Debug)]
pub(super) struct WireEnvelope<'a> {
    /// The envelope header's `sent_at`, if any.
    pub(super) sent_at: Option<OffsetDateTime>,
    /// The items in order.
    pub(super) items: Vec<WireItem<'a>>,
}

/// Splits an envelope into its header and items by the framing rules: a
/// JSON header line, then for each item a JSON header line with a string
/// `type` and an optional `length`, and a payload of `length` bytes (or up
/// to the next newline) followed by a newline or the end. As in Relay,
/// whitespace before an item header is skipped.
pub(super) fn split_envelope(bytes: &[u8]) -> Result<WireEnvelope<'_>, String> {
    let (header_line, mut pos) = line_at(bytes, 0);
    let header = json_object(header_line, "envelope header")?;
    let sent_at = envelope_sent_at(&header)?;
    let mut items = Vec::new();
    loop {
        pos += bytes
            .get(pos..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        if pos >= bytes.len() {
            break;
        }
        let (item, next) = wire_item(bytes, pos, items.len())?;
        items.push(item);
        pos = next;
    }
    Ok(WireEnvelope { sent_at, items })
}

/// The item whose header starts at `start`, and where the next one may
/// start.
fn wire_item(bytes: &[u8], start: usize, index: usize) -> Result<(WireItem<'_>, usize), String> {
    let (header_line, after_header) = line_at(bytes, start);
    let header = json_object(header_line, &format!("item {index} header"))?;
    let ty = match header.get("type") {
        Some(Value::String(ty)) => ty.clone(),
        _ => return Err(format!("item {index} has no string type")),
    };
    let (payload, next) = match header.get("length") {
        None | Some(Value::Null) => line_at(bytes, after_header),
        Some(length) => {
            let length = length
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| format!("item {index} has a bad length {length}"))?;
            sized_payload(bytes, after_header, length)
                .ok_or_else(|| format!("item {index}: the payload does not match its length"))?
        }
    };
    Ok((WireItem { ty, payload }, next))
}

/// A payload of `length` bytes from `start`, which must be followed by a
/// newline or the end; and the position after it.
fn sized_payload(bytes: &[u8], start: usize, length: usize) -> Option<(&[u8], usize)> {
    let end = start.checked_add(length)?;
    let payload = bytes.get(start..end)?;
    match bytes.get(end) {
        None => Some((payload, end)),
        Some(b'\n') => Some((payload, end + 1)),
        Some(_) => None,
    }
}

/// The line starting at `start` (without its newline) and the position
/// after the newline (or the end).
fn line_at(bytes: &[u8], start: usize) -> (&[u8], usize) {
    let rest = bytes.get(start..).unwrap_or_default();
    match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], start + i + 1),
        None => (rest, bytes.len()),
    }
}

/// A header line as a JSON object.
fn json_object(line: &[u8], what: &str) -> Result<Map<String, Value>, String> {
    serde_json::from_slice(line).map_err(|e| format!("the {what} is not a JSON object: {e}"))
}

/// The envelope header's `sent_at`, which must be RFC 3339 when present.
fn envelope_sent_at(header: &Map<String, Value>) -> Result<Option<OffsetDateTime>, String> {
    match header.get("sent_at") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => parse_rfc3339(text).map(Some),
        Some(other) => Err(format!("sent_at {other} is not a string")),
    }
}

/// Checks every `session` and `sessions` item of an envelope received at
/// `received_at` (clock drift is measured against its `sent_at` header),
/// and the SDK rule of at most 100 such items per envelope. Returns how
/// many session items it checked.
pub(super) fn check_envelope_sessions(
    bytes: &[u8],
    received_at: SystemTime,
) -> Result<usize, String> {
    let envelope = split_envelope(bytes)?;
    let receipt = Receipt {
        received_at: OffsetDateTime::from(received_at),
        sent_at: envelope.sent_at,
    };
    let mut checked = 0;
    for (index, item) in envelope.items.iter().enumerate() {
        if item.ty == "session" || item.ty == "sessions" {
            check_item(&item.ty, item.payload, &receipt)
                .map_err(|e| format!("item {index} ({}): {e}", item.ty))?;
            checked += 1;
        }
    }
    if checked > MAX_SESSION_ITEMS_PER_ENVELOPE {
        return Err(format!(
            "{checked} session items in one envelope; at most {MAX_SESSION_ITEMS_PER_ENVELOPE}"
        ));
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::Write;
    use std::process::{Command, Stdio};

    use serde_json::json;

    /// The Python program that reads a JSON list of release names on stdin
    /// and prints, as a JSON list, whether `parse_release` accepts each.
    const PARSE_RELEASE_PROGRAM: &str = r#"
import json, sys
from sentry_relay.exceptions import InvalidReleaseError
from sentry_relay.processing import parse_release

def accepts(name):
    try:
        parse_release(name)
        return True
    except InvalidReleaseError:
        return False

print(json.dumps([accepts(name) for name in json.load(sys.stdin)]))
"#;

    /// Asks `sentry_relay.processing.parse_release` (through the venv's
    /// `python`) whether it accepts each name.
    fn python_parse_release_accepts(python: &str, names: &[String]) -> Vec<bool> {
        let mut child = Command::new(python)
            .arg("-c")
            .arg(PARSE_RELEASE_PROGRAM)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the tools venv's python runs");
        let input = serde_json::to_vec(names).expect("names serialize");
        {
            let mut stdin = child.stdin.take().expect("stdin is piped");
            stdin.write_all(&input).expect("python reads the names");
        }
        let out = child.wait_with_output().expect("python finishes");
        assert!(
            out.status.success(),
            "parse_release program failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("python prints a JSON list of booleans")
    }

    /// The moment every test treats as the receive time.
    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// `at` as RFC 3339 text.
    fn rfc3339(at: OffsetDateTime) -> String {
        at.format(&Rfc3339).expect("formats")
    }

    /// `at` rounded down to its minute.
    fn minute_of(at: OffsetDateTime) -> OffsetDateTime {
        at.replace_second(0)
            .and_then(|t| t.replace_nanosecond(0))
            .expect("valid time")
    }

    /// The C.1 example of `protocol-telemetry.md`, moved to `at`.
    fn documented_update(at: OffsetDateTime) -> Value {
        json!({
            "sid": "1884ec32-13b4-487e-b53f-05b018a20a8e",
            "init": true,
            "started": rfc3339(at - Duration::milliseconds(7100)),
            "timestamp": rfc3339(at),
            "status": "exited",
            "errors": 1,
            "duration": 7.1,
            "attrs": {"release": "vigil-demo@1.0.0", "environment": "staging"}
        })
    }

    /// The C.3 example of `protocol-telemetry.md`, moved to `at`'s minute.
    fn documented_aggregates(at: OffsetDateTime) -> Value {
        json!({
            "attrs": {"environment": "staging", "release": "vigil-demo@1.0.0"},
            "aggregates": [{"started": rfc3339(minute_of(at)), "exited": 2, "crashed": 1}]
        })
    }

    /// Checks a payload received now from an envelope sent now.
    fn check(ty: &str, payload: &Value) -> Result<(), String> {
        let now = SystemTime::now();
        check_session_item(ty, payload.to_string().as_bytes(), now, Some(now))
    }

    /// An update changed by `edit` is rejected, with a message naming
    /// `expected`.
    fn assert_update_rejected(edit: impl FnOnce(&mut Value), expected: &str) {
        let mut update = documented_update(now());
        edit(&mut update);
        let error = check("session", &update).expect_err("the oracle rejects the update");
        assert!(
            error.contains(expected),
            "expected an error about {expected:?}, got {error:?}"
        );
    }

    /// The update with its attributes' release set to `release`.
    fn with_release(release: &str) -> Value {
        let mut update = documented_update(now());
        update["attrs"]["release"] = json!(release);
        update
    }

    /// The C.1 example update passes.
    #[test]
    fn accepts_the_documented_update() {
        check("session", &documented_update(now())).unwrap();
    }

    /// The C.3 example aggregates pass.
    #[test]
    fn accepts_the_documented_aggregates() {
        check("sessions", &documented_aggregates(now())).unwrap();
    }

    /// Only `sid`, `started` and `attrs.release`: Relay fills in the rest.
    #[test]
    fn accepts_a_minimal_update_with_relays_defaults() {
        let update = json!({
            "sid": "1884ec3213b4487eb53f05b018a20a8e",
            "started": rfc3339(now()),
            "attrs": {"release": "app@1"}
        });
        check("session", &update).unwrap();
    }

    /// `started` is required (`SessionUpdate` has no default for it).
    #[test]
    fn rejects_a_missing_started() {
        assert_update_rejected(
            |u| drop(u.as_object_mut().unwrap().remove("started")),
            "started",
        );
    }

    /// `attrs` is required.
    #[test]
    fn rejects_missing_attrs() {
        assert_update_rejected(
            |u| drop(u.as_object_mut().unwrap().remove("attrs")),
            "attrs",
        );
    }

    /// `attrs.release` is required.
    #[test]
    fn rejects_a_missing_release() {
        assert_update_rejected(
            |u| drop(u["attrs"].as_object_mut().unwrap().remove("release")),
            "release",
        );
    }

    /// `sid` takes the forms the `uuid` crate parses, and no others.
    #[test]
    fn reads_sid_as_relays_uuid_parser_does() {
        for sid in [
            "1884ec32-13b4-487e-b53f-05b018a20a8e",
            "1884EC3213B4487EB53F05B018A20A8E",
            "{1884ec32-13b4-487e-b53f-05b018a20a8e}",
            "urn:uuid:1884ec32-13b4-487e-b53f-05b018a20a8e",
        ] {
            let mut update = documented_update(now());
            update["sid"] = json!(sid);
            check("session", &update).unwrap_or_else(|e| panic!("{sid}: {e}"));
        }
        for sid in [
            json!("not-a-uuid"),
            json!("1884ec32-13b4-487e-b53f-05b018a20a8"),
            json!("{1884ec3213b4487eb53f05b018a20a8e}"),
            json!("URN:UUID:1884ec32-13b4-487e-b53f-05b018a20a8e"),
            json!(null),
            json!(42),
        ] {
            assert_update_rejected(|u| u["sid"] = sid.clone(), "cannot parse");
        }
    }

    /// Counters are serde `u64` / `u32`; `seq` may not be `u64::MAX`.
    #[test]
    fn rejects_counters_that_are_not_non_negative_integers() {
        assert_update_rejected(|u| u["errors"] = json!(-1), "cannot parse");
        assert_update_rejected(|u| u["errors"] = json!(1.5), "cannot parse");
        assert_update_rejected(|u| u["seq"] = json!(-1), "cannot parse");
        assert_update_rejected(|u| u["seq"] = json!(null), "cannot parse");
        assert_update_rejected(|u| u["seq"] = json!(u64::MAX), "overflow");
        let mut aggregates = documented_aggregates(now());
        aggregates["aggregates"][0]["exited"] = json!(-2);
        assert!(check("sessions", &aggregates).is_err());
        aggregates["aggregates"][0]["exited"] = json!(2.5);
        assert!(check("sessions", &aggregates).is_err());
    }

    /// Timestamps are RFC 3339 strings.
    #[test]
    fn rejects_timestamps_that_are_not_rfc3339() {
        assert_update_rejected(
            |u| u["timestamp"] = json!("2026-12-04T15:06:50"),
            "RFC 3339",
        );
        assert_update_rejected(|u| u["timestamp"] = json!("yesterday"), "RFC 3339");
        assert_update_rejected(|u| u["timestamp"] = json!(1_780_000_000), "cannot parse");
        assert_update_rejected(|u| u["started"] = json!(null), "cannot parse");
    }

    /// `validate_release`: length, restricted names, forbidden characters.
    #[test]
    fn rejects_releases_relay_refuses() {
        for release in [
            "latest",
            "LATEST",
            "a/b",
            "a\\b",
            "a\tb",
            "a\nb",
            ".",
            "..",
            &"x".repeat(201),
        ] {
            let error = check("session", &with_release(release)).expect_err(release);
            assert!(error.contains("Relay drops"), "{release:?}: {error}");
        }
        check("session", &with_release(&"x".repeat(200))).unwrap();
        check("session", &with_release("app@1.2.3+build.5")).unwrap();
        check("session", &with_release("...")).unwrap();
    }

    /// Relay checks the release untrimmed; the SDK rule refuses empty or padded ones.
    #[test]
    fn relay_does_not_trim_releases_but_the_sdk_rule_refuses_padding() {
        assert_eq!(validate_release(" latest"), Ok(()));
        assert_eq!(validate_release(""), Ok(()));
        assert!(!parse_release_accepts(" latest"));
        for release in ["", " app@1", "app@1\n"] {
            assert!(
                check("session", &with_release(release)).is_err(),
                "{release:?}"
            );
        }
    }

    /// `validate_environment` failures, which Relay answers by removing it.
    #[test]
    fn rejects_an_environment_relay_would_remove() {
        for environment in ["none", "a/b", &"e".repeat(65)] {
            assert_update_rejected(
                |u| u["attrs"]["environment"] = json!(environment),
                "removes it",
            );
        }
    }

    /// `ip_address` is an IP address or `{{auto}}`.
    #[test]
    fn reads_ip_address_as_relay_does() {
        for address in ["{{auto}}", "127.0.0.1", "::1"] {
            let mut update = documented_update(now());
            update["attrs"]["ip_address"] = json!(address);
            check("session", &update).unwrap();
        }
        assert_update_rejected(
            |u| u["attrs"]["ip_address"] = json!("localhost"),
            "ip address",
        );
    }

    /// `max_session_secs_in_past`: 5 days.
    #[test]
    fn rejects_a_session_started_six_days_ago() {
        let started = now() - Duration::days(6);
        assert_update_rejected(|u| u["started"] = json!(rfc3339(started)), "5 days");
    }

    /// `max_secs_in_future`: 60 seconds.
    #[test]
    fn rejects_a_timestamp_two_minutes_ahead() {
        let ahead = now() + Duration::minutes(2);
        assert_update_rejected(|u| u["timestamp"] = json!(rfc3339(ahead)), "60 s");
    }

    /// A `timestamp` before `started` is raised to it, then checked.
    #[test]
    fn raises_a_timestamp_before_started_as_relay_does() {
        let mut update = documented_update(now());
        update["timestamp"] = json!(rfc3339(now() - Duration::hours(1)));
        check("session", &update).unwrap();
        // Raised to `started`, which is then too far ahead.
        update["started"] = json!(rfc3339(now() + Duration::minutes(5)));
        assert!(check("session", &update).is_err());
    }

    /// Drifts of 55 minutes or more are corrected from `sent_at`; smaller ones are not.
    #[test]
    fn corrects_clock_drift_from_sent_at() {
        let client_clock = now() - Duration::days(6);
        let mut update = documented_update(client_clock);
        let payload = update.to_string();
        let received = SystemTime::now();
        let sent = SystemTime::from(client_clock);
        check_session_item("session", payload.as_bytes(), received, Some(sent)).unwrap();
        assert!(check_session_item("session", payload.as_bytes(), received, None).is_err());

        // A drift under 55 minutes is not corrected.
        let client_clock = now() + Duration::minutes(50);
        update = documented_update(client_clock);
        let payload = update.to_string();
        let sent = SystemTime::from(client_clock);
        let error = check_session_item("session", payload.as_bytes(), received, Some(sent))
            .expect_err("a 50-minute drift is left alone");
        assert!(error.contains("60 s"), "{error}");
    }

    /// SDK rules: the four spec statuses, and errors when crashed.
    #[test]
    fn applies_the_sdk_status_rules() {
        assert_update_rejected(
            |u| {
                u["status"] = json!("crashed");
                u["errors"] = json!(0);
            },
            "at least one error",
        );
        for status in ["errored", "unhandled", "sleeping"] {
            assert_update_rejected(|u| u["status"] = json!(status), "status");
        }
        for status in ["ok", "exited", "crashed", "abnormal"] {
            let mut update = documented_update(now());
            update["status"] = json!(status);
            check("session", &update).unwrap_or_else(|e| panic!("{status}: {e}"));
        }
    }

    /// SDK rule: `sid` may be absent only on a first, exited update.
    #[test]
    fn leaves_out_sid_only_on_a_first_exited_update() {
        let mut update = documented_update(now());
        update.as_object_mut().unwrap().remove("sid");
        check("session", &update).unwrap();
        update["status"] = json!("ok");
        assert!(check("session", &update).is_err());
    }

    /// `abnormal_mechanism`: unknown names and `null` are none, other types fail.
    #[test]
    fn reads_abnormal_mechanism_as_relay_does() {
        for mechanism in [json!("anr_foreground"), json!("something_new"), json!(null)] {
            let mut update = documented_update(now());
            update["status"] = json!("abnormal");
            update["abnormal_mechanism"] = mechanism;
            check("session", &update).unwrap();
        }
        assert_update_rejected(|u| u["abnormal_mechanism"] = json!(3), "cannot parse");
    }

    /// Fields Relay would silently drop are errors.
    #[test]
    fn rejects_fields_relay_would_ignore() {
        assert_update_rejected(|u| u["errros"] = json!(1), "errros");
    }

    /// SDK rule: bucket starts are whole minutes.
    #[test]
    fn rejects_a_bucket_off_the_minute() {
        let mut aggregates = documented_aggregates(now());
        let off = minute_of(now()) + Duration::seconds(17);
        aggregates["aggregates"][0]["started"] = json!(rfc3339(off));
        let error = check("sessions", &aggregates).expect_err("not a whole minute");
        assert!(error.contains("whole minute"), "{error}");
    }

    /// A bucket outside the window, which Relay drops on its own, fails the item.
    #[test]
    fn rejects_a_bucket_relay_would_drop() {
        let mut aggregates = documented_aggregates(now());
        let old = minute_of(now() - Duration::days(6));
        let bucket = json!({"started": rfc3339(old), "exited": 1});
        aggregates["aggregates"]
            .as_array_mut()
            .unwrap()
            .push(bucket);
        let error = check("sessions", &aggregates).expect_err("the old bucket is dropped");
        assert!(
            error.contains("bucket 1") && error.contains("5 days"),
            "{error}"
        );
    }

    /// SDK rules: 1 to 100 buckets, each counting a session.
    #[test]
    fn applies_the_sdk_bucket_rules() {
        let mut aggregates = documented_aggregates(now());
        aggregates["aggregates"] = json!([]);
        assert!(check("sessions", &aggregates).is_err());
        aggregates["aggregates"] = json!([{"started": rfc3339(minute_of(now()))}]);
        assert!(check("sessions", &aggregates).is_err());
        let bucket = json!({"started": rfc3339(minute_of(now())), "exited": 1});
        aggregates["aggregates"] = Value::Array(vec![bucket; MAX_BUCKETS_PER_ITEM]);
        check("sessions", &aggregates).unwrap();
        aggregates["aggregates"]
            .as_array_mut()
            .unwrap()
            .push(json!({
                "started": rfc3339(minute_of(now())), "crashed": 1
            }));
        assert!(check("sessions", &aggregates).is_err());
    }

    /// `attrs` and each bucket's `started` are required.
    #[test]
    fn rejects_aggregates_without_attrs_or_with_a_missing_start() {
        let mut aggregates = documented_aggregates(now());
        aggregates.as_object_mut().unwrap().remove("attrs");
        assert!(check("sessions", &aggregates).is_err());
        let mut aggregates = documented_aggregates(now());
        aggregates["aggregates"][0]
            .as_object_mut()
            .unwrap()
            .remove("started");
        assert!(check("sessions", &aggregates).is_err());
    }

    /// An envelope of `count` copies of the documented update.
    fn envelope_of_updates(count: usize, sent_at: OffsetDateTime) -> Vec<u8> {
        let payload = documented_update(now()).to_string();
        let mut bytes = format!("{{\"sent_at\":\"{}\"}}\n", rfc3339(sent_at)).into_bytes();
        for _ in 0..count {
            bytes
                .extend(format!("{{\"type\":\"session\",\"length\":{}}}\n", payload.len()).bytes());
            bytes.extend(payload.bytes());
            bytes.push(b'\n');
        }
        bytes
    }

    /// Envelope level: `sent_at` is read, at most 100 session items.
    #[test]
    fn checks_the_session_items_of_an_envelope() {
        let sent_at = now();
        let envelope = envelope_of_updates(3, sent_at);
        let split = split_envelope(&envelope).unwrap();
        assert_eq!(split.items.len(), 3);
        assert_eq!(
            split.sent_at.map(|t| t.unix_timestamp()),
            Some(sent_at.unix_timestamp())
        );
        assert_eq!(check_envelope_sessions(&envelope, SystemTime::now()), Ok(3));
        let too_many = envelope_of_updates(MAX_SESSION_ITEMS_PER_ENVELOPE + 1, sent_at);
        assert!(check_envelope_sessions(&too_many, SystemTime::now()).is_err());
    }

    /// The splitter reads payloads with and without `length`.
    #[test]
    fn splits_items_without_length_and_skips_other_types() {
        let update = documented_update(now()).to_string();
        // An attachment of three newlines, a blank line, then a session
        // item without a length.
        let envelope = [
            "{}\n",
            "{\"type\":\"attachment\",\"length\":3,\"filename\":\"a\"}\n",
            "\n\n\n\n",
            "\n",
            "{\"type\":\"session\"}\n",
            &update,
            "\n",
        ]
        .concat();
        let split = split_envelope(envelope.as_bytes()).unwrap();
        let types: Vec<&str> = split.items.iter().map(|i| i.ty.as_str()).collect();
        assert_eq!(types, ["attachment", "session"]);
        assert_eq!(split.items[0].payload, b"\n\n\n");
        assert_eq!(
            check_envelope_sessions(envelope.as_bytes(), SystemTime::now()),
            Ok(1)
        );
    }

    /// The release rules agree with PyPI `sentry-relay`'s `parse_release`.
    #[test]
    fn release_rules_agree_with_sentry_relay_parse_release() {
        let Some(python) = crate::tools_python::tools_python("the parse_release cross-check")
        else {
            return;
        };
        let names: Vec<String> = [
            "vigil-demo@1.0.0",
            "app@1.2.3+build.5",
            "1.0",
            "",
            "   ",
            "latest",
            "LaTeSt",
            " latest\n",
            ".",
            "..",
            "...",
            " . ",
            "a/b",
            "a\\b",
            "a\tb",
            "a\nb",
            "a\rb",
            "a\u{0}b",
            "a\u{1f}b",
            "a\u{7f}b",
            "a b",
            "caf\u{e9}@1",
            "a\u{85}b",
            "\u{3000}app@1\u{3000}",
            "@scope/pkg@1.0",
        ]
        .into_iter()
        .map(str::to_owned)
        .chain([
            "x".repeat(200),
            "x".repeat(201),
            format!(" {} ", "x".repeat(200)),
            "\u{e9}".repeat(100),
            "\u{e9}".repeat(101),
        ])
        .collect();
        let relay = python_parse_release_accepts(&python, &names);
        assert_eq!(relay.len(), names.len());
        let disagreements: Vec<String> = names
            .iter()
            .zip(&relay)
            .filter(|(name, relay)| parse_release_accepts(name) != **relay)
            .map(|(name, relay)| format!("{name:?}: parse_release accepts = {relay}"))
            .collect();
        assert!(
            disagreements.is_empty(),
            "the port disagrees with sentry_relay:\n{}",
            disagreements.join("\n")
        );
        println!(
            "parse_release and the port agree on {} release names",
            names.len()
        );
    }
}
