//! `ClientOptions::apply_env_from`: unset options come from `SENTRY_*`
//! variables, options set in code win, bad values are ignored.

use std::collections::HashMap;
use std::sync::Arc;

use vigil_core::ClientOptions;

fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    let map: HashMap<&str, &str> = pairs.iter().copied().collect();
    move |name| map.get(name).map(|v| (*v).to_owned())
}

#[test]
fn unset_options_are_read_from_the_environment() {
    let mut options = ClientOptions::new();
    options
        .apply_env_from(env(&[
            ("SENTRY_DSN", "https://key@example.invalid/7"),
            ("SENTRY_RELEASE", "svc@1.2.3"),
            ("SENTRY_ENVIRONMENT", "staging"),
            ("SENTRY_SAMPLE_RATE", "0.5"),
            ("SENTRY_TRACES_SAMPLE_RATE", " 0.25 "),
            ("SENTRY_DEBUG", "true"),
        ]))
        .unwrap();
    assert_eq!(options.dsn.as_ref().unwrap().project_id(), "7");
    assert_eq!(options.release.as_deref(), Some("svc@1.2.3"));
    assert_eq!(options.environment.as_deref(), Some("staging"));
    assert_eq!(options.sample_rate, 0.5);
    assert_eq!(options.traces_sample_rate, 0.25);
    assert!(options.debug);
}

#[test]
fn options_set_in_code_win() {
    let mut options = ClientOptions::new()
        .release("code@1")
        .environment("prod")
        .sample_rate(0.1)
        .traces_sample_rate(0.3);
    options
        .apply_env_from(env(&[
            ("SENTRY_RELEASE", "env@1"),
            ("SENTRY_ENVIRONMENT", "staging"),
            ("SENTRY_SAMPLE_RATE", "0.9"),
            ("SENTRY_TRACES_SAMPLE_RATE", "0.9"),
        ]))
        .unwrap();
    assert_eq!(options.release.as_deref(), Some("code@1"));
    assert_eq!(options.environment.as_deref(), Some("prod"));
    assert_eq!(options.sample_rate, 0.1);
    assert_eq!(options.traces_sample_rate, 0.3);
}

#[test]
fn a_traces_sampler_set_in_code_keeps_the_rate_at_zero() {
    let mut options = ClientOptions::new();
    options.traces_sampler = Some(Arc::new(|_: &vigil_core::TransactionContext| 1.0));
    options
        .apply_env_from(env(&[("SENTRY_TRACES_SAMPLE_RATE", "0.5")]))
        .unwrap();
    assert_eq!(options.traces_sample_rate, 0.0);
}

#[test]
fn bad_rates_are_ignored_or_clamped() {
    let mut options = ClientOptions::new();
    options
        .apply_env_from(env(&[
            ("SENTRY_SAMPLE_RATE", "half"),
            ("SENTRY_TRACES_SAMPLE_RATE", "7"),
        ]))
        .unwrap();
    assert_eq!(options.sample_rate, 1.0);
    assert_eq!(options.traces_sample_rate, 1.0);
    let mut options = ClientOptions::new();
    options
        .apply_env_from(env(&[("SENTRY_TRACES_SAMPLE_RATE", "NaN")]))
        .unwrap();
    assert_eq!(options.traces_sample_rate, 0.0);
}

#[test]
fn an_invalid_dsn_in_the_environment_is_an_error() {
    let mut options = ClientOptions::new();
    let err = options
        .apply_env_from(env(&[("SENTRY_DSN", "not a dsn")]))
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid dsn"), "{err}");
}
