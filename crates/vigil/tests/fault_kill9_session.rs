//! Fault test: release health across `kill -9`, with the disk queue in
//! `Durability::Sync` mode.
//!
//! A child starts its session (`init`), captures one error and prints the
//! event id once the capture returned, while the server is down: its
//! `init` update and the errored update (in the error's envelope) are on
//! disk only. The parent kills it (`SIGKILL`: no guard drop, so no final
//! update) and starts a second process on the same directory with the
//! server up. That process sends the stored updates of the killed
//! session, then runs and ends its own session.
//!
//! What the server sees of the killed session: `init` (`ok`, 0 errors)
//! and the update of its first error (`ok`, 1 error), never a terminal
//! update. Sentry counts such a session as errored (it had an error) and
//! never as crashed or exited; see docs/release-health.md.

#![cfg(feature = "http")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use vigil::protocol::{EnvelopeItem, EventId, SessionStatus, SessionUpdate};
use vigil::transports::{HttpTransport, HttpTransportOptions};
use vigil::{ClientOptions, EventId as Id};
use vigil_test::process::{self, ChildProcess};
use vigil_test::{LoopbackServer, Reply, Request};
use vigil_transport::{DiskQueueOptions, Durability};

const TEST: &str = "a_killed_process_leaves_its_session_updates_on_disk";
const DSN: &str = "VIGIL_FAULT_DSN";
const DIR: &str = "VIGIL_FAULT_DIR";
const RELEASE: &str = "kill9-sessions@1.0.0";

fn init_child() -> vigil::InitGuard {
    let http = HttpTransportOptions::new()
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(1))
        .max_attempts(2)
        .backoff(Duration::from_millis(10), Duration::from_millis(100))
        .proxy_from_env(false)
        .disk_queue_with(
            DiskQueueOptions::new(process::env(DIR))
                .durability(Durability::Sync)
                .drain_interval(Duration::ZERO),
        );
    let options = ClientOptions::new()
        .try_dsn(&process::env(DSN))
        .unwrap()
        .release(RELEASE)
        .default_integrations(false)
        .transport(HttpTransport::factory_with(http));
    vigil::init(options)
}

/// Child: a session with one error, then wait to be killed.
fn errored_then_killed() {
    let _guard = init_child();
    let id = vigil::capture_error(&std::io::Error::other("before the kill"));
    assert!(!id.is_nil());
    process::emit_id(id);
    std::thread::sleep(Duration::from_secs(60));
}

/// Child: start (sending what is stored), then end normally when stdin
/// closes.
fn restart() {
    let guard = init_child();
    process::wait_for_stdin_eof();
    drop(guard);
}

/// Every session update the server accepted, per session, in arrival
/// order.
fn sessions(requests: &[Request]) -> BTreeMap<EventId, Vec<SessionUpdate>> {
    let mut sessions: BTreeMap<EventId, Vec<SessionUpdate>> = BTreeMap::new();
    for request in requests.iter().filter(|r| r.is_accepted()) {
        let Some(envelope) = request.try_envelope() else {
            continue;
        };
        for item in envelope.items() {
            if let EnvelopeItem::Session(update) = item {
                sessions
                    .entry(update.session_id)
                    .or_default()
                    .push((**update).clone());
            }
        }
    }
    sessions
}

fn states(updates: &[SessionUpdate]) -> Vec<(bool, SessionStatus, u64)> {
    let mut sorted = updates.to_vec();
    sorted.sort_by_key(|u| u.sequence);
    sorted.dedup_by_key(|u| u.sequence);
    sorted
        .iter()
        .map(|u| (u.init, u.status, u.errors))
        .collect()
}

#[test]
fn a_killed_process_leaves_its_session_updates_on_disk() {
    match process::role().as_deref() {
        Some("errored") => return errored_then_killed(),
        Some("restart") => return restart(),
        Some(role) => panic!("unknown role {role}"),
        None => {}
    }
    let server = Arc::new(LoopbackServer::start());
    server.set_default(Reply::ok());
    server.stop();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        (DSN, server.dsn()),
        (DIR, dir.path().to_string_lossy().into_owned()),
    ];

    let mut child = ChildProcess::spawn(TEST, "errored", &env);
    assert!(
        child.read_ids(1, Duration::from_secs(30)),
        "the child printed no event id"
    );
    let killed = child.kill();
    let error: Id = killed.ids()[0];

    server.restart().unwrap();
    let restarted = ChildProcess::spawn(TEST, "restart", &env);
    let arrived = server.wait_for(Duration::from_secs(30), |requests| {
        let delivered = requests
            .iter()
            .filter(|r| r.is_accepted())
            .flat_map(|r| r.event_ids())
            .any(|id| id == error);
        delivered && sessions(requests).len() >= 2
    });
    restarted.finish(Duration::from_secs(30));
    assert!(
        arrived,
        "the stored updates were not sent after the restart"
    );

    let sessions = sessions(&server.requests());
    assert_eq!(sessions.len(), 2, "{sessions:#?}");
    // The killed session: the one whose errored update rode with the
    // stored error event.
    let with_error = server
        .requests()
        .iter()
        .filter_map(|r| r.try_envelope().cloned())
        .find(|e| e.event().is_some_and(|ev| ev.event_id == error))
        .expect("the error's envelope");
    let killed_sid = with_error
        .items()
        .find_map(|i| match i {
            EnvelopeItem::Session(u) => Some(u.session_id),
            _ => None,
        })
        .expect("the errored update rides with the error");
    assert_eq!(
        states(&sessions[&killed_sid]),
        [(true, SessionStatus::Ok, 0), (false, SessionStatus::Ok, 1)],
        "the killed session: init and errored, no terminal update"
    );
    let (_, restarted_session) = sessions
        .iter()
        .find(|(sid, _)| **sid != killed_sid)
        .expect("the restarted process's session");
    assert_eq!(
        states(restarted_session),
        [
            (true, SessionStatus::Ok, 0),
            (false, SessionStatus::Exited, 0)
        ],
    );
    assert!(
        sessions
            .values()
            .flatten()
            .all(|u| u.attrs.release == RELEASE)
    );
}
