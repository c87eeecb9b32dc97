//! What the real-software tests share: finding `../shared/interop` (the
//! scripts that install and run third-party software) and running its
//! scripts.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/interop`, next to the workspace. `None` (after a loud
/// `SKIPPED` line naming `what`) only when `../shared` does not exist
/// outside CI; once `../shared` is there, a missing script fails.
pub(crate) fn interop_dir(what: &str) -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if !shared.is_dir() {
        assert!(
            std::env::var_os("CI").is_none(),
            "../shared is required in CI but {} is missing",
            shared.display()
        );
        eprintln!(
            "\n\n*** SKIPPED {what}: {} not found (../shared is missing) ***\n",
            shared.display()
        );
        return None;
    }
    let dir = shared.join("interop");
    assert!(
        dir.join("spotlight.sh").is_file() && dir.join("lib/tools-venv.sh").is_file(),
        "{} lacks spotlight.sh or lib/tools-venv.sh",
        dir.display()
    );
    Some(dir)
}

/// Runs `bash script args` with `env` and returns its stdout; panics with
/// both outputs when it fails.
pub(crate) fn bash(script: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    try_bash(script, args, env).unwrap_or_else(|failure| panic!("{failure}"))
}

/// Runs `bash script args` with `env`: its stdout, or a description of the
/// failure with both outputs.
pub(crate) fn try_bash(
    script: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    if !out.status.success() {
        return Err(format!(
            "{} {args:?} failed ({}):\n{}\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8(out.stdout).expect("the script prints UTF-8"))
}
