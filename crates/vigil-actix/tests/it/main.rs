//! Integration tests of `vigil-actix` (one binary; every test runs under a
//! hub of its own, so they may run in parallel).

mod bodies;
mod headers;
mod panics;
mod reference_names;
mod server_errors;
mod support;
mod traces;
