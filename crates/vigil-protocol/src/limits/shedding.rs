//! Making a serialized event fit [`MAX_EVENT_SIZE`](super::MAX_EVENT_SIZE)
//! by shedding its optional parts, heaviest first.

use crate::debug_meta::DebugImage;
use crate::event::Event;
use crate::exception::Frame;

/// Stack traces longer than this lose frame details in [`shed_heavy_parts`].
const DETAILED_FRAMES: usize = 50;
/// Breadcrumbs kept by the first breadcrumb step of [`shed_heavy_parts`].
const SHED_KEEP_BREADCRUMBS: usize = 10;
/// Contexts [`shed_heavy_parts`] never removes.
const CORE_CONTEXTS: [&str; 5] = ["os", "runtime", "device", "app", "trace"];

/// Removes the next heaviest optional part of `event`; returns `false` when
/// nothing is left to remove.
///
/// The client calls this repeatedly while the serialized event is larger
/// than [`MAX_EVENT_SIZE`](super::MAX_EVENT_SIZE). Each call performs the
/// first of these steps that changes something:
///
/// 1. remove the `data` of every breadcrumb;
/// 2. remove the request body (`request.data`);
/// 3. remove `extra`;
/// 4. remove the native images of `debug_meta` that no frame's
///    `instruction_addr` falls into (the server needs only the others to
///    symbolicate the stack traces);
/// 5. in every stack trace longer than 50 frames, strip the details of all
///    but the newest 50 frames: `raw_function` (when `function` is set),
///    `abs_path` (when `filename` is set), `module`, `colno`,
///    `symbol_addr` and `instruction_addr` (when `function` or `filename`
///    is set);
/// 6. keep only the newest 10 breadcrumbs;
/// 7. remove all breadcrumbs;
/// 8. remove every context other than `os`, `runtime`, `device`, `app` and
///    `trace`.
///
/// ```
/// use vigil_protocol::{Event, Value, limits};
/// let mut event = Event::new();
/// event.extra.insert("blob".into(), Value::from("x".repeat(100)));
/// assert!(limits::shed_heavy_parts(&mut event));
/// assert!(event.extra.is_empty());
/// assert!(!limits::shed_heavy_parts(&mut event));
/// ```
pub fn shed_heavy_parts(event: &mut Event) -> bool {
    shed_breadcrumb_data(event)
        || event
            .request
            .as_mut()
            .is_some_and(|r| r.data.take().is_some())
        || shed_extra(event)
        || shed_unused_images(event)
        || shed_frame_details(event)
        || shed_breadcrumbs(event, SHED_KEEP_BREADCRUMBS)
        || shed_breadcrumbs(event, 0)
        || shed_contexts(event)
}

fn shed_breadcrumb_data(event: &mut Event) -> bool {
    event
        .breadcrumbs
        .change_where(|crumb| !crumb.data.is_empty(), |crumb| crumb.data.clear())
}

fn shed_extra(event: &mut Event) -> bool {
    let changed = !event.extra.is_empty();
    event.extra.clear();
    changed
}

/// Removes the native images no frame address falls into; other images
/// (whose extent is unknown) stay.
fn shed_unused_images(event: &mut Event) -> bool {
    if event.debug_meta.images.is_empty() {
        return false;
    }
    let exceptions = event.exception.values.iter().map(|e| &e.stacktrace);
    let threads = event.threads.values.iter().map(|t| &t.stacktrace);
    let addresses: Vec<u64> = exceptions
        .chain(threads)
        .flatten()
        .flat_map(|stacktrace| &stacktrace.frames)
        .filter_map(|frame| parse_addr(frame.instruction_addr.as_deref()?))
        .collect();
    let before = event.debug_meta.images.len();
    event.debug_meta.images.retain(|image| match image {
        DebugImage::Elf(native) | DebugImage::MachO(native) => addresses
            .iter()
            .any(|&addr| contains(native.image_addr, native.image_size, addr)),
        DebugImage::Other(_) => true,
    });
    event.debug_meta.images.len() != before
}

/// Whether `addr` lies in the `size` bytes from `start`.
fn contains(start: u64, size: u64, addr: u64) -> bool {
    addr.checked_sub(start).is_some_and(|offset| offset < size)
}

/// A frame address: `0x…` hex (as written) or decimal.
fn parse_addr(text: &str) -> Option<u64> {
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

fn shed_frame_details(event: &mut Event) -> bool {
    let exceptions = event.exception.values.iter_mut().map(|e| &mut e.stacktrace);
    let threads = event.threads.values.iter_mut().map(|t| &mut t.stacktrace);
    let mut changed = false;
    for stacktrace in exceptions.chain(threads).flatten() {
        let frames = &mut stacktrace.frames;
        let older = frames.len().saturating_sub(DETAILED_FRAMES);
        for frame in &mut frames[..older] {
            changed |= strip_frame(frame);
        }
    }
    changed
}

/// Keeps one name and one location of a frame. Returns whether anything
/// was removed.
fn strip_frame(frame: &mut Frame) -> bool {
    let mut changed = false;
    if frame.function.is_some() {
        changed |= frame.raw_function.take().is_some();
    }
    if frame.filename.is_some() {
        changed |= frame.abs_path.take().is_some();
    }
    if frame.function.is_some() || frame.filename.is_some() {
        changed |= frame.instruction_addr.take().is_some();
    }
    changed |= frame.module.take().is_some();
    changed |= frame.colno.take().is_some();
    changed |= frame.symbol_addr.take().is_some();
    changed
}

fn shed_breadcrumbs(event: &mut Event, keep: usize) -> bool {
    if event.breadcrumbs.len() <= keep {
        return false;
    }
    event.breadcrumbs.keep_newest(keep);
    true
}

fn shed_contexts(event: &mut Event) -> bool {
    let before = event.contexts.len();
    event
        .contexts
        .retain(|name, _| CORE_CONTEXTS.contains(&name.as_str()));
    event.contexts.len() != before
}
