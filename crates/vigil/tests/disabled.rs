//! Semantics 9: no DSN disables the SDK; environment fallbacks. Own binary.

use std::process::Command;

use vigil::{Hub, Level};

#[test]
fn without_dsn_everything_is_a_no_op() {
    if std::env::var_os("VIGIL_TEST_CHILD").is_some() {
        return;
    }
    let guard = vigil::init(vigil::ClientOptions::default());
    assert!(!guard.is_enabled());
    assert!(vigil::capture_message("m", Level::Error).is_nil());
    assert!(vigil::capture_error(&std::fmt::Error).is_nil());
    let mut ran = false;
    vigil::configure_scope(|_| ran = true);
    assert!(!ran);
    assert_eq!(vigil::with_scope(|_| unreachable!(), || 7), 7);
    let _g = vigil::push_scope();
    vigil::add_breadcrumb(|| -> vigil::Breadcrumb { unreachable!("not built when disabled") });
    assert_eq!(vigil::last_event_id(), None);
    assert!(vigil::flush(None));
    assert!(vigil::flush(std::time::Duration::from_millis(1)));
    let empty = vigil::init("");
    assert!(!empty.is_enabled(), "an empty DSN disables the SDK");
}

fn run_child(test: &str, env: &[(&str, &str)]) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("VIGIL_TEST_CHILD", "1")
        .env_remove("SENTRY_DSN")
        .env_remove("SENTRY_RELEASE")
        .env_remove("SENTRY_ENVIRONMENT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "child {test} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 passed"));
}

#[test]
fn env_vars_are_fallbacks_and_explicit_options_win() {
    if std::env::var_os("VIGIL_TEST_CHILD").is_some() {
        return;
    }
    let env = [
        ("SENTRY_DSN", "https://fromenv@example.invalid/7"),
        ("SENTRY_RELEASE", "env-release@1"),
        ("SENTRY_ENVIRONMENT", "env-environment"),
    ];
    run_child("child_env_fallback", &env);
    run_child("child_explicit_wins", &env);
    run_child("child_invalid_env_dsn", &[("SENTRY_DSN", "garbage")]);
}

#[test]
fn child_env_fallback() {
    if std::env::var_os("VIGIL_TEST_CHILD").is_none() {
        return;
    }
    let guard = vigil::init(vigil::ClientOptions::default());
    let client = guard.client().unwrap();
    let o = client.options();
    assert_eq!(o.dsn.as_ref().unwrap().public_key(), "fromenv");
    assert_eq!(o.release.as_deref(), Some("env-release@1"));
    assert_eq!(o.environment.as_deref(), Some("env-environment"));
    assert!(Hub::current().client().is_some());
}

#[test]
fn child_explicit_wins() {
    if std::env::var_os("VIGIL_TEST_CHILD").is_none() {
        return;
    }
    let options = vigil::ClientOptions::new()
        .release("code@2")
        .environment("code-env");
    let guard = vigil::init(("https://fromcode@example.invalid/9", options));
    let o = guard.client().unwrap().options();
    assert_eq!(o.dsn.as_ref().unwrap().public_key(), "fromcode");
    assert_eq!(o.release.as_deref(), Some("code@2"));
    assert_eq!(o.environment.as_deref(), Some("code-env"));
}

#[test]
fn child_invalid_env_dsn() {
    if std::env::var_os("VIGIL_TEST_CHILD").is_none() {
        return;
    }
    let err = vigil::try_init(vigil::ClientOptions::default()).unwrap_err();
    assert!(err.to_string().contains("invalid dsn"), "{err}");
}
