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
    *buf = rfc3339_bytes(t);
    std::str::from_utf8(buf).unwrap_or("1970-01-01T00:00:00.000000Z")
}

/// The two ASCII digits of every number below 100.
const TWO_DIGITS: [[u8; 2]; 100] = {
    let mut digits = [[0; 2]; 100];
    let mut n = 0;
    while n < 100 {
        digits[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    digits
};

/// [`write_rfc3339`]'s text as bytes, for writers that copy it straight
/// into their output.
pub(crate) fn rfc3339_bytes(t: SystemTime) -> [u8; RFC3339_LEN] {
    Rfc3339Formatter::default().format(t)
}

/// Writes [`write_rfc3339`]'s text for many timestamps, reusing what the
/// last one had in common with it: the timestamps of a transaction and of
/// its spans nearly always fall on the same day, and many in the same
/// second.
#[derive(Debug, Default)]
pub(crate) struct Rfc3339Formatter {
    /// The last second formatted (counted from 0000-01-01) and its
    /// `YYYY-MM-DDTHH:MM:SS` text.
    last_second: Option<(u64, [u8; 19])>,
    /// The last day formatted (counted from 0000-01-01) and its
    /// `YYYY-MM-DD` text.
    last_date: Option<(u64, [u8; 10])>,
}

impl Rfc3339Formatter {
    /// The text of `t`, as [`write_rfc3339`] writes it.
    pub(crate) fn format(&mut self, t: SystemTime) -> [u8; RFC3339_LEN] {
        let (second, micro) = split_time(t);
        let up_to_second = match self.last_second {
            Some((last, text)) if last == second => text,
            _ => {
                let text = self.second_text(second);
                self.last_second = Some((second, text));
                text
            }
        };
        let mut text = *b"0000-00-00T00:00:00.000000Z";
        text[..19].copy_from_slice(&up_to_second);
        for (at, value) in [
            (20, micro / 10_000),
            (22, micro / 100 % 100),
            (24, micro % 100),
        ] {
            text[at..at + 2].copy_from_slice(&two_digits(value));
        }
        text
    }

    /// The `YYYY-MM-DDTHH:MM:SS` text of a second counted from
    /// 0000-01-01.
    fn second_text(&mut self, second: u64) -> [u8; 19] {
        let day = second / 86_400;
        let date = match self.last_date {
            Some((last, text)) if last == day => text,
            _ => {
                let text = date_text(day);
                self.last_date = Some((day, text));
                text
            }
        };
        let second_of_day = (second % 86_400) as u32;
        let mut text = *b"0000-00-00T00:00:00";
        text[..10].copy_from_slice(&date);
        for (at, value) in [
            (11, second_of_day / 3600),
            (14, second_of_day / 60 % 60),
            (17, second_of_day % 60),
        ] {
            text[at..at + 2].copy_from_slice(&two_digits(value));
        }
        text
    }
}

/// `t` as seconds since 0000-01-01 and the microsecond of that second,
/// clamped to 0000-01-01..=9999-12-31. A time before the epoch is rounded
/// towards it.
fn split_time(t: SystemTime) -> (u64, u32) {
    /// 1970-01-01 in seconds since 0000-01-01.
    const EPOCH: u64 = 62_167_219_200;
    /// 9999-12-31T23:59:59 in seconds since 0000-01-01.
    const LAST: u64 = 315_569_519_999;
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => match d.as_secs().checked_add(EPOCH) {
            Some(second) if second <= LAST => (second, d.subsec_micros()),
            _ => (LAST, 999_999),
        },
        Err(e) => {
            // Rounded towards the epoch: whole microseconds before it.
            let d = e.duration();
            let micros = d
                .as_secs()
                .saturating_mul(1_000_000)
                .saturating_add(u64::from(d.subsec_micros()));
            match (EPOCH * 1_000_000).checked_sub(micros) {
                Some(since) => (since / 1_000_000, (since % 1_000_000) as u32),
                None => (0, 0),
            }
        }
    }
}

/// The `YYYY-MM-DD` text of a day counted from 0000-01-01 (proleptic
/// Gregorian calendar).
fn date_text(days: u64) -> [u8; 10] {
    // At most 3_652_424 days: a `u32` holds every step below.
    let days = u32::try_from(days).unwrap_or(u32::MAX / 2);
    // Days since -0400-03-01: years start in March, so that the leap day
    // ends them, and 400 years before 0000-03-01, so that January and
    // February of the year 0 need no negative numbers. 0000-01-01 is day
    // 146_097 - 60 of that count.
    let z = days + 146_097 - 60;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + u32::from(month <= 2) - 400;
    let mut text = *b"0000-00-00";
    for (at, value) in [(0, year / 100), (2, year % 100), (5, month), (8, day)] {
        text[at..at + 2].copy_from_slice(&two_digits(value));
    }
    text
}

/// The two ASCII digits of `value` below 100 (of `value % 100` otherwise).
fn two_digits(value: u32) -> [u8; 2] {
    TWO_DIGITS[value as usize % 100]
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
    fn a_formatter_reusing_its_last_second_and_date_writes_what_a_fresh_one_writes() {
        let mut formatter = Rfc3339Formatter::default();
        let mut rng = 0x0123_4567_89ab_cdefu64;
        let mut t = UNIX_EPOCH + Duration::from_secs(1_714_564_000);
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            // Steps below a second, so that seconds repeat, and of up to
            // about 3 hours, so that days follow each other and repeat; now
            // and then a jump anywhere, before 1970 too.
            t = match rng % 1000 {
                0 => UNIX_EPOCH + Duration::from_micros(rng % 4_000_000_000_000_000),
                1 => UNIX_EPOCH - Duration::from_micros(rng % 70_000_000_000_000_000),
                2..500 => t + Duration::from_micros(rng % 1_000_000),
                _ => t + Duration::from_micros(rng % 10_000_000_000),
            };
            assert_eq!(formatter.format(t), rfc3339_bytes(t));
            assert_eq!(&formatter.format(t)[..], format_rfc3339(t).as_bytes());
        }
    }

    #[test]
    fn float_round_trip_is_microsecond_exact() {
        let t = UNIX_EPOCH + Duration::from_micros(1_714_564_800_123_456);
        let back = from_f64(to_f64(t));
        let diff = back.duration_since(t).unwrap_or_else(|e| e.duration());
        assert!(diff < Duration::from_micros(1), "{diff:?}");
    }
}
