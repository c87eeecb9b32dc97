//! `PanicIntegration`: a panic hook that reports panics as fatal events.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, SyncSender};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use vigil_backtrace::backtrace::Backtrace;
use vigil_core::protocol::{Event, Exception, Level, Mechanism, Thread, Values};
use vigil_core::{ClientOptions, Hub, Integration};

/// Reports every panic as a fatal event, then lets the previous panic hook
/// run (by default the one printing the message to stderr).
///
/// The event has one exception `{"type": "panic", "value": <message>,
/// "mechanism": {"type": "panic", "handled": false}, "stacktrace": ..,
/// "thread_id": ..}` and one `threads` entry for the panicking thread
/// (`id`, `name`, `crashed: true`, `current: true`; the stack trace is not
/// repeated there). When the panic will end the process (on the main
/// thread, or in a build with `panic = "abort"`) the hook then waits for the
/// event to be captured and flushes the client, each at most
/// [`ClientOptions::shutdown_timeout`], so the event is delivered before the
/// process exits. A panic on any other thread (a server's worker, where the
/// runtime catches it) holds that thread only to record the panic (the
/// message, the thread, the unsymbolized stack and a copy of the hub's top
/// scope: tens of microseconds): a bad request never stalls a worker, even
/// with the server unreachable. The event is then built and sent like any
/// other, and flushed when the client closes: dropping the `init` guard
/// (as a panic unwinding `main` does) first waits, at most
/// `shutdown_timeout`, for panics still being captured. So the capture is
/// asynchronous: an event captured right after the panicking thread was
/// joined may reach the client before the panic's event;
/// [`InitGuard::flush`](crate::InitGuard::flush) waits for the panics
/// reported so far.
///
/// # Behaviour
/// - The hook is installed once per process, by the first client created
///   with this integration; it chains the hook that was set before. It
///   captures only while the current hub's client has this integration,
///   so a later client without it turns capturing off. Set other panic
///   hooks *before* `vigil::init`: a hook set afterwards replaces this one.
/// - Every panic is reported, including those later caught with
///   `catch_unwind`: the hook cannot know.
/// - Works on any thread, also while the thread's locals are being
///   destroyed (the main hub is used when the thread's own hub is gone).
/// - The stack trace is symbolized and the event goes through the usual
///   pipeline (scope data as it was at the panic, event processors,
///   integrations, `before_send`) on one long-lived thread, `vigil-panic`,
///   which paces a burst of panics (about a quarter of a core) so that
///   capturing them does not take a core from the service at once.
///   (It keeps the normal priority: it shares the symbolizer's lock with
///   the stack walk on the panicking thread, which must not wait for a
///   descheduled holder.)
///   A panic on the panicking thread while its hook runs aborts the
///   process, so user callbacks must not run there; on `vigil-panic` a
///   panicking callback only drops the event (reported on stderr), and its
///   own panic is not captured again. Event processors that read
///   thread-locals see that thread's. If that thread cannot be started the
///   pipeline runs on the panicking thread itself.
/// - Up to 1,024 panics wait for `vigil-panic`; beyond that a panicking
///   thread waits for room (back-pressure: panics are never dropped here;
///   the transport's queue bounds and counts what is sent).
/// - Panics on the SDK's own threads (`vigil-transport`, `vigil-panic`)
///   are not captured (the previous hook still reports them): sending them
///   would go through the thread that failed.
///
/// Name: `panic`. On by default (feature `panic`).
#[derive(Debug, Default, Clone, Copy)]
#[non_exhaustive]
pub struct PanicIntegration;

impl PanicIntegration {
    /// The integration.
    pub fn new() -> PanicIntegration {
        PanicIntegration
    }
}

impl Integration for PanicIntegration {
    fn name(&self) -> &'static str {
        "panic"
    }

    fn setup(&self, _options: &mut ClientOptions) {
        install_hook();
    }
}

static INSTALLED: AtomicBool = AtomicBool::new(false);
static INSTALLING: Mutex<()> = Mutex::new(());

thread_local! {
    /// Set on threads running SDK work for the hook: a panic there is not
    /// captured again.
    static IN_SDK: Cell<bool> = const { Cell::new(false) };
}

fn install_hook() {
    // `take_hook`/`set_hook` panic when called on a panicking thread (a
    // client created in a destructor during unwinding), and a second panic
    // there aborts: leave the installation to a later client.
    if INSTALLED.load(Ordering::Acquire) || thread::panicking() {
        return;
    }
    let _lock = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    if INSTALLED.load(Ordering::Acquire) {
        return;
    }
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        capture_panic(info);
        previous(info);
    }));
    INSTALLED.store(true, Ordering::Release);
}

/// Threads of the SDK whose panics are not captured: reporting them would
/// go through the very thread that failed (the transport worker would wait
/// for itself until the flush times out).
const SDK_THREADS: &[&str] = &["vigil-transport", "vigil-panic"];

fn in_sdk() -> bool {
    // The flag has no destructor, so it stays readable during teardown;
    // if it is not, err on the side of not capturing.
    IN_SDK.try_with(Cell::get).unwrap_or(true)
        || thread::current()
            .name()
            .is_some_and(|name| SDK_THREADS.contains(&name))
}

struct SdkGuard(bool);

impl SdkGuard {
    fn enter() -> SdkGuard {
        SdkGuard(IN_SDK.try_with(|f| f.replace(true)).unwrap_or(true))
    }
}

impl Drop for SdkGuard {
    fn drop(&mut self) {
        let previous = self.0;
        let _ = IN_SDK.try_with(|f| f.set(previous));
    }
}

/// The panic's message: the `&str` or `String` payload.
fn message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_owned())
}

/// What the panicking thread records of a panic: cheap to take (the stack
/// is walked, not symbolized), so the worker goes on at once.
struct PanicReport {
    /// A copy of the panicking thread's hub with its top scope as it was
    /// at the panic (the request's scope is popped while the panic
    /// unwinds, before the capture thread gets to it).
    hub: Arc<Hub>,
    message: String,
    backtrace: Backtrace,
    thread: Thread,
}

impl PanicReport {
    fn take(info: &PanicHookInfo<'_>, hub: &Arc<Hub>) -> PanicReport {
        PanicReport {
            hub: Arc::new(Hub::new_from_top(hub)),
            message: message(info.payload()),
            backtrace: Backtrace::new_unresolved(),
            thread: vigil_backtrace::current_thread(),
        }
    }

    /// The event, with the stack trace symbolized here.
    fn into_event(self, options: &ClientOptions) -> (Arc<Hub>, Event) {
        let exception = Exception {
            ty: "panic".into(),
            value: Some(self.message),
            mechanism: Some(Mechanism {
                ty: "panic".into(),
                handled: Some(false),
                ..Default::default()
            }),
            stacktrace: vigil_backtrace::backtrace_to_stacktrace(&self.backtrace, options),
            thread_id: self.thread.id.clone(),
            ..Default::default()
        };
        let event = Event {
            level: Level::Fatal,
            exception: Values::from(vec![exception]),
            threads: Values::from(vec![Thread {
                crashed: Some(true),
                current: Some(true),
                ..self.thread
            }]),
            ..Event::default()
        };
        (self.hub, event)
    }

    /// Runs the event pipeline (user callbacks included) for the report.
    /// Never panics: a panic in it drops the event (reported on stderr).
    fn capture(self) {
        let _guard = SdkGuard::enter();
        let _ = vigil_core::call_guarded("panic report", None, || {
            let Some(client) = self.hub.client() else {
                return;
            };
            let (hub, event) = self.into_event(client.options());
            Hub::run(hub.clone(), || hub.capture_event(event));
        });
    }
}

/// How many reports the capture thread may have waiting before a
/// panicking thread waits for room (back-pressure, never a loss).
const QUEUE_CAPACITY: usize = 1024;

/// The reports handed to the capture thread and not captured yet. Atomic,
/// so a panicking thread never waits on a lock the capture thread holds.
static PENDING: AtomicUsize = AtomicUsize::new(0);
/// Threads in [`wait_for_reports`]: only then does the capture thread take
/// the lock to wake them.
static WAITERS: AtomicUsize = AtomicUsize::new(0);
static WAITING: Mutex<()> = Mutex::new(());
static CAPTURED: Condvar = Condvar::new();

/// One report went through the pipeline: wakes the waiters, if any.
fn report_done() {
    PENDING.fetch_sub(1, Ordering::SeqCst);
    if WAITERS.load(Ordering::SeqCst) > 0 {
        let _lock = WAITING.lock().unwrap_or_else(PoisonError::into_inner);
        CAPTURED.notify_all();
    }
}

/// The long-lived `vigil-panic` thread capturing reports; `None` when it
/// could not be started (the panicking thread captures itself).
fn capture_thread() -> Option<&'static SyncSender<PanicReport>> {
    static SENDER: OnceLock<Option<SyncSender<PanicReport>>> = OnceLock::new();
    SENDER
        .get_or_init(|| {
            let (sender, reports) = mpsc::sync_channel::<PanicReport>(QUEUE_CAPACITY);
            thread::Builder::new()
                .name("vigil-panic".into())
                .spawn(move || {
                    for report in reports {
                        let started = Instant::now();
                        report.capture();
                        report_done();
                        pace(started.elapsed());
                    }
                })
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

/// During a burst of panics, the capture thread takes at most about a
/// quarter of a core: after a capture that took `spent`, it pauses three
/// times as long while more reports wait. So the burst's cost is spread
/// over time instead of taking a core from the service's healthy requests
/// at once. No pause when someone waits for the reports (a flush, a panic
/// ending the process) or when the queue is half full (then it catches up
/// at full speed).
fn pace(spent: Duration) {
    let pending = PENDING.load(Ordering::SeqCst);
    if pending == 0 || pending >= QUEUE_CAPACITY / 2 || WAITERS.load(Ordering::SeqCst) > 0 {
        return;
    }
    thread::sleep(spent.saturating_mul(PACE_FACTOR).min(MAX_PAUSE));
}

/// The pause after a capture, as a multiple of its time.
const PACE_FACTOR: u32 = 3;
/// The longest pause between two captures.
const MAX_PAUSE: Duration = Duration::from_millis(5);

/// Waits until every panic reported so far went through the pipeline (its
/// event handed to the transport), at most `timeout`. Returns whether none
/// is left. The init guard calls it before it flushes and closes.
pub(crate) fn wait_for_reports(timeout: Duration) -> bool {
    WAITERS.fetch_add(1, Ordering::SeqCst);
    let lock = WAITING.lock().unwrap_or_else(PoisonError::into_inner);
    let _lock = CAPTURED
        .wait_timeout_while(lock, timeout, |()| PENDING.load(Ordering::SeqCst) > 0)
        .unwrap_or_else(PoisonError::into_inner);
    WAITERS.fetch_sub(1, Ordering::SeqCst);
    PENDING.load(Ordering::SeqCst) == 0
}

/// Runs on the panicking thread. Must not panic: a panic here aborts.
fn capture_panic(info: &PanicHookInfo<'_>) {
    if in_sdk() {
        return;
    }
    let Some(hub) = Hub::current_active() else {
        return;
    };
    let Some(client) = hub.client() else {
        return;
    };
    if !client.sdk_info().integrations.iter().any(|n| n == "panic") {
        return;
    }
    let report = PanicReport::take(info, &hub);
    let Some(sender) = capture_thread() else {
        // No thread to hand it to: the pipeline runs here.
        report.capture();
        if ends_the_process() {
            client.flush(None);
        }
        return;
    };
    PENDING.fetch_add(1, Ordering::SeqCst);
    if let Err(mpsc::SendError(report)) = sender.send(report) {
        PENDING.fetch_sub(1, Ordering::SeqCst);
        report.capture();
    }
    if ends_the_process() {
        // The event must be sent before the process exits: wait for the
        // capture, then flush, each at most `shutdown_timeout`.
        let wait = client.options().shutdown_timeout;
        wait_for_reports(wait);
        client.flush(None);
    }
}

/// Whether the panic in progress ends the process: with `panic = "abort"`
/// always; otherwise when it unwinds the main thread (a panic on another
/// thread ends that thread only, and runtimes and servers catch it).
fn ends_the_process() -> bool {
    cfg!(panic = "abort") || thread::current().name() == Some("main")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_panic_of_the_main_thread_ends_an_unwinding_process() {
        let on = |name: &str| {
            thread::Builder::new()
                .name(name.into())
                .spawn(ends_the_process)
                .unwrap()
                .join()
                .unwrap()
        };
        assert!(on("main"));
        assert_eq!(on("tokio-runtime-worker"), cfg!(panic = "abort"));
    }

    #[test]
    fn messages_from_payloads() {
        assert_eq!(message(&"static"), "static");
        assert_eq!(message(&String::from("owned")), "owned");
        assert_eq!(message(&42_u8), "Box<dyn Any>");
    }
}
