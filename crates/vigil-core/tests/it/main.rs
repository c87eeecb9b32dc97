//! Integration tests of the hub, scope and client semantics. None of these
//! touch the main hub; tests that do live in their own binaries.

mod caller_panics;
mod capture;
mod check_ins;
mod concurrency;
mod errors;
mod feedback;
mod hub;
mod list_merge;
mod logs;
mod metrics;
mod options_env;
mod panics;
mod pipeline;
mod propagation;
mod scope_stack;
mod sessions;
mod support;
mod transactions;
