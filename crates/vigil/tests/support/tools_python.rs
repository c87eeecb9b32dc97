//! The python of the tools venv (PyPI `sentry-relay`, `sentry-sdk`), as
//! `shared/interop/lib/tools-venv.sh` prints it. Included with
//! `#[path = "support/tools_python.rs"] mod tools_python;` by the test
//! binaries that run Relay's Python bindings.

use std::path::Path;
use std::process::Command;

/// The python of the tools venv; `None` (after a loud message naming
/// `what` was skipped) when `../shared` is missing, a panic in CI or when
/// the script fails.
pub(crate) fn tools_python(what: &str) -> Option<String> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop/lib/tools-venv.sh");
    if !script.exists() {
        eprintln!(
            "\n\n*** SKIPPED {what}: {} not found (../shared is missing) ***\n",
            script.display()
        );
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared/interop is required in CI"
        );
        return None;
    }
    let out = Command::new("bash")
        .arg(&script)
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{} failed:\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}
