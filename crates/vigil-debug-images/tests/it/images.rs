//! `debug_images` against the files on disk and the process's own
//! addresses.

use std::path::Path;

use vigil_core::ClientOptions;
use vigil_debug_images::{debug_id_from_build_id, debug_images};

use crate::support::{elf_facts, elf_images, expected_debug_id, hex, image_holding};

/// A function of the test binary, whose address must lie in its image.
#[inline(never)]
fn marker() -> u64 {
    std::hint::black_box(7)
}

#[test]
fn the_executable_comes_first_with_the_build_id_of_its_file() {
    let images = debug_images();
    let elf = elf_images(&images);
    let exe_path = std::env::current_exe().unwrap();
    let addr = marker as fn() -> u64 as usize as u64;
    let exe = image_holding(&elf, addr).expect("an image holds a function of the test");
    assert!(std::ptr::eq(exe, elf[0]), "{exe:?} is not first");
    assert_eq!(Path::new(&exe.code_file), exe_path);

    let facts = elf_facts(&exe_path);
    assert!(facts.build_id.len() >= 16, "{facts:?}");
    assert_eq!(exe.code_id.as_deref(), Some(hex(&facts.build_id).as_str()));
    assert_eq!(exe.debug_id.to_string(), expected_debug_id(&facts.build_id));
    assert_eq!(exe.image_vmaddr, Some(facts.stated_start));
    assert_eq!(exe.image_size, facts.stated_end - facts.stated_start);
    // The function's address, taken back to the addresses the file
    // states, is in its `.text`: what the server will compute.
    let stated = addr - exe.image_addr + facts.stated_start;
    assert!(facts.text.contains(&stated), "{stated:#x} not in {facts:?}");
    #[cfg(target_arch = "x86_64")]
    assert_eq!(exe.arch.as_deref(), Some("x86_64"));
    #[cfg(target_arch = "aarch64")]
    assert_eq!(exe.arch.as_deref(), Some("arm64"));
}

#[test]
fn every_image_that_is_a_file_has_its_build_id_and_extent() {
    let images = debug_images();
    let elf = elf_images(&images);
    let mut files = 0;
    for image in &elf {
        let code_id = image.code_id.as_deref().expect("a code id");
        assert!(!code_id.is_empty() && code_id.len() % 2 == 0, "{image:?}");
        assert_eq!(code_id, code_id.to_ascii_lowercase());
        let build_id: Vec<u8> = (0..code_id.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&code_id[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(image.debug_id.to_string(), expected_debug_id(&build_id));
        assert_eq!(image.debug_id, debug_id_from_build_id(&build_id));
        assert!(image.image_size > 0, "{image:?}");
        // The vDSO is no file; every other image is one.
        let path = Path::new(&image.code_file);
        if path.is_absolute() && path.is_file() {
            let facts = elf_facts(path);
            assert_eq!(hex(&facts.build_id), code_id, "{}", image.code_file);
            assert_eq!(image.image_vmaddr, Some(facts.stated_start), "{image:?}");
            assert_eq!(image.image_size, facts.stated_end - facts.stated_start);
            files += 1;
        } else {
            assert!(image.code_file.starts_with("linux-vdso"), "{image:?}");
        }
    }
    assert!(files >= 2, "{images:?}");
}

#[test]
fn images_do_not_overlap() {
    let images = debug_images();
    let mut ranges: Vec<(u64, u64)> = elf_images(&images)
        .iter()
        .map(|image| (image.image_addr, image.image_addr + image.image_size))
        .collect();
    ranges.sort_unstable();
    for pair in ranges.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "{pair:x?}");
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_c_library_is_listed() {
    let images = debug_images();
    let libc = elf_images(&images)
        .into_iter()
        .find(|image| {
            Path::new(&image.code_file)
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("libc.so"))
        })
        .unwrap_or_else(|| panic!("no libc in {images:?}"));
    let facts = elf_facts(Path::new(&libc.code_file));
    assert_eq!(libc.code_id, Some(hex(&facts.build_id)));
}

#[test]
fn every_frame_of_a_stack_trace_lies_in_an_image() {
    let stacktrace = vigil_backtrace::current_stacktrace(&ClientOptions::default()).unwrap();
    let images = debug_images();
    let elf = elf_images(&images);
    let exe = std::env::current_exe().unwrap();
    let mut ours = 0;
    for frame in &stacktrace.frames {
        let addr = frame.instruction_addr.as_deref().expect("an address");
        let addr = u64::from_str_radix(addr.strip_prefix("0x").unwrap(), 16).unwrap();
        let image = image_holding(&elf, addr).unwrap_or_else(|| panic!("{frame:?}"));
        if frame
            .function
            .as_deref()
            .is_some_and(|f| f.contains("every_frame_of_a_stack_trace_lies_in_an_image"))
        {
            assert_eq!(Path::new(&image.code_file), exe, "{frame:?}");
            ours += 1;
        }
    }
    assert!(ours >= 1, "{stacktrace:?}");
}

#[test]
fn the_list_is_the_same_from_call_to_call_when_nothing_is_loaded() {
    assert_eq!(debug_images(), debug_images());
}
