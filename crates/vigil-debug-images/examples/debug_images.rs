//! Prints the debug images of this process as JSON, the list an event
//! carries in `debug_meta.images`.
//!
//! ```text
//! cargo run --release -p vigil-debug-images --example debug_images
//! ```
//!
//! With `--check`, it first checks the list against its own executable and
//! exits with status 1 when a check fails: the executable is the first
//! image and holds `main`; its `code_id` is the GNU build id read from the
//! file (with the `object` crate, not through `findshlibs`) and its
//! `debug_id` derives from it; the C library is listed (glibc targets); the
//! JSON reads back to the same images. Run on a release build, and on a
//! stripped copy of it, this shows that what a release binary reports is
//! what its debug files are found by.

use std::path::Path;
use std::process::ExitCode;

use object::Object;
use vigil_core::protocol::DebugImage;
use vigil_debug_images::debug_images;

fn main() -> ExitCode {
    let images = debug_images();
    let json = match serde_json::to_string_pretty(&images) {
        Ok(json) => json,
        Err(e) => {
            eprintln!("cannot write the images as JSON: {e}");
            return ExitCode::FAILURE;
        }
    };
    if std::env::args().any(|arg| arg == "--check") {
        let failures = check(&images, &json);
        if !failures.is_empty() {
            for failure in &failures {
                eprintln!("check failed: {failure}");
            }
            return ExitCode::FAILURE;
        }
        eprintln!("all checks passed ({} images)", images.len());
    }
    println!("{json}");
    ExitCode::SUCCESS
}

/// What is wrong with `images` (and their `json`); empty when all is well.
fn check(images: &[DebugImage], json: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let mut fail = |failure: String| failures.push(failure);

    let exe_path = match std::env::current_exe().and_then(|p| p.canonicalize()) {
        Ok(path) => path,
        Err(e) => return vec![format!("no executable path: {e}")],
    };
    let Some(DebugImage::Elf(exe)) = images.first() else {
        return vec![format!("the first image is not an ELF image: {images:?}")];
    };
    if Path::new(&exe.code_file).canonicalize().ok().as_ref() != Some(&exe_path) {
        fail(format!(
            "first image {} is not {}",
            exe.code_file,
            exe_path.display()
        ));
    }
    let main_addr = main as fn() -> ExitCode as usize as u64;
    if main_addr
        .checked_sub(exe.image_addr)
        .is_none_or(|offset| offset >= exe.image_size)
    {
        fail(format!(
            "main at {main_addr:#x} is outside the first image {exe:?}"
        ));
    }

    match build_id_of(&exe_path) {
        Ok(build_id) => {
            let hex: String = build_id.iter().map(|b| format!("{b:02x}")).collect();
            if exe.code_id.as_deref() != Some(hex.as_str()) {
                fail(format!(
                    "code_id {:?}, the file's build id {hex}",
                    exe.code_id
                ));
            }
            let mut guid = [0u8; 16];
            for (slot, byte) in guid.iter_mut().zip(&build_id) {
                *slot = *byte;
            }
            guid[..4].reverse();
            guid[4..6].reverse();
            guid[6..8].reverse();
            let expected = vigil_core::protocol::Uuid::from_bytes(guid);
            if exe.debug_id != expected {
                fail(format!("debug_id {}, expected {expected}", exe.debug_id));
            }
        }
        Err(e) => fail(format!(
            "cannot read the build id of {}: {e}",
            exe_path.display()
        )),
    }

    if cfg!(all(target_os = "linux", target_env = "gnu"))
        && !images.iter().any(|image| {
            matches!(image, DebugImage::Elf(elf) if Path::new(&elf.code_file)
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("libc.so")))
        })
    {
        fail("no libc.so among the images".into());
    }

    match serde_json::from_str::<Vec<DebugImage>>(json) {
        Ok(back) if back == images => {}
        Ok(back) => fail(format!("the JSON reads back as {back:?}")),
        Err(e) => fail(format!("the JSON does not read back: {e}")),
    }
    failures
}

/// The GNU build id in the file at `path`.
fn build_id_of(path: &Path) -> Result<Vec<u8>, String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    let file = object::File::parse(&*data).map_err(|e| e.to_string())?;
    match file.build_id() {
        Ok(Some(id)) => Ok(id.to_vec()),
        Ok(None) => Err("no build id note".into()),
        Err(e) => Err(e.to_string()),
    }
}
