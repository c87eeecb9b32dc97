//! Stack traces captured from a crate that is not part of the SDK (this
//! test crate), checked as the JSON Sentry receives.

use serde_json::{Value, json};
use vigil_backtrace::{
    AttachStacktraceIntegration, ProcessStacktraceIntegration, backtrace_to_stacktrace,
    current_stacktrace,
};
use vigil_core::ClientOptions;
use vigil_core::protocol::{Event, Exception, Frame, Level, Stacktrace};
use vigil_core::test::with_captured_events_options;

#[inline(never)]
fn capture_here(options: &ClientOptions) -> Value {
    serde_json::to_value(current_stacktrace(options).expect("frames")).unwrap()
}

fn innermost(stacktrace: &Value) -> &Value {
    stacktrace["frames"].as_array().unwrap().last().unwrap()
}

#[test]
fn current_stacktrace_ends_in_the_caller() {
    let st = capture_here(&ClientOptions::default());
    let frames = st["frames"].as_array().unwrap();
    let last = innermost(&st);
    assert_eq!(last["function"], "stacktrace::capture_here");
    assert_eq!(last["module"], "stacktrace");
    assert_eq!(last["filename"], "vigil-backtrace/tests/stacktrace.rs");
    assert!(
        last["abs_path"]
            .as_str()
            .unwrap()
            .ends_with("vigil-backtrace/tests/stacktrace.rs")
    );
    assert_eq!(last["lineno"], 15);
    assert!(last["colno"].as_u64().unwrap() > 0);
    assert!(last["instruction_addr"].as_str().unwrap().starts_with("0x"));
    assert_eq!(last["in_app"], true);
    // The caller is next, then the test harness (not in-app).
    assert_eq!(
        frames[frames.len() - 2]["function"],
        "stacktrace::current_stacktrace_ends_in_the_caller"
    );
    for frame in frames {
        let name = frame["function"].as_str().unwrap_or("");
        assert!(!name.starts_with("backtrace::"), "{name}");
        assert!(!name.starts_with("vigil_backtrace::"), "{name}");
        assert!(!name.contains("::h"), "hash left in {name}");
        if name.starts_with("std::") || name.starts_with("core::") || name.starts_with("test::") {
            assert_eq!(frame["in_app"], false, "{name}");
        }
    }
    assert!(frames.len() <= vigil_backtrace::MAX_FRAMES);
}

#[test]
fn include_and_exclude_options_apply() {
    let options = ClientOptions {
        in_app_exclude: vec!["stacktrace"],
        in_app_include: vec!["test"],
        ..Default::default()
    };
    let st = capture_here(&options);
    let frames = st["frames"].as_array().unwrap();
    assert_eq!(innermost(&st)["in_app"], false);
    let harness = frames
        .iter()
        .find(|f| f["function"].as_str().unwrap_or("").starts_with("test::"))
        .expect("a libtest frame");
    assert_eq!(harness["in_app"], true);
}

#[test]
fn unresolved_backtraces_are_resolved() {
    let bt = backtrace::Backtrace::new_unresolved();
    let st = backtrace_to_stacktrace(&bt, &ClientOptions::default()).unwrap();
    let last = st.frames.last().unwrap();
    assert_eq!(
        last.function.as_deref(),
        Some("stacktrace::unresolved_backtraces_are_resolved")
    );
}

#[test]
fn attach_stacktrace_adds_a_current_thread() {
    let options = ClientOptions {
        attach_stacktrace: true,
        ..Default::default()
    }
    .integration(AttachStacktraceIntegration::new());
    let events = with_captured_events_options(
        || {
            vigil_core::capture_message("with a stack", Level::Warning);
            vigil_core::capture_error(&std::fmt::Error);
        },
        options,
    );
    assert_eq!(events.len(), 2);
    let json = serde_json::to_value(&events[0]).unwrap();
    let thread = &json["threads"]["values"][0];
    assert_eq!(thread["current"], true);
    assert_eq!(
        thread["name"].as_str(),
        std::thread::current().name(),
        "the capturing thread"
    );
    assert!(thread["id"].is_u64());
    let last = innermost(&thread["stacktrace"]);
    assert_eq!(
        last["function"],
        "stacktrace::attach_stacktrace_adds_a_current_thread::{{closure}}"
    );
    assert_eq!(last["in_app"], true);
    // No SDK frame is left at the innermost end.
    assert!(!last["function"].as_str().unwrap().contains("vigil"));
    // An error event whose exception has no stack trace keeps its
    // exception and gets the capturing thread's, linked by thread id.
    let error = serde_json::to_value(&events[1]).unwrap();
    let thread = &error["threads"]["values"][0];
    assert_eq!(thread["current"], true);
    assert_eq!(error["exception"]["values"][0]["thread_id"], thread["id"]);
    assert_eq!(
        innermost(&thread["stacktrace"])["function"],
        "stacktrace::attach_stacktrace_adds_a_current_thread::{{closure}}"
    );
}

#[test]
fn attach_stacktrace_is_off_by_default() {
    let options = ClientOptions::default().integration(AttachStacktraceIntegration::new());
    let events = with_captured_events_options(
        || {
            vigil_core::capture_message("no stack", Level::Info);
        },
        options,
    );
    assert!(events[0].threads.is_empty());
}

#[test]
fn process_stacktrace_marks_existing_frames() {
    let frame = |function: &str| Frame {
        function: Some(function.into()),
        ..Default::default()
    };
    let mut event = Event::new();
    event.exception.values.push(Exception {
        ty: "Error".into(),
        stacktrace: Some(Stacktrace {
            frames: vec![
                frame("std::rt::lang_start"),
                frame("my_app::main"),
                frame("my_app::db::query"),
            ],
        }),
        ..Default::default()
    });
    let options = ClientOptions {
        in_app_exclude: vec!["my_app::db"],
        ..Default::default()
    }
    .integration(ProcessStacktraceIntegration::new());
    let events = with_captured_events_options(
        move || {
            vigil_core::capture_event(event);
        },
        options,
    );
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        json["exception"]["values"][0]["stacktrace"],
        json!({"frames": [
            {"function": "std::rt::lang_start", "in_app": false},
            {"function": "my_app::main", "in_app": true},
            {"function": "my_app::db::query", "in_app": false}
        ]})
    );
    assert_eq!(json["sdk"]["integrations"], json!(["process-stacktrace"]));
}
