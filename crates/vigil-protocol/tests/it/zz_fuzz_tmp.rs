use std::collections::BTreeMap;
use std::process::Command;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner, RngAlgorithm, TestRng};
use vigil_protocol::*;
use vigil_protocol::limits;

fn s(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(prop_oneof![
            Just('a'), Just(' '), Just('\n'), Just('\r'), Just('\t'), Just('é'), Just('😀'), Just('"'), Just('\\'),
            Just('/'), Just('\u{1}'), Just('\u{7f}'), Just('.'), Just('-'), Just('='), Just('&'), Just(';'), Just('%'), Just('@'), Just(':'), Just('\u{85}'), Just('\u{2028}'),
        ], 0..max).prop_map(|v| v.into_iter().collect()),
        "[a-z0-9.@ -]{0,30}",
    ]
}
fn opt(max: usize) -> impl Strategy<Value = Option<String>> { proptest::option::of(s(max)) }
fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null), any::<bool>().prop_map(Value::from), any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("f", |f| f.is_finite()).prop_map(Value::from),
        s(3000).prop_map(Value::from),
    ];
    leaf.prop_recursive(10, 400, 30, |inner| prop_oneof![
        proptest::collection::vec(inner.clone(), 0..30).prop_map(Value::Array),
        proptest::collection::btree_map(s(20), inner, 0..30).prop_map(|m| Value::Object(m.into_iter().collect())),
    ])
}
fn map() -> impl Strategy<Value = BTreeMap<String, Value>> { proptest::collection::btree_map(s(20), json(), 0..20) }

fn event() -> impl Strategy<Value = Event> {
    (
        (opt(20000), opt(300), opt(300), opt(400), opt(400), opt(100), opt(100), opt(100)),
        (proptest::collection::btree_map(s(300), s(400), 0..60), map(), map(), map()),
        (opt(400), opt(2000), opt(300), json(), opt(3000), opt(3000), proptest::collection::btree_map(s(50), s(2000), 0..50)),
        (opt(200), opt(200), opt(200), opt(50), proptest::collection::vec((s(300), opt(300), opt(10000), map()), 0..30)),
        (proptest::collection::vec((opt(400), opt(10000), opt(400), s(200), map(), 0usize..400, opt(800)), 0..4), proptest::collection::btree_map(s(30), s(100), 0..300)),
    ).prop_map(|(a, b, c, d, e)| {
        let mut ev = Event::new();
        ev.message = a.0; ev.logger = a.1; ev.transaction = a.2; ev.server_name = a.3; ev.release = a.4; ev.environment = a.5; ev.dist = a.6;
        ev.tags = b.0; ev.extra = b.1;
        ev.contexts.insert("custom".into(), Context::Other(b.2.into_iter().collect()));
        ev.contexts.insert("os".into(), serde_json::from_value(serde_json::json!({"type":"os","name":a.7, "version": a.7, "x": Value::Object(b.3.clone().into_iter().collect())})).unwrap());
        ev.contexts.insert("device".into(), Context::Other(b.3.into_iter().collect()));
        let mut req = Request::default();
        req.url = c.0; req.method = Some("GET".into()); req.data = Some(c.3); req.query_string = c.4; req.cookies = c.5; req.headers = c.6.clone(); req.env = c.6;
        req.query_string = req.query_string.or(c.1);
        let _ = c.2;
        ev.request = Some(req);
        let mut user = User::default(); user.id = d.0; user.username = d.1; user.email = d.2; user.ip_address = d.3; ev.user = Some(user);
        ev.breadcrumbs = Values::from(d.4.into_iter().map(|(ty, cat, msg, data)| Breadcrumb { ty, category: cat, message: msg, data, ..Default::default() }).collect::<Vec<_>>());
        ev.exception = Values::from(e.0.into_iter().map(|(ty, value, module, mty, data, nframes, func)| {
            let ty = ty.or(Some("E".into()));
            Exception { ty, value, module, mechanism: Some(Mechanism { ty: if mty.is_empty() { "generic".into() } else { mty }, data, ..Default::default() }),
              stacktrace: Some(Stacktrace { frames: (0..nframes).map(|i| Frame { function: func.clone(), lineno: Some(i as u64), ..Default::default() }).collect() }), ..Default::default() }
        }).collect::<Vec<_>>());
        ev.modules = e.1;
        ev
    })
}

#[test]
fn fuzz_relay() {
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]));
    let dir = std::env::temp_dir().join("vigil-fuzz-tmp");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = vec![];
    for i in 0..150 {
        let mut ev = event().new_tree(&mut runner).unwrap().current();
        limits::trim_event(&mut ev);
        let mut n = 0;
        while serde_json::to_vec(&ev).unwrap().len() > limits::MAX_EVENT_SIZE { assert!(limits::shed_heavy_parts(&mut ev)); n += 1; }
        let mut ev2 = ev.clone(); limits::trim_event(&mut ev2);
        assert_eq!(ev2, ev, "idempotent {i}");
        let p = dir.join(format!("{i}.env"));
        std::fs::write(&p, Envelope::from_event(ev).to_vec().unwrap()).unwrap();
        files.push(p);
        let _ = n;
    }
    let out = Command::new("python3").arg("/work/shared/interop/relay-validate.py").arg("--strict").arg("-q").args(&files).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("error:") || l.contains("warning:")).collect();
    let mut uniq: std::collections::BTreeMap<String, usize> = Default::default();
    for l in &lines { let key: String = l.split(':').take(4).collect::<Vec<_>>().join(":").chars().filter(|c| !c.is_ascii_digit()).collect(); *uniq.entry(key).or_default() += 1; }
    for (k, v) in &uniq { eprintln!("{v:5} {k}"); }
    assert!(out.status.success());
}
