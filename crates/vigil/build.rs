//! Records the compiler that builds `vigil` for the `rust` runtime context
//! (feature `contexts`): `VIGIL_RUSTC_VERSION` (`1.85.0`),
//! `VIGIL_RUSTC_CHANNEL` (`stable`, `beta`, `nightly` or `dev`) and
//! `VIGIL_RUSTC_DESCRIPTION` (the first line of `rustc -vV`). Nothing is set
//! when `rustc` cannot be run; the context then leaves the fields out.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
    if env::var_os("CARGO_FEATURE_CONTEXTS").is_none() {
        return;
    }
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc).arg("-vV").output() else {
        println!("cargo:warning=vigil: could not run rustc -vV; the rust context will be empty");
        return;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let description = lines.next().unwrap_or("").trim();
    let release = lines
        .find_map(|l| l.strip_prefix("release:"))
        .map(str::trim)
        .unwrap_or("");
    if release.is_empty() {
        return;
    }
    let channel = if release.contains("-nightly") {
        "nightly"
    } else if release.contains("-beta") {
        "beta"
    } else if release.contains("-dev") {
        "dev"
    } else {
        "stable"
    };
    println!("cargo:rustc-env=VIGIL_RUSTC_VERSION={release}");
    println!("cargo:rustc-env=VIGIL_RUSTC_CHANNEL={channel}");
    println!("cargo:rustc-env=VIGIL_RUSTC_DESCRIPTION={description}");
}
