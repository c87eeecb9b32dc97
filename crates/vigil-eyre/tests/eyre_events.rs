//! `eyre` reports under `eyre`'s default handler: the chain, the types and
//! the mechanism, and no exception stack trace (the default handler keeps
//! its backtrace private). The backtrace checks run in child processes of
//! this test binary, because the standard library reads
//! `RUST_LIB_BACKTRACE` once per process.

use std::process::Command;

use eyre::WrapErr;
use serde_json::{Value, json};
use vigil_core::ClientOptions;
use vigil_eyre::{EyreHubExt, capture_eyre, event_from_eyre};

const ROLE: &str = "VIGIL_EYRE_TEST_CHILD";

#[inline(never)]
fn read_config() -> eyre::Result<String> {
    let err = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory");
    Err(err).wrap_err("reading /etc/app.toml")
}

#[inline(never)]
fn start() -> eyre::Result<String> {
    read_config().wrap_err("starting the app")
}

/// Prints the report of `start()` (its `Debug` output, escaped) and its
/// event as JSON; run by the tests below.
#[test]
#[ignore = "child-process role of the eyre tests; they run it"]
fn child_process_entry() {
    if std::env::var_os(ROLE).is_some() {
        let report = start().unwrap_err();
        println!("\nVIGIL-REPORT {}", json!(format!("{report:?}")));
        let event = event_from_eyre(&report);
        println!("\nVIGIL-EVENT {}", serde_json::to_string(&event).unwrap());
    }
}

/// The child's report `Debug` output and event.
fn child_output(lib_backtrace: &str) -> (String, Value) {
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
    let line = |prefix: &str| -> Value {
        let json = stdout
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no {prefix} line printed:\n{stdout}"));
        serde_json::from_str(json).unwrap()
    };
    let report = line("VIGIL-REPORT ");
    (report.as_str().unwrap().to_owned(), line("VIGIL-EVENT "))
}

/// The chain, root cause first, with the values and types
/// `event_from_error` gives the error the report wraps, and the mechanism
/// on the outermost exception only.
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
    let types: Vec<_> = values.iter().map(|v| v["type"].as_str().unwrap()).collect();
    // The root cause is recognised by downcasting; eyre's context errors
    // print `Error { msg: .., source: .. }` as their `Debug`.
    assert_eq!(types, ["std::io::Error", "Error", "Error"]);
    let report = start().unwrap_err();
    let wrapped: &(dyn std::error::Error + Send + Sync + 'static) = report.as_ref();
    let expected = vigil_core::event_from_error(wrapped);
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
    assert!(values[1].get("mechanism").is_none());
    assert_eq!(event["level"], "error");
}

fn assert_no_stacktrace(event: &Value) {
    assert!(
        event["exception"]["values"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v.get("stacktrace").is_none())
    );
    assert!(event.get("threads").is_none());
}

#[test]
fn the_default_handlers_backtrace_is_out_of_reach() {
    let (report, event) = child_output("1");
    // eyre did capture a backtrace (it prints it with the report) ...
    assert!(report.contains("Stack backtrace:"), "{report}");
    assert!(report.contains("eyre_events::read_config"), "{report}");
    // ... but keeps it private: the event has the chain only.
    assert_chain(&event);
    assert_no_stacktrace(&event);
}

#[test]
fn without_a_captured_backtrace_only_the_chain_is_sent() {
    let (report, event) = child_output("0");
    assert!(!report.contains("Stack backtrace:"), "{report}");
    assert_chain(&event);
    assert_no_stacktrace(&event);
}

#[test]
fn capture_eyre_and_the_hub_extension_send_events() {
    let events = vigil_core::test::with_captured_events(|| {
        let report = start().unwrap_err();
        assert!(!capture_eyre(&report).is_nil());
        assert!(!vigil_core::Hub::current().capture_eyre(&report).is_nil());
    });
    assert_eq!(events.len(), 2);
    for event in &events {
        let event = serde_json::to_value(event).unwrap();
        assert_chain(&event);
        assert_no_stacktrace(&event);
    }
}

#[test]
fn a_message_report_is_one_exception() {
    let events = vigil_core::test::with_captured_events(|| {
        capture_eyre(&eyre::eyre!("disk {} full", "/var"));
    });
    let event = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        event["exception"]["values"],
        json!([{
            "type": "Error",
            "value": "disk /var full",
            "mechanism": {"type": "generic", "handled": true}
        }])
    );
}

#[test]
fn attach_stacktrace_gives_the_capturing_threads_stack() {
    let options = ClientOptions {
        attach_stacktrace: true,
        ..Default::default()
    }
    .integration(vigil_backtrace::AttachStacktraceIntegration::new());
    let events = vigil_core::test::with_captured_events_options(
        || {
            capture_eyre(&start().unwrap_err());
        },
        options,
    );
    let event = serde_json::to_value(&events[0]).unwrap();
    assert_chain(&event);
    let thread = &event["threads"]["values"][0];
    assert_eq!(thread["current"], true);
    assert_eq!(event["exception"]["values"][2]["thread_id"], thread["id"]);
    // The stack where the report was captured, not where it was created.
    let innermost = thread["stacktrace"]["frames"]
        .as_array()
        .unwrap()
        .last()
        .unwrap();
    let function = innermost["function"].as_str().unwrap();
    assert!(
        function.starts_with("eyre_events::attach_stacktrace_gives_the_capturing_threads_stack"),
        "{function}"
    );
    assert_eq!(innermost["in_app"], true);
}

#[test]
fn disabled_sdk_returns_the_nil_id() {
    let report = eyre::eyre!("nobody listens");
    assert!(capture_eyre(&report).is_nil());
    assert!(vigil_core::Hub::current().capture_eyre(&report).is_nil());
}
