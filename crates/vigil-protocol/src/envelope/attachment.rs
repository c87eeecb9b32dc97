//! [`Attachment`]: a file sent along with an event.

use std::fmt;

/// A file attached to an event.
///
/// Built with [`Attachment::new`] or a struct literal:
/// `Attachment { buffer, filename: "dump.bin".into(), ..Default::default() }`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attachment {
    /// The file name (no path component).
    pub filename: String,
    /// MIME type; `application/octet-stream` when absent.
    pub content_type: Option<String>,
    /// Sentry attachment type; `event.attachment` when absent.
    pub attachment_type: Option<String>,
    /// The content.
    pub buffer: Vec<u8>,
}

impl Attachment {
    /// An attachment with a file name and content.
    pub fn new(filename: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Attachment {
        Attachment {
            filename: filename.into(),
            content_type: None,
            attachment_type: None,
            buffer: bytes.into(),
        }
    }

    /// Sets the MIME type.
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Attachment {
        self.content_type = Some(content_type.into());
        self
    }
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("filename", &self.filename)
            .field("content_type", &self.content_type)
            .field("attachment_type", &self.attachment_type)
            .field("len", &self.buffer.len())
            .finish()
    }
}
