//! The integrations the facade installs by default, each behind a feature:
//!
//! | integration | name | feature |
//! |---|---|---|
//! | [`AttachStacktraceIntegration`](vigil_backtrace::AttachStacktraceIntegration) | `attach-stacktrace` | `backtrace` |
//! | [`ContextsIntegration`] | `contexts` | `contexts` |
//! | [`PanicIntegration`] | `panic` | `panic` |
//! | [`ProcessStacktraceIntegration`](vigil_backtrace::ProcessStacktraceIntegration) | `process-stacktrace` | `backtrace` |

use std::sync::Arc;

use vigil_core::Integration;

#[cfg(feature = "contexts")]
mod contexts;
#[cfg(feature = "panic")]
mod panic;

#[cfg(feature = "contexts")]
pub use self::contexts::ContextsIntegration;
#[cfg(feature = "panic")]
pub use self::panic::PanicIntegration;
#[cfg(feature = "panic")]
pub(crate) use self::panic::wait_for_reports as wait_for_panic_reports;

/// The default integrations compiled in, in the order they run: the stack
/// trace is attached first and in-app marking comes last, after every
/// other default integration added frames.
pub(crate) fn defaults() -> Vec<Arc<dyn Integration>> {
    vec![
        #[cfg(feature = "backtrace")]
        Arc::new(vigil_backtrace::AttachStacktraceIntegration::new()),
        #[cfg(feature = "contexts")]
        Arc::new(ContextsIntegration::new()),
        #[cfg(feature = "panic")]
        Arc::new(PanicIntegration::new()),
        #[cfg(feature = "backtrace")]
        Arc::new(vigil_backtrace::ProcessStacktraceIntegration::new()),
    ]
}
