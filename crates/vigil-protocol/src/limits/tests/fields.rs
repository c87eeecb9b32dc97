//! The event's own attributes: message, log entry, names, release,
//! environment, dist, extra, modules and SDK; whole events.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{assert_cut, exception_with_frames, long, trimmed};
use crate::context::{Context, OsContext};
use crate::event::{Event, LogEntry, Values};
use crate::limits::json_size::{json_size, map_size};
use crate::sdk::ClientSdkInfo;

#[test]
fn message_and_logentry_are_limited_to_8192_chars() {
    let event = trimmed(Event {
        message: Some(long(8192)),
        ..Default::default()
    });
    assert_eq!(event.message.unwrap(), long(8192));
    let event = trimmed(Event {
        message: Some(long(8193)),
        logentry: Some(LogEntry {
            message: Some("é".repeat(9000)),
            formatted: Some(long(20_000)),
            params: vec![],
        }),
        ..Default::default()
    });
    assert_cut(event.message.as_deref().unwrap(), 8192);
    let logentry = event.logentry.unwrap();
    assert_cut(logentry.message.as_deref().unwrap(), 8192);
    assert_cut(logentry.formatted.as_deref().unwrap(), 8192);
}

#[test]
fn logentry_params_are_a_2k_bag() {
    let event = trimmed(Event {
        logentry: Some(LogEntry {
            message: Some("%s %s".into()),
            formatted: Some("a b".into()),
            params: vec![json!(long(1500)), json!(long(1500))],
        }),
        ..Default::default()
    });
    let params = Value::Array(event.logentry.unwrap().params);
    assert!(json_size(&params) <= 2048);
    assert_eq!(params[0], json!(long(1500)));
    assert!(params[1].as_str().unwrap().ends_with("..."));
}

#[test]
fn logger_is_64_chars_without_line_breaks() {
    let event = trimmed(Event {
        logger: Some("my\r\nlogger\n".into()),
        ..Default::default()
    });
    assert_eq!(event.logger.as_deref(), Some("mylogger"));
    let event = trimmed(Event {
        logger: Some(long(65)),
        ..Default::default()
    });
    assert_cut(event.logger.as_deref().unwrap(), 64);
}

#[test]
fn transaction_is_trimmed_and_limited_to_200_chars() {
    let event = trimmed(Event {
        transaction: Some("  /users/{id}  ".into()),
        ..Default::default()
    });
    assert_eq!(event.transaction.as_deref(), Some("/users/{id}"));
    let event = trimmed(Event {
        transaction: Some(long(201)),
        ..Default::default()
    });
    assert_cut(event.transaction.as_deref().unwrap(), 200);
}

#[test]
fn server_name_is_limited_to_200_chars() {
    // Relay copies it into a tag, and tag values are limited to 200.
    let event = trimmed(Event {
        server_name: Some(long(256)),
        ..Default::default()
    });
    assert_cut(event.server_name.as_deref().unwrap(), 200);
}

#[test]
fn release_is_200_bytes_and_invalid_releases_are_removed() {
    let release = |r: &str| {
        trimmed(Event {
            release: Some(r.into()),
            ..Default::default()
        })
        .release
    };
    assert_eq!(release(" app@1.0 ").as_deref(), Some("app@1.0"));
    assert_eq!(release("my app@1.0+abc").as_deref(), Some("my app@1.0+abc"));
    let cut = release(&long(201)).unwrap();
    assert_eq!(cut.len(), 200);
    assert!(cut.ends_with("..."));
    let cut = release(&"é".repeat(101)).unwrap();
    assert!(cut.len() <= 200 && cut.ends_with("..."), "{cut}");
    assert_eq!(release(&"é".repeat(100)), Some("é".repeat(100)));
    for bad in [
        "", "  ", ".", "..", "latest", "LATEST", "a/b", "a\\b", "a\nb", "a\tb", "a\u{7f}",
    ] {
        assert_eq!(release(bad), None, "{bad:?}");
    }
}

#[test]
fn environment_is_64_bytes_and_invalid_environments_are_removed() {
    let environment = |e: &str| {
        trimmed(Event {
            environment: Some(e.into()),
            ..Default::default()
        })
        .environment
    };
    assert_eq!(environment(" staging ").as_deref(), Some("staging"));
    assert_eq!(environment("blue green").as_deref(), Some("blue green"));
    assert_eq!(environment("latest").as_deref(), Some("latest"));
    let cut = environment(&long(65)).unwrap();
    assert_eq!(cut.len(), 64);
    assert!(cut.ends_with("..."));
    let cut = environment(&"é".repeat(33)).unwrap();
    assert!(cut.len() <= 64, "{cut}");
    for bad in [
        "", ".", "..", "none", "None", "a/b", "a\\b", "a\rb", "a\u{1}b",
    ] {
        assert_eq!(environment(bad), None, "{bad:?}");
    }
}

#[test]
fn dist_is_64_safe_chars_or_removed() {
    let dist = |d: &str| {
        trimmed(Event {
            dist: Some(d.into()),
            ..Default::default()
        })
        .dist
    };
    assert_eq!(dist(" build-1.2_x ").as_deref(), Some("build-1.2_x"));
    assert_cut(&dist(&long(65)).unwrap(), 64);
    for bad in ["", "a b", "a/b", "é", "a+b"] {
        assert_eq!(dist(bad), None, "{bad:?}");
    }
}

#[test]
fn extra_values_are_limited_to_16k_each() {
    let event = trimmed(Event {
        extra: BTreeMap::from([
            ("big".into(), json!(long(20_000))),
            ("list".into(), json!(vec![long(1000); 30])),
            ("small".into(), json!(1)),
        ]),
        ..Default::default()
    });
    let big = &event.extra["big"];
    assert!(json_size(big) <= 16 * 1024);
    assert!(big.as_str().unwrap().ends_with("..."));
    let list = &event.extra["list"];
    assert!(json_size(list) <= 16 * 1024);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 17);
    assert_eq!(list[15], json!(long(1000)));
    assert!(list[16].as_str().unwrap().ends_with("..."));
    assert_eq!(event.extra["small"], json!(1));
}

#[test]
fn extra_is_limited_to_256k_dropping_the_largest_values() {
    let mut extra: BTreeMap<String, Value> = (0..30)
        .map(|i| (format!("k{i:02}"), json!(long(10_000))))
        .collect();
    extra.insert("huge".into(), json!(long(16_000)));
    extra.insert("tiny".into(), json!("t"));
    let event = trimmed(Event {
        extra,
        ..Default::default()
    });
    assert!(map_size(&event.extra) <= 256 * 1024);
    assert!(!event.extra.contains_key("huge"), "the largest goes first");
    assert_eq!(event.extra["tiny"], json!("t"));
    assert!(event.extra.len() >= 20, "{}", event.extra.len());
}

#[test]
fn extra_deeper_than_7_levels_becomes_text() {
    let event = trimmed(Event {
        extra: BTreeMap::from([(
            "a".into(),
            json!({"1": {"2": {"3": {"4": {"5": "leaf", "6": {"7": true}}}}}}),
        )]),
        ..Default::default()
    });
    assert_eq!(
        event.extra["a"],
        json!({"1": {"2": {"3": {"4": {"5": "leaf", "6": "{\"7\":true}"}}}}})
    );
}

#[test]
fn small_extra_is_left_alone() {
    let extra = BTreeMap::from([("a".into(), json!({"b": [1, 2.5, null, "c"]}))]);
    let event = trimmed(Event {
        extra: extra.clone(),
        ..Default::default()
    });
    assert_eq!(event.extra, extra);
}

#[test]
fn logentry_message_leaves_room_for_params_relay_substitutes() {
    let params = vec![json!(long(500)), json!(1.5e300)];
    let params_size = json_size(&Value::Array(params.clone()));
    let logentry = trimmed(Event {
        logentry: Some(LogEntry {
            message: Some("%s ".repeat(4000)),
            formatted: None,
            params: params.clone(),
        }),
        ..Default::default()
    })
    .logentry
    .unwrap();
    assert_cut(logentry.message.as_deref().unwrap(), 8192 - params_size);
    assert_eq!(logentry.params, params);
    // With `formatted` given, Relay does not format.
    let logentry = trimmed(Event {
        logentry: Some(LogEntry {
            message: Some("%s ".repeat(4000)),
            formatted: Some("done".into()),
            params,
        }),
        ..Default::default()
    })
    .logentry
    .unwrap();
    assert_cut(logentry.message.as_deref().unwrap(), 8192);
}

#[test]
fn logentry_without_a_message_is_removed() {
    let event = trimmed(Event {
        message: Some("kept".into()),
        logentry: Some(LogEntry {
            params: vec![json!(1)],
            ..Default::default()
        }),
        ..Default::default()
    });
    assert_eq!(event.logentry, None);
    assert_eq!(event.message.as_deref(), Some("kept"));
    for logentry in [
        LogEntry {
            message: Some("%s".into()),
            ..Default::default()
        },
        LogEntry {
            formatted: Some("done".into()),
            ..Default::default()
        },
    ] {
        let event = trimmed(Event {
            logentry: Some(logentry.clone()),
            ..Default::default()
        });
        assert_eq!(event.logentry, Some(logentry));
    }
}

#[test]
fn modules_and_sdk_are_limited() {
    let event = trimmed(Event {
        modules: (0..1000)
            .map(|i| (format!("crate{i:04}"), "1.0.0".into()))
            .collect(),
        sdk: Some(ClientSdkInfo {
            name: long(300).into(),
            version: long(300).into(),
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(serde_json::to_vec(&event.modules).unwrap().len() <= 8192);
    assert!(event.modules.len() > 300);
    let sdk = event.sdk.unwrap();
    assert_cut(&sdk.name, 256);
    assert_cut(&sdk.version, 256);
}

#[test]
fn a_small_event_is_left_unchanged() {
    let event = Event {
        message: Some("hello".into()),
        release: Some("app@1.0".into()),
        environment: Some("production".into()),
        dist: Some("42".into()),
        logger: Some("app::db".into()),
        tags: BTreeMap::from([("k".into(), "v".into())]),
        extra: BTreeMap::from([("e".into(), json!({"n": 1.5}))]),
        exception: Values::from(vec![exception_with_frames(3)]),
        contexts: BTreeMap::from([(
            "os".into(),
            Context::from(OsContext {
                name: Some("Linux".into()),
                ..Default::default()
            }),
        )]),
        ..Default::default()
    };
    assert_eq!(trimmed(event.clone()), event);
}

#[test]
fn trimming_twice_changes_nothing_more() {
    let event = trimmed(Event {
        message: Some(long(10_000)),
        tags: (0..50)
            .map(|i| {
                (
                    format!("key {i} é").into(),
                    format!("v\n{}", long(300)).into(),
                )
            })
            .collect(),
        extra: (0..40)
            .map(|i| (format!("k{i}"), json!(long(9000))))
            .collect(),
        exception: Values::from(vec![exception_with_frames(300)]),
        ..Default::default()
    });
    assert_eq!(trimmed(event.clone()), event);
}
