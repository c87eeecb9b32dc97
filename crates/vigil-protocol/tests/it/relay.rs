//! Sentry Relay's own normalizer (`shared/interop/relay-validate.py
//! --strict`) over events passed through `limits::trim_event`: it must
//! neither trim nor reject anything. (Transactions: `relay_transactions`.)

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use vigil_protocol::limits::{self, MAX_EVENT_SIZE};
use vigil_protocol::{
    Attachment, Breadcrumb, Breadcrumbs, Context, DeviceContext, Envelope, Event, Exception, Frame,
    Geo, LogEntry, Map, Mechanism, OsContext, Request, RuntimeContext, Stacktrace, Thread,
    TraceContext, User, Value, Values,
};

use crate::fixtures::{SPAN_ID, TRACE_ID, client_report, full_event, now_seconds, session_update};

fn long(n: usize) -> String {
    "x".repeat(n)
}

fn nested(depth: usize) -> Value {
    (0..depth).fold(
        json!("leaf"),
        |inner, i| json!({ format!("level{i}"): inner }),
    )
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

fn long_template() -> Event {
    Event {
        logentry: Some(LogEntry {
            message: Some("%s, ".repeat(5000)),
            formatted: None,
            params: (0..100)
                .map(|i| json!(format!("{i}{}", long(20))))
                .collect(),
        }),
        ..Default::default()
    }
}

fn long_message() -> Event {
    Event {
        message: Some("m".repeat(50_000)),
        logentry: Some(LogEntry {
            message: Some("%s".repeat(5000)),
            formatted: Some("é".repeat(20_000)),
            params: (0..100)
                .map(|i| json!(format!("{i}{}", long(100))))
                .collect(),
        }),
        exception: Values::from(vec![Exception {
            ty: "T".repeat(1000),
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
    for name in [
        "release", "dist", "user", "filename", "function", "", "empty",
    ] {
        tags.insert(
            name.to_owned(),
            if name == "empty" {
                String::new()
            } else {
                "v".into()
            },
        );
    }
    Event {
        tags: tags
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
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
    extra.insert(
        "wide".into(),
        Value::Object((0..2000).map(|i| (format!("k{i}"), json!(i))).collect()),
    );
    extra.insert(
        "list".into(),
        json!(
            (0..500)
                .map(|i| json!({"i": i, "s": long(50)}))
                .collect::<Vec<_>>()
        ),
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
            ty: "Recursion".into(),
            value: Some("stack overflow".into()),
            stacktrace: Some(Stacktrace {
                frames: frames(400),
            }),
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
            stacktrace: Some(Stacktrace {
                frames: frames(300),
            }),
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
            other: [("extra_field".to_owned(), json!(long(8000)))]
                .into_iter()
                .collect(),
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
            other: (0..300)
                .map(|i| (format!("f{i}"), json!(long(40))))
                .collect(),
            ..Default::default()
        }),
    );
    contexts.insert(
        "trace".to_owned(),
        Context::from(TraceContext {
            trace_id: TRACE_ID.parse().unwrap(),
            span_id: SPAN_ID.parse().unwrap(),
            op: Some(long(300).into()),
            origin: Some(long(300).into()),
            data: nested(10)
                .as_object()
                .unwrap()
                .clone()
                .into_iter()
                .collect(),
            ..Default::default()
        }),
    );
    let custom: Map<String, Value> = (0..500)
        .map(|i| (format!("k{i}"), json!(long(i))))
        .collect();
    contexts.insert("custom".to_owned(), Context::Other(custom));
    contexts.insert(
        "deep".to_owned(),
        Context::from(nested(10).as_object().unwrap().clone()),
    );

    Event {
        logger: Some(format!("my\r\nlogger{}", long(100))),
        transaction: Some(format!("  {}  ", long(500))),
        server_name: Some(long(300)),
        release: Some(format!("app@{}", long(500))),
        environment: Some(format!("env-{}", "é".repeat(100))),
        dist: Some(long(100)),
        modules: (0..3000)
            .map(|i| (format!("crate-{i}"), format!("1.{i}.0")))
            .collect(),
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
            other: BTreeMap::from([("team".into(), json!(long(1000)))]),
        }),
        request: Some(Request {
            url: Some(format!("https://example.com/{}", long(1000))),
            method: Some("POST".into()),
            data: Some(json!({"body": long(20_000), "deep": nested(12)})),
            query_string: Some(
                (0..500)
                    .map(|i| format!("k{i}="))
                    .collect::<Vec<_>>()
                    .join("&"),
            ),
            cookies: Some(
                (0..400)
                    .map(|i| format!("c{i}=v{i}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            headers: (0..500)
                .map(|i| (format!("X-Header-{i}"), long(30)))
                .collect(),
            env: (0..3000)
                .map(|i| (format!("E{i}"), "v".to_owned()))
                .collect(),
        }),
        contexts,
        breadcrumbs: Breadcrumbs::from(
            (0..100)
                .map(|i| Breadcrumb {
                    ty: long(200).into(),
                    category: Some(long(200).into()),
                    message: Some(long(9000)),
                    data: (0..100)
                        .map(|j| {
                            (
                                format!("d{j}"),
                                json!({"n": j as f64 * 1.1e200, "s": long(30)}),
                            )
                        })
                        .chain([(format!("deep{i}"), nested(8))])
                        .collect(),
                    ..Default::default()
                })
                .collect::<Vec<_>>(),
        ),
        exception: Values::from(vec![
            Exception {
                ty: "Inner".into(),
                stacktrace: Some(Stacktrace::default()),
                mechanism: Some(Mechanism {
                    ty: long(300),
                    description: Some(long(9000)),
                    help_link: Some(format!("https://example.com/{}", long(500))),
                    source: Some(long(300)),
                    data: (0..200)
                        .map(|i| (format!("k{i}"), json!(long(50))))
                        .collect(),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Exception {
                ty: "Outer".into(),
                value: Some("outer".into()),
                ..Default::default()
            },
        ]),
        sdk: Some(vigil_protocol::ClientSdkInfo {
            name: format!("vigil.rust{}", long(300)).into(),
            version: long(300).into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// An event far over 1 MiB even after trimming: needs shedding.
fn needs_shedding() -> Event {
    let mut event = kitchen_sink();
    event.breadcrumbs = Breadcrumbs::from(
        (0..400)
            .map(|i| Breadcrumb {
                message: Some(format!("{i}{}", long(8000))),
                data: BTreeMap::from([("blob".into(), json!(long(3000)))]),
                ..Default::default()
            })
            .collect::<Vec<_>>(),
    );
    event.extra = (0..40)
        .map(|i| (format!("k{i}"), json!(long(10_000))))
        .collect();
    for i in 0..200 {
        event.contexts.insert(
            format!("ctx{i}"),
            Context::Other(Map::from_iter([("v".to_owned(), json!(long(7000)))])),
        );
    }
    event
}

/// Trims like the client does: `trim_event`, then shed until it fits.
/// Returns the event and how many shedding steps it took.
fn prepare_counting(mut event: Event) -> (Event, usize) {
    event.timestamp = now_seconds();
    for crumb in event.breadcrumbs.iter_mut() {
        crumb.timestamp = event.timestamp;
    }
    limits::trim_event(&mut event);
    let mut steps = 0;
    while serde_json::to_vec(&event).unwrap().len() > MAX_EVENT_SIZE {
        assert!(
            limits::shed_heavy_parts(&mut event),
            "cannot make the event fit"
        );
        steps += 1;
    }
    // Trimming is idempotent.
    let mut again = event.clone();
    limits::trim_event(&mut again);
    assert_eq!(again, event, "a second trim_event changed the event");
    (event, steps)
}

fn prepare(event: Event) -> Event {
    prepare_counting(event).0
}

fn envelope_for(event: Event) -> Envelope {
    let mut envelope = Envelope::from_event(event);
    envelope.headers_mut().sent_at = Some(SystemTime::now());
    envelope
}

pub(crate) fn relay_validator() -> Option<PathBuf> {
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

/// Writes the envelopes to a fresh temporary directory and runs
/// `relay-validate.py --strict` over them; fails the test (keeping the
/// files) unless it exits 0. Each envelope carries an event or a
/// transaction of at most [`MAX_EVENT_SIZE`].
pub(crate) fn assert_relay_accepts(validator: &Path, label: &str, cases: &[(String, Envelope)]) {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!(
        "vigil-protocol-{label}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, envelope) in cases {
        let event_size = match (envelope.event(), envelope.transaction()) {
            (Some(event), _) => serde_json::to_vec(event).unwrap().len(),
            (None, Some(transaction)) => serde_json::to_vec(transaction).unwrap().len(),
            (None, None) => panic!("{name}: neither an event nor a transaction"),
        };
        assert!(event_size <= MAX_EVENT_SIZE, "{name}: {event_size} bytes");
        let path = dir.join(format!("{name}.envelope"));
        std::fs::write(&path, envelope.to_vec().unwrap()).unwrap();
        files.push(path);
    }
    let output = Command::new("python3")
        .arg(validator)
        .arg("--strict")
        .args(&files)
        .output()
        .expect("python3 runs");
    if output.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert!(
        output.status.success(),
        "relay-validate.py --strict failed ({}); envelopes kept in {}:\n{}\n{}",
        output.status,
        dir.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn relay_neither_trims_nor_rejects_trimmed_events() {
    let Some(validator) = relay_validator() else {
        return;
    };
    let (shed, steps) = prepare_counting(needs_shedding());
    assert!(steps > 0, "the shedding case must need shedding");
    let mut full = envelope_for(prepare(full_event(now_seconds())));
    full.add_item(Attachment::new("log.txt", b"line 1\nline 2\n".to_vec()));
    full.add_item(client_report(SystemTime::now()));
    full.add_item(session_update(now_seconds()));
    let cases = [
        ("long_message", envelope_for(prepare(long_message()))),
        ("long_template", envelope_for(prepare(long_template()))),
        ("bad_tags", envelope_for(prepare(many_bad_tags()))),
        ("huge_extra", envelope_for(prepare(huge_extra()))),
        ("many_frames", envelope_for(prepare(many_frames()))),
        ("kitchen_sink", envelope_for(prepare(kitchen_sink()))),
        ("needs_shedding", envelope_for(shed)),
        ("full_event", full),
        ("minimal", envelope_for(prepare(Event::new()))),
    ]
    .map(|(name, envelope)| (name.to_owned(), envelope));
    assert_relay_accepts(&validator, "relay", &cases);
}

/// A small xorshift generator, so the random events are the same on every
/// run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// Often short, sometimes up to `max`.
    fn len(&mut self, max: usize) -> usize {
        match self.below(4) {
            0 => self.below(8),
            1 => self.below(max / 4 + 1),
            _ => self.below(max + 1),
        }
    }

    /// Either lowercase ASCII or a mix of characters that need escaping,
    /// are rejected somewhere, or take several bytes.
    fn text(&mut self, max: usize) -> String {
        const MIX: &[char] = &[
            'a', 'Z', '0', ' ', '\n', '\r', '\t', 'é', '😀', '"', '\\', '/', '\u{1}', '\u{7f}',
            '.', '-', '_', '=', '&', ';', '%', '@', ':', '\u{85}', '\u{2028}',
        ];
        let n = self.len(max);
        if self.below(3) == 0 {
            (0..n)
                .map(|_| char::from(b'a' + self.below(26) as u8))
                .collect()
        } else {
            (0..n).map(|_| MIX[self.below(MIX.len())]).collect()
        }
    }

    fn maybe(&mut self, max: usize) -> Option<String> {
        (self.below(4) != 0).then(|| self.text(max))
    }

    fn json(&mut self, depth: usize) -> Value {
        match self.below(if depth > 9 { 6 } else { 9 }) {
            0 => Value::Null,
            1 => Value::Bool(self.below(2) == 0),
            2 => Value::from(self.next() as i64),
            3 => Value::from(
                f64::from_bits(self.next() >> 2 | 0x3ff0_0000_0000_0000)
                    * 10f64.powi(self.below(600) as i32 - 300),
            ),
            4 | 5 => Value::from(self.text(2000)),
            6 | 7 => Value::Array((0..self.below(7)).map(|_| self.json(depth + 1)).collect()),
            _ => Value::Object(
                (0..self.below(7))
                    .map(|_| (self.text(20), self.json(depth + 1)))
                    .collect(),
            ),
        }
    }

    fn bag(&mut self, entries: usize) -> BTreeMap<String, Value> {
        (0..self.below(entries))
            .map(|_| (self.text(20), self.json(1)))
            .collect()
    }

    fn strings(&mut self, entries: usize, key: usize, value: usize) -> BTreeMap<String, String> {
        (0..self.below(entries))
            .map(|_| (self.text(key), self.text(value)))
            .collect()
    }

    fn event(&mut self) -> Event {
        let os = json!({
            "type": "os",
            "name": self.maybe(3000),
            "version": self.maybe(3000),
            "raw_description": self.maybe(3000),
            "more": Value::Object(self.bag(10).into_iter().collect()),
        });
        let trace = json!({
            "type": "trace",
            "trace_id": TRACE_ID,
            "span_id": SPAN_ID,
            "op": self.maybe(300),
            "origin": self.maybe(300),
            "data": Value::Object(self.bag(30).into_iter().collect()),
        });
        let crumbs = (0..self.below(40))
            .map(|_| Breadcrumb {
                ty: self.text(300).into(),
                category: self.maybe(300).map(Into::into),
                message: self.maybe(10_000),
                data: self.bag(20),
                ..Default::default()
            })
            .collect::<Vec<_>>();
        let exceptions = (0..self.below(4))
            .map(|_| {
                let function = self.maybe(800);
                Exception {
                    ty: self.text(400),
                    value: Some(self.text(10_000)),
                    module: self.maybe(400),
                    mechanism: Some(Mechanism {
                        ty: format!("m{}", self.text(200)),
                        description: self.maybe(9000),
                        data: self.bag(20),
                        ..Default::default()
                    }),
                    stacktrace: Some(Stacktrace {
                        frames: (0..self.below(400))
                            .map(|i| Frame {
                                function: function.clone(),
                                raw_function: function.clone(),
                                lineno: Some(i as u64),
                                ..Default::default()
                            })
                            .collect(),
                    }),
                    ..Default::default()
                }
            })
            .collect::<Vec<_>>();
        Event {
            message: self.maybe(20_000),
            logentry: (self.below(2) == 0).then(|| LogEntry {
                message: self.maybe(9000),
                formatted: self.maybe(9000),
                params: (0..self.below(30)).map(|_| self.json(1)).collect(),
            }),
            logger: self.maybe(300),
            transaction: self.maybe(300),
            server_name: self.maybe(400),
            release: self.maybe(400),
            environment: self.maybe(100),
            dist: self.maybe(100),
            tags: self
                .strings(100, 300, 400)
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            extra: self.bag(30),
            modules: self.strings(2000, 30, 100),
            contexts: BTreeMap::from([
                (
                    "custom".into(),
                    Context::Other(self.bag(30).into_iter().collect()),
                ),
                (
                    "device".into(),
                    Context::Other(self.bag(30).into_iter().collect()),
                ),
                ("os".into(), serde_json::from_value(os).unwrap()),
                ("trace".into(), serde_json::from_value(trace).unwrap()),
            ]),
            user: Some(User {
                id: self.maybe(300),
                username: self.maybe(300),
                email: self.maybe(200),
                ip_address: self.maybe(20),
                data: self.bag(10),
                ..Default::default()
            }),
            request: Some(Request {
                url: self
                    .maybe(400)
                    .map(|path| format!("https://example.com/{path}")),
                method: Some("GET".into()),
                data: Some(self.json(1)),
                query_string: self.maybe(3000),
                cookies: self.maybe(5000),
                headers: self.strings(300, 40, 300),
                env: self.strings(300, 40, 300),
            }),
            breadcrumbs: Breadcrumbs::from(crumbs),
            exception: Values::from(exceptions),
            ..Default::default()
        }
    }
}

#[test]
fn relay_accepts_random_trimmed_events() {
    let Some(validator) = relay_validator() else {
        return;
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let cases: Vec<(String, Envelope)> = (0..40)
        .filter_map(|i| {
            let mut event = rng.event();
            event.timestamp = now_seconds();
            limits::trim_event(&mut event);
            let mut again = event.clone();
            limits::trim_event(&mut again);
            assert_eq!(again, event, "random event {i}: trimming twice differs");
            // The client drops what shedding cannot make fit.
            while serde_json::to_vec(&event).unwrap().len() > MAX_EVENT_SIZE {
                if !limits::shed_heavy_parts(&mut event) {
                    return None;
                }
            }
            Some((format!("random{i:02}"), envelope_for(event)))
        })
        .collect();
    assert!(cases.len() > 30, "{} events fit", cases.len());
    assert_relay_accepts(&validator, "relay-random", &cases);
}
