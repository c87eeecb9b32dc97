//! The disk queue on a disk that fails: full (`ENOSPC`) and read-only
//! (`EROFS`). Real faults, not simulated ones: the test runs its child in
//! a mount namespace of its own (`unshare -rm`) on a 256 KiB tmpfs that
//! it fills, then remounts read-only.
//!
//! What must hold: envelopes that cannot be stored are sent from memory;
//! when they cannot be sent either, every one is counted; no temporary
//! file is left behind; files sent from a read-only directory (which
//! cannot be removed) are not sent again by the same process.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use vigil_core::ClientOptions;
use vigil_core::protocol::{DataCategory, DiscardReason};
use vigil_test::process::{self, ChildProcess};
use vigil_test::{LoopbackServer, Reply};

use crate::disk_queue::{disk_options, send_events};
use crate::{has_all, http_client};

const FLUSH: Duration = Duration::from_secs(5);
const DELIVERY: Duration = Duration::from_secs(20);
const MOUNT: &str = "VIGIL_FAULT_MOUNT";

/// Every entry in `dir` (temporary files included).
fn entries(dir: &Path) -> Vec<String> {
    fs::read_dir(dir).map_or(Vec::new(), |l| {
        l.flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    })
}

/// Fills the file system of `dir` with one file until it is full;
/// returns the file.
fn fill(dir: &Path) -> std::path::PathBuf {
    let filler = dir.join("filler");
    let mut file = fs::File::create(&filler).unwrap();
    let chunk = [0u8; 4096];
    let error = loop {
        if let Err(e) = file.write_all(&chunk).and_then(|()| file.flush()) {
            break e;
        }
    };
    assert_eq!(error.raw_os_error(), Some(28), "ENOSPC expected: {error}");
    filler
}

/// The child, inside its own mount namespace with a tmpfs at `$MOUNT`.
fn child_on_a_small_tmpfs() {
    let mount = std::path::PathBuf::from(process::env(MOUNT));
    let queue = mount.join("queue");
    let server = LoopbackServer::start();

    // 1. A full disk, the server up: everything is sent from memory.
    fs::create_dir(&queue).unwrap();
    let filler = fill(&mount);
    let (client, transport) =
        http_client(&server.dsn(), ClientOptions::new(), disk_options(&queue));
    let sent = send_events(&transport, 20, "full disk");
    assert!(server.wait_for(DELIVERY, |requests| has_all(requests, &sent)));
    assert!(client.close(Some(FLUSH)));
    assert_eq!(
        entries(&queue),
        Vec::<String>::new(),
        "nothing stored, no temp file left"
    );
    assert_eq!(transport.stats().events_sent, 20);
    process::emit_stat("full_disk.delivered", 20);

    // 2. A full disk and no server: every envelope is counted.
    server.stop();
    let (client, transport) =
        http_client(&server.dsn(), ClientOptions::new(), disk_options(&queue));
    send_events(&transport, 10, "full disk, offline");
    client.close(Some(FLUSH));
    let stats = transport.stats();
    let counted: u64 = [
        DiscardReason::NetworkError,
        DiscardReason::QueueOverflow,
        DiscardReason::SendError,
    ]
    .into_iter()
    .map(|r| stats.dropped_count(r, DataCategory::Error))
    .sum();
    assert_eq!(counted, 10, "every envelope counted: {stats:?}");
    assert_eq!(entries(&queue), Vec::<String>::new());
    process::emit_stat("full_disk_offline.counted", counted);

    // 3. Stored while offline, then the directory turns read-only.
    fs::remove_file(&filler).unwrap();
    let (client, transport) =
        http_client(&server.dsn(), ClientOptions::new(), disk_options(&queue));
    let stored = send_events(&transport, 5, "stored");
    client.close(Some(FLUSH));
    assert_eq!(entries(&queue).len(), 5, "kept on disk while offline");
    let remount = Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(&mount)
        .status()
        .unwrap();
    assert!(remount.success(), "remount read-only");
    assert!(
        fs::File::create(mount.join("probe")).is_err(),
        "read-only now"
    );

    // The stored files are sent from the read-only directory; the first
    // answer is an outage, which keeps the file: the backlog goes offline,
    // and back online it reads the directory again, where the files it
    // sent still are. Then new envelopes, which cannot be stored, are sent
    // from memory.
    server.restart().unwrap();
    let before = server.request_count();
    server.script([Reply::status(503)]);
    let (client, transport) =
        http_client(&server.dsn(), ClientOptions::new(), disk_options(&queue));
    let report = |server: &LoopbackServer, fresh: &[_]| {
        format!(
            "stored {} fresh {} on disk {:?} statuses {:?}; stats {:?}",
            server_ids(server, &stored),
            server_ids(server, fresh),
            entries(&queue),
            server
                .requests()
                .iter()
                .map(|r| r.status)
                .collect::<Vec<_>>(),
            transport.stats()
        )
    };
    let delivered = server.wait_for(DELIVERY, |requests| has_all(requests, &stored));
    assert!(delivered, "the stored files: {}", report(&server, &[]));
    let fresh = send_events(&transport, 5, "read-only");
    let delivered = server.wait_for(DELIVERY, |requests| has_all(requests, &fresh));
    assert!(delivered, "the new envelopes: {}", report(&server, &fresh));
    let all: Vec<_> = stored.iter().chain(&fresh).copied().collect();
    // Time for the backlog drain (1 ms apart) to send anything again.
    std::thread::sleep(Duration::from_millis(500));
    assert!(client.close(Some(FLUSH)));
    assert_eq!(
        server.duplicate_deliveries(),
        0,
        "a stored file was sent twice"
    );
    assert_eq!(
        server.requests()[before].status,
        503,
        "the outage answered first"
    );
    assert_eq!(entries(&queue).len(), 5, "the files cannot be removed");
    process::emit_stat("read_only.delivered", all.len() as u64);
}

/// How many of `ids` the server accepted.
fn server_ids(server: &LoopbackServer, ids: &[vigil_core::protocol::EventId]) -> usize {
    let accepted = server.accepted_event_ids();
    ids.iter().filter(|id| accepted.contains(id)).count()
}

/// Whether this machine lets an unprivileged mount namespace mount a
/// tmpfs (`unshare -rm`).
fn mount_namespaces_work() -> bool {
    Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts the test `test` of this binary in the role `role`, with `env`,
/// in a mount namespace of its own (`unshare -rm`) where the shell command
/// `setup` has run first. `None`, after a loud message naming `what` was
/// skipped, where such namespaces cannot mount.
pub(crate) fn spawn_in_mount_namespace(
    what: &str,
    setup: &str,
    test: &str,
    role: &str,
    env: &[(&str, String)],
) -> Option<ChildProcess> {
    if !mount_namespaces_work() {
        eprintln!("\n\n*** SKIPPED {what}: `unshare -rm` cannot mount here ***\n");
        return None;
    }
    let script = format!("{setup} && exec \"$@\"");
    Some(ChildProcess::spawn_via(
        &["unshare", "-rm", "sh", "-c", &script, "sh"],
        test,
        role,
        env,
    ))
}

#[test]
fn a_full_or_read_only_disk_loses_nothing_uncounted() {
    if process::role().is_some() {
        child_on_a_small_tmpfs();
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mount = tmp.path().join("mnt");
    fs::create_dir(&mount).unwrap();
    let Some(child) = spawn_in_mount_namespace(
        "the full/read-only disk test",
        &format!("mount -t tmpfs -o size=256k,mode=0700 tmpfs \"${MOUNT}\""),
        "disk_faults::a_full_or_read_only_disk_loses_nothing_uncounted",
        "tmpfs",
        &[(MOUNT, mount.display().to_string())],
    ) else {
        return;
    };
    let child = child.finish(Duration::from_secs(120));
    assert_eq!(child.stat("full_disk.delivered"), 20);
    assert_eq!(child.stat("full_disk_offline.counted"), 10);
    assert_eq!(child.stat("read_only.delivered"), 10);
}
