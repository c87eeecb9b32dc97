//! The quickstart demo: the seed example, an error with a `source()` chain
//! and a few breadcrumbs.
//!
//! ```sh
//! cargo run -p vigil --example quickstart
//! ```
//!
//! Without `SENTRY_DSN` the envelopes go to the file sink `./vigil-envelopes/`
//! and a summary of each is printed. With `SENTRY_DSN` set (for example to a
//! local Bugsink, see the README) they are sent to that server.

use std::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use vigil::protocol::{Envelope, EnvelopeItem};
use vigil::{Breadcrumb, ClientOptions};

#[derive(Debug)]
struct ConfigError {
    source: std::io::Error,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("could not load the configuration")
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

fn main() {
    let sink = PathBuf::from("vigil-envelopes");
    let to_server = std::env::var("SENTRY_DSN").is_ok_and(|d| !d.trim().is_empty());
    let options = ClientOptions::new()
        .release(concat!("quickstart@", env!("CARGO_PKG_VERSION")))
        .environment("demo");
    let guard = if to_server {
        println!("SENTRY_DSN is set: sending to the server it names.");
        vigil::init(options)
    } else {
        println!(
            "SENTRY_DSN is not set: writing envelopes to {}/",
            sink.display()
        );
        let _ = std::fs::remove_dir_all(&sink);
        // The file sink needs a DSN for the envelope headers only.
        let options = options.transport(vigil::transports::file_sink(&sink));
        vigil::init(("http://quickstart@localhost/1", options))
    };

    // The seed example. `configure_scope` changes persist: every event
    // below carries this user and the `service` tag.
    vigil::configure_scope(|scope| {
        scope.set_tag("service", "quickstart");
        scope.set_user(Some(vigil::User {
            id: Some(42.to_string()),
            email: Some("john.doe@example.com".into()),
            ..Default::default()
        }));
    });
    vigil::with_scope(
        |scope| {
            scope.set_tag("my-tag", "my value");
        },
        || {
            // will be tagged with my-tag="my value"
            vigil::capture_message("my error", vigil::Level::Error);
        },
    );
    // will not be tagged with my-tag
    vigil::capture_message("my other error", vigil::Level::Error);

    // An error with its cause, after a few breadcrumbs.
    vigil::add_breadcrumb(Breadcrumb {
        category: Some("config".into()),
        message: Some("reading /etc/quickstart.toml".into()),
        ..Default::default()
    });
    let err = ConfigError {
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
    };
    let id = vigil::capture_error(&err);
    println!("captured error event {id}");

    let delivered = guard.flush(Duration::from_secs(5));
    let stats = guard
        .client()
        .map(|c| c.loss_recorder().totals())
        .unwrap_or_default();
    drop(guard);
    println!(
        "flush {}; dropped: {}",
        if delivered { "complete" } else { "timed out" },
        if stats.is_empty() {
            "nothing".to_owned()
        } else {
            format!("{stats:?}")
        }
    );
    if !to_server {
        summarize(&sink);
    }
}

fn summarize(dir: &Path) {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    println!("\n{} envelope(s) in {}/:", files.len(), dir.display());
    for file in files {
        let bytes = std::fs::read(&file).expect("readable envelope");
        let envelope = Envelope::from_slice(&bytes).expect("a valid envelope");
        println!("\n{} ({} bytes)", file.display(), bytes.len());
        for item in envelope.items() {
            match item {
                EnvelopeItem::Event(e) => {
                    let what = e
                        .message
                        .clone()
                        .or_else(|| {
                            e.exception.values.last().map(|x| {
                                format!(
                                    "{}: {}",
                                    x.ty.as_deref().unwrap_or("?"),
                                    x.value.as_deref().unwrap_or("")
                                )
                            })
                        })
                        .unwrap_or_default();
                    println!("  event {} [{}] {what}", e.event_id, e.level);
                    if e.exception.values.len() > 1 {
                        for x in &e.exception.values {
                            println!(
                                "    exception {}: {}",
                                x.ty.as_deref().unwrap_or("?"),
                                x.value.as_deref().unwrap_or("")
                            );
                        }
                    }
                    let tags: Vec<_> = e.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    println!(
                        "    tags: {}",
                        if tags.is_empty() {
                            "-".into()
                        } else {
                            tags.join(", ")
                        }
                    );
                    if let Some(u) = &e.user {
                        println!(
                            "    user: id={} email={}",
                            u.id.as_deref().unwrap_or("-"),
                            u.email.as_deref().unwrap_or("-")
                        );
                    }
                    println!(
                        "    release={} environment={} breadcrumbs={}",
                        e.release.as_deref().unwrap_or("-"),
                        e.environment.as_deref().unwrap_or("-"),
                        e.breadcrumbs.len()
                    );
                }
                other => println!("  {} item", other.ty()),
            }
        }
    }
}
