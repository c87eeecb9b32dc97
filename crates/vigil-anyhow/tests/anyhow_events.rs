//! `anyhow` errors as events: the chain, and the backtrace parsed into
//! frames. Backtrace capture depends on `RUST_LIB_BACKTRACE`, which the
//! standard library reads once per process, so those checks run in child
//! processes of this test binary with the variable set as needed.

use std::process::Command;

use anyhow::Context;
use serde_json::{Value, json};
use vigil_anyhow::{AnyhowHubExt, capture_anyhow, event_from_anyhow};

const ROLE: &str = "VIGIL_ANYHOW_TEST_CHILD";

#[inline(never)]
fn read_config() -> anyhow::Result<String> {
    let err = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory");
    Err(err).context("reading /etc/app.toml")
}

#[inline(never)]
fn start() -> anyhow::Result<String> {
    read_config().context("starting the app")
}

/// Prints the event for `start()`'s error as JSON; run by the tests below.
#[test]
#[ignore = "child-process role of the anyhow tests; they run it"]
fn child_process_entry() {
    if std::env::var_os(ROLE).is_some() {
        let err = start().unwrap_err();
        let event = event_from_anyhow(&err);
        println!("\nVIGIL-EVENT {}", serde_json::to_string(&event).unwrap());
    }
}

fn event_from_child(lib_backtrace: &str) -> Value {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["child_process_entry", "--exact", "--ignored", "--nocapture"])
        .env(ROLE, "1")
        .env("RUST_LIB_BACKTRACE", lib_backtrace)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json = stdout
        .lines()
        .find_map(|l| l.strip_prefix("VIGIL-EVENT "))
        .unwrap_or_else(|| panic!("no event printed:\n{stdout}"));
    serde_json::from_str(json).unwrap()
}

/// The chain is exactly what `event_from_error` makes of the same error
/// (type names are core's business), root cause first.
fn assert_chain(event: &Value) {
    let values = event["exception"]["values"].as_array().unwrap();
    let messages: Vec<_> = values.iter().map(|v| &v["value"]).collect();
    assert_eq!(
        messages,
        [
            &json!("no such file or directory"),
            &json!("reading /etc/app.toml"),
            &json!("starting the app"),
        ]
    );
    let err = start().unwrap_err();
    let core: &(dyn std::error::Error + Send + Sync + 'static) = err.as_ref();
    let expected = vigil_core::event_from_error(core);
    let types: Vec<_> = values.iter().map(|v| v["type"].as_str().unwrap()).collect();
    let expected_types: Vec<_> = expected
        .exception
        .values
        .iter()
        .map(|e| e.ty.as_str())
        .collect();
    assert_eq!(types, expected_types);
    assert_eq!(
        values[2]["mechanism"],
        json!({"type": "generic", "handled": true})
    );
    assert!(values[0].get("mechanism").is_none());
    assert_eq!(event["level"], "error");
}

#[test]
fn backtrace_frames_go_to_the_outermost_exception() {
    let event = event_from_child("1");
    assert_chain(&event);
    let values = event["exception"]["values"].as_array().unwrap();
    assert!(values[0].get("stacktrace").is_none());
    assert!(values[1].get("stacktrace").is_none());
    let frames = values[2]["stacktrace"]["frames"].as_array().unwrap();
    // Innermost: where the error was created, not anyhow's constructors.
    let names: Vec<&str> = frames
        .iter()
        .rev()
        .take(3)
        .map(|f| f["function"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "anyhow_events::read_config",
            "anyhow_events::start",
            "anyhow_events::child_process_entry"
        ]
    );
    let innermost = frames.last().unwrap();
    assert_eq!(innermost["module"], "anyhow_events");
    assert_eq!(innermost["filename"], "vigil-anyhow/tests/anyhow_events.rs");
    assert!(innermost["abs_path"].as_str().unwrap().starts_with('/'));
    assert_eq!(innermost["lineno"], 17);
    assert!(
        innermost["instruction_addr"]
            .as_str()
            .unwrap()
            .starts_with("0x")
    );
    assert_eq!(innermost["in_app"], true);
    for frame in frames {
        let name = frame["function"].as_str().unwrap_or("");
        assert!(
            !name.starts_with("anyhow::") && !name.starts_with("std::backtrace"),
            "{name}"
        );
        assert!(!name.contains("::h") && !name.contains('['), "{name}");
        if name.starts_with("std::") || name.starts_with("core::") {
            assert_eq!(frame["in_app"], false, "{name}");
        }
    }
}

#[test]
fn without_a_captured_backtrace_only_the_chain_is_sent() {
    let event = event_from_child("0");
    assert_chain(&event);
    assert!(
        event["exception"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v.get("stacktrace").is_none())
    );
}

#[test]
fn capture_anyhow_and_the_hub_extension_send_events() {
    let events = vigil_core::test::with_captured_events(|| {
        let err = start().unwrap_err();
        assert!(!capture_anyhow(&err).is_nil());
        assert!(!vigil_core::Hub::current().capture_anyhow(&err).is_nil());
    });
    assert_eq!(events.len(), 2);
    for event in &events {
        assert_chain(&serde_json::to_value(event).unwrap());
    }
}

#[test]
fn disabled_sdk_returns_the_nil_id() {
    let err = anyhow::anyhow!("nobody listens");
    assert!(capture_anyhow(&err).is_nil());
}
