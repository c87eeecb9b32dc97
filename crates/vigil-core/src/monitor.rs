//! Cron monitors: a job wrapped in check-ins (`in_progress`, then `ok` or
//! `error` with the duration), like sentry-python's `monitor` decorator.

use std::sync::Arc;
use std::time::Instant;

use vigil_protocol::{CheckIn, CheckInId, CheckInStatus, MonitorConfig};

use crate::hub::{Hub, any_client};

/// Runs `job` as one run of the cron monitor `monitor_slug`: sends an
/// `in_progress` check-in with a new id, runs the job, then sends `ok`
/// with the same id and the duration in seconds. When the job panics an
/// `error` check-in (with the duration) is sent and the panic goes on.
/// `config`, when given, is sent with both check-ins and creates or
/// updates the monitor.
///
/// The job's return value is passed through as it is; for a job that
/// returns a `Result` use [`monitor_result`], which reports `Err` as
/// `error`.
///
/// ```
/// use vigil_core::protocol::{CheckInStatus, EnvelopeItem, MonitorConfig, MonitorSchedule};
/// let envelopes = vigil_core::test::with_captured_envelopes(|| {
///     let config = MonitorConfig::new(MonitorSchedule::crontab("0 3 * * *").unwrap());
///     let rows = vigil_core::monitor("nightly-import", Some(config), || 42);
///     assert_eq!(rows, 42);
/// });
/// let statuses: Vec<_> = envelopes
///     .iter()
///     .flat_map(|e| e.items())
///     .filter_map(|item| match item {
///         EnvelopeItem::CheckIn(check_in) => Some(check_in.status),
///         _ => None,
///     })
///     .collect();
/// assert_eq!(statuses, [CheckInStatus::InProgress, CheckInStatus::Ok]);
/// ```
pub fn monitor<R>(
    monitor_slug: impl Into<String>,
    config: Option<MonitorConfig>,
    job: impl FnOnce() -> R,
) -> R {
    let guard = MonitorGuard::start(monitor_slug, config);
    let result = job();
    guard.ok();
    result
}

/// [`monitor`] for a job that returns a `Result`: `Ok` is reported as an
/// `ok` check-in, `Err` as `error` (both with the duration); a panic as
/// `error` before it goes on. The result is returned unchanged.
///
/// ```
/// # let envelopes = vigil_core::test::with_captured_envelopes(|| {
/// let result = vigil_core::monitor_result("hourly-sync", None, || "x".parse::<u32>());
/// assert!(result.is_err());
/// # });
/// # assert_eq!(envelopes.len(), 2);
/// ```
pub fn monitor_result<T, E>(
    monitor_slug: impl Into<String>,
    config: Option<MonitorConfig>,
    job: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let guard = MonitorGuard::start(monitor_slug, config);
    let result = job();
    match &result {
        Ok(_) => guard.ok(),
        Err(_) => guard.error(),
    };
    result
}

/// One run of a cron monitor, for jobs that [`monitor`] cannot wrap in a
/// closure (an `async` job, a run that ends elsewhere).
///
/// [`start`](MonitorGuard::start) sends the `in_progress` check-in; [`ok`](MonitorGuard::ok),
/// [`error`](MonitorGuard::error) or [`finish`](MonitorGuard::finish) sends the
/// last one with the same id and the duration. A guard dropped without
/// finishing (a panic, an early return with `?`, a future cancelled)
/// sends `error`.
///
/// The check-ins go to the hub that was current when the guard started,
/// so the guard may finish on another thread.
///
/// ```
/// use vigil_core::MonitorGuard;
/// # vigil_core::test::with_captured_envelopes(|| {
/// let run = MonitorGuard::start("queue-drain", None);
/// // ... the job, possibly across `.await`s ...
/// run.ok();
/// # });
/// ```
#[derive(Debug)]
#[must_use = "dropping the guard at once ends the run with an `error` check-in"]
pub struct MonitorGuard {
    /// `None` when no client was bound at the start: nothing is sent.
    hub: Option<Arc<Hub>>,
    monitor_slug: String,
    config: Option<MonitorConfig>,
    check_in_id: CheckInId,
    started: Instant,
    finished: bool,
}

impl MonitorGuard {
    /// Starts a run of monitor `monitor_slug` on the current hub: sends
    /// an `in_progress` check-in with a new id (and `config`, when given).
    pub fn start(monitor_slug: impl Into<String>, config: Option<MonitorConfig>) -> MonitorGuard {
        let hub = any_client().then(Hub::current);
        let mut guard = MonitorGuard {
            hub,
            monitor_slug: monitor_slug.into(),
            config,
            check_in_id: CheckInId::new(),
            started: Instant::now(),
            finished: false,
        };
        guard.send(CheckInStatus::InProgress, None);
        guard.started = Instant::now();
        guard
    }

    /// The id both check-ins of this run carry.
    pub fn check_in_id(&self) -> CheckInId {
        self.check_in_id
    }

    /// Ends the run successfully: sends `ok` with the duration.
    pub fn ok(self) -> CheckInId {
        self.finish(CheckInStatus::Ok)
    }

    /// Ends the run as failed: sends `error` with the duration.
    pub fn error(self) -> CheckInId {
        self.finish(CheckInStatus::Error)
    }

    /// Ends the run with `status`: sends it with the duration. Returns the
    /// run's check-in id.
    pub fn finish(mut self, status: CheckInStatus) -> CheckInId {
        self.end(status)
    }

    fn end(&mut self, status: CheckInStatus) -> CheckInId {
        self.finished = true;
        let duration = self.started.elapsed().as_secs_f64();
        self.send(status, Some(duration));
        self.check_in_id
    }

    fn send(&self, status: CheckInStatus, duration: Option<f64>) {
        let Some(hub) = &self.hub else {
            return;
        };
        let mut check_in = CheckIn::new(self.monitor_slug.clone(), status);
        check_in.check_in_id = self.check_in_id;
        check_in.duration = duration;
        check_in.monitor_config.clone_from(&self.config);
        hub.capture_check_in(check_in);
    }
}

impl Drop for MonitorGuard {
    /// Sends `error` when the run was not finished.
    fn drop(&mut self) {
        if !self.finished {
            self.end(CheckInStatus::Error);
        }
    }
}
