use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Map, json};

use super::*;
use crate::{
    Breadcrumbs, ClientSdkInfo, Geo, LogEntry, Mechanism, OsContext, RuntimeContext, SmolStr,
    TraceContext, Values,
};

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
        ty: Some("E".into()),
        stacktrace: Some(Stacktrace { frames: frames(n) }),
        ..Default::default()
    }
}

#[test]
fn max_event_size_is_one_mib() {
    assert_eq!(MAX_EVENT_SIZE, 1_048_576);
}

#[test]
fn strings_are_cut_on_char_boundaries() {
    let mut s = "é".repeat(10);
    truncate_chars(&mut s, 10);
    assert_eq!(s, "é".repeat(10), "at the limit nothing changes");
    let mut s = "é".repeat(11);
    truncate_chars(&mut s, 10);
    assert_eq!(s, format!("{}...", "é".repeat(7)));
    let mut s = "a€".repeat(10);
    truncate_bytes(&mut s, 10);
    assert!(s.len() <= 10 && s.ends_with("..."), "{s:?}");
    assert_eq!(s, "a€a...");
}

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
fn exception_fields_are_limited() {
    let event = trimmed(Event {
        exception: Values::from(vec![Exception {
            ty: Some(long(300)),
            value: Some(long(9000)),
            module: Some(long(257)),
            mechanism: Some(Mechanism {
                ty: long(200),
                description: Some(long(9000)),
                help_link: Some(format!("https://{}", long(300))),
                source: Some(long(129)),
                data: BTreeMap::from([("blob".into(), json!(long(3000)))]),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let e = &event.exception.values[0];
    assert_cut(e.ty.as_deref().unwrap(), 256);
    assert_cut(e.value.as_deref().unwrap(), 8192);
    assert_cut(e.module.as_deref().unwrap(), 256);
    let m = e.mechanism.as_ref().unwrap();
    assert_cut(&m.ty, 128);
    assert_cut(m.description.as_deref().unwrap(), 8192);
    assert_cut(m.help_link.as_deref().unwrap(), 256);
    assert_cut(m.source.as_deref().unwrap(), 128);
    assert!(map_size(&m.data) <= 2048);
    assert!(m.data["blob"].as_str().unwrap().ends_with("..."));
}

#[test]
fn at_most_250_frames_keeping_the_newest() {
    let event = trimmed(Event {
        exception: Values::from(vec![exception_with_frames(400)]),
        threads: Values::from(vec![Thread {
            id: Some(json!(1)),
            stacktrace: Some(Stacktrace {
                frames: frames(300),
            }),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let frames = &event.exception.values[0]
        .stacktrace
        .as_ref()
        .unwrap()
        .frames;
    assert_eq!(frames.len(), 250);
    assert_eq!(frames[0].function.as_deref(), Some("f150"));
    assert_eq!(frames[249].function.as_deref(), Some("f399"));
    let frames = &event.threads.values[0].stacktrace.as_ref().unwrap().frames;
    assert_eq!(frames.len(), 250);
    assert_eq!(frames[249].function.as_deref(), Some("f299"));
}

#[test]
fn empty_stack_traces_are_removed_and_function_names_limited() {
    let mut exception = exception_with_frames(1);
    exception.stacktrace.as_mut().unwrap().frames[0].function = Some(long(600));
    exception.stacktrace.as_mut().unwrap().frames[0].raw_function = Some(long(513));
    let event = trimmed(Event {
        exception: Values::from(vec![
            exception,
            Exception {
                ty: Some("E".into()),
                stacktrace: Some(Stacktrace::default()),
                ..Default::default()
            },
        ]),
        ..Default::default()
    });
    let frame = &event.exception.values[0]
        .stacktrace
        .as_ref()
        .unwrap()
        .frames[0];
    assert_cut(frame.function.as_deref().unwrap(), 512);
    assert_cut(frame.raw_function.as_deref().unwrap(), 512);
    assert_eq!(event.exception.values[1].stacktrace, None);
}

#[test]
fn thread_names_are_limited_to_1024_chars() {
    let event = trimmed(Event {
        threads: Values::from(vec![Thread {
            name: Some(long(2000)),
            stacktrace: Some(Stacktrace::default()),
            ..Default::default()
        }]),
        ..Default::default()
    });
    assert_cut(event.threads.values[0].name.as_deref().unwrap(), 1024);
    assert_eq!(event.threads.values[0].stacktrace, None);
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

#[test]
fn user_fields_are_limited() {
    let user = trimmed(Event {
        user: Some(User {
            id: Some(long(129)),
            username: Some(long(200)),
            email: Some(format!("{}@example.com", long(80))),
            ip_address: Some("not an ip".into()),
            geo: Some(Geo {
                city: Some(long(1025)),
                country_code: Some(long(1025)),
                region: Some(long(1025)),
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
    .user
    .unwrap();
    assert_cut(user.id.as_deref().unwrap(), 128);
    assert_cut(user.username.as_deref().unwrap(), 128);
    assert_cut(user.email.as_deref().unwrap(), 75);
    assert_eq!(user.ip_address, None);
    let geo = user.geo.unwrap();
    assert_cut(geo.city.as_deref().unwrap(), 1024);
    assert_cut(geo.country_code.as_deref().unwrap(), 1024);
    assert_cut(geo.region.as_deref().unwrap(), 1024);
}

#[test]
fn valid_ip_addresses_are_kept() {
    for ip in ["{{auto}}", "127.0.0.1", "::1", "2001:db8::1"] {
        let user = trimmed(Event {
            user: Some(User {
                ip_address: Some(ip.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .user
        .unwrap();
        assert_eq!(user.ip_address.as_deref(), Some(ip));
    }
    for ip in ["", "{{ auto }}", "[::1]", "1.2.3", "fe80::1%eth0"] {
        let user = trimmed(Event {
            user: Some(User {
                ip_address: Some(ip.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .user
        .unwrap();
        assert_eq!(user.ip_address, None, "{ip:?}");
    }
}

#[test]
fn breadcrumb_fields_are_limited() {
    let event = trimmed(Event {
        breadcrumbs: Breadcrumbs::from(vec![Breadcrumb {
            ty: long(129).into(),
            category: Some(long(129).into()),
            message: Some(long(8193)),
            data: (0..100)
                .map(|i| (format!("k{i:03}"), json!(long(50))))
                .collect(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let crumb = &event.breadcrumbs[0];
    assert_cut(&crumb.ty, 128);
    assert_cut(crumb.category.as_deref().unwrap(), 128);
    assert_cut(crumb.message.as_deref().unwrap(), 8192);
    let size = serde_json::to_vec(&crumb.data).unwrap().len();
    assert!(size <= 2048, "{size}");
    assert!(size > 1900, "keeps as much as fits: {size}");
    assert!(crumb.data.contains_key("k000"));
    assert!(!crumb.data.contains_key("k099"));
}

#[test]
fn breadcrumb_data_deeper_than_5_levels_becomes_text() {
    let event = trimmed(Event {
        breadcrumbs: Breadcrumbs::from(vec![Breadcrumb {
            data: BTreeMap::from([("a".into(), json!({"b": {"c": {"d": {"e": 1}}}}))]),
            ..Default::default()
        }]),
        ..Default::default()
    });
    assert_eq!(
        event.breadcrumbs[0].data["a"],
        json!({"b": {"c": {"d": "{\"e\":1}"}}})
    );
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
fn contexts_are_limited_to_8k_each_and_keep_their_type() {
    let other: Map<String, Value> = (0..200)
        .map(|i| (format!("k{i:03}"), json!(long(60))))
        .collect();
    let mut contexts = BTreeMap::new();
    contexts.insert("custom".to_owned(), Context::Other(other));
    contexts.insert(
        "device".to_owned(),
        Context::from(crate::DeviceContext {
            arch: Some("x86_64".into()),
            other: [("blob".to_owned(), json!(long(10_000)))]
                .into_iter()
                .collect(),
            ..Default::default()
        }),
    );
    let event = trimmed(Event {
        contexts,
        ..Default::default()
    });
    let custom = serde_json::to_value(&event.contexts["custom"]).unwrap();
    assert!(serde_json::to_vec(&custom).unwrap().len() <= 8192);
    assert!(custom.get("k000").is_some());
    assert!(custom.get("k199").is_none());
    let Context::Device(device) = &event.contexts["device"] else {
        panic!("still a device context: {:?}", event.contexts["device"]);
    };
    assert_eq!(device.arch.as_deref(), Some("x86_64"));
    let size = serde_json::to_vec(&event.contexts["device"]).unwrap().len();
    assert!(size <= 8192, "{size}");
    assert!(device.other["blob"].as_str().unwrap().ends_with("..."));
}

#[test]
fn os_and_runtime_contexts_keep_room_for_derived_fields() {
    let os = OsContext {
        name: Some(long(2000)),
        version: Some(long(1500)),
        other: [("blob".to_owned(), json!(long(6000)))]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let runtime = RuntimeContext {
        name: Some("rustc".into()),
        version: Some("1.85.0".into()),
        raw_description: Some(long(9000)),
        ..Default::default()
    };
    let event = trimmed(Event {
        contexts: BTreeMap::from([
            ("os".into(), Context::from(os)),
            ("runtime".into(), Context::from(runtime)),
        ]),
        ..Default::default()
    });
    let Context::Os(os) = &event.contexts["os"] else {
        panic!("{:?}", event.contexts["os"]);
    };
    // 1 KiB as JSON: 1022 chars and the quotes.
    assert_cut(os.name.as_deref().unwrap(), 1022);
    assert_cut(os.version.as_deref().unwrap(), 1022);
    // Relay adds `os` = "name version" before measuring the context.
    let size = serde_json::to_vec(&event.contexts["os"]).unwrap().len();
    assert!(size + 1024 + 1024 + 16 <= 8192, "{size}");
    assert!(os.other["blob"].as_str().unwrap().ends_with("..."));
    let Context::Runtime(runtime) = &event.contexts["runtime"] else {
        panic!("{:?}", event.contexts["runtime"]);
    };
    assert_eq!(runtime.version.as_deref(), Some("1.85.0"));
    assert_cut(runtime.raw_description.as_deref().unwrap(), 1022);
}

#[test]
fn os_fields_full_of_escapes_still_leave_room() {
    // `\u{1}` takes 6 bytes in JSON: the caps are in bytes, not chars.
    let os = OsContext {
        name: Some("\u{1}".repeat(3000)),
        version: Some("\n".repeat(3000)),
        raw_description: Some("é".repeat(3000)),
        other: [("blob".to_owned(), json!({"nested": long(20_000)}))]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let event = trimmed(Event {
        contexts: BTreeMap::from([("os".into(), Context::from(os))]),
        ..Default::default()
    });
    let Context::Os(os) = &event.contexts["os"] else {
        panic!("{:?}", event.contexts["os"]);
    };
    for field in [&os.name, &os.version, &os.raw_description] {
        assert!(str_size(field.as_deref().unwrap()) <= 1024);
    }
    // Relay adds `os` = "name version" before it measures the context.
    let derived = str_size(os.name.as_deref().unwrap()) + str_size(os.version.as_deref().unwrap());
    let size = serde_json::to_vec(&event.contexts["os"]).unwrap().len();
    assert!(size + derived + 16 <= 8192, "{size} + {derived}");
    assert!(size > 4000, "the rest of the budget is used: {size}");
}

#[test]
fn trace_op_and_origin_are_limited_to_128_chars() {
    let trace = TraceContext {
        trace_id: "0123456789abcdef0123456789abcdef".into(),
        span_id: "0123456789abcdef".into(),
        op: Some(long(300)),
        other: [("origin".to_owned(), json!(long(200)))]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let event = trimmed(Event {
        contexts: BTreeMap::from([("trace".into(), Context::from(trace))]),
        ..Default::default()
    });
    let Context::Trace(trace) = &event.contexts["trace"] else {
        panic!("{:?}", event.contexts["trace"]);
    };
    assert_cut(trace.op.as_deref().unwrap(), 128);
    assert_cut(trace.other["origin"].as_str().unwrap(), 128);
}

#[test]
fn trace_origin_and_status_must_be_valid() {
    let trace = |origin: &str, status: &str| {
        let event = trimmed(Event {
            contexts: BTreeMap::from([(
                "trace".into(),
                Context::from(TraceContext {
                    trace_id: "0123456789abcdef0123456789abcdef".into(),
                    span_id: "0123456789abcdef".into(),
                    status: Some(status.into()),
                    other: [("origin".to_owned(), json!(origin))].into_iter().collect(),
                    ..Default::default()
                }),
            )]),
            ..Default::default()
        });
        let Context::Trace(trace) = &event.contexts["trace"] else {
            panic!("{:?}", event.contexts["trace"]);
        };
        (trace.other.get("origin").cloned(), trace.status.clone())
    };
    assert_eq!(
        trace("auto.http.axum", "internal_error"),
        (Some(json!("auto.http.axum")), Some("internal_error".into()))
    );
    assert_eq!(trace("auto-http", "broken"), (None, None));
    assert_eq!(trace("manual", "OK"), (Some(json!("manual")), None));
}

#[test]
fn context_values_deeper_than_7_levels_become_text() {
    let deep = json!({"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}});
    let Value::Object(map) = deep else {
        unreachable!()
    };
    let event = trimmed(Event {
        contexts: BTreeMap::from([("custom".into(), Context::Other(map))]),
        ..Default::default()
    });
    assert_eq!(
        serde_json::to_value(&event.contexts["custom"]).unwrap(),
        json!({"a": {"b": {"c": {"d": {"e": {"f": "{\"g\":1}"}}}}}})
    );
}

#[test]
fn request_fields_are_limited() {
    let request = trimmed(Event {
        request: Some(Request {
            url: Some(format!("https://example.com/{}", long(300))),
            method: Some("POST".into()),
            data: Some(json!({"body": long(10_000)})),
            query_string: Some(
                (0..200)
                    .map(|i| format!("k{i}=v"))
                    .collect::<Vec<_>>()
                    .join("&"),
            ),
            cookies: Some(format!("session={}", long(3000))),
            headers: (0..200).map(|i| (format!("X-H{i:03}"), long(60))).collect(),
            env: BTreeMap::from([
                ("REMOTE_ADDR".into(), "127.0.0.1".into()),
                ("BIG".into(), long(9000)),
            ]),
        }),
        ..Default::default()
    })
    .request
    .unwrap();
    assert_cut(request.url.as_deref().unwrap(), 256);
    assert!(json_size(request.data.as_ref().unwrap()) <= 8192);
    let query = request.query_string.unwrap();
    assert!(
        query.starts_with("k0=v&k1=v&") && query.ends_with("=v"),
        "{query}"
    );
    let estimate: usize = query.split('&').map(|p| p.len() + 2 + PAIR_OVERHEAD).sum();
    assert!(estimate + 2 <= 1024, "{estimate}");
    assert!(query.split('&').count() > 40, "{query}");
    let cookies = request.cookies.unwrap();
    assert!(cookies.len() <= 2048 - PAIR_OVERHEAD && cookies.ends_with("..."));
    let header_size: usize = request
        .headers
        .iter()
        .map(|(k, v)| k.len() + v.len() + 10)
        .sum();
    assert!(header_size <= 8192, "{header_size}");
    assert!(request.headers.len() > 80);
    assert_eq!(request.env["REMOTE_ADDR"], "127.0.0.1");
    assert!(serde_json::to_vec(&request.env).unwrap().len() <= 8192);
}

#[test]
fn urls_are_limited_once_percent_encoded() {
    let url = |u: String| {
        trimmed(Event {
            request: Some(Request {
                url: Some(u),
                ..Default::default()
            }),
            ..Default::default()
        })
        .request
        .unwrap()
        .url
        .unwrap()
    };
    let plain = format!("https://example.com/{}", long(236));
    assert_eq!(plain.len(), 256);
    assert_eq!(url(plain.clone()), plain);
    // Spaces become `%20` and `é` becomes `%C3%A9` on the server.
    let cut = url(format!("https://example.com/{}", "a é".repeat(100)));
    assert!(cut.ends_with("..."));
    let encoded: usize = cut.chars().map(url_len).sum();
    assert!(encoded <= 256, "{encoded}");
    assert!(cut.chars().count() < 150, "{cut}");
}

#[test]
fn cookie_pairs_relay_cannot_parse_are_removed() {
    let cookies = |c: &str| {
        trimmed(Event {
            request: Some(Request {
                cookies: Some(c.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .request
        .unwrap()
        .cookies
        .unwrap()
    };
    assert_eq!(cookies("a=1; b=2"), "a=1; b=2");
    assert_eq!(
        cookies("a=; b=x=y; c=%zz; d=%C3%A9; é=1"),
        "a=; b=x=y; c=%zz; d=%C3%A9; é=1"
    );
    assert_eq!(
        cookies("a=1; flag; =2;  = 3; b=%ff; c=%e9x; d=4;;"),
        "a=1; d=4"
    );
    assert_eq!(cookies("broken"), "");
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

#[test]
fn floats_count_as_relay_writes_them() {
    assert_eq!(json_size(&json!(1.5e300)), 301);
    assert_eq!(json_size(&json!(0.1)), 3);
    assert_eq!(json_size(&json!(u64::MAX)), 20);
    let list = Value::Array(vec![json!(1.5e300); 20]);
    let mut fitted = list.clone();
    assert!(fit_value(&mut fitted, 2048));
    assert_eq!(fitted.as_array().unwrap().len(), 6);
}

#[test]
fn sizes_match_serde_json_without_floats() {
    let value = json!({
        "s": "quote \" backslash \\ newline \n tab \t nul \u{0} bell \u{7} é €",
        "n": [1, -2, u64::MAX, i64::MIN, null, true, false],
        "o": {"": {}, "a": []},
    });
    assert_eq!(json_size(&value), serde_json::to_vec(&value).unwrap().len());
}

#[test]
fn shedding_follows_the_documented_order() {
    let crumb = |i: usize| Breadcrumb {
        message: Some(format!("crumb {i}")),
        data: BTreeMap::from([("k".into(), json!(i))]),
        ..Default::default()
    };
    let mut contexts = BTreeMap::new();
    for name in ["os", "runtime", "device", "app", "trace", "custom", "gpu"] {
        contexts.insert(name.to_owned(), Context::Other(Map::new()));
    }
    let mut event = Event {
        breadcrumbs: Breadcrumbs::from((0..30).map(crumb).collect::<Vec<_>>()),
        request: Some(Request {
            url: Some("https://example.com/".into()),
            data: Some(json!("body")),
            ..Default::default()
        }),
        extra: BTreeMap::from([("e".into(), json!(1))]),
        exception: Values::from(vec![exception_with_frames(60)]),
        contexts,
        ..Default::default()
    };

    assert!(shed_heavy_parts(&mut event));
    assert!(event.breadcrumbs.iter().all(|b| b.data.is_empty()));
    assert_eq!(event.breadcrumbs.len(), 30);
    assert!(event.request.as_ref().unwrap().data.is_some());

    assert!(shed_heavy_parts(&mut event));
    assert_eq!(event.request.as_ref().unwrap().data, None);
    assert!(event.request.as_ref().unwrap().url.is_some());
    assert!(!event.extra.is_empty());

    assert!(shed_heavy_parts(&mut event));
    assert!(event.extra.is_empty());

    assert!(shed_heavy_parts(&mut event));
    let frames = &event.exception.values[0]
        .stacktrace
        .as_ref()
        .unwrap()
        .frames;
    assert_eq!(frames.len(), 60);
    for frame in &frames[..10] {
        assert_eq!(frame.raw_function, None);
        assert_eq!(frame.module, None);
        assert_eq!(frame.abs_path, None);
        assert_eq!(frame.instruction_addr, None);
        assert!(frame.function.is_some() && frame.filename.is_some() && frame.lineno.is_some());
    }
    for frame in &frames[10..] {
        assert!(frame.raw_function.is_some() && frame.module.is_some());
    }
    assert_eq!(event.breadcrumbs.len(), 30);

    assert!(shed_heavy_parts(&mut event));
    assert_eq!(event.breadcrumbs.len(), 10);
    assert_eq!(event.breadcrumbs[0].message.as_deref(), Some("crumb 20"));
    assert_eq!(event.breadcrumbs[9].message.as_deref(), Some("crumb 29"));

    assert!(shed_heavy_parts(&mut event));
    assert!(event.breadcrumbs.is_empty());
    assert_eq!(event.contexts.len(), 7);

    assert!(shed_heavy_parts(&mut event));
    let names: Vec<&str> = event.contexts.keys().map(String::as_str).collect();
    assert_eq!(names, ["app", "device", "os", "runtime", "trace"]);

    assert!(!shed_heavy_parts(&mut event));
    assert!(!shed_heavy_parts(&mut event));
}

#[test]
fn shedding_skips_steps_with_nothing_to_remove() {
    let mut event = Event {
        breadcrumbs: Breadcrumbs::from(vec![Breadcrumb::message("only one")]),
        ..Default::default()
    };
    assert!(shed_heavy_parts(&mut event));
    assert!(event.breadcrumbs.is_empty());
    assert!(!shed_heavy_parts(&mut event));
}

#[test]
fn shedding_leaves_short_stack_traces_alone() {
    let mut event = Event {
        exception: Values::from(vec![exception_with_frames(50)]),
        ..Default::default()
    };
    let before = event.clone();
    assert!(!shed_heavy_parts(&mut event));
    assert_eq!(event, before);
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[a-z\"\\\\\n]{0,400}".prop_map(Value::from),
    ];
    leaf.prop_recursive(6, 200, 10, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..10).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..10)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn fitted_values_fit_their_budget(mut value in arb_json(), budget in 0usize..3000) {
        if fit_value(&mut value, budget) {
            prop_assert!(json_size(&value) <= budget);
        }
    }

    #[test]
    fn depth_limit_leaves_no_deep_containers(mut value in arb_json(), depth in 1usize..8) {
        limit_depth(&mut value, 1, depth);
        fn max_container_level(v: &Value, level: usize) -> usize {
            match v {
                Value::Array(items) => items
                    .iter()
                    .map(|i| max_container_level(i, level + 1))
                    .fold(level, usize::max),
                Value::Object(map) => map
                    .values()
                    .map(|i| max_container_level(i, level + 1))
                    .fold(level, usize::max),
                _ => 0,
            }
        }
        prop_assert!(max_container_level(&value, 1) < depth);
    }

    #[test]
    fn truncation_respects_char_limits(s in ".{0,300}", limit in 3usize..200) {
        let mut cut = s.clone();
        truncate_chars(&mut cut, limit);
        prop_assert!(cut.chars().count() <= limit);
        if s.chars().count() <= limit {
            prop_assert_eq!(&cut, &s);
        } else {
            prop_assert!(cut.ends_with("..."));
            prop_assert!(s.starts_with(cut.trim_end_matches("...")));
        }
    }
}
