//! The quickstart demo: the seed example (scopes, tags, a user), stack
//! traces and contexts, a transaction with spans, an error with a
//! `source()` chain inside it, a structured log and trace metrics in its
//! trace, a cron check-in pair and user feedback.
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
    // A structured log and two metrics, linked to the transaction's trace.
    vigil::logger_warn!(
        path = "/etc/quickstart.toml",
        "config missing, using defaults"
    );
    vigil::metrics::counter("config.fallbacks", 1)
        .attribute("reason", "not_found")
        .capture();
    vigil::metrics::distribution("config.load_time", 12.5)
        .unit("ms")
        .capture();
    transaction
        .start_child("config.defaults", "built-in defaults")
        .finish();
    transaction.finish();
    vigil::configure_scope(|scope| scope.set_span(None));

    // A cron job reporting its run (in_progress, then ok with the duration).
    let rows = vigil::monitor("quickstart-import", None, || 1200);
    vigil::metrics::gauge("import.rows", rows).capture();

    // What a user says about the error above.
    let mut feedback = vigil::protocol::Feedback::new("The settings page showed defaults.");
    feedback.associated_event_id = vigil::last_event_id();
    vigil::capture_feedback(feedback);

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
