//! Serde helpers for Sentry timestamps.
//!
//! Sentry accepts either numeric Unix seconds or RFC 3339 strings. Vigil
//! writes float seconds in payloads (cheap to format, exact to the
//! microsecond) and RFC 3339 in envelope headers, and reads both.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Seconds since the Unix epoch as a float (negative before 1970).
pub(crate) fn to_f64(t: SystemTime) -> f64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// The inverse of [`to_f64`]; non-finite values map to the epoch.
pub(crate) fn from_f64(secs: f64) -> SystemTime {
    if !secs.is_finite() {
        return UNIX_EPOCH;
    }
    if secs >= 0.0 {
        Duration::try_from_secs_f64(secs)
            .ok()
            .and_then(|d| UNIX_EPOCH.checked_add(d))
            .unwrap_or(UNIX_EPOCH)
    } else {
        Duration::try_from_secs_f64(-secs)
            .ok()
            .and_then(|d| UNIX_EPOCH.checked_sub(d))
            .unwrap_or(UNIX_EPOCH)
    }
}

/// Formats a time as RFC 3339 in UTC with microsecond precision, e.g.
/// `2024-05-01T12:00:00.123456Z`.
pub(crate) fn format_rfc3339(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    let micros = dt.microsecond();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        micros
    )
}

/// Parses an RFC 3339 timestamp; a missing offset is taken as UTC.
pub(crate) fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(dt) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(dt.into());
    }
    // Sentry assumes UTC when no zone is given.
    let with_zone = format!("{s}Z");
    time::OffsetDateTime::parse(&with_zone, &Rfc3339)
        .ok()
        .map(Into::into)
}

struct TimestampVisitor;

impl Visitor<'_> for TimestampVisitor {
    type Value = SystemTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unix seconds or an RFC 3339 timestamp")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<SystemTime, E> {
        Ok(from_f64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<SystemTime, E> {
        Ok(UNIX_EPOCH
            .checked_add(Duration::from_secs(v))
            .unwrap_or(UNIX_EPOCH))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<SystemTime, E> {
        Ok(from_f64(v as f64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SystemTime, E> {
        parse_rfc3339(v).ok_or_else(|| E::custom(format_args!("invalid timestamp {v:?}")))
    }
}

/// `#[serde(with = "crate::time::float")]` for a `SystemTime`.
pub(crate) mod float {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(to_f64(*t))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

/// `#[serde(with = "crate::time::float_opt")]` for an `Option<SystemTime>`.
pub(crate) mod float_opt {
    use super::*;

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        struct Opt;
        impl<'de> Visitor<'de> for Opt {
            type Value = Option<SystemTime>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an optional timestamp")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(TimestampVisitor).map(Some)
            }
        }
        d.deserialize_option(Opt)
    }
}

/// `#[serde(with = "crate::time::rfc3339_opt")]` for an `Option<SystemTime>`.
pub(crate) mod rfc3339_opt {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_rfc3339(*t)),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<SystemTime>, D::Error> {
        float_opt::deserialize(d)
    }
}

/// `#[serde(with = "crate::time::rfc3339")]` for a `SystemTime`.
pub(crate) mod rfc3339 {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_rfc3339(*t))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        d.deserialize_any(TimestampVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trip() {
        let t = UNIX_EPOCH + Duration::from_micros(1_714_564_800_123_456);
        let s = format_rfc3339(t);
        assert_eq!(s, "2024-05-01T12:00:00.123456Z");
        assert_eq!(parse_rfc3339(&s), Some(t));
        assert_eq!(parse_rfc3339("2024-05-01T12:00:00.123456"), Some(t));
    }

    #[test]
    fn float_round_trip_is_microsecond_exact() {
        let t = UNIX_EPOCH + Duration::from_micros(1_714_564_800_123_456);
        let back = from_f64(to_f64(t));
        let diff = back.duration_since(t).unwrap_or_else(|e| e.duration());
        assert!(diff < Duration::from_micros(1), "{diff:?}");
    }
}
