//! End to end against Bugsink, a real self-hosted Sentry-compatible server
//! (`../shared/interop/bugsink.sh`), over real HTTP on loopback with the
//! default transport. Every stored payload is then checked by Relay's
//! normalizer (`relay-validate.py --strict`). Own binary: it uses `init`.

use std::collections::{BTreeMap, BTreeSet};
use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use vigil::protocol::{Context, OsContext};
use vigil::{Breadcrumb, ClientOptions, Level, User};

const PORT: &str = "18717";

fn interop_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop");
    if dir.join("bugsink.sh").exists() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "../shared/interop is required in CI but {} is missing",
        dir.display()
    );
    eprintln!(
        "\n\n*** SKIPPED the Bugsink end-to-end test: {} not found (../shared is missing) ***\n",
        dir.display()
    );
    None
}

fn bugsink(dir: &Path, args: &[&str]) -> String {
    let data = std::env::temp_dir().join(format!("vigil-bugsink-{PORT}"));
    let out = Command::new("bash")
        .arg(dir.join("bugsink.sh"))
        .args(args)
        .env("BUGSINK_PORT", PORT)
        .env("BUGSINK_DATA_DIR", data)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bugsink.sh {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[derive(Debug)]
struct Layer(&'static str, Option<Box<Layer>>);

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl Error for Layer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.1.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

#[test]
fn events_arrive_in_bugsink_with_the_right_fields() {
    let Some(dir) = interop_dir() else { return };
    bugsink(&dir, &["start"]);
    let project = format!("vigil-e2e-{}", std::process::id());
    let dsn = bugsink(&dir, &["dsn", &project]).trim().to_owned();
    assert!(dsn.starts_with("http://"), "{dsn}");

    let options = ClientOptions::new()
        .release("vigil-e2e@1.0.0")
        .environment("e2e")
        // 200 events from 8 threads at once: room for all of them.
        .transport_queue_size(1000);
    let guard = vigil::init((dsn.as_str(), options));
    assert!(guard.is_enabled());

    // The seed scenario.
    vigil::configure_scope(|scope| {
        scope.set_user(Some(User {
            id: Some(42.to_string()),
            email: Some("john.doe@example.com".into()),
            ..Default::default()
        }));
    });
    vigil::with_scope(
        |scope| scope.set_tag("my-tag", "my value"),
        || vigil::capture_message("my error", Level::Error),
    );
    vigil::capture_message("my other error", Level::Error);

    // An error with a three-level source() chain.
    let err = Layer(
        "request failed",
        Some(Box::new(Layer(
            "database unavailable",
            Some(Box::new(Layer("connection refused", None))),
        ))),
    );
    vigil::capture_error(&err as &dyn Error);

    // User, contexts, extra, fingerprint and 30 breadcrumbs.
    vigil::with_scope(
        |scope| {
            scope.set_user(Some(User {
                id: Some("u-7".into()),
                username: Some("ada".into()),
                ..Default::default()
            }));
            scope.set_context(
                "os",
                Context::from(OsContext {
                    name: Some("Linux".into()),
                    version: Some("6.1".into()),
                    ..Default::default()
                }),
            );
            scope.set_context(
                "order",
                BTreeMap::from([("id".to_owned(), Value::from(991))]),
            );
            scope.set_extra("cart_items", 3.into());
            scope.set_fingerprint(Some(&["checkout", "payment-declined"]));
            for i in 0..30 {
                scope.add_breadcrumb(Breadcrumb {
                    category: Some("checkout".into()),
                    message: Some(format!("step {i}")),
                    ..Default::default()
                });
            }
        },
        || vigil::capture_message("payment declined", Level::Warning),
    );

    // 200 events from 8 threads at once.
    let threads: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                for i in 0..25 {
                    vigil::configure_scope(|s| s.set_tag("thread", t));
                    vigil::capture_message(&format!("burst {t}-{i}"), Level::Info);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }

    assert!(
        guard.flush(Duration::from_secs(60)),
        "flush must deliver everything"
    );
    let stats = guard.client().unwrap().delivery_stats();
    assert_eq!(stats.events_sent, 204, "{stats:?}");
    assert!(stats.dropped.is_empty(), "nothing dropped: {stats:?}");
    drop(guard);

    let raw = bugsink(
        &dir,
        &[
            "events",
            &project,
            "--raw",
            "--wait-for",
            "204",
            "--timeout",
            "60",
        ],
    );
    let events: Vec<Value> = raw
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(events.len(), 204, "every event arrived exactly once");

    let by_message = |m: &str| -> &Value {
        events
            .iter()
            .find(|e| e["data"]["message"] == m)
            .unwrap_or_else(|| panic!("no event {m:?}"))
    };
    let tagged = &by_message("my error")["data"];
    let untagged = &by_message("my other error")["data"];
    assert_eq!(tagged["tags"]["my-tag"], "my value");
    assert!(untagged["tags"].get("my-tag").is_none(), "{untagged}");
    assert_eq!(tagged["user"]["id"], "42");
    assert_eq!(untagged["user"]["email"], "john.doe@example.com");
    assert_eq!(tagged["release"], "vigil-e2e@1.0.0");
    assert_eq!(tagged["environment"], "e2e");
    assert_eq!(tagged["level"], "error");

    let error = events
        .iter()
        .find(|e| e["data"]["exception"].is_object())
        .expect("the error event");
    let chain: Vec<(&str, &str)> = error["data"]["exception"]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["type"].as_str().unwrap(), v["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            ("Layer", "connection refused"),
            ("Layer", "database unavailable"),
            ("Layer", "request failed")
        ]
    );
    assert_eq!(error["exception_type"], "Layer");

    let rich = &by_message("payment declined")["data"];
    assert_eq!(rich["user"]["id"], "u-7");
    assert_eq!(rich["user"]["username"], "ada");
    assert_eq!(rich["contexts"]["os"]["name"], "Linux");
    assert_eq!(rich["contexts"]["order"]["id"], 991);
    assert_eq!(rich["extra"]["cart_items"], 3);
    assert_eq!(
        rich["fingerprint"],
        serde_json::json!(["checkout", "payment-declined"])
    );
    assert_eq!(rich["breadcrumbs"]["values"].as_array().unwrap().len(), 30);
    assert_eq!(rich["level"], "warning");

    let bursts: BTreeSet<String> = events
        .iter()
        .filter_map(|e| e["data"]["message"].as_str())
        .filter(|m| m.starts_with("burst "))
        .map(str::to_owned)
        .collect();
    assert_eq!(bursts.len(), 200);
    for t in 0..8 {
        for i in 0..25 {
            assert!(bursts.contains(&format!("burst {t}-{i}")));
        }
    }

    // Relay accepts every payload Bugsink stored, unchanged.
    let validate_dir = std::env::temp_dir().join(format!("vigil-e2e-relay-{}", std::process::id()));
    std::fs::create_dir_all(&validate_dir).unwrap();
    let files: Vec<PathBuf> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let path = validate_dir.join(format!("{i}.json"));
            std::fs::write(&path, serde_json::to_vec(&e["data"]).unwrap()).unwrap();
            path
        })
        .collect();
    let out = Command::new("python3")
        .arg(dir.join("relay-validate.py"))
        .arg("--strict")
        .args(&files)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "Relay rejected payloads:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&validate_dir);
}
