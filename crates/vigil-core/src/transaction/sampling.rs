//! Whether a transaction is sampled, and at which rate: the decision made
//! in code, else the `traces_sampler`, else the upstream decision, else
//! `traces_sample_rate`, each compared with the trace's `sample_rand`.

use crate::options::ClientOptions;
use crate::panic_guard::call_guarded;
use crate::transaction::context::TransactionContext;

/// The sampling decision of a transaction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decision {
    pub(crate) sampled: bool,
    /// The rate that decided (sent in the DSC as `sample_rate`).
    pub(crate) sample_rate: f64,
    /// Whether a sampling rule applied at all. Without one (no
    /// `traces_sample_rate`, no sampler, no decision in code) tracing is
    /// off: nothing is recorded, and nothing is counted as sampled out.
    pub(crate) considered: bool,
}

/// Decides for `ctx` with `options` (see the module docs). A
/// `traces_sampler` that panics is reported and ignored: the decision
/// falls back as if there were none.
pub(crate) fn decide(ctx: &TransactionContext, options: &ClientOptions) -> Decision {
    if let Some(sampled) = ctx.sampled {
        return Decision {
            sampled,
            sample_rate: if sampled { 1.0 } else { 0.0 },
            considered: true,
        };
    }
    if let Some(sampler) = &options.traces_sampler
        && let Some(rate) = call_guarded("traces_sampler", None, || sampler(ctx))
    {
        return by_rate(ctx, f64::from(rate));
    }
    let tracing = options.is_tracing_enabled();
    match ctx.parent_sampled {
        Some(sampled) if tracing => {
            let upstream_rate = ctx.incoming_dsc.as_ref().and_then(|d| d.sample_rate());
            Decision {
                sampled,
                sample_rate: upstream_rate.unwrap_or(if sampled { 1.0 } else { 0.0 }),
                considered: true,
            }
        }
        _ if tracing => by_rate(ctx, f64::from(options.traces_sample_rate)),
        _ => Decision {
            sampled: false,
            sample_rate: 0.0,
            considered: false,
        },
    }
}

/// Sampled when the trace's random value is below `rate` (clamped to
/// `[0, 1]`; not a number counts as 0).
fn by_rate(ctx: &TransactionContext, rate: f64) -> Decision {
    let rate = if rate.is_nan() {
        0.0
    } else {
        rate.clamp(0.0, 1.0)
    };
    Decision {
        sampled: ctx.sample_rand < rate,
        sample_rate: rate,
        considered: true,
    }
}
