//! Operation 8: `capture_message` from two threads at once.
//!
//! Two persistent worker threads (each with the thread hub its SDK forks
//! from the main hub's standard scope on first use) run batches on
//! command. A round measures six batches in rotating order: Vigil on one
//! thread and on two, `sentry` on one and on two, and a pure-CPU spin loop
//! on one and on two. Per-event time is the batch's wall time divided by
//! the events of all its threads. The spin loop shows how much two threads
//! can gain on this machine at the moment (shared or busy cores cap every
//! scaling figure below 2).

use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Config, median, percentile};
use crate::ops::{Sdk, sentry_capture, vigil_capture};

const WORKERS: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Work {
    Capture(Sdk),
    /// About a microsecond of register-only arithmetic per unit.
    Spin,
}

#[derive(Clone, Copy, Debug)]
enum Cmd {
    Run { work: Work, threads: usize, n: u64 },
    Exit,
}

fn spin() {
    let mut x = std::hint::black_box(1u64);
    for _ in 0..1_000 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    }
    std::hint::black_box(x);
}

#[derive(Debug)]
struct Pool {
    cmd: Arc<Mutex<Cmd>>,
    start: Arc<Barrier>,
    end: Arc<Barrier>,
    handles: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new() -> Pool {
        let cmd = Arc::new(Mutex::new(Cmd::Exit));
        let start = Arc::new(Barrier::new(WORKERS + 1));
        let end = Arc::new(Barrier::new(WORKERS + 1));
        let handles = (0..WORKERS)
            .map(|index| {
                let (cmd, start, end) = (cmd.clone(), start.clone(), end.clone());
                std::thread::Builder::new()
                    .name(format!("bench-worker-{index}"))
                    .spawn(move || {
                        loop {
                            start.wait();
                            let c = *cmd.lock().unwrap_or_else(PoisonError::into_inner);
                            match c {
                                Cmd::Exit => {
                                    end.wait();
                                    return;
                                }
                                Cmd::Run { work, threads, n } => {
                                    if index < threads {
                                        let f = match work {
                                            Work::Capture(Sdk::Vigil) => vigil_capture,
                                            Work::Capture(Sdk::Sentry) => sentry_capture,
                                            Work::Spin => spin,
                                        };
                                        for _ in 0..n {
                                            f();
                                        }
                                    }
                                    end.wait();
                                }
                            }
                        }
                    })
                    .expect("spawn worker")
            })
            .collect();
        Pool {
            cmd,
            start,
            end,
            handles,
        }
    }

    /// Runs `n` captures on each of `threads` workers; returns ns per
    /// event (wall time over all events).
    fn run(&self, work: Work, threads: usize, n: u64) -> f64 {
        *self.cmd.lock().unwrap_or_else(PoisonError::into_inner) = Cmd::Run { work, threads, n };
        self.start.wait();
        let t = Instant::now();
        self.end.wait();
        t.elapsed().as_secs_f64() * 1e9 / (n * threads as u64) as f64
    }

    fn calibrate(&self, work: Work, target: Duration) -> u64 {
        let mut n = 16;
        loop {
            let ns = self.run(work, 1, n);
            let elapsed = ns * n as f64;
            if elapsed >= target.as_secs_f64() * 1e9 / 8.0 {
                return ((target.as_secs_f64() * 1e9 / ns).ceil() as u64).max(1);
            }
            n *= 2;
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        *self.cmd.lock().unwrap_or_else(PoisonError::into_inner) = Cmd::Exit;
        self.start.wait();
        self.end.wait();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Measures operation 8 (both SDKs already initialised, standard scope set
/// on the main hub).
pub(crate) fn measure(config: Config) -> Value {
    let pool = Pool::new();
    let (vigil, sentry) = (Work::Capture(Sdk::Vigil), Work::Capture(Sdk::Sentry));
    for work in [vigil, sentry] {
        pool.run(work, WORKERS, 64);
    }
    let nv = pool.calibrate(vigil, config.batch);
    let ns = pool.calibrate(sentry, config.batch);
    let nm = pool.calibrate(Work::Spin, config.batch);
    let plan = [
        (vigil, 1, nv),
        (vigil, WORKERS, nv),
        (sentry, 1, ns),
        (sentry, WORKERS, ns),
        (Work::Spin, 1, nm),
        (Work::Spin, WORKERS, nm),
    ];
    let mut samples: [Vec<f64>; 6] = Default::default();
    let (mut ratios, mut vigil_scaling, mut sentry_scaling, mut machine_scaling) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 0..config.rounds {
        let mut got = [0.0; 6];
        for k in 0..plan.len() {
            let i = (k + round) % plan.len();
            let (work, threads, n) = plan[i];
            got[i] = pool.run(work, threads, n);
        }
        for (s, g) in samples.iter_mut().zip(got) {
            s.push(g);
        }
        ratios.push(got[1] / got[3]);
        vigil_scaling.push(got[0] / got[1]);
        sentry_scaling.push(got[2] / got[3]);
        machine_scaling.push(got[4] / got[5]);
    }
    let [v1, v2, s1, s2, _, _] = &mut samples;
    json!({
        "vigil_1t_ns": median(v1),
        "vigil_ns": median(v2),
        "sentry_1t_ns": median(s1),
        "sentry_ns": median(s2),
        "ratio": median(&mut ratios),
        "ratio_p25": percentile(&mut ratios, 0.25),
        "ratio_p75": percentile(&mut ratios, 0.75),
        "vigil_scaling": median(&mut vigil_scaling),
        "vigil_scaling_p25": percentile(&mut vigil_scaling, 0.25),
        "vigil_scaling_p75": percentile(&mut vigil_scaling, 0.75),
        "sentry_scaling": median(&mut sentry_scaling),
        "machine_scaling": median(&mut machine_scaling),
    })
}
