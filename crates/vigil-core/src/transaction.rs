//! Transactions and spans: timing the work of a service in a distributed
//! trace (Sentry's performance monitoring), with the reference SDK's names
//! and shapes.
//!
//! - [`TransactionContext`]: what a transaction starts from.
//! - [`start_transaction`](crate::start_transaction) decides sampling
//!   (`traces_sampler`, the upstream decision, `traces_sample_rate`) and
//!   returns a [`Transaction`].
//! - [`Span`]s time the parts; [`TransactionOrSpan`] is what a scope holds.
//! - Finishing a sampled transaction sends it through the client's
//!   transaction pipeline: scope data, `ignore_transactions`,
//!   `before_send_transaction`, the 1 MiB limit, the transport.

mod context;
pub(crate) mod either;
mod running;
mod sampling;
mod span;
mod start;

pub use self::context::TransactionContext;
pub use self::either::TransactionOrSpan;
pub use self::running::Transaction;
pub use self::span::Span;
pub use self::start::start_transaction;

/// The origin of spans and transactions that code started by hand
/// (Sentry's `manual`), kept inline (no allocation per span).
pub(crate) fn manual_origin() -> vigil_protocol::SmolStr {
    vigil_protocol::SmolStr::new_static("manual")
}
