//! The integration that puts the debug images on events.

use std::fmt;
use std::sync::OnceLock;

use vigil_core::protocol::{DebugImage, Event};
use vigil_core::{ClientOptions, Integration};

use crate::images::debug_images;

/// Which events get the images.
type Filter = dyn Fn(&Event) -> bool + Send + Sync;

/// Adds the loaded images ([`debug_images`](crate::debug_images)) to the
/// `debug_meta` of every event that carries a stack trace, so that the
/// server can symbolicate its frames with debug files uploaded separately.
///
/// The images are read once, at the first event that needs them, and kept:
/// a library opened with `dlopen` after that is not listed. An event that
/// already lists native images (`elf` or `macho`) is left alone; its other
/// images stay, ours are added after them.
///
/// By default an event gets the images when one of its exceptions or
/// threads has a stack trace with at least one frame;
/// [`filter`](Self::filter) chooses otherwise.
///
/// Name: `debug-images`.
///
/// ```
/// use vigil_core::ClientOptions;
/// use vigil_core::protocol::{Event, Exception, Frame, Stacktrace, Values};
/// use vigil_debug_images::DebugImagesIntegration;
///
/// let options = ClientOptions::default().integration(DebugImagesIntegration::new());
/// let events = vigil_core::test::with_captured_events_options(
///     || {
///         vigil_core::capture_event(Event {
///             exception: Values::from(vec![Exception {
///                 ty: "Crash".into(),
///                 stacktrace: Some(Stacktrace {
///                     frames: vec![Frame {
///                         instruction_addr: Some("0x1000".into()),
///                         ..Default::default()
///                     }],
///                 }),
///                 ..Default::default()
///             }]),
///             ..Default::default()
///         });
///         // No stack trace: no images.
///         vigil_core::capture_message("hello", vigil_core::protocol::Level::Info);
///     },
///     options,
/// );
/// # #[cfg(target_os = "linux")]
/// assert!(!events[0].debug_meta.images.is_empty());
/// assert!(events[1].debug_meta.images.is_empty());
/// ```
pub struct DebugImagesIntegration {
    filter: Box<Filter>,
    images: OnceLock<Vec<DebugImage>>,
}

impl DebugImagesIntegration {
    /// The integration, adding the images to events with a stack trace.
    pub fn new() -> DebugImagesIntegration {
        DebugImagesIntegration {
            filter: Box::new(has_stacktrace),
            images: OnceLock::new(),
        }
    }

    /// Adds the images to the events for which `filter` returns `true`
    /// instead (events that already list native images are still left
    /// alone).
    ///
    /// ```
    /// use vigil_debug_images::DebugImagesIntegration;
    /// // Only to the events of a crash.
    /// let integration = DebugImagesIntegration::new().filter(|event| {
    ///     event.level == vigil_core::protocol::Level::Fatal
    /// });
    /// # let _ = integration;
    /// ```
    #[must_use]
    pub fn filter<F>(mut self, filter: F) -> DebugImagesIntegration
    where
        F: Fn(&Event) -> bool + Send + Sync + 'static,
    {
        self.filter = Box::new(filter);
        self
    }
}

impl Default for DebugImagesIntegration {
    fn default() -> DebugImagesIntegration {
        DebugImagesIntegration::new()
    }
}

impl fmt::Debug for DebugImagesIntegration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugImagesIntegration")
            .field("images", &self.images.get().map(Vec::len))
            .finish_non_exhaustive()
    }
}

impl Integration for DebugImagesIntegration {
    fn name(&self) -> &'static str {
        "debug-images"
    }

    fn process_event(&self, mut event: Event, _: &ClientOptions) -> Option<Event> {
        if !has_native_images(&event) && (self.filter)(&event) {
            let images = self.images.get_or_init(debug_images);
            event.debug_meta.images.extend(images.iter().cloned());
        }
        Some(event)
    }
}

/// Whether `event` has a stack trace with frames, in an exception or a
/// thread.
fn has_stacktrace(event: &Event) -> bool {
    let exceptions = event.exception.values.iter().map(|e| &e.stacktrace);
    let threads = event.threads.values.iter().map(|t| &t.stacktrace);
    exceptions
        .chain(threads)
        .flatten()
        .any(|stacktrace| !stacktrace.frames.is_empty())
}

/// Whether `event` already lists native images.
fn has_native_images(event: &Event) -> bool {
    event
        .debug_meta
        .images
        .iter()
        .any(|image| matches!(image, DebugImage::Elf(_) | DebugImage::MachO(_)))
}
