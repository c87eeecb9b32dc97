//! Independent oracles: every envelope Vigil writes must be accepted by
//! Sentry's own Relay normalizer (`shared/interop/relay-validate.py
//! --strict`) and by the crates.io `sentry-types` envelope parser.
//!
//! `produced_envelopes_pass_both_oracles` checks a representative set made
//! here. `every_dumped_envelope_passes_both_oracles` (ignored by default)
//! is run by `scripts/test.sh` after the whole suite, over every envelope
//! the suite wrote to `$VIGIL_ENVELOPE_DUMP_DIR`.

use std::collections::BTreeMap;
use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use vigil::protocol::{
    Attachment, Breadcrumb, Context, Envelope, EnvelopeItem, OsContext, RuntimeContext, Value,
};
use vigil::{Level, User};

fn relay_validator() -> Option<PathBuf> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop/relay-validate.py");
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "\n\n*** SKIPPED the Relay oracle: {} not found (../shared is missing) ***\n",
            path.display()
        );
        if std::env::var_os("CI").is_some() {
            panic!("../shared/interop is required in CI");
        }
        None
    }
}

fn check_with_sentry_types(bytes: &[u8], what: &str) {
    let parsed = sentry_types::protocol::v7::Envelope::from_slice(bytes)
        .unwrap_or_else(|e| panic!("sentry-types rejected {what}: {e}"));
    let ours = Envelope::from_slice(bytes).unwrap_or_else(|e| panic!("we cannot read {what}: {e}"));
    assert_eq!(
        parsed.items().count(),
        ours.items().len(),
        "sentry-types sees a different number of items in {what}"
    );
    if let Some(id) = ours.headers().event_id {
        assert_eq!(
            parsed.uuid().map(|u| u.simple().to_string()),
            Some(id.to_string()),
            "sentry-types sees a different event id in {what}"
        );
    }
}

fn run_relay(validator: &Path, files: &[PathBuf]) {
    for chunk in files.chunks(400) {
        let out = Command::new("python3")
            .arg(validator)
            .arg("--strict")
            .args(chunk)
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "Relay rejected envelopes:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[derive(Debug)]
struct Chain(&'static str, Option<Box<Chain>>);
impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
impl Error for Chain {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.1.as_deref().map(|c| c as &(dyn Error + 'static))
    }
}

fn representative_envelopes() -> Vec<Envelope> {
    vigil::test::with_captured_envelopes_options(
        || {
            vigil::configure_scope(|scope| {
                scope.set_tag("my-tag", "my value");
                scope.set_user(Some(User {
                    id: Some(42.to_string()),
                    email: Some("john.doe@example.com".into()),
                    ..Default::default()
                }));
                scope.set_extra("answer", 42.into());
                scope.set_context(
                    "os",
                    OsContext {
                        name: Some("Linux".into()),
                        version: Some("6.1".into()),
                        ..Default::default()
                    },
                );
                scope.set_context(
                    "rust",
                    Context::from(RuntimeContext {
                        name: Some("rustc".into()),
                        version: Some("1.95.0".into()),
                        ..Default::default()
                    }),
                );
                scope.set_context(
                    "custom",
                    BTreeMap::from([("k".to_owned(), Value::from("v"))]),
                );
                scope.set_fingerprint(Some(&["{{ default }}", "custom"]));
                scope.set_transaction(Some("/users/{id}"));
            });
            for i in 0..30 {
                vigil::add_breadcrumb(Breadcrumb {
                    category: Some("test".into()),
                    message: Some(format!("crumb {i}")),
                    data: BTreeMap::from([("i".to_owned(), Value::from(i))]),
                    ..Default::default()
                });
            }
            vigil::with_scope(
                |s| s.set_tag("inner", "1"),
                || vigil::capture_message("my error", Level::Error),
            );
            vigil::capture_message("my other error", Level::Warning);
            let chain = Chain(
                "request failed",
                Some(Box::new(Chain(
                    "database unavailable",
                    Some(Box::new(Chain("connection refused", None))),
                ))),
            );
            vigil::capture_error(&chain as &dyn Error);
            vigil::with_scope(
                |s| s.add_attachment(Attachment::new("log.txt", b"line 1\nline 2\n".to_vec())),
                || vigil::capture_message("with attachment", Level::Info),
            );
            vigil::capture_message(&"long ".repeat(5000), Level::Debug);
        },
        vigil::ClientOptions::new()
            .release("oracle@1.0.0")
            .environment("test"),
    )
}

#[test]
fn produced_envelopes_pass_both_oracles() {
    let envelopes = representative_envelopes();
    assert_eq!(envelopes.len(), 5);
    let dir = std::env::temp_dir().join(format!("vigil-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (i, mut envelope) in envelopes.into_iter().enumerate() {
        envelope.headers_mut().sent_at = Some(std::time::SystemTime::now());
        assert!(
            envelope
                .items()
                .iter()
                .any(|it| matches!(it, EnvelopeItem::Event(_)))
        );
        let bytes = envelope.to_vec().unwrap();
        check_with_sentry_types(&bytes, &format!("envelope {i}"));
        let path = dir.join(format!("{i}.envelope"));
        std::fs::write(&path, &bytes).unwrap();
        files.push(path);
    }
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "run by scripts/test.sh after the suite, over every envelope it wrote"]
fn every_dumped_envelope_passes_both_oracles() {
    let dir = PathBuf::from(
        std::env::var_os("VIGIL_ENVELOPE_DUMP_DIR").expect("VIGIL_ENVELOPE_DUMP_DIR must be set"),
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "envelope"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "the suite wrote no envelopes to {}",
        dir.display()
    );
    for f in &files {
        check_with_sentry_types(&std::fs::read(f).unwrap(), &f.display().to_string());
    }
    if let Some(validator) = relay_validator() {
        run_relay(&validator, &files);
    }
    println!("both oracles accepted {} envelopes", files.len());
}
