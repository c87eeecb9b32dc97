//! The debug meta interface (`debug_meta`): the images (executables and
//! shared libraries) loaded into the process, so that the server can
//! symbolicate the instruction addresses of native stack frames with debug
//! files it was given separately (a stripped release binary, split debug
//! info).

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use uuid::Uuid;

use crate::Map;

/// An event's `debug_meta`: the images loaded into the process.
///
/// Left out of the event's JSON when it has no images. Build it with a
/// struct literal ending in `..Default::default()`.
///
/// ```
/// use vigil_protocol::{DebugImage, DebugMeta, Event, NativeDebugImage};
/// let image = NativeDebugImage {
///     code_file: "/usr/lib/libfoo.so".into(),
///     image_addr: 0x7f00_0000_0000,
///     image_size: 0x2000,
///     ..Default::default()
/// };
/// let event = Event {
///     debug_meta: DebugMeta {
///         images: vec![DebugImage::Elf(image)],
///         ..Default::default()
///     },
///     ..Default::default()
/// };
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["debug_meta"]["images"][0]["type"], "elf");
/// assert_eq!(json["debug_meta"]["images"][0]["image_addr"], "0x7f0000000000");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DebugMeta {
    /// The loaded images, in no particular order.
    #[serde(default)]
    pub images: Vec<DebugImage>,
}

impl DebugMeta {
    /// Whether there is nothing to send (no images).
    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }
}

/// One image of [`DebugMeta::images`], tagged by its `type`.
///
/// Native images share one structure, [`NativeDebugImage`]; the variant
/// gives the object format. Images of other kinds read from JSON (another
/// SDK's `sourcemap`, `pe` or `proguard` images, or a native image that
/// lacks a required field) are kept as they are in [`Other`](Self::Other).
///
/// New kinds may be added: give a `match` a wildcard arm.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
#[non_exhaustive]
pub enum DebugImage {
    /// An ELF image (Linux, Android, the BSDs): `"type": "elf"`.
    #[serde(rename = "elf")]
    Elf(NativeDebugImage),
    /// A Mach-O image (macOS, iOS): `"type": "macho"`.
    #[serde(rename = "macho")]
    MachO(NativeDebugImage),
    /// Any other image, as a JSON object with its own `type` key; written
    /// back as it is.
    #[serde(untagged)]
    Other(Map<String, Value>),
}

/// A native image (`elf`, `macho`): a code file loaded at an address.
///
/// `code_file`, `debug_id`, `image_addr` and `image_size` are always
/// written (Relay requires the first two); the others only when set.
/// Build it with a struct literal ending in `..Default::default()`.
///
/// For ELF, the code id is the GNU build id in lowercase hex, and the debug
/// id its first 16 bytes read as a little-endian GUID (a build id shorter
/// than 16 bytes is padded with zeros): `Uuid::from_bytes_le`.
///
/// ```
/// use vigil_protocol::{NativeDebugImage, Uuid};
/// let build_id: [u8; 20] = [
///     0x68, 0x22, 0x0a, 0xe2, 0xc6, 0x5d, 0x65, 0xc1, 0xb6, 0xaa,
///     0xa1, 0x2f, 0xa6, 0x76, 0x5a, 0x6e, 0xc2, 0xf5, 0xf4, 0x34,
/// ];
/// let mut guid = [0; 16];
/// guid.copy_from_slice(&build_id[..16]);
/// let image = NativeDebugImage {
///     code_file: "/lib/x86_64-linux-gnu/libgcc_s.so.1".into(),
///     code_id: Some("68220ae2c65d65c1b6aaa12fa6765a6ec2f5f434".into()),
///     debug_id: Uuid::from_bytes_le(guid),
///     arch: Some("x86_64".into()),
///     image_addr: 0x7f51_4052_7000,
///     image_size: 90112,
///     image_vmaddr: Some(0),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_string(&image).unwrap(),
///     concat!(
///         r#"{"code_file":"/lib/x86_64-linux-gnu/libgcc_s.so.1","#,
///         r#""code_id":"68220ae2c65d65c1b6aaa12fa6765a6ec2f5f434","#,
///         r#""debug_id":"e20a2268-5dc6-c165-b6aa-a12fa6765a6e","arch":"x86_64","#,
///         r#""image_addr":"0x7f5140527000","image_size":90112,"image_vmaddr":"0x0"}"#,
///     )
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NativeDebugImage {
    /// The path of the executable or library as it was loaded.
    pub code_file: String,
    /// The identifier of the code file (for ELF, the GNU build id in
    /// lowercase hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_id: Option<String>,
    /// The identifier of the debug file that belongs to the code file,
    /// written as a dashed lowercase UUID.
    pub debug_id: Uuid,
    /// The name or path of the debug companion file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub debug_file: Option<String>,
    /// The CPU architecture, e.g. `x86_64` or `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// Where the image starts in the process's memory, written as `0x…`
    /// hex (read from a hex string or a number).
    #[serde(with = "addr")]
    pub image_addr: u64,
    /// How many bytes of memory the image spans from `image_addr`.
    pub image_size: u64,
    /// The address the image asks to be loaded at (the lowest address of
    /// its loaded segments as stated in the file; 0 for position-independent
    /// code), written as `0x…` hex.
    #[serde(default, with = "opt_addr", skip_serializing_if = "Option::is_none")]
    pub image_vmaddr: Option<u64>,
}

/// The hex digits of an address, as written: `0x` and lowercase digits
/// without leading zeros (`0x0` for zero).
pub(crate) fn hex_addr(value: u64) -> ([u8; 18], usize) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0; 18];
    out[0] = b'0';
    out[1] = b'x';
    let digits = (64 - value.leading_zeros()).div_ceil(4).max(1) as usize;
    for (i, slot) in out[2..2 + digits].iter_mut().enumerate() {
        let shift = 4 * (digits - 1 - i);
        *slot = DIGITS[((value >> shift) & 0xf) as usize];
    }
    (out, 2 + digits)
}

/// Reads an address: a `0x…` hex string, a decimal string or a number.
struct AddrVisitor;

impl Visitor<'_> for AddrVisitor {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an address as a 0x-prefixed hex string or a number")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
        Ok(value)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
        u64::try_from(value).map_err(|_| E::custom("negative address"))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<u64, E> {
        let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => text.parse(),
        };
        parsed.map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// `serde(with)` for an address written as a `0x…` hex string.
mod addr {
    use super::{AddrVisitor, hex_addr};
    use serde::{Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        let (digits, len) = hex_addr(*value);
        // Only ASCII was written.
        s.serialize_str(std::str::from_utf8(&digits[..len]).unwrap_or_default())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        d.deserialize_any(AddrVisitor)
    }
}

/// `serde(with)` for an optional address.
mod opt_addr {
    use super::{Deserialize, Deserializer, Serializer};

    /// Only called for `Some` (the field is skipped when `None`).
    pub(super) fn serialize<S: Serializer>(value: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(value) => super::addr::serialize(value, s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        /// An address or `null`.
        #[derive(serde::Deserialize)]
        #[serde(transparent)]
        struct Addr(#[serde(with = "super::addr")] u64);
        Ok(Option::<Addr>::deserialize(d)?.map(|Addr(value)| value))
    }
}
