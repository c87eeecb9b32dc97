use super::*;

#[test]
fn org_check_follows_the_spec_table() {
    // (incoming, own, strict) -> continue?
    let rows: [(Option<&str>, Option<u64>, bool, bool); 10] = [
        (Some("42"), Some(42), false, true),
        (Some("42"), Some(42), true, true),
        (Some("99"), Some(42), false, false),
        (Some("99"), Some(42), true, false),
        (Some("42"), None, false, true),
        (Some("42"), None, true, false),
        (None, Some(42), false, true),
        (None, Some(42), true, false),
        (None, None, false, true),
        (None, None, true, true),
    ];
    for (incoming, own, strict, expected) in rows {
        assert_eq!(
            org_allows(incoming, own, strict),
            expected,
            "{incoming:?} {own:?} strict={strict}"
        );
    }
    // Not a number: never equal to ours.
    assert!(!org_allows(Some("o42"), Some(42), false));
    // Blank counts as absent.
    assert!(org_allows(Some(" "), None, true));
}

#[test]
fn backfilled_sample_rand_agrees_with_the_upstream_decision() {
    for _ in 0..2000 {
        let trace = TraceId::new();
        for rate in [0.0, 0.000_000_1, 0.123_456_7, 0.25, 0.5, 0.999_999_9, 1.0] {
            let sampled = backfill_sample_rand(trace, Some(rate), Some(true));
            let unsampled = backfill_sample_rand(trace, Some(rate), Some(false));
            for value in [sampled, unsampled] {
                assert!((0.0..1.0).contains(&value), "{value}");
                let six = (value * 1_000_000.0).round() / 1_000_000.0;
                assert!((six - value).abs() < 1e-12, "six decimals: {value}");
            }
            if rate > 0.0 {
                assert!(sampled < rate, "sampled {sampled} at rate {rate}");
            }
            if rate < 0.999_999 {
                assert!(unsampled >= rate, "unsampled {unsampled} at rate {rate}");
            }
        }
        let free = backfill_sample_rand(trace, None, None);
        assert!((0.0..1.0).contains(&free));
        // Deterministic in the trace id.
        assert_eq!(free, backfill_sample_rand(trace, None, None));
    }
}
