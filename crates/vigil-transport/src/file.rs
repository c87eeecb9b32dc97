//! The file sink: envelopes written to a directory, one file each.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use vigil_core::protocol::{DiscardReason, Envelope};
use vigil_core::{LossRecorder, Transport, TransportContext, TransportFactory};

use crate::loss::record_items;
use crate::worker::Worker;
use crate::worker::control::Control;
use crate::worker::handler::Handler;

/// Writes every envelope to a directory instead of sending it: for demos,
/// offline debugging and feeding envelopes to external validators.
///
/// Each envelope, with its `sent_at` header set, becomes one file
/// `<dir>/<unix-millis>-<seq>-<event id or "envelope">.envelope` (`seq`
/// counts from 0 per transport, zero-padded to six digits, so names sort
/// in write order). A file is written under a temporary name
/// (`.<name>.tmp`) and renamed, so a reader never sees half an envelope.
/// The directory is created when missing.
///
/// Writing happens on the same kind of background thread as the
/// [`HttpTransport`](crate::HttpTransport), with the same queue, flush and
/// shutdown behaviour. Client reports are not written. An I/O error drops
/// the envelope and counts each item as `internal_sdk_error`.
///
/// ```
/// use vigil_core::ClientOptions;
/// let dir = std::env::temp_dir().join("vigil-doc-file-sink");
/// let options = ClientOptions::new()
///     .try_dsn("https://public@example.invalid/1")?
///     .transport(vigil_transport::file_sink(&dir));
/// # let _ = options;
/// # Ok::<(), vigil_core::protocol::DsnError>(())
/// ```
pub struct FileTransport {
    worker: Worker<Envelope>,
    dir: PathBuf,
}

impl fmt::Debug for FileTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileTransport")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl FileTransport {
    /// Creates a transport writing into `dir` and starts its thread. The
    /// directory is created on the first write, so a bad path shows up as
    /// `internal_sdk_error` counts (and a diagnostic when `debug` is on),
    /// not as an error here.
    pub fn new(dir: impl Into<PathBuf>, ctx: &TransportContext<'_>) -> Arc<FileTransport> {
        let dir = dir.into();
        let writer = FileWriter {
            dir: dir.clone(),
            seq: 0,
            recorder: ctx.recorder.clone(),
        };
        vigil_core::vigil_debug!("file sink writing to {}", dir.display());
        Arc::new(FileTransport {
            worker: Worker::spawn(
                ctx.options.transport_queue_size,
                ctx.recorder.clone(),
                writer,
            ),
            dir,
        })
    }

    /// The directory envelopes are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Transport for FileTransport {
    fn send_envelope(&self, envelope: Envelope) {
        self.worker.send(envelope);
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.worker.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.worker.shutdown(timeout)
    }
}

/// A factory for [`ClientOptions::transport`](vigil_core::ClientOptions::transport)
/// building a [`FileTransport`] that writes into `dir`.
///
/// The client still needs a DSN (it is written into the envelope headers;
/// nothing is sent to it).
pub fn file_sink(dir: impl Into<PathBuf>) -> impl TransportFactory {
    let dir = dir.into();
    move |ctx: &TransportContext<'_>| -> Arc<dyn Transport> { FileTransport::new(dir.clone(), ctx) }
}

/// The worker side of the file sink.
struct FileWriter {
    dir: PathBuf,
    seq: u64,
    recorder: LossRecorder,
}

impl FileWriter {
    fn write(&mut self, envelope: &Envelope) -> io::Result<PathBuf> {
        fs::create_dir_all(&self.dir)?;
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let id = envelope
            .headers()
            .event_id
            .map_or_else(|| "envelope".to_owned(), |id| id.to_string());
        let name = format!("{millis}-{:06}-{id}.envelope", self.seq);
        self.seq = self.seq.wrapping_add(1);
        let path = self.dir.join(&name);
        let temp = self.dir.join(format!(".{name}.tmp"));
        let result = envelope
            .to_vec()
            .and_then(|bytes| fs::write(&temp, bytes))
            .and_then(|()| fs::rename(&temp, &path));
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map(|()| path)
    }
}

impl Handler for FileWriter {
    type Job = Envelope;

    fn handle(&mut self, mut envelope: Envelope, _control: &Control) {
        envelope.headers_mut().sent_at = Some(SystemTime::now());
        match self.write(&envelope) {
            Ok(path) => vigil_core::vigil_debug!("envelope written to {}", path.display()),
            Err(e) => {
                vigil_core::vigil_debug!(
                    "could not write an envelope into {}: {e}",
                    self.dir.display()
                );
                record_items(&self.recorder, &envelope, DiscardReason::InternalSdkError);
            }
        }
    }
}
