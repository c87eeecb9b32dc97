//! `vigil::init` installs the default integrations unless
//! `default_integrations` is off. Own binary: it binds clients to the main
//! hub and installs the process-wide panic hook.

use std::sync::Arc;

use serde_json::{Value, json};
use vigil::test::TestTransport;
use vigil::{ClientOptions, ContextsIntegration, Level, Transport, TransportContext};

fn init_and_capture(options: ClientOptions) -> Vec<Value> {
    let transport = TestTransport::new();
    let for_factory = transport.clone();
    let options = options
        .transport(move |_: &TransportContext<'_>| for_factory.clone() as Arc<dyn Transport>);
    let guard = vigil::init(("https://public@example.invalid/1", options));
    vigil::capture_message("hello", Level::Info);
    // A panic on another thread: captured only with the panic integration.
    let _ = std::thread::Builder::new()
        .name("default-integrations-panic".into())
        .spawn(|| panic!("expected panic of the default integrations test"))
        .unwrap()
        .join();
    drop(guard);
    transport
        .fetch_and_clear_events()
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect()
}

fn contexts_of(event: &Value) -> Vec<String> {
    event["contexts"]
        .as_object()
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn default_integrations_on_off_and_deduplicated() {
    // Off: nothing is installed.
    let events = init_and_capture(ClientOptions {
        default_integrations: false,
        attach_stacktrace: true,
        ..Default::default()
    });
    assert_eq!(events.len(), 1, "no panic event: {events:#?}");
    let integrations = &events[0]["sdk"]["integrations"];
    assert!(
        integrations.as_array().is_none_or(Vec::is_empty),
        "{integrations}"
    );
    for key in ["os", "rust", "device", "app"] {
        assert!(!contexts_of(&events[0]).contains(&key.to_owned()));
    }
    assert!(
        events[0].get("threads").is_none(),
        "no attached stack trace"
    );
    assert!(events[0].get("debug_meta").is_none(), "no debug images");

    // On (the default): all five, in order; the panic is captured.
    let events = init_and_capture(ClientOptions {
        attach_stacktrace: true,
        ..Default::default()
    });
    assert_eq!(events.len(), 2, "{events:#?}");
    let message = &events[0];
    assert_eq!(
        message["sdk"]["integrations"],
        json!([
            "attach-stacktrace",
            "debug-images",
            "contexts",
            "panic",
            "process-stacktrace"
        ])
    );
    // The stack trace brings the loaded images, the test binary first.
    let images = message["debug_meta"]["images"].as_array().unwrap();
    assert_eq!(images[0]["type"], "elf");
    assert_eq!(
        images[0]["code_file"],
        std::env::current_exe().unwrap().to_str().unwrap()
    );
    for key in ["os", "rust", "device", "app"] {
        assert!(contexts_of(message).contains(&key.to_owned()), "{key}");
    }
    let frames = message["threads"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .unwrap();
    assert_eq!(
        frames.last().unwrap()["function"],
        "default_integrations::init_and_capture"
    );
    let panic = &events[1];
    assert_eq!(panic["level"], "fatal");
    assert_eq!(
        panic["exception"]["values"][0]["value"],
        "expected panic of the default integrations test"
    );

    // A user-configured integration replaces the default of that name.
    let events = init_and_capture(ClientOptions::new().integration(ContextsIntegration::new()));
    assert_eq!(
        events[0]["sdk"]["integrations"],
        json!([
            "attach-stacktrace",
            "debug-images",
            "panic",
            "process-stacktrace",
            "contexts"
        ])
    );

    // Off again: the panic hook stays installed but captures nothing.
    let events = init_and_capture(ClientOptions::new().default_integrations(false));
    assert_eq!(events.len(), 1, "{events:#?}");
}
