//! `init` and its guard.

use std::fmt;
use std::sync::Arc;

use vigil_core::protocol::DsnError;
use vigil_core::{Client, ClientOptions, IntoClientOptions, SessionMode};

/// Why [`try_init`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InitError {
    /// The DSN (given in code or in `SENTRY_DSN`) does not parse. The inner
    /// error says what is wrong with it.
    InvalidDsn(DsnError),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::InvalidDsn(e) => write!(f, "cannot initialize vigil: {e}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::InvalidDsn(e) => Some(e),
        }
    }
}

/// Keeps the client alive; dropping it flushes queued events (at most
/// `shutdown_timeout`, 2 s by default) and closes the client.
///
/// Hold it for the life of the program, e.g. `let _guard = vigil::init(..)`
/// in `main`. `std::process::exit` skips destructors: call
/// [`InitGuard::close`] (or [`vigil::flush`](crate::flush)) before it.
#[must_use = "dropping the guard closes the client at once; bind it: `let _guard = vigil::init(..);`"]
pub struct InitGuard {
    client: Option<Arc<Client>>,
}

impl fmt::Debug for InitGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitGuard")
            .field("enabled", &self.is_enabled())
            .finish()
    }
}

impl InitGuard {
    /// Whether the SDK sends events (a valid DSN was given, or Spotlight is
    /// on).
    pub fn is_enabled(&self) -> bool {
        self.client.as_ref().is_some_and(|c| c.is_enabled())
    }

    /// The client `init` created, if any.
    pub fn client(&self) -> Option<&Arc<Client>> {
        self.client.as_ref()
    }

    /// Waits for queued events, at most `timeout` (`shutdown_timeout` when
    /// `None`), after the events of panics still being captured by the
    /// panic integration. Returns whether everything was sent.
    pub fn flush(&self, timeout: impl Into<Option<std::time::Duration>>) -> bool {
        let timeout = timeout.into();
        self.client.as_ref().is_none_or(|c| {
            wait_for_panic_reports(c, timeout);
            c.flush(timeout)
        })
    }

    /// Flushes within `shutdown_timeout` and closes the client now.
    /// Returns whether everything was sent.
    pub fn close(mut self) -> bool {
        self.client.take().is_none_or(|c| {
            wait_for_panic_reports(&c, None);
            c.close(None)
        })
    }
}

/// Panics of other threads still being captured by the panic integration
/// are handed to the client first (at most `timeout`, `shutdown_timeout`
/// when `None`).
fn wait_for_panic_reports(client: &Client, timeout: Option<std::time::Duration>) {
    #[cfg(feature = "panic")]
    crate::integrations::wait_for_panic_reports(
        timeout.unwrap_or(client.options().shutdown_timeout),
    );
    #[cfg(not(feature = "panic"))]
    let _ = (client, timeout);
}

impl Drop for InitGuard {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            wait_for_panic_reports(&client, None);
            client.close(None);
        }
    }
}

/// Initializes the SDK: creates a client from the options, binds it to the
/// main hub and makes that hub current for the calling thread.
///
/// Accepts a DSN string, [`ClientOptions`], or a `(dsn, ClientOptions)`
/// pair. Unset options are read from `SENTRY_DSN`, `SENTRY_RELEASE`,
/// `SENTRY_ENVIRONMENT`, `SENTRY_SAMPLE_RATE`, `SENTRY_TRACES_SAMPLE_RATE`,
/// `SENTRY_DEBUG` and
/// `SENTRY_SPOTLIGHT` (see [`Spotlight`](crate::Spotlight)); options given
/// in code win. Without an environment from either, it is `development`
/// in a build with debug assertions and `production` otherwise.
///
/// When `SENTRY_TRACE` (and optionally `SENTRY_BAGGAGE`) is set, as a
/// parent process that propagates its trace sets them, the main hub
/// continues that trace (see [`Hub::continue_trace`](crate::Hub::continue_trace));
/// a malformed value starts a new trace.
///
/// With a release set and `auto_session_tracking` on (the default), the
/// process's release-health session starts here (unless `session_mode` is
/// `SessionMode::Request`) and ends when the guard is dropped; see
/// [`SessionMode`].
///
/// With no DSN the SDK stays disabled: every call is a cheap no-op (unless
/// Spotlight is on: then it sends to Spotlight only). An
/// invalid DSN never panics: `init` prints the reason to stderr and returns
/// a disabled guard; use [`try_init`] to get the error instead.
///
/// Threads: the calling thread and every thread that makes its first SDK
/// call afterwards see the client (see [`Hub`](crate::Hub)).
pub fn init<C: IntoClientOptions>(config: C) -> InitGuard {
    match try_init(config) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("[vigil] {e}; the SDK is disabled");
            InitGuard { client: None }
        }
    }
}

/// [`init`], returning an error for an invalid DSN instead of disabling
/// the SDK.
///
/// ```
/// let err = vigil::try_init("ftp://key@example.invalid/1").unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "cannot initialize vigil: invalid dsn: unsupported scheme \"ftp\" (expected http or https)"
/// );
/// ```
///
/// # Errors
/// [`InitError::InvalidDsn`] when the DSN given in code, or in
/// `SENTRY_DSN`, does not parse.
pub fn try_init<C: IntoClientOptions>(config: C) -> Result<InitGuard, InitError> {
    let mut options = config
        .into_client_options()
        .map_err(InitError::InvalidDsn)?;
    options.apply_env().map_err(InitError::InvalidDsn)?;
    Ok(init_with_options(options))
}

fn init_with_options(mut options: ClientOptions) -> InitGuard {
    crate::defaults::default_integrations(&mut options);
    crate::defaults::default_environment(&mut options);
    options.transport = match options.transport.take() {
        None => crate::defaults::default_transport(),
        Some(factory)
            if options
                .spotlight
                .as_ref()
                .is_some_and(|s| s.url().is_some()) =>
        {
            Some(crate::defaults::with_spotlight_support(factory))
        }
        given => given,
    };
    let client = Arc::new(Client::new(options));
    vigil_core::__private::bind_client_to_main(client.clone());
    continue_trace_from_env(|name| std::env::var(name).ok());
    let options = client.options();
    if options.auto_session_tracking && options.session_mode != SessionMode::Request {
        vigil_core::Hub::main().start_session();
    }
    InitGuard {
        client: Some(client),
    }
}

/// Continues the trace a parent process passed in `SENTRY_TRACE` and
/// `SENTRY_BAGGAGE` on the main hub.
fn continue_trace_from_env(var: impl Fn(&str) -> Option<String>) {
    let Some(sentry_trace) = var("SENTRY_TRACE").filter(|v| !v.trim().is_empty()) else {
        return;
    };
    let baggage = var("SENTRY_BAGGAGE");
    let mut headers = vec![("sentry-trace", sentry_trace.as_str())];
    if let Some(baggage) = &baggage {
        headers.push(("baggage", baggage.as_str()));
    }
    vigil_core::Hub::main().continue_trace(headers);
}
