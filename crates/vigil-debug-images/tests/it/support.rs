//! What the tests read from the ELF files themselves, with the `object`
//! crate, independently of `findshlibs` and of the crate under test.

use std::path::Path;

use object::{Object, ObjectSection, ObjectSegment};
use vigil_core::protocol::{DebugImage, NativeDebugImage};

/// The GNU build id, the loadable segments' extent as stated in the file
/// (lowest address, end of the highest) and the `.text` section's range, of
/// the ELF file at `path`.
#[derive(Debug)]
pub(crate) struct ElfFacts {
    pub(crate) build_id: Vec<u8>,
    pub(crate) stated_start: u64,
    pub(crate) stated_end: u64,
    pub(crate) text: std::ops::Range<u64>,
}

pub(crate) fn elf_facts(path: &Path) -> ElfFacts {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = object::File::parse(&*data).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let build_id = file
        .build_id()
        .unwrap()
        .unwrap_or_else(|| panic!("{} has no build id", path.display()))
        .to_vec();
    let (stated_start, stated_end) = file
        .segments()
        .map(|segment| (segment.address(), segment.address() + segment.size()))
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
        .expect("loadable segments");
    let text = file
        .section_by_name(".text")
        .map(|text| text.address()..text.address() + text.size())
        .unwrap_or(0..0);
    ElfFacts {
        build_id,
        stated_start,
        stated_end,
        text,
    }
}

/// `bytes` in lowercase hex, written here without the crate's helper.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The debug id of `build_id`, spelled out: the first three GUID fields
/// byte-swapped, the rest as is, zero-padded to 16 bytes.
pub(crate) fn expected_debug_id(build_id: &[u8]) -> String {
    let mut b = [0u8; 16];
    for (slot, byte) in b.iter_mut().zip(build_id) {
        *slot = *byte;
    }
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{}-{}",
        b[3],
        b[2],
        b[1],
        b[0],
        b[5],
        b[4],
        b[7],
        b[6],
        hex(&b[8..10]),
        hex(&b[10..16]),
    )
}

/// The ELF images of `images`.
pub(crate) fn elf_images(images: &[DebugImage]) -> Vec<&NativeDebugImage> {
    images
        .iter()
        .map(|image| match image {
            DebugImage::Elf(elf) => elf,
            other => panic!("not an ELF image: {other:?}"),
        })
        .collect()
}

/// The image whose memory holds `addr`.
pub(crate) fn image_holding<'a>(
    images: &[&'a NativeDebugImage],
    addr: u64,
) -> Option<&'a NativeDebugImage> {
    images.iter().copied().find(|image| {
        addr.checked_sub(image.image_addr)
            .is_some_and(|offset| offset < image.image_size)
    })
}
