//! Debug images for Vigil: the executables and libraries loaded into the
//! process, sent with an event so that the server can symbolicate its
//! native stack frames.
//!
//! A release binary is often shipped stripped, or with its debug info split
//! into a separate file (`split-debuginfo`, `objcopy --only-keep-debug`).
//! Its frames then have addresses but no names. Sentry symbolicates them
//! once it has the debug files (uploaded with `sentry-cli debug-files
//! upload`) and knows which file each address belongs to: the event's
//! `debug_meta.images` tells it where each image was loaded and which
//! build it was, by the GNU build id the linker wrote into the binary and
//! into its debug file alike.
//!
//! - [`DebugImagesIntegration`] adds the images to every event that carries
//!   a stack trace (in an exception or a thread), reading them once.
//! - [`debug_images`] reads the images now; [`debug_id_from_build_id`] is
//!   how a build id becomes the debug id Sentry looks files up by.
//!
//! Images are read with `findshlibs` (`dl_iterate_phdr` on Linux). ELF
//! images with a build id are supported; on other platforms the list is
//! empty for now.
//!
//! ```
//! use vigil_core::ClientOptions;
//! use vigil_core::protocol::DebugImage;
//! use vigil_debug_images::DebugImagesIntegration;
//!
//! let options = ClientOptions::default().integration(DebugImagesIntegration::new());
//! let events = vigil_core::test::with_captured_events_options(
//!     || {
//!         let error = std::io::Error::other("disk on fire");
//!         let mut event = vigil_core::event_from_error(&error);
//!         event.exception.values[0].stacktrace =
//!             vigil_backtrace::current_stacktrace(&ClientOptions::default());
//!         vigil_core::capture_event(event);
//!     },
//!     options,
//! );
//! # #[cfg(target_os = "linux")]
//! # {
//! let DebugImage::Elf(exe) = &events[0].debug_meta.images[0] else {
//!     panic!("not an ELF image");
//! };
//! // The executable comes first, with its build id.
//! assert_eq!(std::path::Path::new(&exe.code_file), std::env::current_exe().unwrap());
//! assert!(exe.code_id.is_some());
//! # }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod images;
mod integration;

pub use crate::images::{debug_id_from_build_id, debug_images};
pub use crate::integration::DebugImagesIntegration;
