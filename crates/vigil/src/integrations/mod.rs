//! The integrations, one module each (the layout of the reference SDK's
//! `sentry::integrations`, so that `sentry::integrations::panic::…` becomes
//! `vigil::integrations::panic::…`).
//!
//! The facade installs these by default, each behind a feature:
//!
//! | integration | name | feature |
//! |---|---|---|
//! | [`backtrace::AttachStacktraceIntegration`] | `attach-stacktrace` | `backtrace` |
//! | [`contexts::ContextsIntegration`] | `contexts` | `contexts` |
//! | [`debug_images::DebugImagesIntegration`] | `debug-images` | `debug-images` |
//! | [`panic::PanicIntegration`] | `panic` | `panic` |
//! | [`backtrace::ProcessStacktraceIntegration`] | `process-stacktrace` | `backtrace` |
//!
//! The others are set up by the user, each behind the feature of the same
//! name: `log`, `slog`, `tracing`, `tower`, `actix`, `anyhow`, `eyre`, `reqwest`,
//! `opentelemetry`.

use std::sync::Arc;

use vigil_core::Integration;

#[cfg(feature = "contexts")]
pub mod contexts;
#[cfg(feature = "panic")]
pub mod panic;

#[cfg(feature = "contexts")]
use self::contexts::ContextsIntegration;
#[cfg(feature = "panic")]
use self::panic::PanicIntegration;

/// Stack traces: attaching them and marking in-app frames (feature
/// `backtrace`).
#[cfg(feature = "backtrace")]
pub mod backtrace {
    pub use vigil_backtrace::{
        AttachStacktraceIntegration, ProcessStacktraceIntegration, backtrace_to_stacktrace,
        current_stacktrace, current_thread, process_stacktrace,
    };
}

/// The `log` integration (feature `log`): see [`vigil_log`].
#[cfg(feature = "log")]
pub use vigil_log as log;

/// The `slog` integration (feature `slog`): see [`vigil_slog`].
#[cfg(feature = "slog")]
pub use vigil_slog as slog;

/// The `tracing` integration (feature `tracing`): see [`vigil_tracing`].
#[cfg(feature = "tracing")]
pub use vigil_tracing as tracing;

/// Per-request hubs for tower services (feature `tower`): see [`vigil_tower`].
#[cfg(feature = "tower")]
pub use vigil_tower as tower;

/// `anyhow` errors with their backtraces (feature `anyhow`): see [`vigil_anyhow`].
#[cfg(feature = "anyhow")]
pub use vigil_anyhow as anyhow;
/// Debug images for server-side symbolication (feature `debug-images`):
/// see [`vigil_debug_images`].
#[cfg(feature = "debug-images")]
pub mod debug_images {
    pub use vigil_debug_images::{DebugImagesIntegration, debug_id_from_build_id, debug_images};
}

/// Per-request hubs for actix-web 4 (feature `actix`): see [`vigil_actix`].
#[cfg(feature = "actix")]
pub use vigil_actix as actix;
/// `eyre` reports with `color-eyre`'s backtraces (feature `eyre`): see [`vigil_eyre`].
#[cfg(feature = "eyre")]
pub use vigil_eyre as eyre;

/// Outgoing `reqwest` requests as spans (feature `reqwest`): see [`vigil_reqwest`].
#[cfg(feature = "reqwest")]
pub use vigil_reqwest as reqwest;

#[cfg(feature = "panic")]
pub(crate) use self::panic::wait_for_reports as wait_for_panic_reports;
/// OpenTelemetry side by side (feature `opentelemetry`): see [`vigil_opentelemetry`].
#[cfg(feature = "opentelemetry")]
pub use vigil_opentelemetry as opentelemetry;

/// The default integrations compiled in, in the order they run: the stack
/// trace is attached first and in-app marking comes last, after every
/// other default integration added frames.
pub(crate) fn defaults() -> Vec<Arc<dyn Integration>> {
    vec![
        #[cfg(feature = "backtrace")]
        Arc::new(vigil_backtrace::AttachStacktraceIntegration::new()),
        // After the attached stack trace, so that message events with one
        // get the images too.
        #[cfg(feature = "debug-images")]
        Arc::new(vigil_debug_images::DebugImagesIntegration::new()),
        #[cfg(feature = "contexts")]
        Arc::new(ContextsIntegration::new()),
        #[cfg(feature = "panic")]
        Arc::new(PanicIntegration::new()),
        #[cfg(feature = "backtrace")]
        Arc::new(vigil_backtrace::ProcessStacktraceIntegration::new()),
    ]
}
