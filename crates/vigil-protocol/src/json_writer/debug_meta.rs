//! The JSON of an event's `debug_meta`, byte for byte as the derived
//! `Serialize` impls write it: native images by hand (the addresses and the
//! debug id copied in without an escape scan), other images as the JSON
//! objects they are.
//!
//! Keep these writers in step with the `#[serde(...)]` attributes of
//! `DebugMeta`, `DebugImage` and `NativeDebugImage`; the property test in
//! `json_writer::tests::event` compares them with `serde_json`.

use super::object::{write_list, write_map, write_opt_string};
use super::sink::JsonSink;
use crate::debug_meta::{DebugImage, DebugMeta, NativeDebugImage, hex_addr};

/// Writes `debug_meta` as its derived `Serialize` impl does.
pub(super) fn write_debug_meta<S: JsonSink>(debug_meta: &DebugMeta, out: &mut S) {
    out.raw(br#"{"images":"#);
    write_list(out, &debug_meta.images, |out, image| {
        write_debug_image(image, out);
    });
    out.raw(b"}");
}

/// Writes `image` as the derived `Serialize` impl of the internally tagged
/// enum does: the `type` tag first, then the fields of a native image; an
/// untagged `Other` image as its map.
fn write_debug_image<S: JsonSink>(image: &DebugImage, out: &mut S) {
    match image {
        DebugImage::Elf(native) => write_native_image(br#"{"type":"elf","#, native, out),
        DebugImage::MachO(native) => write_native_image(br#"{"type":"macho","#, native, out),
        DebugImage::Other(fields) => write_map(out, fields, |out, value| out.value(value)),
    }
}

/// Writes `image` after `start` (the opening brace and the `type` tag).
fn write_native_image<S: JsonSink>(start: &[u8], image: &NativeDebugImage, out: &mut S) {
    out.raw(start);
    out.raw(br#""code_file":"#);
    out.string(&image.code_file);
    write_opt_string(out, br#","code_id":"#, &image.code_id);
    out.raw(br#","debug_id":"#);
    out.verbatim_string(|| {
        let mut text = [0; 36];
        image.debug_id.hyphenated().encode_lower(&mut text);
        text
    });
    write_opt_string(out, br#","debug_file":"#, &image.debug_file);
    write_opt_string(out, br#","arch":"#, &image.arch);
    out.raw(br#","image_addr":"#);
    write_addr(image.image_addr, out);
    out.raw(br#","image_size":"#);
    out.serialized(&image.image_size);
    if let Some(vmaddr) = image.image_vmaddr {
        out.raw(br#","image_vmaddr":"#);
        write_addr(vmaddr, out);
    }
    out.raw(b"}");
}

/// Writes `addr` as a `0x…` hex string (no escape needed).
fn write_addr<S: JsonSink>(addr: u64, out: &mut S) {
    let (digits, len) = hex_addr(addr);
    out.raw(b"\"");
    out.raw(&digits[..len]);
    out.raw(b"\"");
}
