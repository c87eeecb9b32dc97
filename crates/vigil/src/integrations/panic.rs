//! `PanicIntegration`: a panic hook that reports panics as fatal events.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, PanicHookInfo};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, mpsc};
use std::thread;
use std::time::Duration;

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
/// thread, or in a build with `panic = "abort"`) the hook then flushes the
/// client, waiting at most [`ClientOptions::shutdown_timeout`], so the event
/// is delivered before the process exits. A panic on any other thread (a
/// server's worker, where the runtime catches it) is captured without
/// waiting for the network: a bad request never stalls a worker for the
/// flush, even with the server unreachable. The event is then sent like
/// any other, and flushed when the client closes (the `init` guard dropped,
/// as it is when a panic unwinds `main`).
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
/// - The event goes through the usual pipeline (scope data, event
///   processors, integrations, `before_send`) on a short-lived helper
///   thread `vigil-panic` that uses the panicking thread's hub. A panic on
///   the panicking thread while its hook runs aborts the process, so user
///   callbacks must not run there; on the helper thread a panicking
///   callback only drops the event (reported on stderr), and its own panic
///   is not captured again. Event processors that read thread-locals see
///   the helper thread's. If no thread can be started the pipeline runs on
///   the panicking thread itself.
/// - The panicking thread waits for the helper to capture the event (and,
///   when the panic ends the process, to flush) at most `shutdown_timeout`
///   plus two seconds.
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

fn panic_event(info: &PanicHookInfo<'_>, options: &ClientOptions) -> Event {
    let thread = vigil_backtrace::current_thread();
    let exception = Exception {
        ty: Some("panic".into()),
        value: Some(message(info.payload())),
        mechanism: Some(Mechanism {
            ty: "panic".into(),
            handled: Some(false),
            ..Default::default()
        }),
        stacktrace: vigil_backtrace::current_stacktrace(options),
        thread_id: thread.id.clone(),
        ..Default::default()
    };
    Event {
        level: Level::Fatal,
        exception: Values::from(vec![exception]),
        threads: Values::from(vec![Thread {
            crashed: Some(true),
            current: Some(true),
            ..thread
        }]),
        ..Event::default()
    }
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
    let options = client.options();
    let event = panic_event(info, options);
    let flush = ends_the_process();
    let wait = options
        .shutdown_timeout
        .saturating_add(Duration::from_secs(2));
    let job = Arc::new(Mutex::new(Some((hub, event))));
    let run = move |job: &Mutex<Option<(Arc<Hub>, Event)>>| {
        let _guard = SdkGuard::enter();
        let taken = job.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some((hub, event)) = taken {
            let client = hub.client();
            Hub::run(hub.clone(), || hub.capture_event(event));
            if let Some(client) = client.filter(|_| flush) {
                client.flush(None);
            }
        }
    };
    let (done, finished) = mpsc::channel::<()>();
    let for_helper = job.clone();
    let spawned = thread::Builder::new()
        .name("vigil-panic".into())
        .spawn(move || {
            // The pipeline guards user code; this also catches SDK bugs so
            // the helper never panics.
            let _ = vigil_core::call_guarded("panic report", None, || run(&for_helper));
            let _ = done.send(());
        });
    match spawned {
        Ok(_) => {
            let _ = finished.recv_timeout(wait);
        }
        Err(_) => run(&job),
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
