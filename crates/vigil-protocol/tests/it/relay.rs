//! Sentry Relay's own normalizer (`shared/interop/relay-validate.py
//! --strict`) over events passed through `limits::trim_event`: it must
//! neither trim nor reject anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use vigil_protocol::limits::{self, MAX_EVENT_SIZE};
use vigil_protocol::{
    Attachment, Breadcrumb, Context, DeviceContext, Envelope, Event, Exception, Frame, Geo,
    LogEntry, Map, Mechanism, OsContext, Request, RuntimeContext, Stacktrace, Thread,
    TraceContext, User, Value, Values,
};

use crate::fixtures::{SPAN_ID, TRACE_ID, client_report, full_event, now_seconds, session_update};

fn long(n: usize) -> String {
    "x".repeat(n)
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(json!("leaf"), |inner, i| json!({ format!("level{i}"): inner }))
}

fn frames(n: usize) -> Vec<Frame> {
    (0..n)
        .map(|i| Frame {
            function: Some(format!("app::module{i}::{}", long(600))),
            raw_function: Some(format!("_ZN{i}{}", long(600))),
            module: Some(format!("app::module{i}")),
            filename: Some(format!("src/module{i}.rs")),
            abs_path: Some(format!("/build/src/module{i}.rs")),
            lineno: Some(i as u64 + 1),
            colno: Some(3),
            in_app: Some(i % 2 == 0),
            instruction_addr: Some(format!("{:#x}", 0x5000 + i)),
            symbol_addr: Some(format!("{:#x}", 0x4000 + i)),
        })
        .collect()
}

fn long_message() -> Event {
    Event {
        message: Some("m".repeat(50_000)),
        logentry: Some(LogEntry {
            message: Some("%s".repeat(5000)),
            formatted: Some("é".repeat(20_000)),
            params: (0..100).map(|i| json!(format!("{i}{}", long(100)))).collect(),
        }),
        exception: Values::from(vec![Exception {
            ty: Some("T".repeat(1000)),
            value: Some("v\n".repeat(10_000)),
            module: Some(long(1000)),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

fn many_bad_tags() -> Event {
    let mut tags = BTreeMap::new();
    for i in 0..300 {
        let key = match i % 6 {
            0 => format!("tag {i} with spaces"),
            1 => format!("path/{i}@host#frag"),
            2 => format!("ünïcödé-{i}"),
            3 => format!("{i}{}", long(300)),
            4 => format!("tab\t{i}\nnewline"),
            _ => format!("ok.{i}:key-{i}"),
        };
        let value = match i % 5 {
            0 => format!("line one\nline two {i}"),
            1 => format!("{i}{}", long(500)),
            2 => "   ".to_owned(),
            3 => format!("  padded {i}\r\n "),
            _ => format!("é{i}{}", "é".repeat(300)),
        };
        tags.insert(key, value);
    }
    for name in ["release", "dist", "user", "filename", "function", "", "empty"] {
        tags.insert(name.to_owned(), if name == "empty" { String::new() } else { "v".into() });
    }
    Event {
        tags,
        ..Default::default()
    }
}

fn huge_extra() -> Event {
    let mut extra = BTreeMap::new();
    for i in 0..40 {
        extra.insert(format!("blob{i:02}"), json!(long(20_000 + i)));
    }
    extra.insert("deep".into(), nested(12));
    extra.insert("floats".into(), json!(vec![1.5e300; 100]));
    extra.insert("wide".into(), Value::Object((0..2000).map(|i| (format!("k{i}"), json!(i))).collect()));
    extra.insert(
        "list".into(),
        json!((0..500).map(|i| json!({"i": i, "s": long(50)})).collect::<Vec<_>>()),
    );
    extra.insert("escapes".into(), json!("\"\\\n\u{1}".repeat(5000)));
    Event {
        extra,
        ..Default::default()
    }
}

fn many_frames() -> Event {
    Event {
        exception: Values::from(vec![Exception {
            ty: Some("Recursion".into()),
            value: Some("stack overflow".into()),
            stacktrace: Some(Stacktrace { frames: frames(400) }),
            mechanism: Some(Mechanism {
                ty: "panic".into(),
                handled: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        threads: Values::from(vec![Thread {
            id: Some(json!(1)),
            name: Some(long(3000)),
            crashed: Some(true),
            stacktrace: Some(Stacktrace { frames: frames(300) }),
            ..Default::default()
        }]),
        ..Default::default()
    }
}

/// Every other limit at once.
fn kitchen_sink() -> Event {
    let mut contexts = BTreeMap::new();
    contexts.insert(
        "os".to_owned(),
        Context::from(OsContext {
            name: Some(long(3000)),
            version: Some(long(3000)),
            raw_description: Some(long(3000)),
            other: [("extra_field".to_owned(), json!(long(8000)))].into_iter().collect(),
            ..Default::default()
        }),
    );
    contexts.insert(
        "runtime".to_owned(),
        Context::from(RuntimeContext {
            name: Some(long(5000)),
            version: Some("1.85.0".into()),
            ..Default::default()
        }),
    );
    contexts.insert(
        "device".to_owned(),
        Context::from(DeviceContext {
            arch: Some(long(3000)),
            other: (0..300).map(|i| (format!("f{i}"), json!(long(40)))).collect(),
            ..Default::default()
        }),
    );
    contexts.insert(
        "trace".to_owned(),
        Context::from(TraceContext {
            trace_id: TRACE_ID.into(),
            span_id: SPAN_ID.into(),
            op: Some(long(300)),
            other: [
                ("origin".to_owned(), json!(long(300))),
                ("data".to_owned(), nested(10)),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        }),
    );
    let custom: Map<String, Value> = (0..500).map(|i| (format!("k{i}"), json!(long(i)))).collect();
    contexts.insert("custom".to_owned(), Context::Other(custom));
    contexts.insert("deep".to_owned(), Context::from(nested(10).as_object().unwrap().clone()));

    Event {
        logger: Some(format!("my\r\nlogger{}", long(100))),
        transaction: Some(format!("  {}  ", long(500))),
        server_name: Some(long(300)),
        release: Some(format!("app@{}", long(500))),
        environment: Some(format!("env-{}", "é".repeat(100))),
        dist: Some(long(100)),
        modules: (0..3000).map(|i| (format!("crate-{i}"), format!("1.{i}.0"))).collect(),
        user: Some(User {
            id: Some(long(300)),
            username: Some(long(300)),
            email: Some(format!("{}@example.com", long(100))),
            ip_address: Some("not-an-ip".into()),
            geo: Some(Geo {
                city: Some(long(2000)),
                country_code: Some(long(2000)),
                region: Some(long(2000)),
            }),
            data: BTreeMap::from([("k".into(), json!(long(1000)))]),
        }),
        request: Some(Request {
            url: Some(format!("https://example.com/{}", long(1000))),
            method: Some("POST".into()),
            data: Some(json!({"body": long(20_000), "deep": nested(12)})),
            query_string: Some((0..500).map(|i| format!("k{i}=")).collect::<Vec<_>>().join("&")),
            cookies: Some((0..400).map(|i| format!("c{i}=v{i}")).collect::<Vec<_>>().join("; ")),
            headers: (0..500).map(|i| (format!("X-Header-{i}"), long(30))).collect(),
            env: (0..3000).map(|i| (format!("E{i}"), "v".to_owned())).collect(),
        }),
        contexts,
        breadcrumbs: Values::from(
            (0..100)
                .map(|i| Breadcrumb {
                    ty: long(200),
                    category: Some(long(200)),
                    message: Some(long(9000)),
                    data: (0..100)
                        .map(|j| (format!("d{j}"), json!({"n": j as f64 * 1.1e200, "s": long(30)})))
                        .chain([(format!("deep{i}"), nested(8))])
                        .collect(),
                    ..Default::default()
                })
                .collect::<Vec<_>>(),
        ),
        exception: Values::from(vec![
            Exception {
                ty: Some("Inner".into()),
                stacktrace: Some(Stacktrace::default()),
                mechanism: Some(Mechanism {
                    ty: long(300),
                    description: Some(long(9000)),
                    help_link: Some(format!("https://example.com/{}", long(500))),
                    source: Some(long(300)),
                    data: (0..200).map(|i| (format!("k{i}"), json!(long(50)))).collect(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Exception {
                ty: Some("Outer".into()),
                value: Some("outer".into()),
                ..Default::default()
            },
        ]),
        sdk: Some(vigil_protocol::ClientSdkInfo {
            name: format!("vigil.rust{}", long(300)),
            version: long(300),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An event far over 1 MiB even after trimming: needs shedding.
fn needs_shedding() -> Event {
    let mut event = kitchen_sink();
    event.breadcrumbs = Values::from(
        (0..400)
            .map(|i| Breadcrumb {
                message: Some(format!("{i}{}", long(8000))),
                data: BTreeMap::from([("blob".into(), json!(long(3000)))]),
                ..Default::default()
            })
            .collect::<Vec<_>>(),
    );
    event.extra = (0..40).map(|i| (format!("k{i}"), json!(long(10_000)))).collect();
    for i in 0..200 {
        event
            .contexts
            .insert(format!("ctx{i}"), Context::Other(Map::from_iter([("v".to_owned(), json!(long(7000)))])));
    }
    event
}

/// Trims like the client does: `trim_event`, then shed until it fits.
fn prepare(mut event: Event) -> Event {
    event.timestamp = now_seconds();
    for crumb in &mut event.breadcrumbs.values {
        crumb.timestamp = event.timestamp;
    }
    limits::trim_event(&mut event);
    while serde_json::to_vec(&event).unwrap().len() > MAX_EVENT_SIZE {
        assert!(limits::shed_heavy_parts(&mut event), "cannot make the event fit");
    }
    event
}

fn envelope_for(event: Event) -> Envelope {
    let mut envelope = Envelope::from_event(event);
    envelope.headers_mut().sent_at = Some(SystemTime::now());
    envelope
}

fn relay_validator() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let shared = root.join("../shared");
    if !shared.is_dir() {
        eprintln!(
            "\n*** SKIPPED: ../shared not found ({} does not exist); \
             Relay did not check the trimmed events ***\n",
            shared.display()
        );
        return None;
    }
    Some(shared.join("interop/relay-validate.py"))
}

#[test]
fn relay_neither_trims_nor_rejects_trimmed_events() {
    let Some(validator) = relay_validator() else {
        return;
    };

    let cases: Vec<(&str, Envelope)> = vec![
        ("long_message", envelope_for(prepare(long_message()))),
        ("bad_tags", envelope_for(prepare(many_bad_tags()))),
        ("huge_extra", envelope_for(prepare(huge_extra()))),
        ("many_frames", envelope_for(prepare(many_frames()))),
        ("kitchen_sink", envelope_for(prepare(kitchen_sink()))),
        ("needs_shedding", envelope_for(prepare(needs_shedding()))),
        ("full_event", {
            let mut envelope = envelope_for(prepare(full_event(now_seconds())));
            envelope.add_item(Attachment::new("log.txt", b"line 1\nline 2\n".to_vec()));
            envelope.add_item(client_report(SystemTime::now()));
            envelope.add_item(session_update(now_seconds()));
            envelope
        }),
        ("minimal", envelope_for(prepare(Event::new()))),
    ];

    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let dir = std::env::temp_dir().join(format!("vigil-protocol-relay-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, envelope) in &cases {
        let bytes = envelope.to_vec().unwrap();
        let event_size = serde_json::to_vec(envelope.event().unwrap()).unwrap().len();
        assert!(event_size <= MAX_EVENT_SIZE, "{name}: {event_size} bytes");
        let path = dir.join(format!("{name}.envelope"));
        std::fs::write(&path, bytes).unwrap();
        files.push(path);
    }

    let output = Command::new("python3")
        .arg(&validator)
        .arg("--strict")
        .args(&files)
        .output()
        .expect("python3 runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        output.status.success(),
        "relay-validate.py --strict failed ({}); envelopes kept in {}:\n{report}",
        output.status,
        dir.display()
    );
}
