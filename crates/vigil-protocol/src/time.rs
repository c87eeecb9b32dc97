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
/// `2024-05-01T12:00:00.123456Z`. Times outside the years 0000 to 9999
/// (which RFC 3339 cannot write) are clamped to them.
#[cfg(test)]
pub(crate) fn format_rfc3339(t: SystemTime) -> String {
    write_rfc3339(t, &mut [0; RFC3339_LEN]).to_owned()
}

/// The length of [`write_rfc3339`]'s text.
pub(crate) const RFC3339_LEN: usize = 27;

/// Writes [`format_rfc3339`]'s text into `buf` and returns it (no
/// allocation: timestamps are written for every span of a transaction).
pub(crate) fn write_rfc3339(t: SystemTime, buf: &mut [u8; RFC3339_LEN]) -> &str {
    // Microseconds since the epoch, clamped to 0000-01-01..=9999-12-31.
    const MIN: i64 = -62_167_219_200_000_000;
    const MAX: i64 = 253_402_300_799_999_999;
    let micros = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(MAX),
        Err(e) => i64::try_from(e.duration().as_micros()).map_or(MIN, |m| -m),
    }
    .clamp(MIN, MAX);
    let secs = micros.div_euclid(1_000_000);
    let micro = micros.rem_euclid(1_000_000);
    let (days, second_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since the epoch (proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let mut put = |at: usize, value: i64, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, second_of_day / 3600, 2);
    put(14, second_of_day / 60 % 60, 2);
    put(17, second_of_day % 60, 2);
    put(20, micro, 6);
    for (at, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        buf[at] = c;
    }
    std::str::from_utf8(buf).unwrap_or("1970-01-01T00:00:00.000000Z")
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
            Some(t) => s.serialize_str(write_rfc3339(*t, &mut [0; RFC3339_LEN])),
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
        s.serialize_str(write_rfc3339(*t, &mut [0; RFC3339_LEN]))
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
    fn rfc3339_matches_the_time_crate_and_clamps_what_it_cannot_write() {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            // Any microsecond from 1900 to 2200.
            let micros = (rng % 9_467_280_000_000_000) as i64 - 2_208_988_800_000_000;
            let t = if micros >= 0 {
                UNIX_EPOCH + Duration::from_micros(micros as u64)
            } else {
                UNIX_EPOCH - Duration::from_micros(micros.unsigned_abs())
            };
            let dt = time::OffsetDateTime::from(t);
            let expected = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
                dt.year(),
                u8::from(dt.month()),
                dt.day(),
                dt.hour(),
                dt.minute(),
                dt.second(),
                dt.microsecond()
            );
            assert_eq!(format_rfc3339(t), expected);
        }
        assert_eq!(format_rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let far = UNIX_EPOCH + Duration::from_secs(1_000_000_000_000_000);
        assert_eq!(format_rfc3339(far), "9999-12-31T23:59:59.999999Z");
        let before = UNIX_EPOCH - Duration::from_secs(100_000_000_000);
        assert_eq!(format_rfc3339(before), "0000-01-01T00:00:00.000000Z");
    }

    #[test]
    fn float_round_trip_is_microsecond_exact() {
        let t = UNIX_EPOCH + Duration::from_micros(1_714_564_800_123_456);
        let back = from_f64(to_f64(t));
        let diff = back.duration_since(t).unwrap_or_else(|e| e.duration());
        assert!(diff < Duration::from_micros(1), "{diff:?}");
    }
}
