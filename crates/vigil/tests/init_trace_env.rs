//! `init` continues the trace a parent process passed in `SENTRY_TRACE` /
//! `SENTRY_BAGGAGE`. The environment is the process's, so the test runs
//! this binary again as a child with the variables set.

mod support;

use std::process::Command;
use std::sync::Arc;

use support::{Recording, options_with};
use vigil::Level;

const CHILD: &str = "VIGIL_TRACE_ENV_CHILD";
const TRACE: &str = "771a43a4192642f0b136d5159a501700";

/// In the child: init, capture, print the event's trace context and the
/// envelope's trace header as two JSON lines.
#[test]
fn child() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((
        "https://public@example.invalid/1",
        options_with(transport.clone()),
    ));
    vigil::capture_message("in the child process", Level::Error);
    drop(guard);
    let events = transport.events();
    let event = &events[0];
    let envelopes = transport.envelopes.lock().unwrap();
    println!(
        "VIGIL-TRACE {}",
        serde_json::to_string(&event.contexts["trace"]).unwrap()
    );
    println!(
        "VIGIL-DSC {}",
        serde_json::to_string(&envelopes[0].headers().trace).unwrap()
    );
}

fn run_child(vars: &[(&str, &str)]) -> (serde_json::Value, serde_json::Value) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("SENTRY_TRACE")
        .env_remove("SENTRY_BAGGAGE")
        .env_remove("SENTRY_DSN");
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = |prefix: &str| -> serde_json::Value {
        let line = stdout
            .lines()
            .find_map(|l| l.split_once(prefix).map(|(_, rest)| rest))
            .unwrap_or_else(|| panic!("no {prefix}line in:\n{stdout}"));
        serde_json::from_str(line).unwrap()
    };
    (line("VIGIL-TRACE "), line("VIGIL-DSC "))
}

#[test]
fn the_trace_of_the_parent_process_is_continued() {
    let (trace, dsc) = run_child(&[
        (
            "SENTRY_TRACE",
            "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
        ),
        (
            "SENTRY_BAGGAGE",
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=parentkey,sentry-sample_rand=0.5",
        ),
    ]);
    assert_eq!(trace["trace_id"], TRACE);
    assert_eq!(trace["parent_span_id"], "b0e6f15b45c36b12");
    assert_eq!(
        dsc["public_key"], "parentkey",
        "the parent's DSC is sent on"
    );
    assert_eq!(dsc["sample_rand"], "0.5");
}

#[test]
fn without_the_variables_or_with_a_bad_one_a_new_trace_starts() {
    let (trace, dsc) = run_child(&[]);
    assert_ne!(trace["trace_id"], TRACE);
    assert!(trace.get("parent_span_id").is_none());
    assert_eq!(dsc["public_key"], "public");
    let (trace, _) = run_child(&[(
        "SENTRY_TRACE",
        "771A43A4192642F0B136D5159A501700-B0E6F15B45C36B12-1",
    )]);
    assert_ne!(trace["trace_id"], TRACE);
}
