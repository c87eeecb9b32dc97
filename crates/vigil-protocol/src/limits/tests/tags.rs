//! Tag keys and values.

use std::collections::BTreeMap;

use smol_str::SmolStr;

use super::{assert_cut, long, trimmed};
use crate::event::Event;

#[test]
fn tag_keys_are_sanitized_and_limited() {
    let tags = trimmed(Event {
        tags: BTreeMap::from([
            ("user name".into(), "a".into()),
            ("path/to@x é".into(), "b".into()),
            ("ok_key.1:a-b".into(), "c".into()),
            (long(201).into(), "d".into()),
        ]),
        ..Default::default()
    })
    .tags;
    assert_eq!(tags["user-name"], "a");
    assert_eq!(tags["path_to_x-_"], "b");
    assert_eq!(tags["ok_key.1:a-b"], "c");
    let long_key = tags.keys().find(|k| k.starts_with("xxx")).unwrap();
    assert_cut(long_key, 200);
    assert_eq!(tags.len(), 4);
}

#[test]
fn tag_values_lose_newlines_and_are_limited() {
    let tags = trimmed(Event {
        tags: BTreeMap::from([
            ("a".into(), "line 1\nline 2\r\nline 3\rx".into()),
            ("b".into(), long(201).into()),
            ("c".into(), "  padded  ".into()),
            ("d".into(), "é".repeat(200).into()),
        ]),
        ..Default::default()
    })
    .tags;
    assert_eq!(tags["a"], "line 1 line 2 line 3 x");
    assert_cut(&tags["b"], 200);
    assert_eq!(tags["c"], "padded");
    assert_eq!(tags["d"], "é".repeat(200));
}

#[test]
fn tags_with_an_empty_key_or_value_are_dropped() {
    let tags = trimmed(Event {
        tags: BTreeMap::from([
            ("".into(), "v".into()),
            ("empty".into(), "".into()),
            ("blank".into(), " \n ".into()),
            ("kept".into(), "v".into()),
        ]),
        ..Default::default()
    })
    .tags;
    assert_eq!(tags, BTreeMap::from([("kept".into(), "v".into())]));
}

#[test]
fn valid_tag_keys_win_over_rewritten_ones() {
    let tags = trimmed(Event {
        tags: BTreeMap::from([
            ("a b".into(), "rewritten".into()),
            ("a-b".into(), "original".into()),
        ]),
        ..Default::default()
    })
    .tags;
    assert_eq!(tags, BTreeMap::from([("a-b".into(), "original".into())]));
}

#[test]
fn tags_relay_drops_silently_are_kept() {
    let names = ["release", "dist", "user", "filename", "function"];
    let tags: BTreeMap<SmolStr, SmolStr> = names
        .iter()
        .map(|n| (SmolStr::new(n), SmolStr::new("v")))
        .collect();
    let event = trimmed(Event {
        tags: tags.clone(),
        ..Default::default()
    });
    assert_eq!(event.tags, tags);
}
