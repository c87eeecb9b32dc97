//! `eyre` reports under `color-eyre`'s handler: the handler's backtrace
//! goes to the outermost exception, without the frames of `eyre`'s and
//! `color-eyre`'s constructors. `color_eyre::install` sets a global hook
//! once per process and the handler reads `RUST_LIB_BACKTRACE`, so every
//! check runs in a child process of this test binary that installs it
//! with the variable set as needed.
#![cfg(feature = "color-eyre")]

use std::process::Command;

use eyre::WrapErr;
use serde_json::{Value, json};
use vigil_eyre::{capture_eyre, event_from_eyre};

const ROLE: &str = "VIGIL_COLOR_EYRE_TEST_CHILD";
const SOURCE: &str = include_str!("color_eyre_events.rs");

#[inline(never)]
fn read_config() -> eyre::Result<String> {
    let err = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory");
    Err(err).wrap_err("reading /etc/app.toml") // created: wrap_err
}

#[inline(never)]
fn start() -> eyre::Result<String> {
    read_config().wrap_err("starting the app")
}

#[inline(never)]
fn parse_port() -> eyre::Result<u16> {
    let port = "eighty".parse::<u16>()?; // created: question_mark
    Ok(port)
}

#[inline(never)]
fn check_disk() -> eyre::Result<()> {
    Err(eyre::eyre!("disk full")) // created: eyre_macro
}

/// The line of the statement marked `// created: {name}` above.
fn line_of(name: &str) -> u64 {
    let marker = format!("// created: {name}");
    let index = SOURCE
        .lines()
        .position(|l| l.trim_end().ends_with(&marker))
        .unwrap_or_else(|| panic!("no line marked {marker}"));
    u64::try_from(index).unwrap() + 1
}

fn print_event(name: &str, event: &impl serde::Serialize) {
    println!(
        "\nVIGIL-EVENT {name} {}",
        serde_json::to_string(event).unwrap()
    );
}

/// Installs `color-eyre` and prints one event per way of making a report;
/// run by the tests below.
#[test]
#[ignore = "child-process role of the color-eyre tests; they run it"]
fn child_process_entry() {
    if std::env::var_os(ROLE).is_none() {
        return;
    }
    color_eyre::install().unwrap();
    print_event("wrap_err", &event_from_eyre(&start().unwrap_err()));
    print_event(
        "question_mark",
        &event_from_eyre(&parse_port().unwrap_err()),
    );
    print_event("eyre_macro", &event_from_eyre(&check_disk().unwrap_err()));
    let events = vigil_core::test::with_captured_events(|| {
        capture_eyre(&start().unwrap_err());
    });
    print_event("captured", &events[0]);
}

/// The events the child printed, by name.
fn events_from_child(lib_backtrace: &str) -> Vec<(String, Value)> {
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
    let events: Vec<_> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("VIGIL-EVENT "))
        .map(|l| {
            let (name, json) = l.split_once(' ').unwrap();
            (name.to_owned(), serde_json::from_str(json).unwrap())
        })
        .collect();
    let names: Vec<_> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["wrap_err", "question_mark", "eyre_macro", "captured"],
        "{stdout}"
    );
    events
}

fn exceptions(event: &Value) -> &Vec<Value> {
    event["exception"]["values"].as_array().unwrap()
}

/// The chain does not depend on the handler.
fn assert_chains(events: &[(String, Value)]) {
    let chain = |name: &str| -> Vec<(Value, Value)> {
        let event = &events.iter().find(|(n, _)| n == name).unwrap().1;
        exceptions(event)
            .iter()
            .map(|v| (v["type"].clone(), v["value"].clone()))
            .collect()
    };
    let wrapped = [
        (json!("std::io::Error"), json!("no such file or directory")),
        (json!("Error"), json!("reading /etc/app.toml")),
        (json!("Error"), json!("starting the app")),
    ];
    assert_eq!(chain("wrap_err"), wrapped);
    assert_eq!(chain("captured"), wrapped);
    // The `?` conversion wraps the error itself: the outermost type comes
    // from its `Debug` output.
    assert_eq!(
        chain("question_mark"),
        [(
            json!("ParseIntError"),
            json!("invalid digit found in string")
        )]
    );
    assert_eq!(chain("eyre_macro"), [(json!("Error"), json!("disk full"))]);
    for (name, event) in events {
        let values = exceptions(event);
        let (outermost, inner) = values.split_last().unwrap();
        assert_eq!(
            outermost["mechanism"],
            json!({"type": "generic", "handled": true}),
            "{name}"
        );
        assert!(inner.iter().all(|v| v.get("mechanism").is_none()), "{name}");
        assert_eq!(event["level"], "error", "{name}");
    }
}

/// Whether a function belongs to eyre, color-eyre or the backtrace
/// capture.
fn is_capture_machinery(name: &str) -> bool {
    [
        "eyre::",
        "color_eyre::",
        "backtrace::",
        "<eyre::",
        "<color_eyre::",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        || name.contains(" as eyre::")
        || name.contains(" as color_eyre::")
}

/// Whether a name still has the `::h0123456789abcdef` suffix of a legacy
/// symbol or the `[0123abcd]` crate hashes of a v0 one.
fn has_symbol_hash(name: &str) -> bool {
    let legacy = name.split("::").any(|segment| {
        segment.len() == 17
            && segment.starts_with('h')
            && segment[1..].bytes().all(|b| b.is_ascii_hexdigit())
    });
    legacy || name.contains('[')
}

#[test]
fn the_handlers_backtrace_goes_to_the_outermost_exception() {
    let events = events_from_child("1");
    assert_chains(&events);
    for (name, event) in &events {
        let values = exceptions(event);
        let (outermost, inner) = values.split_last().unwrap();
        assert!(
            inner.iter().all(|v| v.get("stacktrace").is_none()),
            "{name}"
        );
        let frames = outermost["stacktrace"]["frames"].as_array().unwrap();
        let functions: Vec<&str> = frames
            .iter()
            .rev()
            .map(|f| f["function"].as_str().unwrap_or(""))
            .collect();
        // Innermost first: where the report was created, then its callers.
        let expected: &[&str] = match name.as_str() {
            "wrap_err" => &[
                "color_eyre_events::read_config",
                "color_eyre_events::start",
                "color_eyre_events::child_process_entry",
            ],
            "captured" => &[
                "color_eyre_events::read_config",
                "color_eyre_events::start",
                "color_eyre_events::child_process_entry::{{closure}}",
            ],
            "question_mark" => &[
                "color_eyre_events::parse_port",
                "color_eyre_events::child_process_entry",
            ],
            "eyre_macro" => &[
                "color_eyre_events::check_disk",
                "color_eyre_events::child_process_entry",
            ],
            other => panic!("unexpected event {other}"),
        };
        assert_eq!(&functions[..expected.len()], expected, "{name}");
        let innermost = frames.last().unwrap();
        let marker = if name == "captured" { "wrap_err" } else { name };
        assert_eq!(innermost["lineno"], line_of(marker), "{name}");
        assert_eq!(innermost["module"], "color_eyre_events", "{name}");
        assert_eq!(
            innermost["filename"], "vigil-eyre/tests/color_eyre_events.rs",
            "{name}"
        );
        assert!(innermost["abs_path"].as_str().unwrap().starts_with('/'));
        assert!(
            innermost["instruction_addr"]
                .as_str()
                .unwrap()
                .starts_with("0x")
        );
        assert_eq!(innermost["in_app"], true, "{name}");
        for frame in frames {
            let function = frame["function"].as_str().unwrap_or("");
            assert!(!is_capture_machinery(function), "{name}: {function}");
            assert!(!has_symbol_hash(function), "{function}");
            if function.starts_with("std::") || function.starts_with("core::") {
                assert_eq!(frame["in_app"], false, "{function}");
            }
        }
    }
}

#[test]
fn without_a_captured_backtrace_only_the_chain_is_sent() {
    let events = events_from_child("0");
    assert_chains(&events);
    for (name, event) in &events {
        assert!(
            exceptions(event)
                .iter()
                .all(|v| v.get("stacktrace").is_none()),
            "{name}"
        );
    }
}
