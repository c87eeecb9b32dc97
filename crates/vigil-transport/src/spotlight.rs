//! The Spotlight transport: a copy of every envelope, posted to the local
//! Spotlight sidecar (`http://localhost:8969/stream` by default) on a
//! thread of its own.

use std::fmt;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use vigil_core::Transport;
use vigil_core::protocol::Envelope;

/// Envelopes waiting for Spotlight; more are dropped (a local copy, not
/// counted in client reports).
const QUEUE: usize = 100;
/// How long one post may take: Spotlight runs next to the program.
const TIMEOUT: Duration = Duration::from_secs(5);
/// The first pause after Spotlight could not be reached, doubling to
/// [`MAX_BACKOFF`] while it stays unreachable.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

enum Job {
    Send(Envelope),
    Flush(mpsc::Sender<()>),
}

/// Posts a copy of every envelope to Spotlight
/// ([`ClientOptions::spotlight`](vigil_core::ClientOptions::spotlight)),
/// never blocking the caller.
///
/// - Envelopes wait in a queue of 100; when it is full they are dropped.
/// - When Spotlight cannot be reached, one message goes to stderr
///   (`[vigil] Spotlight is not reachable at <url>: <error>`), and the
///   envelopes of the next second are dropped. The pause doubles to 60 s
///   while Spotlight stays away, and ends at its first answer.
/// - Nothing here touches what the main transport sends to Sentry.
pub struct SpotlightTransport {
    url: String,
    jobs: Mutex<Option<SyncSender<Job>>>,
}

impl fmt::Debug for SpotlightTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpotlightTransport")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl SpotlightTransport {
    /// A transport posting to `url`; `None` when its thread cannot be
    /// started.
    pub fn new(url: &str) -> Option<Arc<SpotlightTransport>> {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(TIMEOUT))
            .user_agent(vigil_core::USER_AGENT)
            .build();
        let agent = ureq::Agent::new_with_config(config);
        let (jobs, queue) = mpsc::sync_channel(QUEUE);
        let poster = Poster {
            url: url.to_owned(),
            agent,
            unreachable_until: None,
            backoff: FIRST_BACKOFF,
        };
        thread::Builder::new()
            .name("vigil-spotlight".into())
            .spawn(move || poster.run(queue))
            .ok()?;
        vigil_core::vigil_debug!("a copy of every envelope goes to Spotlight at {url}");
        Some(Arc::new(SpotlightTransport {
            url: url.to_owned(),
            jobs: Mutex::new(Some(jobs)),
        }))
    }

    fn sender(&self) -> Option<SyncSender<Job>> {
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Transport for SpotlightTransport {
    fn send_envelope(&self, envelope: Envelope) {
        let Some(jobs) = self.sender() else {
            return;
        };
        if let Err(TrySendError::Full(_)) = jobs.try_send(Job::Send(envelope)) {
            vigil_core::vigil_debug!("Spotlight's queue is full: envelope not copied");
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        let Some(jobs) = self.sender() else {
            return true;
        };
        let (done, finished) = mpsc::channel();
        let deadline = Instant::now() + timeout;
        // Waits for room at most until the deadline.
        let mut job = Job::Flush(done);
        loop {
            match jobs.try_send(job) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return true,
                Err(TrySendError::Full(back)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    job = back;
                    thread::sleep(Duration::from_millis(1));
                }
            }
        }
        !matches!(
            finished.recv_timeout(deadline.saturating_duration_since(Instant::now())),
            Err(RecvTimeoutError::Timeout)
        )
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let flushed = self.flush(timeout);
        // The thread ends once the queue is empty and closed.
        self.jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        flushed
    }
}

/// The thread's side: posts envelopes, backs off while Spotlight is away.
struct Poster {
    url: String,
    agent: ureq::Agent,
    unreachable_until: Option<Instant>,
    backoff: Duration,
}

impl Poster {
    fn run(mut self, queue: Receiver<Job>) {
        for job in queue {
            match job {
                Job::Send(envelope) => self.post(&envelope),
                Job::Flush(done) => {
                    let _ = done.send(());
                }
            }
        }
    }

    fn post(&mut self, envelope: &Envelope) {
        if self
            .unreachable_until
            .is_some_and(|until| Instant::now() < until)
        {
            return;
        }
        let Ok(body) = envelope.to_vec() else {
            return;
        };
        let answer = self
            .agent
            .post(&self.url)
            .header("Content-Type", "application/x-sentry-envelope")
            .send(&body[..]);
        match answer {
            Ok(response) if response.status().is_success() => {
                if self.unreachable_until.take().is_some() {
                    vigil_core::vigil_debug!("Spotlight is reachable again at {}", self.url);
                }
                self.backoff = FIRST_BACKOFF;
            }
            Ok(response) => {
                vigil_core::vigil_debug!(
                    "Spotlight at {} answered {}: envelope not shown",
                    self.url,
                    response.status()
                );
            }
            Err(error) => {
                if self.unreachable_until.is_none() {
                    eprintln!(
                        "[vigil] Spotlight is not reachable at {}: {error} (copies are dropped, trying again with back-off)",
                        self.url
                    );
                } else {
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
                self.unreachable_until = Some(Instant::now() + self.backoff);
            }
        }
    }
}
