//! The `spotlight` option against a real Spotlight sidecar
//! (`../shared/interop/spotlight.sh`, on a loopback port of its own):
//!
//! - with a DSN, every envelope goes to the DSN's server and a copy to
//!   Spotlight's `/stream` (here the DSN is Spotlight's own, so Spotlight
//!   holds each item twice: once per path);
//! - without a DSN, Spotlight alone gets them, every event sampled (the
//!   `sample_rate` of 0 is lifted, as Sentry's Spotlight rules ask);
//! - with Spotlight away, capturing neither blocks nor fails, and the main
//!   transport delivers as usual.
//!
//! Own binary: the clients are used directly, no global state.

mod common;
#[path = "common/spotlight.rs"]
#[expect(
    dead_code,
    reason = "the shared helper's HTTP client is for the tests that run an app"
)]
mod spotlight;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use vigil_core::protocol::{Event, Level};
use vigil_core::{Client, ClientOptions, Hub, Scope, TransactionContext};

use spotlight::Spotlight;

/// Spotlight's port for this test (spotlight_e2e uses 18979, tracing_e2e
/// 18981; `scripts/test.sh` stops it).
const PORT: &str = "18983";

const ARRIVAL: Duration = Duration::from_secs(20);

fn unique_release(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    format!(
        "vigil-spotlight-option-{what}@{}.{nanos}",
        std::process::id()
    )
}

fn capture(client: &Client, message: &str) {
    let scope = Scope::default();
    client.capture_event(
        Event {
            message: Some(message.into()),
            level: Level::Error,
            ..Default::default()
        },
        Some(&scope),
    );
}

/// Polls Spotlight until `done` holds for the items of `release`.
fn wait_for(
    spotlight: &Spotlight,
    release: &str,
    done: impl Fn(&[spotlight::Item]) -> bool,
) -> Vec<spotlight::Item> {
    let deadline = Instant::now() + ARRIVAL;
    loop {
        let items = spotlight.items_of_release(release);
        if done(&items) || Instant::now() > deadline {
            return items;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn count(items: &[spotlight::Item], ty: &str) -> usize {
    items.iter().filter(|i| i.header["type"] == ty).count()
}

#[test]
fn spotlight_gets_a_copy_of_every_envelope_with_or_without_a_dsn() {
    let Some(dir) = common::interop_dir("the Spotlight option test") else {
        return;
    };
    let spotlight = Spotlight::new(&dir, PORT);
    spotlight.start();
    let url = spotlight.run(&["url"]).trim().to_owned();
    let dsn = spotlight.run(&["dsn"]).trim().to_owned();

    // With a DSN (Spotlight's own `/api/0/envelope/`): the main transport
    // and the copy to `/stream` both arrive.
    let release = unique_release("dsn");
    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("spotlight.sh prints a valid DSN")
        .transport(vigil_transport::http())
        .release(release.clone())
        .traces_sample_rate(1.0)
        .auto_session_tracking(false)
        .spotlight(url.as_str());
    let client = Arc::new(Client::new(options));
    capture(&client, "copied to spotlight");
    let hub = Hub::new(Some(client.clone()), Arc::new(Scope::default()));
    hub.start_transaction(TransactionContext::new("spotlight-checkout", "task"))
        .finish();
    assert!(client.close(Some(Duration::from_secs(10))));
    let items = wait_for(&spotlight, &release, |items| {
        count(items, "event") >= 2 && count(items, "transaction") >= 2
    });
    assert_eq!(
        (count(&items, "event"), count(&items, "transaction")),
        (2, 2),
        "each envelope through the DSN and once more through /stream"
    );

    // Without a DSN: Spotlight only, sampled in full despite sample_rate 0.
    let release = unique_release("no-dsn");
    let options = ClientOptions::new()
        .transport(vigil_transport::http())
        .release(release.clone())
        .sample_rate(0.0)
        .auto_session_tracking(false)
        .spotlight(url.as_str());
    let client = Arc::new(Client::new(options));
    assert!(client.is_enabled(), "Spotlight alone enables the client");
    assert_eq!(client.options().sample_rate, 1.0);
    assert!(client.options().send_default_pii);
    capture(&client, "only to spotlight");
    assert!(client.close(Some(Duration::from_secs(10))));
    let items = wait_for(&spotlight, &release, |items| count(items, "event") >= 1);
    assert_eq!(count(&items, "event"), 1, "one copy, through /stream");
    assert_eq!(items[0].payload["message"], "only to spotlight");
    assert_eq!(items[0].envelope["sdk"]["name"], vigil_core::SDK_NAME);
    assert!(
        items[0].envelope.get("dsn").is_none(),
        "no DSN, none in the header"
    );
}

#[test]
fn an_unreachable_spotlight_neither_blocks_nor_fails_the_main_transport() {
    let Some(dir) = common::interop_dir("the Spotlight option test") else {
        return;
    };
    let spotlight = Spotlight::new(&dir, PORT);
    spotlight.start();
    let dsn = spotlight.run(&["dsn"]).trim().to_owned();
    // A port nothing listens on.
    let nothing = TcpListener::bind("127.0.0.1:0").unwrap();
    let away = format!("http://{}/stream", nothing.local_addr().unwrap());
    drop(nothing);

    let release = unique_release("away");
    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("spotlight.sh prints a valid DSN")
        .transport(vigil_transport::http())
        .release(release.clone())
        .auto_session_tracking(false)
        .spotlight(away.as_str());
    let client = Arc::new(Client::new(options));
    let started = Instant::now();
    for i in 0..20 {
        capture(&client, &format!("spotlight away {i}"));
    }
    let capturing = started.elapsed();
    assert!(
        capturing < Duration::from_millis(500),
        "20 captures took {capturing:?}"
    );
    assert!(
        client.flush(Some(Duration::from_secs(10))),
        "the main transport delivered"
    );
    assert!(client.close(Some(Duration::from_secs(10))));
    let items = wait_for(&spotlight, &release, |items| count(items, "event") >= 20);
    assert_eq!(
        count(&items, "event"),
        20,
        "every event through the DSN, none lost to the missing copy"
    );
}
