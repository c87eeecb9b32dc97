//! Spotlight (`../shared/interop/spotlight.sh`) for the end-to-end tests:
//! starting it on a test's own port, reading what it received, and sending
//! a plain HTTP request to the app under test. Included with `#[path]` by
//! the tests that need it, next to `mod common`.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common;

/// Spotlight on one port, driven through the shared script.
pub(crate) struct Spotlight {
    dir: PathBuf,
    port: &'static str,
}

/// One item of a Spotlight envelope: the envelope's header, the item's
/// header and its payload.
pub(crate) struct Item {
    /// The envelope's header (with the DSC as `trace`).
    pub(crate) envelope: Value,
    /// The item's header (its `type`).
    pub(crate) header: Value,
    /// The item itself.
    pub(crate) payload: Value,
}

impl Spotlight {
    /// Spotlight on `port`, with the scripts of `dir` (`../shared/interop`).
    pub(crate) fn new(dir: &Path, port: &'static str) -> Spotlight {
        Spotlight {
            dir: dir.to_owned(),
            port,
        }
    }

    /// Runs `spotlight.sh args` on this port; its stdout.
    pub(crate) fn run(&self, args: &[&str]) -> String {
        common::bash(
            &self.dir.join("spotlight.sh"),
            args,
            &[("SPOTLIGHT_PORT", self.port)],
        )
    }

    /// Every envelope Spotlight holds, oldest first, each as
    /// `[header, [[item_header, payload], ...]]`.
    pub(crate) fn envelopes(&self) -> Vec<Value> {
        self.run(&["envelopes"])
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!("spotlight.sh envelopes printed a bad line ({e}): {line}")
                })
            })
            .collect()
    }

    /// Starts Spotlight, or finds it running (it is left running for the
    /// next run; `scripts/test.sh` stops it).
    ///
    /// `spotlight.sh start` can report "sidecar exited during startup" for
    /// a sidecar that is in fact starting: it checks the recorded pid's
    /// command line right after forking, and a child that has not yet run
    /// `exec` still shows the script's own command line. So a failed start
    /// is followed by up to 15 s of `status` polls, and only then by a stop
    /// and one more start, whose failure fails the test.
    pub(crate) fn start(&self) {
        let script = self.dir.join("spotlight.sh");
        let env = [("SPOTLIGHT_PORT", self.port)];
        let Err(first) = common::try_bash(&script, &["start"], &env) else {
            return;
        };
        eprintln!("spotlight.sh start failed once; waiting for the sidecar:\n{first}");
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if common::try_bash(&script, &["status"], &env).is_ok() {
                eprintln!("the sidecar came up after all");
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        self.run(&["stop"]);
        self.run(&["start"]);
    }

    /// The items of every envelope Spotlight holds whose payload has
    /// `release` (those of earlier runs stay in its buffer while it runs);
    /// see [`items_of_release_in`].
    pub(crate) fn items_of_release(&self, release: &str) -> Vec<Item> {
        items_of_release_in(&self.envelopes(), release)
    }
}

/// The items of `envelopes` (from [`Spotlight::envelopes`]) whose payload
/// has `release`: events and transactions name it at the top, session
/// items in their attributes.
pub(crate) fn items_of_release_in(envelopes: &[Value], release: &str) -> Vec<Item> {
    let mut items = Vec::new();
    for envelope in envelopes {
        let Some(list) = envelope[1].as_array() else {
            panic!("an envelope without an item list: {envelope}");
        };
        for pair in list {
            if pair[1]["release"] == release || pair[1]["attrs"]["release"] == release {
                items.push(Item {
                    envelope: envelope[0].clone(),
                    header: pair[0].clone(),
                    payload: pair[1].clone(),
                });
            }
        }
    }
    items
}

/// One HTTP/1.1 GET with `Connection: close`; the raw response.
pub(crate) async fn send(addr: SocketAddr, path: &str) -> String {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        io::Result::Ok(response)
    };
    tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("the app answers within 20 s")
        .expect("the request goes through")
}
