//! The three-way merge behind lossless concurrent `configure_scope`, for
//! the scope's lists, and the value forms `set_extra` accepts.

use serde_json::json;
use vigil_core::protocol::{Attachment, EnvelopeItem, Level};
use vigil_core::{capture_message, configure_scope};

use crate::support::default_harness;

fn attachment_names(h: &crate::support::Harness) -> Vec<String> {
    let envelopes = h.transport.fetch_and_clear_envelopes();
    assert_eq!(envelopes.len(), 1);
    envelopes[0]
        .items()
        .filter_map(|item| match item {
            EnvelopeItem::Attachment(a) => Some(a.filename.clone()),
            _ => None,
        })
        .collect()
}

/// One closure clears the attachments and adds a new one while another
/// change (made from inside the closure, so it lands while the first is
/// still running) adds a third: the cleared one stays gone, both added
/// ones are kept.
#[test]
fn clearing_and_re_adding_attachments_during_a_concurrent_change_loses_nothing() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| s.add_attachment(Attachment::new("a.txt", b"a".to_vec())));
        configure_scope(|s| {
            s.clear_attachments();
            s.add_attachment(Attachment::new("b.txt", b"b".to_vec()));
            // Runs to completion while this closure's copy is out.
            configure_scope(|s| s.add_attachment(Attachment::new("c.txt", b"c".to_vec())));
        });
        capture_message("m", Level::Error);
    });
    let mut names = attachment_names(&h);
    names.sort();
    assert_eq!(names, ["b.txt", "c.txt"]);
}

/// The other order: the concurrent change clears, the closure appends.
#[test]
fn a_concurrent_clear_is_not_undone_by_an_append() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| s.add_attachment(Attachment::new("a.txt", b"a".to_vec())));
        configure_scope(|s| {
            s.add_attachment(Attachment::new("b.txt", b"b".to_vec()));
            configure_scope(|s| s.clear_attachments());
        });
        capture_message("m", Level::Error);
    });
    assert_eq!(attachment_names(&h), ["b.txt"]);
}

/// Re-adding an attachment equal to the cleared one is an addition, not
/// "no change".
#[test]
fn clearing_and_re_adding_an_equal_attachment_keeps_one_copy() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| s.add_attachment(Attachment::new("a.txt", b"a".to_vec())));
        configure_scope(|s| {
            s.clear_attachments();
            s.add_attachment(Attachment::new("a.txt", b"a".to_vec()));
            configure_scope(|s| s.add_attachment(Attachment::new("c.txt", b"c".to_vec())));
        });
        capture_message("m", Level::Error);
    });
    let mut names = attachment_names(&h);
    names.sort();
    assert_eq!(names, ["a.txt", "c.txt"]);
}

/// The forms sentry-rust code uses for extra values compile and send
/// what they say.
#[test]
fn set_extra_takes_the_reference_sdk_forms() {
    let h = default_harness();
    h.run(|| {
        configure_scope(|s| {
            s.set_extra("count", 3.into());
            s.set_extra("name", "checkout".into());
            s.set_extra("ok", true.into());
            s.set_extra("payload", json!({"id": 7}));
        });
        capture_message("m", Level::Error);
    });
    let events = h.events();
    assert_eq!(events[0].extra["count"], json!(3));
    assert_eq!(events[0].extra["name"], json!("checkout"));
    assert_eq!(events[0].extra["ok"], json!(true));
    assert_eq!(events[0].extra["payload"], json!({"id": 7}));
}
