//! Integration tests of `vigil-tower` (one binary; every test runs under a
//! hub of its own, so they may run in parallel).

mod breadcrumbs;
mod headers;
mod hyper_server;
mod naming;
mod panics;
mod send_sync;
mod server_errors;
mod support;
mod traces;
