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
