//! The timing harness: both SDKs run the same operation in batches,
//! alternating batch by batch, so a noisy neighbour slows both sides of a
//! pair alike.
//!
//! Each batch runs the operation `n` times in a tight, monomorphized loop
//! (the operation's result goes through `black_box`). `n` is calibrated
//! per SDK so that a batch takes about the configured batch time. A round
//! is one Vigil batch and one `sentry` batch, in alternating order; the
//! reported ratio is the median of the per-round ratios, and the reported
//! times are the medians of the per-batch times.

use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    /// Rounds (pairs of batches) measured.
    pub(crate) rounds: usize,
    /// Target duration of one batch.
    pub(crate) batch: Duration,
}

/// The result of [`time_pair`].
#[derive(Clone, Debug)]
pub(crate) struct PairTiming {
    /// Median ns per operation, Vigil.
    pub(crate) vigil_ns: f64,
    /// Median ns per operation, `sentry`.
    pub(crate) sentry_ns: f64,
    /// Median of the per-round ratios vigil/sentry.
    pub(crate) ratio: f64,
    /// 25th and 75th percentile of the per-round ratios.
    pub(crate) ratio_iqr: (f64, f64),
}

/// Runs `f` `n` times. Never inlined, so that every operation is measured
/// in a loop of its own.
#[inline(never)]
pub(crate) fn run_batch<F: FnMut()>(n: u64, f: &mut F) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed()
}

/// The loop run under callgrind (`--toggle-collect=*vigil_bench_measured_loop*`
/// collects only what happens inside it).
#[inline(never)]
pub(crate) fn vigil_bench_measured_loop<F: FnMut()>(n: u64, f: &mut F) {
    for _ in 0..n {
        f();
    }
}

/// How many iterations make one batch of about `target`.
pub(crate) fn calibrate<F: FnMut()>(target: Duration, f: &mut F) -> u64 {
    let mut n = 1u64;
    loop {
        let elapsed = run_batch(n, f);
        if elapsed >= target / 8 || n >= 1 << 40 {
            let per_op = elapsed.as_secs_f64() / n as f64;
            let wanted = (target.as_secs_f64() / per_op.max(1e-12)).ceil();
            return (wanted as u64).clamp(1, 1 << 40);
        }
        n *= 2;
    }
}

/// Median of `values` (sorted in place).
pub(crate) fn median(values: &mut [f64]) -> f64 {
    percentile(values, 0.5)
}

/// The `p` quantile (0..=1) of `values` (sorted in place), interpolated.
pub(crate) fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let pos = p * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let w = pos - lo as f64;
    values[lo] * (1.0 - w) + values[hi] * w
}

/// Times `vigil` against `sentry`, interleaved. Each closure performs one
/// operation; their calibrated batch sizes may differ.
pub(crate) fn time_pair<V: FnMut(), S: FnMut()>(
    config: Config,
    mut vigil: V,
    mut sentry: S,
) -> PairTiming {
    // Warm up (caches, lazy statics, allocator pools), then calibrate.
    run_batch(64, &mut vigil);
    run_batch(64, &mut sentry);
    let nv = calibrate(config.batch, &mut vigil);
    let ns = calibrate(config.batch, &mut sentry);
    let mut v_times = Vec::with_capacity(config.rounds);
    let mut s_times = Vec::with_capacity(config.rounds);
    let mut ratios = Vec::with_capacity(config.rounds);
    for round in 0..config.rounds {
        let (v, s) = if round % 2 == 0 {
            let v = run_batch(nv, &mut vigil);
            let s = run_batch(ns, &mut sentry);
            (v, s)
        } else {
            let s = run_batch(ns, &mut sentry);
            let v = run_batch(nv, &mut vigil);
            (v, s)
        };
        let v = v.as_secs_f64() * 1e9 / nv as f64;
        let s = s.as_secs_f64() * 1e9 / ns as f64;
        v_times.push(v);
        s_times.push(s);
        ratios.push(v / s);
    }
    PairTiming {
        vigil_ns: median(&mut v_times),
        sentry_ns: median(&mut s_times),
        ratio: median(&mut ratios),
        ratio_iqr: (percentile(&mut ratios, 0.25), percentile(&mut ratios, 0.75)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(median(&mut v), 3.0);
        assert_eq!(percentile(&mut v, 0.25), 2.0);
        assert_eq!(percentile(&mut v, 1.0), 5.0);
        let mut even = vec![1.0, 2.0];
        assert_eq!(median(&mut even), 1.5);
    }

    #[test]
    fn calibration_reaches_the_target() {
        let mut x = 0u64;
        let mut op = || {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        };
        let n = calibrate(Duration::from_millis(2), &mut op);
        assert!(n > 100, "{n}");
    }
}
