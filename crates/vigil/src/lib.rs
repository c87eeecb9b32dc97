#![doc = include_str!("../../../README.md")]
//!
//! # API overview
//!
//! - [`init`] / [`try_init`] create the client; the returned [`InitGuard`]
//!   flushes and closes it when dropped.
//! - [`configure_scope`], [`with_scope`] and [`push_scope`] manage scope
//!   data; [`capture_event`], [`capture_message`] and [`capture_error`]
//!   send events; [`add_breadcrumb`] records breadcrumbs.
//! - [`Hub`], [`Scope`] and [`Client`] are the building blocks behind the
//!   free functions.
//! - [`protocol`] holds the wire types.

mod defaults;
mod init;

pub use crate::init::{InitError, InitGuard, init, try_init};
pub use vigil_core::protocol::{self, Breadcrumb, Event, EventId, Level, User};
pub use vigil_core::{
    BeforeCallback, Client, ClientOptions, Hub, Integration, IntoBreadcrumbs, IntoClientOptions,
    LossRecorder, Scope, ScopeGuard, Transport, TransportContext, TransportFactory, add_breadcrumb,
    capture_error, capture_event, capture_message, configure_scope, event_from_error, flush,
    last_event_id, push_scope, with_scope,
};

/// Test support: run code under a fresh hub bound to a recording
/// transport and inspect what it captured (feature `test`).
#[cfg(feature = "test")]
pub mod test {
    pub use vigil_core::test::*;
}
