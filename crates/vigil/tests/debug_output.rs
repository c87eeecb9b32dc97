//! `debug: true`, as a person reads it: one line per event and per
//! transaction handed to the transport, one per drop, and a summary when
//! the client closes (`Display` of `DeliveryStats`). The child process
//! runs the SDK against a loopback server; the parent reads its stderr.

use std::process::Command;
use std::time::Duration;

use vigil::{ClientOptions, Level, TransactionContext};
use vigil_test::LoopbackServer;

const ROLE: &str = "VIGIL_TEST_DEBUG_ROLE";
const DSN: &str = "VIGIL_TEST_DEBUG_DSN";

/// The child: an event, an event `before_send` drops, a transaction, then
/// the guard is dropped.
#[test]
#[ignore = "child-process role of debug_output; the test below runs it"]
fn child_process_entry() {
    let Ok(dsn) = std::env::var(DSN) else {
        return;
    };
    let options = ClientOptions {
        debug: true,
        release: Some("debug-output@1.0.0".into()),
        traces_sample_rate: 1.0,
        auto_session_tracking: false,
        before_send: Some(std::sync::Arc::new(|event: vigil::protocol::Event| {
            (event.message.as_deref() != Some("dropped by before_send")).then_some(event)
        })),
        ..Default::default()
    };
    let guard = vigil::init((dsn.as_str(), options));
    vigil::capture_message("the checkout failed", Level::Error);
    vigil::capture_message("dropped by before_send", Level::Warning);
    let transaction = vigil::start_transaction(TransactionContext::new("checkout", "http.server"));
    transaction.start_child("db.query", "SELECT 1").finish();
    transaction.finish();
    assert!(guard.flush(Some(Duration::from_secs(5))));
    drop(guard);
}

#[test]
fn debug_prints_a_line_per_event_transaction_and_drop_and_a_summary() {
    let server = LoopbackServer::start();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_process_entry",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ROLE, "debug")
        .env(DSN, server.dsn())
        .env_remove("SENTRY_DSN")
        .env_remove("SENTRY_DEBUG")
        .output()
        .expect("the test binary runs again");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("[vigil] "))
        .collect();
    let has = |needle: &str| lines.iter().any(|l| l.contains(needle));
    assert!(
        lines.iter().any(|l| l.starts_with("[vigil] event ")
            && l.ends_with("(error) queued: \"the checkout failed\"")),
        "the event's line: {lines:#?}"
    );
    assert!(
        has("dropped 1 error item(s): before_send"),
        "the drop: {lines:#?}"
    );
    assert!(
        has("transaction \"checkout\" (1 spans, trace "),
        "the transaction's line: {lines:#?}"
    );
    let summary = lines
        .iter()
        .find(|l| l.starts_with("[vigil] closed: "))
        .unwrap_or_else(|| panic!("no summary: {lines:#?}"));
    assert!(
        summary.contains("(1 events,") && summary.contains("dropped: 1 error (before_send)"),
        "{summary}"
    );
    // What the summary says was sent is what the server accepted.
    let accepted = server.requests().iter().filter(|r| r.is_accepted()).count();
    assert!(
        summary.contains(&format!("[vigil] closed: {accepted} envelopes sent")),
        "{summary} (server accepted {accepted})"
    );
}
