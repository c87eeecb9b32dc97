//! Semantics 8: error chains, event ids, last_event_id.

use std::error::Error;
use std::fmt;

use serde_json::json;
use vigil_core::protocol::{EventId, Level};
use vigil_core::{ClientOptions, capture_error, capture_message, last_event_id};

use crate::support::{default_harness, harness};

#[derive(Debug)]
struct Layer {
    msg: &'static str,
    source: Option<Box<Layer>>,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.msg)
    }
}

impl Error for Layer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

fn three_levels() -> Layer {
    Layer {
        msg: "request failed",
        source: Some(Box::new(Layer {
            msg: "database unavailable",
            source: Some(Box::new(Layer {
                msg: "connection refused",
                source: None,
            })),
        })),
    }
}

#[test]
fn source_chain_is_recorded_root_cause_first() {
    let h = default_harness();
    let err = three_levels();
    let id = h.run(|| capture_error(&err as &dyn Error));
    let events = h.events();
    assert_eq!(events[0].event_id, id);
    let json = serde_json::to_value(&events[0]).unwrap();
    let values = json["exception"]["values"].as_array().unwrap();
    let pairs: Vec<_> = values
        .iter()
        .map(|v| (v["type"].as_str().unwrap(), v["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("Layer", "connection refused"),
            ("Layer", "database unavailable"),
            ("Layer", "request failed")
        ]
    );
    assert_eq!(
        values[2]["mechanism"],
        json!({"type": "generic", "handled": true})
    );
    assert_eq!(json["level"], "error");
}

#[test]
fn concrete_error_types_use_their_rust_name() {
    let h = default_harness();
    let err = "nope".parse::<i32>().unwrap_err();
    h.run(|| capture_error(&err));
    let e = &h.events()[0];
    let ex = &e.exception.values[0];
    assert_eq!(ex.ty, "ParseIntError");
    assert_eq!(ex.module.as_deref(), Some("core::num::error"));
}

#[test]
fn ids_are_nil_when_dropped_and_last_event_id_tracks_sent_ones() {
    let h = harness(
        ClientOptions::new().before_send(|e| (e.message.as_deref() != Some("drop")).then_some(e)),
    );
    h.run(|| {
        assert_eq!(last_event_id(), None);
        let sent = capture_message("keep", Level::Info);
        assert!(!sent.is_nil());
        assert_eq!(last_event_id(), Some(sent));
        let dropped = capture_message("drop", Level::Info);
        assert_eq!(dropped, EventId::nil());
        assert_eq!(
            last_event_id(),
            Some(sent),
            "a dropped event does not replace it"
        );
        assert_eq!(sent.to_string().len(), 32);
    });
}
