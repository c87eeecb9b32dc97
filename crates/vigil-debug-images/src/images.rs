//! The images loaded into the process, read through `findshlibs`.

use std::fmt::Write as _;

use findshlibs::{Segment, SharedLibrary, SharedLibraryId, TargetSharedLibrary};
use vigil_core::protocol::{DebugImage, NativeDebugImage, Uuid};

/// The executables and libraries loaded into the process right now, as
/// debug images.
///
/// Each ELF image that carries a GNU build id (the linker's
/// `--build-id`, on by default on the common Linux distributions) becomes a
/// [`DebugImage::Elf`]:
///
/// - `code_file`: its path (the executable's is
///   [`std::env::current_exe`]; the kernel's vDSO is `linux-vdso.so.1`);
/// - `code_id`: the build id in lowercase hex;
/// - `debug_id`: derived from the build id by [`debug_id_from_build_id`];
/// - `image_addr` and `image_size`: the memory its loadable segments span;
/// - `image_vmaddr`: the address its first loadable segment states in the
///   file (0 for position-independent code);
/// - `arch`: the process's architecture by Sentry's names (`x86_64`,
///   `x86`, `arm64`, `arm`, ...).
///
/// Images without a build id are left out: Sentry could not match them
/// with a debug file. On platforms other than Linux and the other ELF
/// systems `findshlibs` reads, the list is empty for now.
///
/// Each call walks the loaded images again (libraries opened with `dlopen`
/// since are included); [`DebugImagesIntegration`](crate::DebugImagesIntegration)
/// keeps the first list it reads.
///
/// ```
/// use vigil_core::protocol::DebugImage;
/// let images = vigil_debug_images::debug_images();
/// # #[cfg(target_os = "linux")]
/// # {
/// // The test binary running this example is one of them.
/// let exe = std::env::current_exe().unwrap();
/// assert!(images.iter().any(|image| match image {
///     DebugImage::Elf(elf) => std::path::Path::new(&elf.code_file) == exe,
///     _ => false,
/// }));
/// # }
/// ```
pub fn debug_images() -> Vec<DebugImage> {
    let mut images = Vec::new();
    TargetSharedLibrary::each(|library| {
        if let Some(image) = elf_image(library) {
            images.push(DebugImage::Elf(image));
        }
    });
    images
}

/// The debug id Sentry derives from an ELF build id: its first 16 bytes
/// (padded with zeros when shorter) read as a GUID, whose first three
/// fields are little-endian.
///
/// ```
/// use vigil_debug_images::debug_id_from_build_id;
/// let build_id = [
///     0x68, 0x22, 0x0a, 0xe2, 0xc6, 0x5d, 0x65, 0xc1, 0xb6, 0xaa,
///     0xa1, 0x2f, 0xa6, 0x76, 0x5a, 0x6e, 0xc2, 0xf5, 0xf4, 0x34,
/// ];
/// assert_eq!(
///     debug_id_from_build_id(&build_id).to_string(),
///     "e20a2268-5dc6-c165-b6aa-a12fa6765a6e"
/// );
/// assert_eq!(
///     debug_id_from_build_id(&[0x01, 0x02, 0x03, 0x04, 0x05]).to_string(),
///     "04030201-0005-0000-0000-000000000000"
/// );
/// ```
pub fn debug_id_from_build_id(build_id: &[u8]) -> Uuid {
    let mut guid = [0; 16];
    let len = build_id.len().min(guid.len());
    guid[..len].copy_from_slice(&build_id[..len]);
    Uuid::from_bytes_le(guid)
}

/// The debug image of `library`, when it has a GNU build id and loadable
/// segments.
fn elf_image(library: &TargetSharedLibrary<'_>) -> Option<NativeDebugImage> {
    let build_id = match library.id()? {
        SharedLibraryId::GnuBuildId(build_id) if !build_id.is_empty() => build_id,
        _ => return None,
    };
    let (start, end) = stated_extent(library)?;
    // The bias is what the loader added to every stated address; it wraps
    // like the address arithmetic of the loader itself.
    let bias = library.virtual_memory_bias().0 as u64;
    Some(NativeDebugImage {
        code_file: library.name().to_string_lossy().into_owned(),
        code_id: Some(lower_hex(&build_id)),
        debug_id: debug_id_from_build_id(&build_id),
        arch: sentry_arch(std::env::consts::ARCH).map(str::to_owned),
        image_addr: start.wrapping_add(bias),
        image_size: end - start,
        image_vmaddr: Some(start),
        ..Default::default()
    })
}

/// The lowest stated address of `library`'s loadable segments and the end
/// of the highest one; `None` without loadable segments.
fn stated_extent(library: &TargetSharedLibrary<'_>) -> Option<(u64, u64)> {
    library
        .segments()
        .filter(|segment| segment.is_load())
        .map(|segment| {
            let start = segment.stated_virtual_memory_address().0 as u64;
            (start, start.saturating_add(segment.len() as u64))
        })
        .reduce(|(start, end), (segment_start, segment_end)| {
            (start.min(segment_start), end.max(segment_end))
        })
}

/// `bytes` as lowercase hex digits.
fn lower_hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        // Writing to a `String` cannot fail.
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// Sentry's name of the architecture Rust calls `arch`
/// ([`std::env::consts::ARCH`]): the same but for `arm64` and the
/// PowerPC names; `None` for an empty name.
fn sentry_arch(arch: &str) -> Option<&str> {
    match arch {
        "" => None,
        "aarch64" => Some("arm64"),
        "powerpc" => Some("ppc"),
        "powerpc64" => Some("ppc64"),
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::{lower_hex, sentry_arch};

    #[test]
    fn build_ids_are_written_in_lowercase_hex() {
        assert_eq!(lower_hex(&[]), "");
        assert_eq!(lower_hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }

    #[test]
    fn architectures_get_sentrys_names() {
        assert_eq!(sentry_arch("x86_64"), Some("x86_64"));
        assert_eq!(sentry_arch("x86"), Some("x86"));
        assert_eq!(sentry_arch("aarch64"), Some("arm64"));
        assert_eq!(sentry_arch("arm"), Some("arm"));
        assert_eq!(sentry_arch("powerpc64"), Some("ppc64"));
        assert_eq!(sentry_arch("riscv64"), Some("riscv64"));
        assert_eq!(sentry_arch(""), None);
    }
}
