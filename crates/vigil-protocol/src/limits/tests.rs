//! Tests of the limits, one file per part of the `limits` module.

mod bags;
mod contexts;
mod fields;
mod interfaces;
mod request;
mod shedding;
mod tags;
mod text;
mod transaction;

use crate::event::Event;
use crate::exception::{Exception, Frame, Stacktrace};
use crate::limits::{MAX_EVENT_SIZE, trim_event};

fn chars(s: &str) -> usize {
    s.chars().count()
}

fn long(n: usize) -> String {
    "x".repeat(n)
}

fn trimmed(event: Event) -> Event {
    let mut event = event;
    trim_event(&mut event);
    event
}

/// Asserts that `s` was cut to exactly `limit` chars ending in `...`.
#[track_caller]
fn assert_cut(s: &str, limit: usize) {
    assert_eq!(chars(s), limit, "{s:?}");
    assert!(s.ends_with("..."), "{s:?}");
}

fn frames(n: usize) -> Vec<Frame> {
    (0..n)
        .map(|i| Frame {
            function: Some(format!("f{i}")),
            raw_function: Some(format!("_ZN1f{i}E")),
            module: Some("m".into()),
            filename: Some("src/lib.rs".into()),
            abs_path: Some("/src/lib.rs".into()),
            lineno: Some(i as u64 + 1),
            colno: Some(1),
            in_app: Some(true),
            instruction_addr: Some("0x1000".into()),
            symbol_addr: Some("0x1000".into()),
        })
        .collect()
}

fn exception_with_frames(n: usize) -> Exception {
    Exception {
        ty: "E".into(),
        stacktrace: Some(Stacktrace { frames: frames(n) }),
        ..Default::default()
    }
}

#[test]
fn max_event_size_is_one_mib() {
    assert_eq!(MAX_EVENT_SIZE, 1_048_576);
}
