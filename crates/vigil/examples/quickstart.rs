//! The quickstart demo: the seed example (scopes, tags, a user), stack
//! traces and contexts, a transaction with spans, and an error with a
//! `source()` chain inside it.
//!
//! ```sh
//! cargo run -p vigil-telemetry --example quickstart
//! ```
//!
//! Every envelope is printed as it is sent (`vigil::transports::console`).
//! Without `SENTRY_DSN` the envelopes go to the file sink
//! `./vigil-envelopes/`; with `SENTRY_DSN` set (for example to a local
//! Bugsink, see docs/usage.md) they are sent to that server.

use std::error::Error;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use vigil::{Breadcrumb, ClientOptions, TransactionContext, transports};

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
        .environment("demo")
        // Stack traces on message events too.
        .attach_stacktrace(true)
        .traces_sample_rate(1.0);
    // Every envelope is printed (`describe`), then sent or written.
    let guard = if to_server {
        println!("SENTRY_DSN is set: sending to the server it names.\n");
        vigil::init(options.transport(transports::console().then(transports::http())))
    } else {
        println!(
            "SENTRY_DSN is not set: writing envelopes to {}/\n",
            sink.display()
        );
        let _ = std::fs::remove_dir_all(&sink);
        // The file sink needs a DSN for the envelope headers only.
        let options = options.transport(transports::console().then(transports::file_sink(&sink)));
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

    // A transaction with two spans; the error inside it joins its trace.
    let transaction = vigil::start_transaction(TransactionContext::new("load-config", "task"));
    vigil::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
    let read = transaction.start_child("file.read", "/etc/quickstart.toml");
    vigil::add_breadcrumb(Breadcrumb {
        category: Some("config".into()),
        message: Some("reading /etc/quickstart.toml".into()),
        ..Default::default()
    });
    read.finish();
    // An error with its cause, after a breadcrumb.
    let err = ConfigError {
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory"),
    };
    vigil::capture_error(&err);
    transaction
        .start_child("config.defaults", "built-in defaults")
        .finish();
    transaction.finish();
    vigil::configure_scope(|scope| scope.set_span(None));

    guard.flush(Duration::from_secs(5));
    if let Some(client) = guard.client().filter(|_| to_server) {
        println!("{}", client.delivery_stats());
    }
    drop(guard);
    println!(
        "\nNext: set SENTRY_DSN to send these to Sentry (or a self-hosted Sentry, \
         GlitchTip, Bugsink), or start Spotlight (`npx @spotlightjs/spotlight`) \
         and set SENTRY_SPOTLIGHT=1 to browse them locally."
    );
}
