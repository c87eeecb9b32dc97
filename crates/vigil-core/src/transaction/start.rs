//! Starting a transaction on a hub: the sampling decision with the hub's
//! client.

use crate::hub::{Hub, any_client};
use crate::transaction::context::TransactionContext;
use crate::transaction::running::Transaction;
use crate::transaction::sampling::{Decision, decide};

/// The decision of a transaction started without an enabled client: not
/// sampled, and nothing to count.
const DISABLED: Decision = Decision {
    sampled: false,
    sample_rate: 0.0,
    considered: false,
};

/// Starts a transaction on the current hub (see [`Hub::start_transaction`]).
///
/// ```
/// use vigil_core::{TransactionContext, start_transaction};
/// let transaction = start_transaction(TransactionContext::new("nightly-report", "task"));
/// // ... the work, timed with transaction.start_child(..) ...
/// transaction.finish();
/// ```
#[inline]
pub fn start_transaction(ctx: TransactionContext) -> Transaction {
    if !any_client() {
        return Transaction::new(ctx, None, DISABLED);
    }
    Hub::with_current(|hub| hub.start_transaction(ctx))
}

impl Hub {
    /// Starts a transaction with this hub's client, deciding whether it is
    /// sampled: the decision set on `ctx` in code, else `traces_sampler`
    /// (which sees the upstream decision through
    /// [`TransactionContext::parent_sampled`]), else the upstream decision,
    /// else `traces_sample_rate`, each compared with the trace's
    /// `sample_rand`. Without an enabled client the transaction records
    /// nothing.
    ///
    /// The transaction is not made the scope's span: call
    /// [`Scope::set_span`](crate::Scope::set_span) for events and outgoing
    /// headers to carry it.
    pub fn start_transaction(&self, ctx: TransactionContext) -> Transaction {
        match self.client().filter(|c| c.is_enabled()) {
            Some(client) => {
                let decision = decide(&ctx, client.options());
                Transaction::new(ctx, Some(client), decision)
            }
            None => Transaction::new(ctx, None, DISABLED),
        }
    }
}
