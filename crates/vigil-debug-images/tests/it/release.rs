//! A release build of the `debug_images` example, stripped, with its debug
//! info split off: the images it reports must name the build id that both
//! the stripped binary and the debug file carry. Ignored by default (a
//! release build takes minutes); `scripts/test.sh` runs the example's own
//! check instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{elf_facts, hex};

/// Runs `command`, failing the test with its output unless it succeeds;
/// returns its stdout.
fn run(command: &mut Command) -> String {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn has_tool(name: &str) -> bool {
    Command::new(name).arg("--version").output().is_ok()
}

#[test]
#[ignore = "builds the example in release mode (minutes); scripts/test.sh runs it"]
fn a_stripped_release_build_reports_the_build_id_of_its_debug_file() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A target directory of its own: the one of the `cargo test` running
    // this test may be locked.
    let target = manifest.join("../../target/debug-images-release");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    run(Command::new(cargo)
        .current_dir(manifest)
        .args([
            "build",
            "--release",
            "--example",
            "debug_images",
            "--target-dir",
        ])
        .arg(&target));
    let built = target.join("release/examples/debug_images");
    // The example checks itself as built.
    run(Command::new(&built).arg("--check"));

    if !has_tool("objcopy") || !has_tool("strip") {
        assert!(
            std::env::var_os("CI").is_none(),
            "objcopy and strip (binutils) are required in CI"
        );
        eprintln!("*** SKIPPED the stripped build: no objcopy or strip ***");
        return;
    }
    let dir = target.join("stripped");
    std::fs::create_dir_all(&dir).unwrap();
    let exe: PathBuf = dir.join("debug_images");
    let debug = dir.join("debug_images.debug");
    std::fs::copy(&built, &exe).unwrap();
    run(Command::new("objcopy")
        .arg("--only-keep-debug")
        .arg(&exe)
        .arg(&debug));
    run(Command::new("strip").arg("--strip-all").arg(&exe));

    let json: Value = serde_json::from_str(&run(Command::new(&exe).arg("--check"))).unwrap();
    let first = &json[0];
    assert_eq!(
        first["code_file"],
        exe.canonicalize().unwrap().to_str().unwrap()
    );
    let build_id = hex(&elf_facts(&debug).build_id);
    assert_eq!(first["code_id"], build_id.as_str());
    assert_eq!(hex(&elf_facts(&exe).build_id), build_id);
}
