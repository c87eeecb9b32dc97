//! Properties: the parsers never panic on any input, and a DSC survives
//! its `baggage` form unchanged.

use proptest::prelude::*;

use crate::trace::dynamic_sampling_context::DynamicSamplingContext;
use crate::trace::sentry_trace::SentryTrace;

/// Text that looks like a header part now and then: hex, separators,
/// `%`-escapes, white space and arbitrary characters.
fn header_like() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[0-9a-fA-F]{1,32}",
        Just("-".to_owned()),
        Just(",".to_owned()),
        Just("=".to_owned()),
        Just(";".to_owned()),
        Just("sentry-".to_owned()),
        "%[0-9A-Fa-f]{0,2}",
        "[ \t]{1,3}",
        any::<String>(),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn check_all_parsers(text: &str) {
    if let Ok(header) = SentryTrace::parse(text) {
        assert_eq!(SentryTrace::parse(&header.to_string()), Ok(header));
    }
    if let Ok(header) = SentryTrace::parse_traceparent(text) {
        assert_eq!(
            SentryTrace::parse_traceparent(&header.to_traceparent()),
            Ok(header)
        );
    }
    if let Ok(dsc) = DynamicSamplingContext::from_baggage(text) {
        assert_eq!(
            DynamicSamplingContext::from_baggage(&dsc.to_baggage()),
            Ok(dsc)
        );
    }
}

proptest! {
    #[test]
    fn parsers_never_panic_on_any_string(text in any::<String>()) {
        check_all_parsers(&text);
    }

    #[test]
    fn parsers_never_panic_on_header_like_text(text in header_like()) {
        check_all_parsers(&text);
    }

    #[test]
    fn parsers_never_panic_on_long_input(text in ".{0,64}", repeat in 1usize..2000) {
        check_all_parsers(&text.repeat(repeat));
    }

    #[test]
    fn a_dsc_survives_its_baggage_form(
        entries in proptest::collection::vec(("[a-z_]{1,12}", any::<String>()), 0..12),
    ) {
        let mut dsc = DynamicSamplingContext::new();
        for (name, value) in entries {
            dsc.set(name, value);
        }
        let header = dsc.to_baggage();
        prop_assert_eq!(DynamicSamplingContext::from_baggage(&header), Ok(dsc.clone()));
        prop_assert_eq!(
            DynamicSamplingContext::from_baggage(&dsc.merge_into_baggage(Some("a=1,sentry-x=2"))),
            Ok(dsc)
        );
    }
}
