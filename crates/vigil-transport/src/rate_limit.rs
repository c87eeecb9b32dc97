//! Rate limits (`protocol.md` §4.1–4.2): parsing `X-Sentry-Rate-Limits`
//! and `Retry-After`, the per-category deadlines of one transport, and what
//! they mean for one envelope.
//!
//! Deadlines are kept as atomics (milliseconds after the tracker was made)
//! so the hot path (`send_envelope`) can check them without a lock.

#![warn(clippy::arithmetic_side_effects)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use vigil_core::LossRecorder;
use vigil_core::protocol::{DataCategory, DiscardReason, Envelope, EnvelopeItem};

use crate::loss::record_item;

/// The longest limit honoured; longer ones are cut to this. Keeps instant
/// arithmetic far from overflow while allowing month-long quota blocks.
const MAX_LIMIT: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// A `429` without usable headers blocks everything for this long.
pub(crate) const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

const CATEGORIES: usize = DataCategory::ALL.len();

/// One parsed `<quota_limit>` of `X-Sentry-Rate-Limits`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Limit {
    /// The limited categories; empty means all of them.
    pub(crate) categories: Vec<DataCategory>,
    /// How long the limit holds (whole seconds, rounded up).
    pub(crate) retry_after: Duration,
}

/// Parses an `X-Sentry-Rate-Limits` value.
///
/// Lenient, per `protocol.md` §4.1: `retry_after` may be a float (rounded
/// up to whole seconds), the scope and everything after it are optional
/// and ignored, spaces are ignored, an empty category list means all
/// categories, unknown categories are skipped, and a limit naming only
/// unknown categories is dropped. Malformed limits are skipped; nothing
/// panics.
pub(crate) fn parse_rate_limits(value: &str) -> Vec<Limit> {
    value.split(',').filter_map(parse_limit).collect()
}

fn parse_limit(limit: &str) -> Option<Limit> {
    let limit = limit.trim();
    if limit.is_empty() {
        return None;
    }
    let mut fields = limit.split(':');
    let retry_after = parse_seconds(fields.next()?)?;
    let mut categories = Vec::new();
    let mut named_any = false;
    for name in fields.next().unwrap_or("").split(';') {
        let name = name.trim();
        if name.is_empty() {
            continue;
        }
        named_any = true;
        if let Some(category) = DataCategory::from_name(name)
            && !categories.contains(&category)
        {
            categories.push(category);
        }
    }
    if named_any && categories.is_empty() {
        return None;
    }
    Some(Limit {
        categories,
        retry_after,
    })
}

/// Non-negative, finite seconds (integer or float), rounded up and capped.
fn parse_seconds(text: &str) -> Option<Duration> {
    let secs: f64 = text.trim().parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    let secs = secs.ceil();
    if secs >= MAX_LIMIT.as_secs_f64() {
        return Some(MAX_LIMIT);
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// Parses `Retry-After`: delay seconds (a float is rounded up) or an HTTP
/// date, relative to `now`. A date in the past gives zero. `None` when the
/// value is neither.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Some(delay) = parse_seconds(value) {
        return Some(delay);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(MAX_LIMIT),
    )
}

/// The active limits at one moment: how long each still holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ActiveLimits {
    /// A limit on every category.
    pub(crate) all: Option<Duration>,
    /// Limits on single categories.
    pub(crate) categories: Vec<(DataCategory, Duration)>,
}

/// The rate-limit deadlines of one transport (one DSN): one per category
/// plus one for all categories; when limits overlap the longer one wins.
#[derive(Debug)]
pub(crate) struct RateLimits {
    base: Instant,
    /// Milliseconds after `base` until which everything is limited; 0 = none.
    all: AtomicU64,
    /// The same per category, indexed by [`DataCategory::index`].
    categories: [AtomicU64; CATEGORIES],
}

impl Default for RateLimits {
    fn default() -> RateLimits {
        RateLimits::new()
    }
}

impl RateLimits {
    /// No limits.
    pub(crate) fn new() -> RateLimits {
        RateLimits {
            base: Instant::now(),
            all: AtomicU64::new(0),
            categories: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Milliseconds from `base` to `at`, rounded up (at least 1, so that 0
    /// keeps meaning "no limit").
    fn offset(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.base).as_nanos();
        u64::try_from(nanos.div_ceil(1_000_000))
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn slot(&self, category: Option<DataCategory>) -> &AtomicU64 {
        match category {
            None => &self.all,
            Some(c) => &self.categories[c.index()],
        }
    }

    fn limit_until(&self, category: Option<DataCategory>, until: Instant) {
        self.slot(category)
            .fetch_max(self.offset(until), Ordering::Relaxed);
    }

    /// Applies one limit starting at `now`.
    pub(crate) fn apply(&self, limit: &Limit, now: Instant) {
        let until = now.checked_add(limit.retry_after).unwrap_or(now);
        if limit.categories.is_empty() {
            self.limit_until(None, until);
        } else {
            for &category in &limit.categories {
                self.limit_until(Some(category), until);
            }
        }
    }

    /// Applies what a response says (`protocol.md` §4.2, stage 1): the
    /// `X-Sentry-Rate-Limits` header on any status when present; otherwise
    /// on a `429`, `Retry-After` (seconds or HTTP date) or 60 s, for all
    /// categories.
    pub(crate) fn update_from_response(
        &self,
        status: u16,
        rate_limits: Option<&str>,
        retry_after: Option<&str>,
    ) {
        let now = Instant::now();
        if let Some(header) = rate_limits {
            for limit in parse_rate_limits(header) {
                self.apply(&limit, now);
            }
        } else if status == 429 {
            let retry_after = retry_after
                .and_then(|v| parse_retry_after(v, SystemTime::now()))
                .unwrap_or(DEFAULT_RETRY_AFTER);
            self.apply(
                &Limit {
                    categories: Vec::new(),
                    retry_after,
                },
                now,
            );
        }
    }

    fn holds(&self, category: Option<DataCategory>, now: u64) -> bool {
        self.slot(category).load(Ordering::Relaxed) > now
    }

    /// Whether items of `category` are limited at `now`.
    pub(crate) fn is_limited(&self, category: DataCategory, now: Instant) -> bool {
        let now = self.offset(now);
        self.holds(None, now) || self.holds(Some(category), now)
    }

    /// The limits still holding at `now`.
    pub(crate) fn active(&self, now: Instant) -> ActiveLimits {
        let now_offset = self.offset(now);
        let remaining = |category: Option<DataCategory>| {
            let until = self.slot(category).load(Ordering::Relaxed);
            (until > now_offset).then(|| Duration::from_millis(until.saturating_sub(now_offset)))
        };
        ActiveLimits {
            all: remaining(None),
            categories: DataCategory::ALL
                .into_iter()
                .filter_map(|c| remaining(Some(c)).map(|d| (c, d)))
                .collect(),
        }
    }

    /// Drops the items of `envelope` whose category is limited at `now`,
    /// counting each as `ratelimit_backoff`. Returns whether nothing is
    /// left.
    pub(crate) fn drop_limited_items(
        &self,
        envelope: &mut Envelope,
        recorder: &LossRecorder,
        now: Instant,
    ) -> bool {
        envelope.retain_items(|item| {
            let limited = self.is_limited(item.category(), now);
            if limited {
                record_item(recorder, item, DiscardReason::RatelimitBackoff);
            }
            !limited
        });
        envelope.is_empty()
    }

    /// How long the limits still hold for some item of `envelope` (the
    /// longest), or `None` when nothing in it is limited. Client reports
    /// are not looked at.
    pub(crate) fn pause_for(&self, envelope: &Envelope, now: Instant) -> Option<Duration> {
        let active = self.active(now);
        let mut pause: Option<Duration> = None;
        for item in envelope.items() {
            if matches!(item, EnvelopeItem::ClientReport(_)) {
                continue;
            }
            let category = item.category();
            let mut left = active.all;
            for (c, d) in &active.categories {
                if *c == category {
                    left = Some(left.map_or(*d, |l| l.max(*d)));
                }
            }
            if let Some(left) = left {
                pause = Some(pause.map_or(left, |p| p.max(left)));
            }
        }
        pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn limit(categories: &[DataCategory], secs: u64) -> Limit {
        Limit {
            categories: categories.to_vec(),
            retry_after: Duration::from_secs(secs),
        }
    }

    #[test]
    fn protocol_example_two_limits() {
        assert_eq!(
            parse_rate_limits("60:transaction:key, 2700:default;error;security:organization"),
            vec![
                limit(&[DataCategory::Transaction], 60),
                // `security` is not a category Vigil knows: skipped.
                limit(&[DataCategory::Default, DataCategory::Error], 2700),
            ]
        );
    }

    #[test]
    fn protocol_example_empty_categories_mean_all() {
        assert_eq!(parse_rate_limits("60::organization"), vec![limit(&[], 60)]);
    }

    #[test]
    fn protocol_example_metric_bucket_is_unknown_and_ignored() {
        assert_eq!(
            parse_rate_limits("2700:metric_bucket:organization:quota_exceeded:custom"),
            vec![]
        );
    }

    #[test]
    fn float_seconds_round_up() {
        assert_eq!(
            parse_rate_limits("1.2:error:key"),
            vec![limit(&[DataCategory::Error], 2)]
        );
        assert_eq!(parse_rate_limits("0.0001::key"), vec![limit(&[], 1)]);
        assert_eq!(
            parse_rate_limits("3.0:error"),
            vec![limit(&[DataCategory::Error], 3)]
        );
    }

    #[test]
    fn scope_and_more_fields_are_optional() {
        assert_eq!(
            parse_rate_limits("30:error"),
            vec![limit(&[DataCategory::Error], 30)]
        );
        assert_eq!(parse_rate_limits("30"), vec![limit(&[], 30)]);
        assert_eq!(
            parse_rate_limits("30:error:key:reason:ns:future:fields"),
            vec![limit(&[DataCategory::Error], 30)]
        );
    }

    #[test]
    fn spaces_are_ignored() {
        assert_eq!(
            parse_rate_limits("  10 : error ; session : key ,20::org  "),
            vec![
                limit(&[DataCategory::Error, DataCategory::Session], 10),
                limit(&[], 20)
            ]
        );
    }

    #[test]
    fn unknown_categories_are_skipped_but_known_ones_kept() {
        assert_eq!(
            parse_rate_limits("10:profile;error;replay:key"),
            vec![limit(&[DataCategory::Error], 10)]
        );
        assert_eq!(parse_rate_limits("10:profile;replay:key"), vec![]);
    }

    #[test]
    fn garbage_never_panics() {
        let inputs = [
            "",
            ",",
            ",,,",
            ":",
            "::",
            ":::::",
            "abc",
            "abc:def:ghi",
            "-1:error:key",
            "NaN:error:key",
            "inf::key",
            "-inf::key",
            "1e400::key",
            "1e10::key",
            "18446744073709551616::key",
            "\u{0}\u{ffff}",
            "60:;;;:key",
            "60:error;;error:key",
            "60:\u{1F600}:key",
            "   ",
            "9999999999999999999999999999999:error",
        ];
        for input in inputs {
            let limits = parse_rate_limits(input);
            for l in limits {
                assert!(l.retry_after <= MAX_LIMIT, "{input:?}");
            }
        }
        assert_eq!(parse_rate_limits("-1:error:key"), vec![]);
        assert_eq!(parse_rate_limits("NaN:error:key"), vec![]);
        assert_eq!(parse_rate_limits("1e400::key"), vec![]);
        assert_eq!(
            parse_rate_limits("1e10::key"),
            vec![Limit {
                categories: vec![],
                retry_after: MAX_LIMIT
            }]
        );
        assert_eq!(
            parse_rate_limits("60:error;;error:key"),
            vec![limit(&[DataCategory::Error], 60)]
        );
        assert_eq!(parse_rate_limits("60:;;;:key"), vec![limit(&[], 60)]);
        // Every byte pattern up to length 3 over an alphabet of special
        // characters: no panic.
        let alphabet = [
            "", "0", "1.5", ":", ";", ",", " ", "error", "-", "x", "\u{e9}",
        ];
        for a in alphabet {
            for b in alphabet {
                for c in alphabet {
                    let _ = parse_rate_limits(&format!("{a}{b}{c}{a}"));
                    let _ = parse_retry_after(&format!("{a}{b}{c}"), SystemTime::now());
                }
            }
        }
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(" 2.5 ", now),
            Some(Duration::from_secs(3))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(300));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(300))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(300));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn longest_limit_wins_and_all_applies_to_every_category() {
        let limits = RateLimits::new();
        let now = Instant::now();
        limits.apply(&limit(&[DataCategory::Error], 100), now);
        limits.apply(&limit(&[DataCategory::Error], 10), now);
        assert!(limits.is_limited(DataCategory::Error, now + Duration::from_secs(50)));
        assert!(!limits.is_limited(DataCategory::Error, now + Duration::from_secs(101)));
        assert!(!limits.is_limited(DataCategory::Session, now));
        limits.apply(&limit(&[], 5), now);
        assert!(limits.is_limited(DataCategory::Session, now + Duration::from_secs(4)));
        assert!(!limits.is_limited(DataCategory::Session, now + Duration::from_secs(6)));
        let active = limits.active(now);
        assert_eq!(active.all, Some(Duration::from_secs(5)));
        assert_eq!(
            active.categories,
            vec![(DataCategory::Error, Duration::from_secs(100))]
        );
    }

    /// The number of cases of a property test: `PROPTEST_CASES` when set,
    /// else `default`.
    fn cases(default: u32) -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    }

    /// Text made mostly of the characters the grammar gives meaning to.
    fn header_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just(":".to_owned()),
            Just(";".to_owned()),
            Just(",".to_owned()),
            Just(" ".to_owned()),
            Just("error".to_owned()),
            Just("default".to_owned()),
            Just("session".to_owned()),
            Just("key".to_owned()),
            Just("-".to_owned()),
            Just(".".to_owned()),
            Just("e".to_owned()),
            Just("inf".to_owned()),
            Just("NaN".to_owned()),
            (0u64..100_000_000).prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| f.to_string()),
            any::<char>().prop_map(String::from),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: cases(1000),
            ..ProptestConfig::default()
        })]

        /// Any header value parses without panicking, and every limit it
        /// yields is within bounds and names only known categories, each
        /// once.
        #[test]
        fn any_rate_limit_header_is_safe(value in prop_oneof![any::<String>(), header_text()]) {
            for limit in parse_rate_limits(&value) {
                prop_assert!(limit.retry_after <= MAX_LIMIT, "{value:?}");
                let mut seen = limit.categories.clone();
                seen.dedup();
                prop_assert_eq!(seen.len(), limit.categories.len());
            }
            let limits = RateLimits::new();
            limits.update_from_response(429, Some(&value), Some(&value));
            limits.update_from_response(429, None, Some(&value));
            let _ = limits.active(Instant::now());
        }

        /// Any `Retry-After` value parses without panicking and stays in
        /// bounds.
        #[test]
        fn any_retry_after_is_safe(value in prop_oneof![any::<String>(), header_text()], now in any::<u32>()) {
            let now = SystemTime::UNIX_EPOCH
                .checked_add(Duration::from_secs(u64::from(now)))
                .unwrap();
            if let Some(delay) = parse_retry_after(&value, now) {
                prop_assert!(delay <= MAX_LIMIT);
            }
        }

        /// Well-formed limits built from known parts parse back to what
        /// they say, whatever spacing, scope and extra fields surround them.
        #[test]
        fn well_formed_limits_parse_exactly(
            limits in proptest::collection::vec(
                (
                    0u64..10_000_000,
                    any::<bool>(),
                    proptest::sample::subsequence(DataCategory::ALL.to_vec(), 0..4),
                    proptest::option::of(prop_oneof![Just("key"), Just("organization"), Just("project")]),
                    proptest::option::of(Just(":quota_exceeded:ns")),
                    any::<bool>(),
                ),
                1..5,
            ),
        ) {
            let mut header = Vec::new();
            let mut expected = Vec::new();
            for (secs, fraction, categories, scope, extra, spaced) in &limits {
                let names: Vec<&str> = categories.iter().map(|c| c.as_str()).collect();
                let secs_text = if *fraction { format!("{secs}.5") } else { secs.to_string() };
                let mut limit = format!("{secs_text}:{}", names.join(";"));
                if let Some(scope) = scope {
                    limit.push(':');
                    limit.push_str(scope);
                    if let Some(extra) = extra {
                        limit.push_str(extra);
                    }
                }
                if *spaced {
                    limit = format!("  {limit} ");
                }
                header.push(limit);
                let whole = if *fraction { secs.saturating_add(1) } else { *secs };
                expected.push(Limit {
                    categories: categories.clone(),
                    retry_after: Duration::from_secs(whole).min(MAX_LIMIT),
                });
            }
            prop_assert_eq!(parse_rate_limits(&header.join(",")), expected);
        }
    }

    #[test]
    fn responses_update_limits() {
        let limits = RateLimits::new();
        // 200 with a header: applied.
        limits.update_from_response(200, Some("30:session:key"), None);
        assert!(limits.is_limited(DataCategory::Session, Instant::now()));
        assert!(!limits.is_limited(DataCategory::Error, Instant::now()));
        // 500 with Retry-After: ignored (only 429 honours it).
        limits.update_from_response(500, None, Some("30"));
        assert!(!limits.is_limited(DataCategory::Error, Instant::now()));
        // Bare 429: 60 s for everything.
        limits.update_from_response(429, None, None);
        let all = limits.active(Instant::now()).all.unwrap();
        assert!(all > Duration::from_secs(59) && all <= DEFAULT_RETRY_AFTER);
        // A 429 whose rate-limit header wins over Retry-After.
        let limits = RateLimits::new();
        limits.update_from_response(429, Some("10:error:key"), Some("1000"));
        let active = limits.active(Instant::now());
        assert_eq!(active.all, None);
        assert_eq!(active.categories.len(), 1);
        // Unparseable Retry-After on 429: the default.
        let limits = RateLimits::new();
        limits.update_from_response(429, None, Some("tomorrow-ish"));
        assert!(limits.active(Instant::now()).all.unwrap() > Duration::from_secs(59));
    }
}
