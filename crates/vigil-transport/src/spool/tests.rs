use std::fs::{self, File};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use vigil_core::LossRecorder;
use vigil_core::protocol::{Attachment, DataCategory, DiscardReason, Envelope, Event};

use crate::spool::Spool;
use crate::spool::claim::{CORRUPT_DIR, MAX_CORRUPT};
use crate::spool::naming::SUFFIX;
use crate::spool::options::DiskQueueOptions;
use crate::spool::store::StoreError;

fn event_envelope(message: &str) -> Envelope {
    Envelope::from_event(Event {
        message: Some(message.into()),
        ..Default::default()
    })
}

fn spool_in(dir: &Path, options: impl FnOnce(DiskQueueOptions) -> DiskQueueOptions) -> Arc<Spool> {
    Spool::new(options(DiskQueueOptions::new(dir)), LossRecorder::new())
}

/// The `.envelope` files in `dir`, sorted.
fn stored(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|l| {
            l.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(SUFFIX) && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn corrupt(dir: &Path) -> usize {
    fs::read_dir(dir.join(CORRUPT_DIR)).map_or(0, |l| l.count())
}

/// The number of cases of a property test: `PROPTEST_CASES` when set,
/// else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn stores_without_sent_at_and_sends_oldest_first() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("queue");
    let spool = spool_in(&dir, |o| o);
    let mut first = event_envelope("first");
    first.headers_mut().sent_at = Some(SystemTime::now());
    let a = spool.store(&mut first, false, false).unwrap();
    let mut lone = Envelope::new();
    lone.add_item(Attachment::new("a.txt", b"abc".to_vec()));
    let b = spool.store(&mut lone, true, false).unwrap();
    assert!(a < b, "{a} {b}");
    assert!(a.ends_with("-e.envelope") && b.ends_with("-x.envelope"));
    assert_eq!(stored(&dir), [a.clone(), b.clone()]);
    let bytes = fs::read(dir.join(&a)).unwrap();
    let back = Envelope::from_slice(&bytes).unwrap();
    assert_eq!(back.headers().sent_at, None, "sent_at is never stored");
    assert_eq!(back.event().unwrap().message.as_deref(), Some("first"));
    assert_eq!(spool.len(), 2);

    // Another spool (another process) over the same directory finds both.
    let other = spool_in(&dir, |o| o);
    other.scan();
    assert_eq!(other.len(), 2);
    let (claimed, envelope) = other.next_backlog().unwrap();
    assert_eq!(claimed.name(), a);
    assert_eq!(envelope.event().unwrap().message.as_deref(), Some("first"));
    claimed.complete();
    let (claimed, envelope) = other.next_backlog().unwrap();
    assert_eq!(claimed.name(), b);
    assert_eq!(envelope.items().len(), 1);
    claimed.complete();
    assert!(other.next_backlog().is_none());
    assert!(stored(&dir).is_empty());
    assert_eq!(other.len(), 0);
}

#[test]
fn a_claimed_file_is_not_claimed_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = spool_in(dir, |o| o);
    let b = spool_in(dir, |o| o);
    let name = a.store(&mut event_envelope("x"), false, false).unwrap();
    b.scan();
    let held = a.claim(&name).expect("a claims it");
    // b sees the lock and lets go of the name.
    assert!(b.claim_oldest().is_none());
    assert_eq!(b.len(), 0);
    // Released: b finds it again at its next scan.
    held.release();
    assert_eq!(a.backlog_len(), 1);
    b.scan();
    let (claimed, _) = b.next_backlog().expect("b claims it now");
    // a cannot take it while b holds it.
    assert!(a.claim_oldest().is_none());
    claimed.complete();
    assert!(stored(dir).is_empty());
}

#[test]
fn a_file_opened_before_it_was_sent_is_not_sent_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = spool_in(dir, |o| o);
    let name = a.store(&mut event_envelope("x"), false, false).unwrap();
    // A second handle opened before the sender finished, as a racing
    // process would have.
    let late = File::open(dir.join(&name)).unwrap();
    let claimed = a.claim(&name).unwrap();
    claimed.complete();
    assert_eq!(
        late.metadata().unwrap().len(),
        0,
        "truncated before removal"
    );
    // A zero-length file (a crash between truncating and removing) is
    // taken as sent and removed silently.
    fs::write(dir.join(&name), b"").unwrap();
    let b = spool_in(dir, |o| o);
    b.scan();
    assert!(b.next_backlog().is_none());
    assert!(stored(dir).is_empty());
    assert!(b.recorder.totals().is_empty());
}

#[test]
fn count_bound_drops_the_oldest_as_cache_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spool = spool_in(dir, |o| o.max_count(3));
    let mut names = Vec::new();
    for i in 0..5 {
        let mut envelope = event_envelope(&format!("event {i}"));
        if i == 0 {
            envelope.add_item(Attachment::new("a.bin", vec![0u8; 10]));
        }
        names.push(spool.store(&mut envelope, false, false).unwrap());
    }
    assert_eq!(stored(dir), names[2..]);
    assert_eq!(spool.len(), 3);
    let r = &spool.recorder;
    assert_eq!(
        r.total(DiscardReason::CacheOverflow, DataCategory::Error),
        2
    );
    assert_eq!(
        r.total(DiscardReason::CacheOverflow, DataCategory::Attachment),
        10,
        "attachments count bytes"
    );
}

#[test]
fn byte_bound_drops_the_oldest_and_oversized_envelopes_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let size = event_envelope("0").to_vec().unwrap().len() as u64;
    let spool = spool_in(dir, |o| o.max_bytes(size * 2 + size / 2));
    for i in 0..4 {
        spool
            .store(&mut event_envelope(&i.to_string()), false, false)
            .unwrap();
    }
    assert_eq!(stored(dir).len(), 2);
    assert_eq!(
        spool
            .recorder
            .total(DiscardReason::CacheOverflow, DataCategory::Error),
        2
    );
    let mut big = event_envelope("big");
    big.add_item(Attachment::new("big.bin", vec![0u8; (size * 3) as usize]));
    assert!(matches!(
        spool.store(&mut big, false, false),
        Err(StoreError::TooLarge)
    ));
    assert_eq!(stored(dir).len(), 2);
}

#[test]
fn files_found_by_a_scan_count_against_the_bounds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let writer = spool_in(dir, |o| o);
    for i in 0..6 {
        writer
            .store(&mut event_envelope(&i.to_string()), false, false)
            .unwrap();
    }
    // Started again with a smaller bound: the oldest go at the scan.
    let reader = spool_in(dir, |o| o.max_count(4));
    reader.scan();
    assert_eq!(stored(dir).len(), 4);
    assert_eq!(
        reader
            .recorder
            .total(DiscardReason::CacheOverflow, DataCategory::Error),
        2,
        "read from the files to count their items"
    );
}

#[test]
fn corrupt_files_are_moved_aside_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = spool_in(dir, |o| o);
    let name = good
        .store(&mut event_envelope("good"), false, false)
        .unwrap();
    // Older than the good file, so read first.
    fs::write(
        dir.join(format!("0000000000000001-0000000f-0000000000-e{SUFFIX}")),
        b"{\"event_id\":",
    )
    .unwrap();
    fs::write(
        dir.join(format!("0000000000000002-0000000f-0000000000-x{SUFFIX}")),
        b"{}\n{\"type\":\"event\",\"length\":100}\n{}",
    )
    .unwrap();
    let spool = spool_in(dir, |o| o);
    spool.scan();
    let (claimed, envelope) = spool.next_backlog().unwrap();
    assert_eq!(claimed.name(), name);
    assert_eq!(envelope.event().unwrap().message.as_deref(), Some("good"));
    claimed.complete();
    assert_eq!(corrupt(dir), 2);
    let r = &spool.recorder;
    assert_eq!(
        r.total(DiscardReason::InternalSdkError, DataCategory::Error),
        1
    );
    assert_eq!(
        r.total(DiscardReason::InternalSdkError, DataCategory::Default),
        1
    );
    assert!(stored(dir).is_empty());
    assert_eq!(spool.len(), 0);
}

#[test]
fn corrupt_dir_keeps_the_newest_hundred() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for i in 0..(MAX_CORRUPT + 5) {
        fs::write(
            dir.join(format!("{i:016}-0000000f-0000000000-x{SUFFIX}")),
            b"not an envelope",
        )
        .unwrap();
    }
    let spool = spool_in(dir, |o| o.max_count(1000));
    spool.scan();
    while spool.backlog_len() > 0 {
        assert!(spool.next_backlog().is_none());
    }
    assert_eq!(corrupt(dir), MAX_CORRUPT);
    assert!(
        !dir.join(CORRUPT_DIR)
            .join(format!("{:016}-0000000f-0000000000-x{SUFFIX}", 0))
            .exists()
    );
    assert_eq!(
        spool
            .recorder
            .total(DiscardReason::InternalSdkError, DataCategory::Default),
        (MAX_CORRUPT + 5) as u64
    );
}

#[test]
fn stale_temp_files_are_removed_fresh_ones_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let stale = dir.join(format!(
        ".0000000000000001-0000000f-0000000000-e{SUFFIX}.tmp"
    ));
    let fresh = dir.join(format!(
        ".0000000000000002-0000000f-0000000000-e{SUFFIX}.tmp"
    ));
    // Not the spool's (another program's temporary file): never touched,
    // however old.
    let foreign = dir.join(".report.tmp");
    for path in [&stale, &fresh, &foreign] {
        fs::write(path, b"x").unwrap();
    }
    for path in [&stale, &foreign] {
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
    }
    let spool = spool_in(dir, |o| o);
    spool.scan();
    assert!(!stale.exists());
    assert!(fresh.exists());
    assert!(foreign.exists());
    assert_eq!(spool.len(), 0);
}

#[test]
fn a_missing_directory_is_an_empty_queue_and_is_created_on_write() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a").join("b");
    let spool = spool_in(&dir, |o| o);
    spool.scan();
    assert_eq!(spool.len(), 0);
    spool.store(&mut event_envelope("x"), true, false).unwrap();
    assert_eq!(stored(&dir).len(), 1);
    // Removed under the running spool: created again.
    fs::remove_dir_all(&dir).unwrap();
    spool.store(&mut event_envelope("y"), false, false).unwrap();
    assert_eq!(stored(&dir).len(), 1);
}

#[test]
fn an_unwritable_directory_is_an_error_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let blocker = tmp.path().join("file");
    fs::write(&blocker, b"x").unwrap();
    let spool = spool_in(&blocker.join("queue"), |o| o);
    assert!(matches!(
        spool.store(&mut event_envelope("x"), true, false),
        Err(StoreError::Io(_))
    ));
    spool.scan();
    assert_eq!(spool.len(), 0);
}

#[test]
fn a_dropped_claim_goes_back_to_the_backlog() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = spool_in(tmp.path(), |o| o);
    let name = spool.store(&mut event_envelope("x"), false, true).unwrap();
    assert_eq!(spool.backlog_len(), 0, "queued for the worker");
    spool.unqueue(&name);
    assert_eq!(spool.backlog_len(), 1);
    let (claimed, _) = spool.next_backlog().unwrap();
    assert_eq!(spool.backlog_len(), 0);
    drop(claimed);
    assert_eq!(spool.backlog_len(), 1);
    assert_eq!(spool.len(), 1);
}

/// A panic while a file is held (its send panicked) moves the file
/// aside and counts it, instead of putting it back at the head of the
/// backlog where it would panic again at every attempt.
#[test]
fn a_file_whose_handling_panics_is_moved_aside_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let spool = spool_in(dir, |o| o);
    let bad = spool
        .store(&mut event_envelope("bad"), false, false)
        .unwrap();
    let good = spool
        .store(&mut event_envelope("good"), false, false)
        .unwrap();
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (claimed, _) = spool.next_backlog().unwrap();
        assert_eq!(claimed.name(), bad);
        panic!("the send of {} panicked", claimed.name());
    }));
    assert!(panicked.is_err());
    assert_eq!(corrupt(dir), 1);
    assert_eq!(stored(dir), vec![good.clone()]);
    assert_eq!(
        spool
            .recorder
            .total(DiscardReason::InternalSdkError, DataCategory::Error),
        1
    );
    let (claimed, _) = spool.next_backlog().unwrap();
    assert_eq!(claimed.name(), good, "the backlog goes on behind it");
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(256),
        ..ProptestConfig::default()
    })]

    /// Whatever a stored file holds, reading the queue never panics: a file
    /// that does not parse is moved aside and counted, anything else is
    /// handed out (or, when empty, removed), and the directory ends up
    /// empty.
    #[test]
    fn arbitrary_file_contents_never_panic(
        contents in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..512),
            // Mutations of a valid envelope are more interesting.
            (any::<usize>(), proptest::collection::vec(any::<u8>(), 0..8), any::<bool>())
                .prop_map(|(at, insert, truncate)| {
                    let mut bytes = event_envelope("fuzz").to_vec().unwrap();
                    let at = at % (bytes.len() + 1);
                    if truncate {
                        bytes.truncate(at);
                    } else {
                        bytes.splice(at..at, insert);
                    }
                    bytes
                }),
        ],
        has_event in any::<bool>(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let kind = if has_event { 'e' } else { 'x' };
        fs::write(dir.join(format!("0000000000000001-0000000f-0000000000-{kind}{SUFFIX}")), &contents).unwrap();
        let spool = spool_in(dir, |o| o);
        spool.scan();
        let parses = Envelope::from_slice(&contents);
        match spool.next_backlog() {
            Some((claimed, envelope)) => {
                prop_assert_eq!(Ok(envelope), parses);
                claimed.complete();
            }
            None => {
                let counted = spool.recorder.total_dropped();
                match parses {
                    // Empty file or empty envelope: nothing to count.
                    Ok(envelope) => {
                        prop_assert!(contents.is_empty() || envelope.is_empty());
                        prop_assert_eq!(counted, 0);
                    }
                    Err(_) if contents.is_empty() => prop_assert_eq!(counted, 0),
                    Err(_) => {
                        prop_assert_eq!(counted, 1);
                        prop_assert_eq!(corrupt(dir), 1);
                        let category = if has_event { DataCategory::Error } else { DataCategory::Default };
                        prop_assert_eq!(spool.recorder.total(DiscardReason::InternalSdkError, category), 1);
                    }
                }
            }
        }
        prop_assert!(stored(dir).is_empty());
        prop_assert_eq!(spool.len(), 0);
    }
}
