//! The disk queue's directory is not trusted: created private, refused
//! when others can write it or it is someone else's, and links planted in
//! it are never followed (Unix).

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;
use std::time::Duration;

use vigil_core::ClientOptions;
use vigil_core::Transport;
use vigil_core::protocol::{DataCategory, DiscardReason};
use vigil_test::LoopbackServer;

use crate::disk_queue::disk_options;
use crate::{event_envelope, http_client};

const FLUSH: Duration = Duration::from_secs(5);
const DELIVERY: Duration = Duration::from_secs(20);

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().mode() & 0o777
}

/// A name in the spool's own scheme.
fn spool_name(n: u32) -> String {
    format!("{n:016}-0000000f-0000000000-e.envelope")
}

/// Sends one event through a transport on `dir` to a live server; returns
/// whether it arrived, and the files then in `dir`.
fn send_one(dir: &Path) -> (bool, usize) {
    let server = LoopbackServer::start();
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), disk_options(dir));
    transport.send_envelope(event_envelope("trust"));
    let arrived = server.wait_for(DELIVERY, |r| r.iter().any(|r| r.is_accepted()));
    assert!(client.close(Some(FLUSH)));
    let files = std::fs::read_dir(dir).map_or(0, |l| l.count());
    (arrived, files)
}

#[test]
fn the_directory_and_files_are_private() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("queue");
    let server = LoopbackServer::start();
    server.stop();
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), disk_options(&dir));
    transport.send_envelope(event_envelope("kept"));
    assert!(transport.flush(FLUSH));
    client.close(Some(Duration::from_millis(200)));
    assert_eq!(mode(&dir), 0o700);
    let files: Vec<_> = std::fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0].path()), 0o600);
}

#[test]
fn a_directory_others_can_write_is_not_used() {
    for writable in [0o777, 0o770, 0o1777] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        // Planted: sent, were the directory trusted.
        std::fs::write(
            dir.join(spool_name(1)),
            event_envelope("planted").to_vec().unwrap(),
        )
        .unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(writable)).unwrap();
        let (arrived, files) = send_one(dir);
        assert!(arrived, "sent as without a disk queue");
        assert_eq!(
            files, 1,
            "nothing stored, the planted file untouched ({writable:o})"
        );
    }
}

#[test]
fn a_directory_of_another_user_is_not_used() {
    if rustix_uid() != 0 {
        eprintln!("skipped: changing a directory's owner needs root");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("theirs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::write(
        dir.join(spool_name(1)),
        event_envelope("planted").to_vec().unwrap(),
    )
    .unwrap();
    std::os::unix::fs::chown(&dir, Some(65_534), Some(65_534)).unwrap();
    let (arrived, files) = send_one(&dir);
    assert!(arrived);
    assert_eq!(files, 1, "nothing stored, the planted file untouched");
}

/// The effective user id, read from a file this process creates.
fn rustix_uid() -> u32 {
    let tmp = tempfile::NamedTempFile::new().unwrap();
    tmp.as_file().metadata().unwrap().uid()
}

/// A link named like a stored file is neither read, nor sent, nor
/// truncated or deleted through; a `corrupt` link does not get files moved
/// into, or deleted from, the directory it points to.
#[test]
fn links_planted_in_the_directory_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("queue");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    let victim = elsewhere.join("victim.envelope");
    let victim_bytes = event_envelope("victim").to_vec().unwrap();
    std::fs::write(&victim, &victim_bytes).unwrap();
    symlink(&victim, dir.join(spool_name(1))).unwrap();
    // 150 files named like the spool's behind a `corrupt` link: the
    // cleanup keeps 100 of what it finds in `corrupt/`.
    for n in 0..150 {
        std::fs::write(elsewhere.join(spool_name(n)), b"theirs").unwrap();
    }
    symlink(&elsewhere, dir.join("corrupt")).unwrap();
    // A file that does not parse, to be moved aside.
    std::fs::write(dir.join(spool_name(500)), b"not an envelope").unwrap();

    let server = LoopbackServer::start();
    let (client, transport) = http_client(&server.dsn(), ClientOptions::new(), disk_options(&dir));
    transport.send_envelope(event_envelope("real"));
    assert!(
        server.wait_for(DELIVERY, |r| r.iter().filter(|r| r.is_accepted()).count()
            >= 1)
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(client.close(Some(FLUSH)));

    let sent: Vec<_> = server
        .requests()
        .iter()
        .flat_map(vigil_test::Request::event_ids)
        .collect();
    assert_eq!(sent.len(), 1, "only the real event: {sent:?}");
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        victim_bytes,
        "not truncated"
    );
    assert!(
        std::fs::symlink_metadata(dir.join(spool_name(1))).is_ok(),
        "the link stays"
    );
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        151,
        "nothing moved in or deleted"
    );
    assert!(
        !dir.join(spool_name(500)).exists(),
        "the corrupt file is removed instead"
    );
    assert_eq!(
        transport
            .stats()
            .dropped_count(DiscardReason::InternalSdkError, DataCategory::Error),
        1
    );
}
