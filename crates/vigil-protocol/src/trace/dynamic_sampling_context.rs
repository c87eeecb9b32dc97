//! [`DynamicSamplingContext`]: the trace's sampling data, as the `sentry-`
//! entries of `baggage` and the envelope header `trace`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::trace::trace_id::TraceId;

/// The dynamic sampling context (DSC) of a trace: what Sentry needs to
/// sample the whole trace alike, such as its `trace_id`, `public_key`,
/// `sample_rate`, `sample_rand` and `sampled` decision.
///
/// It is a list of `name -> value` entries in the order they were set or
/// received, with names *without* the `sentry-` prefix they carry in a
/// `baggage` header and values decoded. Entries this crate does not know
/// are kept, so a DSC received from upstream is passed on exactly as it
/// came. Two DSCs are equal when they hold the same entries in the same
/// order.
///
/// It travels in two forms: as the `sentry-` members of the W3C `baggage`
/// header ([`from_baggage`](DynamicSamplingContext::from_baggage),
/// [`to_baggage`](DynamicSamplingContext::to_baggage),
/// [`merge_into_baggage`](DynamicSamplingContext::merge_into_baggage)) and
/// as the `trace` object of an envelope header (its `Serialize` form, also
/// [`to_header_json`](DynamicSamplingContext::to_header_json)): an object
/// of strings in entry order. Reading that object keeps string values,
/// takes booleans and numbers as their JSON text (`true` → `"true"`, as
/// Relay reads them) and skips anything else.
///
/// ```
/// use vigil_protocol::DynamicSamplingContext;
/// let dsc = DynamicSamplingContext::from_baggage(
///     "other-vendor=foo,sentry-trace_id=771a43a4192642f0b136d5159a501700,\
///      sentry-sample_rate=0.25,sentry-sampled=true,sentry-release=upstream%401.0",
/// )
/// .unwrap();
/// assert_eq!(dsc.get("release"), Some("upstream@1.0"));
/// assert_eq!(dsc.sample_rate(), Some(0.25));
/// assert_eq!(dsc.sampled(), Some(true));
/// // Other vendors' entries are not kept, so they are never forwarded.
/// assert_eq!(
///     dsc.to_baggage(),
///     "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=0.25,\
///      sentry-sampled=true,sentry-release=upstream%401.0",
/// );
///
/// let mut own = DynamicSamplingContext::new();
/// own.set("sample_rand", DynamicSamplingContext::format_sample_rand(0.1234567));
/// assert_eq!(own.to_header_json()["sample_rand"], "0.123456");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DynamicSamplingContext {
    /// Names are unique; in the order set or received. The names this
    /// crate sets are static text, so they cost no allocation.
    entries: Vec<(Cow<'static, str>, String)>,
}

impl DynamicSamplingContext {
    /// An empty DSC.
    pub fn new() -> DynamicSamplingContext {
        DynamicSamplingContext::default()
    }

    /// This DSC with `trace_id` set.
    #[must_use]
    pub fn with_trace_id(mut self, trace_id: TraceId) -> DynamicSamplingContext {
        self.set("trace_id", trace_id.to_string());
        self
    }

    /// This DSC with `public_key` (the DSN's key) set.
    #[must_use]
    pub fn with_public_key(mut self, public_key: impl Into<String>) -> DynamicSamplingContext {
        self.set("public_key", public_key);
        self
    }

    /// This DSC with `sample_rate` set, written as the SDK writes rates.
    #[must_use]
    pub fn with_sample_rate(mut self, rate: f32) -> DynamicSamplingContext {
        self.set(
            "sample_rate",
            DynamicSamplingContext::format_sample_rate(f64::from(rate)),
        );
        self
    }

    /// This DSC with `sampled` set.
    #[must_use]
    pub fn with_sampled(mut self, sampled: bool) -> DynamicSamplingContext {
        self.set("sampled", if sampled { "true" } else { "false" });
        self
    }

    /// This DSC with `release` set.
    #[must_use]
    pub fn with_release(mut self, release: impl Into<String>) -> DynamicSamplingContext {
        self.set("release", release);
        self
    }

    /// This DSC with `environment` set.
    #[must_use]
    pub fn with_environment(mut self, environment: impl Into<String>) -> DynamicSamplingContext {
        self.set("environment", environment);
        self
    }

    /// This DSC with `transaction` (the root transaction's name) set.
    #[must_use]
    pub fn with_transaction(mut self, transaction: impl Into<String>) -> DynamicSamplingContext {
        self.set("transaction", transaction);
        self
    }

    /// Whether the DSC has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value of the entry `name` (without the `sentry-` prefix).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// Sets the entry `name` (without the `sentry-` prefix) to `value`: in
    /// its place when it exists, else at the end.
    pub fn set(&mut self, name: impl AsRef<str>, value: impl Into<String>) {
        let (name, value) = (known_name(name.as_ref()), value.into());
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some((_, old)) => *old = value,
            None => self.entries.push((name, value)),
        }
    }

    /// Removes the entry `name` and returns its value.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        let at = self.entries.iter().position(|(n, _)| n == name)?;
        Some(self.entries.remove(at).1)
    }

    /// The entries as `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries
            .iter()
            .map(|(name, value)| (name.as_ref(), value.as_str()))
    }

    /// The `trace_id` entry, read as Relay reads it (32 hex digits in
    /// either case, or a dashed UUID); `None` when absent or invalid.
    pub fn trace_id(&self) -> Option<TraceId> {
        TraceId::parse_lenient(self.get("trace_id")?).ok()
    }

    /// The `sample_rate` entry: a number in `[0, 1]`, else `None`.
    pub fn sample_rate(&self) -> Option<f64> {
        let rate: f64 = self.get("sample_rate")?.parse().ok()?;
        (0.0..=1.0).contains(&rate).then_some(rate)
    }

    /// The `sample_rand` entry: a number in `[0, 1)`, else `None` (the
    /// receiver then draws one itself).
    pub fn sample_rand(&self) -> Option<f64> {
        let rand: f64 = self.get("sample_rand")?.parse().ok()?;
        (0.0..1.0).contains(&rand).then_some(rand)
    }

    /// The `sampled` entry: `"true"` or `"false"`, else `None`.
    pub fn sampled(&self) -> Option<bool> {
        match self.get("sampled")? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// The `org_id` entry: the Sentry organization the trace started in.
    pub fn org_id(&self) -> Option<&str> {
        self.get("org_id")
    }

    /// The DSC as the `trace` object of an envelope header: one string
    /// value per entry, names without the `sentry-` prefix.
    pub fn to_header_json(&self) -> Map<String, Value> {
        self.iter()
            .map(|(name, value)| (name.to_owned(), Value::from(value)))
            .collect()
    }

    /// `sample_rand` as the DSC writes it: six decimals, cut (never
    /// rounded) from the shortest decimal form of `rand`, e.g. `0.123456`
    /// for `0.1234567`. A value of 1 or more is written `0.999999`, one
    /// below 0 or NaN `0.000000`.
    pub fn format_sample_rand(rand: f64) -> String {
        if rand >= 1.0 {
            return LARGEST_SAMPLE_RAND.to_owned();
        }
        // `-0.0` and NaN fail `> 0.0` too.
        let rand = if rand > 0.0 { rand } else { 0.0 };
        match whole_micros(rand) {
            Some(micros) => {
                let mut text = String::with_capacity(LARGEST_SAMPLE_RAND.len());
                text.push_str("0.");
                let mut digits = [b'0'; 6];
                let mut rest = micros;
                for digit in digits.iter_mut().rev() {
                    *digit = b'0' + (rest % 10) as u8;
                    rest /= 10;
                }
                text.extend(digits.iter().map(|&d| char::from(d)));
                text
            }
            None => cut_shortest(rand),
        }
    }

    /// `sample_rate` as the DSC writes it: the shortest decimal that reads
    /// back as `rate` (`0.25`, `1`, `0`, `0.0001`), which Relay parses as a
    /// float. A value above 1 is written `1`, one below 0 or NaN `0`.
    pub fn format_sample_rate(rate: f64) -> String {
        match rate {
            // The common rates, without formatting a float.
            r if r >= 1.0 => "1".to_owned(),
            r if r > 0.0 => r.to_string(),
            _ => "0".to_owned(),
        }
    }
}

/// `sample_rand`'s largest text: every value of 1 or more is written so.
const LARGEST_SAMPLE_RAND: &str = "0.999999";

/// The millionths in `rand` (in `[0, 1)`), when they are sure to be the
/// first six decimals of its shortest decimal form; else `None`.
///
/// - `rand` is the double nearest to a number of six decimals `n / 1e6`
///   (as the SDK's own values are): then that number is the shortest form,
///   since two numbers of six decimals are too far apart to round to the
///   same double.
/// - Else the shortest form is within half a unit in the last place of
///   `rand` (below 1e-16), and `rand * 1e6` is off by a few units in its
///   last place (below 1e-9): a product at least 1e-6 away from a whole
///   number has the right whole part.
pub(crate) fn whole_micros(rand: f64) -> Option<u32> {
    let scaled = rand * 1e6;
    let nearest = scaled.round();
    if nearest / 1e6 == rand {
        return Some(nearest as u32);
    }
    let whole = scaled.floor();
    let margin = 1e-6;
    (scaled - whole > margin && whole + 1.0 - scaled > margin).then_some(whole as u32)
}

/// `rand` (in `[0, 1)`) with the first six decimals of its shortest
/// decimal form, which `Display` writes without an exponent.
pub(crate) fn cut_shortest(rand: f64) -> String {
    let shortest = rand.to_string();
    let decimals = shortest
        .split_once('.')
        .map_or("", |(_, decimals)| decimals);
    let mut text = String::with_capacity(LARGEST_SAMPLE_RAND.len());
    text.push_str("0.");
    text.extend(decimals.chars().chain(std::iter::repeat('0')).take(6));
    text
}

/// The entry names the specification defines, kept without allocating.
const KNOWN_NAMES: &[&str] = &[
    "trace_id",
    "public_key",
    "sample_rate",
    "sample_rand",
    "sampled",
    "release",
    "environment",
    "transaction",
    "org_id",
    "replay_id",
];

/// `name` as an entry name: one of [`KNOWN_NAMES`] borrowed, else a copy.
fn known_name(name: &str) -> Cow<'static, str> {
    // Most names set are known: compare lengths before bytes.
    match KNOWN_NAMES
        .iter()
        .find(|known| known.len() == name.len() && **known == name)
    {
        Some(known) => Cow::Borrowed(known),
        None => Cow::Owned(name.to_owned()),
    }
}

impl Serialize for DynamicSamplingContext {
    /// The envelope header `trace`: an object of strings, in entry order.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (name, value) in &self.entries {
            map.serialize_entry(name.as_ref(), value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for DynamicSamplingContext {
    /// Reads the envelope header `trace`: string values as they are,
    /// booleans and numbers as their JSON text, anything else skipped; a
    /// repeated name keeps its last value.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderVisitor;

        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = DynamicSamplingContext;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dynamic sampling context object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut dsc = DynamicSamplingContext::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    let text = match value {
                        Value::String(text) => text,
                        Value::Bool(flag) => flag.to_string(),
                        Value::Number(number) => number.to_string(),
                        Value::Null | Value::Array(_) | Value::Object(_) => continue,
                    };
                    dsc.set(name, text);
                }
                Ok(dsc)
            }
        }

        deserializer.deserialize_map(HeaderVisitor)
    }
}
