//! How `sample_rand` and `sample_rate` are written into the DSC.

use crate::trace::dynamic_sampling_context::DynamicSamplingContext;

#[test]
fn sample_rand_has_six_decimals_cut_not_rounded() {
    let cases = [
        (0.9999999, "0.999999"),
        (0.1234567, "0.123456"),
        (0.0, "0.000000"),
        (0.123456, "0.123456"),
        (0.5, "0.500000"),
        (0.1, "0.100000"),
        (0.0000019, "0.000001"),
        (1e-7, "0.000000"),
        (1.0 - f64::EPSILON / 2.0, "0.999999"),
        (1.0, "0.999999"),
        (7.5, "0.999999"),
        (f64::INFINITY, "0.999999"),
        (-0.0, "0.000000"),
        (-0.5, "0.000000"),
        (f64::NAN, "0.000000"),
        (f64::MIN_POSITIVE, "0.000000"),
    ];
    for (rand, text) in cases {
        assert_eq!(
            DynamicSamplingContext::format_sample_rand(rand),
            text,
            "{rand:?}"
        );
    }
}

#[test]
fn sample_rand_reads_back_below_one() {
    for i in 0..=10_000 {
        let rand = f64::from(i) / 10_000.0;
        let text = DynamicSamplingContext::format_sample_rand(rand);
        let back: f64 = text.parse().unwrap();
        assert!((0.0..1.0).contains(&back), "{rand} -> {text}");
        assert!(
            back <= rand && rand - back < 1e-6 + 1e-12,
            "{rand} -> {text}"
        );
    }
}

#[test]
fn sample_rate_is_the_shortest_decimal() {
    let cases = [
        (0.25, "0.25"),
        (1.0, "1"),
        (0.0, "0"),
        (0.0001, "0.0001"),
        (1e-10, "0.0000000001"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1.5, "1"),
        (-0.0, "0"),
        (-1.0, "0"),
        (f64::NAN, "0"),
    ];
    for (rate, text) in cases {
        let written = DynamicSamplingContext::format_sample_rate(rate);
        assert_eq!(written, text, "{rate:?}");
        assert!(written.parse::<f64>().is_ok());
    }
}

/// The arithmetic path gives the same six decimals as cutting the
/// shortest decimal form, on random values, on six-decimal values (the
/// SDK's own) and on their neighbours (where it must step aside).
#[test]
fn sample_rand_fast_path_agrees_with_cutting_the_shortest_form() {
    use crate::trace::dynamic_sampling_context::{cut_shortest, whole_micros};
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut values: Vec<f64> = (0..200_000).map(|_| next()).collect();
    for micros in (0..1_000_000).step_by(997) {
        let exact = f64::from(micros) / 1e6;
        let mut below = exact;
        let mut above = exact;
        for _ in 0..4 {
            // The neighbouring doubles (all positive here, or zero).
            below = if below > 0.0 {
                f64::from_bits(below.to_bits() - 1)
            } else {
                below
            };
            above = f64::from_bits(above.to_bits() + 1);
            values.extend([below, above]);
        }
        values.push(exact);
    }
    let mut fast = 0;
    for rand in values.into_iter().filter(|r| (0.0..1.0).contains(r)) {
        if let Some(micros) = whole_micros(rand) {
            fast += 1;
            assert_eq!(format!("0.{micros:06}"), cut_shortest(rand), "{rand:?}");
        }
        assert_eq!(
            DynamicSamplingContext::format_sample_rand(rand),
            cut_shortest(rand),
            "{rand:?}"
        );
    }
    assert!(fast > 200_000, "the fast path is taken: {fast}");
    for micros in [0, 1, 999_999, 123_456, 500_000] {
        assert_eq!(whole_micros(f64::from(micros) / 1e6), Some(micros));
    }
}
