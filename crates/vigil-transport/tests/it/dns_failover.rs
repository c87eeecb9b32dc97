//! A fail-over by DNS: the Sentry host moves to another address. The
//! transport caches a host's addresses for 60 s; a request that fails on
//! the network drops the cached answer, so the next attempt follows the
//! move instead of connecting to the dead address until the entry
//! expires.
//!
//! Real resolution, not a stub: the child runs in a mount namespace of
//! its own (`unshare -rm`) with a file of the test bind-mounted over
//! `/etc/hosts`, which the system resolver reads at every lookup.

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use vigil_core::protocol::EventId;
use vigil_core::{ClientOptions, Transport};
use vigil_test::LoopbackServer;
use vigil_test::process;

use crate::disk_faults::spawn_in_mount_namespace;
use crate::{event_envelope, fast_options, http_client};

const HOSTS: &str = "VIGIL_FAILOVER_HOSTS";
const HOST: &str = "vigil-failover.test";

fn point(hosts: &Path, ip: &str) {
    fs::write(hosts, format!("127.0.0.1 localhost\n{ip} {HOST}\n")).unwrap();
}

fn send(transport: &dyn Transport, message: &str) -> EventId {
    let envelope = event_envelope(message);
    let id = envelope.headers().event_id.unwrap();
    transport.send_envelope(envelope);
    id
}

fn child_behind_a_moving_host() {
    let hosts = std::path::PathBuf::from(process::env(HOSTS));
    let first = LoopbackServer::start();
    let port = first.addr().port();
    point(&hosts, "127.0.0.1");
    let dsn = format!("http://public@{HOST}:{port}/1");
    let (client, transport) = http_client(&dsn, ClientOptions::new(), fast_options());

    let before = send(&*transport, "before the move");
    assert!(
        first.wait_for(Duration::from_secs(10), |r| r
            .iter()
            .any(|r| r.event_ids().contains(&before))),
        "delivered to the first address"
    );

    // The host moves: the first address dies, the name now points to a
    // second one, on the same port.
    first.stop();
    point(&hosts, "127.0.0.2");
    let second = LoopbackServer::start_on(SocketAddr::from(([127, 0, 0, 2], port)))
        .expect("a server on 127.0.0.2");
    let after = send(&*transport, "after the move");
    let moved = second.wait_for(Duration::from_secs(10), |r| {
        r.iter().any(|r| r.event_ids().contains(&after))
    });
    assert!(
        moved,
        "the event after the move was not delivered to the new address \
         (the cached answer was kept?); stats {:?}",
        transport.stats()
    );
    assert!(client.close(Some(Duration::from_secs(5))));
    process::emit_stat("followed_the_move", 1);
}

#[test]
fn a_host_that_moves_is_followed_at_the_next_attempt() {
    if process::role().is_some() {
        child_behind_a_moving_host();
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let hosts = tmp.path().join("hosts");
    point(&hosts, "127.0.0.1");
    let Some(child) = spawn_in_mount_namespace(
        "the DNS fail-over test",
        &format!("mount --bind \"${HOSTS}\" /etc/hosts"),
        "dns_failover::a_host_that_moves_is_followed_at_the_next_attempt",
        "failover",
        &[(HOSTS, hosts.display().to_string())],
    ) else {
        return;
    };
    let child = child.finish(Duration::from_secs(60));
    assert_eq!(child.stat("followed_the_move"), 1);
}
