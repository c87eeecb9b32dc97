//! Stack traces for Vigil: turns backtraces into Sentry stack traces and
//! decides which frames are application code.
//!
//! - [`backtrace_to_stacktrace`] converts a [`backtrace::Backtrace`];
//!   [`current_stacktrace`] captures the calling thread's;
//!   [`std_backtrace_to_stacktrace`] parses a [`std::backtrace::Backtrace`]
//!   (which offers only text).
//! - [`process_stacktrace`] applies the in-app rules
//!   ([`ClientOptions::in_app_include`](vigil_core::ClientOptions::in_app_include),
//!   [`in_app_exclude`](vigil_core::ClientOptions::in_app_exclude) and the
//!   built-in list of system crates).
//! - [`AttachStacktraceIntegration`] adds a stack trace to message events
//!   when `attach_stacktrace` is on; [`ProcessStacktraceIntegration`]
//!   applies the in-app rules to stack traces events already carry. The
//!   `vigil` crate installs both by default.
//!
//! Frames are ordered the way Sentry expects: the oldest caller first, the
//! frame where the error happened last. The SDK's own frames and the panic
//! machinery are removed from that end.
//!
//! ```
//! let options = vigil_core::ClientOptions::default();
//! let stacktrace = vigil_backtrace::current_stacktrace(&options).unwrap();
//! let json = serde_json::to_value(&stacktrace).unwrap();
//! let innermost = json["frames"].as_array().unwrap().last().unwrap().clone();
//! assert_eq!(innermost["in_app"], true);
//! assert!(innermost["instruction_addr"].as_str().unwrap().starts_with("0x"));
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

mod convert;
mod in_app;
mod integrations;
mod names;

pub use crate::convert::{
    MAX_FRAMES, backtrace_to_stacktrace, current_stacktrace, current_thread,
    std_backtrace_to_stacktrace,
};
pub use crate::in_app::process_stacktrace;
pub use crate::integrations::{AttachStacktraceIntegration, ProcessStacktraceIntegration};
pub use backtrace;
