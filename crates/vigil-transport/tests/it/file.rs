//! The file sink.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use vigil_core::protocol::{Attachment, DataCategory, DiscardReason, Envelope, Event};
use vigil_core::{Client, ClientOptions};

const FLUSH: Duration = Duration::from_secs(5);

/// A fresh, not yet existing directory under the system temp dir, removed
/// when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "vigil-transport-it-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn file_client(dir: &std::path::Path) -> Client {
    Client::new(
        ClientOptions::new()
            .try_dsn("https://public@example.invalid/1")
            .unwrap()
            .transport(vigil_transport::file_sink(dir)),
    )
}

#[test]
fn writes_one_file_per_envelope() {
    let tmp = TempDir::new();
    let dir = tmp.0.join("nested").join("sink");
    let client = file_client(&dir);
    let before = SystemTime::now();
    let id = client.capture_event(
        Event {
            message: Some("to disk".into()),
            ..Default::default()
        },
        None,
    );
    let mut no_event = Envelope::new();
    no_event.add_item(Attachment::new("notes.txt", b"hi".to_vec()));
    client.send_envelope(no_event);
    assert!(client.flush(Some(FLUSH)));

    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    for (i, name) in names.iter().enumerate() {
        let stem = name.strip_suffix(".envelope").expect("ends in .envelope");
        let mut parts = stem.splitn(3, '-');
        let millis: u128 = parts.next().unwrap().parse().expect("unix millis");
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        assert!(millis <= now && now - millis < 60_000);
        assert_eq!(parts.next().unwrap(), format!("{i:06}"));
        let last = parts.next().unwrap();
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let envelope = Envelope::from_slice(&bytes).unwrap();
        let sent_at = envelope.headers().sent_at.expect("sent_at is set");
        assert!(sent_at >= before - Duration::from_secs(1));
        if i == 0 {
            assert_eq!(last, id.to_string());
            assert_eq!(
                envelope.event().unwrap().message.as_deref(),
                Some("to disk")
            );
        } else {
            assert_eq!(last, "envelope");
            assert_eq!(envelope.items().len(), 1);
        }
    }
    assert!(client.close(Some(FLUSH)));
    assert!(client.loss_recorder().totals().is_empty());
}

#[test]
fn io_error_counts_internal_sdk_error() {
    let tmp = TempDir::new();
    std::fs::create_dir_all(&tmp.0).unwrap();
    // A regular file where the directory should be.
    let blocker = tmp.0.join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let client = file_client(&blocker.join("sink"));
    client.capture_event(Event::default(), None);
    assert!(client.flush(Some(FLUSH)));
    assert_eq!(
        client
            .loss_recorder()
            .total(DiscardReason::InternalSdkError, DataCategory::Error),
        1
    );
    assert!(client.close(Some(FLUSH)));
}

/// A legacy DSN's secret key reaches neither the sink's files nor the
/// disk queue's: both hold the DSN without it.
#[test]
fn the_dsn_secret_is_never_written_to_disk() {
    let tmp = TempDir::new();
    let sink = tmp.0.join("sink");
    let client = Client::new(
        ClientOptions::new()
            .try_dsn("https://public:s3cr3t@example.invalid/1")
            .unwrap()
            .transport(vigil_transport::file_sink(&sink)),
    );
    client.capture_event(Event::default(), None);
    assert!(client.close(Some(FLUSH)));

    let queue = tmp.0.join("queue");
    let server = vigil_test::LoopbackServer::start();
    server.stop();
    // The loopback server's DSN is a legacy one, `public:secret@`.
    let client = Client::new(
        ClientOptions::new()
            .try_dsn(server.dsn().as_str())
            .unwrap()
            .transport(vigil_transport::HttpTransport::factory_with(
                crate::fast_options().disk_queue(&queue),
            )),
    );
    client.capture_event(Event::default(), None);
    client.close(Some(FLUSH));

    let mut files = 0;
    for dir in [&sink, &queue] {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.path().is_file() {
                files += 1;
                let text = std::fs::read_to_string(entry.path()).unwrap();
                assert!(text.contains("public@"), "{text}");
                assert!(
                    !text.contains("s3cr3t") && !text.contains(":secret@"),
                    "{text}"
                );
            }
        }
    }
    assert!(files >= 2, "one file in each directory");
}
