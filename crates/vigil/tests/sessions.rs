//! Release health in application mode, through `vigil::init`: the updates
//! a process sends from `init` to the guard's drop, what counts as an
//! error, what is sent alone and what rides with the event, and what is
//! counted when no session can start. Own binary: it touches the main hub.

mod support;

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use support::{Recording, options_with};
use vigil::protocol::{
    DataCategory, DiscardReason, Envelope, EnvelopeItem, SessionStatus, SessionUpdate,
};
use vigil::{ClientOptions, Level, SessionMode, User};

/// The tests bind clients to the one main hub: one at a time.
static MAIN_HUB: Mutex<()> = Mutex::new(());

const DSN: &str = "https://public@example.invalid/1";

fn options(transport: &Arc<Recording>) -> ClientOptions {
    options_with(transport.clone())
        .release("sessions-test@1.2.3")
        .environment("staging")
        .default_integrations(false)
}

/// The session updates of each envelope, in order.
fn updates(envelopes: &[Envelope]) -> Vec<SessionUpdate> {
    envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::Session(update) => Some((**update).clone()),
            _ => None,
        })
        .collect()
}

fn envelopes(transport: &Recording) -> Vec<Envelope> {
    transport.envelopes.lock().unwrap().clone()
}

fn error() -> io::Error {
    io::Error::other("disk on fire")
}

#[test]
fn a_process_session_from_init_to_the_guards_drop() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((DSN, options(&transport)));

    // A message never counts, whatever its level; a warning-level error
    // neither.
    vigil::capture_message("just a message", Level::Fatal);
    let mut warning = vigil::event_from_error(&error());
    warning.level = Level::Warning;
    vigil::capture_event(warning);
    // The first error is sent with its event; the next ones only counted,
    // from any thread (thread hubs share the process's session).
    let first = vigil::capture_error(&error());
    vigil::capture_error(&error());
    std::thread::spawn(|| vigil::capture_error(&error()))
        .join()
        .unwrap();
    drop(guard);

    let envelopes = envelopes(&transport);
    let updates = updates(&envelopes);
    assert_eq!(updates.len(), 3, "{updates:#?}");
    let (init, errored, exited) = (&updates[0], &updates[1], &updates[2]);

    assert!(init.init);
    assert_eq!(init.sequence, Some(0));
    assert_eq!((init.status, init.errors), (SessionStatus::Ok, 0));
    assert_eq!(init.attrs.release, "sessions-test@1.2.3");
    assert_eq!(init.attrs.environment.as_deref(), Some("staging"));
    assert!(init.attrs.ip_address.is_none() && init.duration.is_none());
    // The init update goes alone, at once.
    assert_eq!(envelopes[0].items().len(), 1);

    assert!(!errored.init);
    assert_eq!(errored.sequence, Some(1));
    assert_eq!((errored.status, errored.errors), (SessionStatus::Ok, 1));
    let with_event = envelopes
        .iter()
        .find(|e| e.event().is_some_and(|ev| ev.event_id == first))
        .expect("the first error's envelope");
    assert!(
        with_event
            .items()
            .any(|i| matches!(i, EnvelopeItem::Session(u) if u.errors == 1)),
        "the first error's update rides in the event's envelope"
    );

    assert_eq!(exited.sequence, Some(2));
    assert_eq!((exited.status, exited.errors), (SessionStatus::Exited, 3));
    assert!(exited.duration.is_some_and(|d| d >= 0.0));
    for update in &updates {
        assert_eq!(update.session_id, init.session_id);
        assert_eq!(update.started, init.started);
    }
}

#[test]
fn an_event_sampled_out_still_counts_and_its_update_goes_alone() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((DSN, options(&transport).sample_rate(0.0)));
    assert!(vigil::capture_error(&error()).is_nil());
    drop(guard);
    assert!(transport.events().is_empty(), "the event was sampled out");
    let envelopes = envelopes(&transport);
    let statuses: Vec<_> = updates(&envelopes)
        .iter()
        .map(|u| (u.status, u.errors))
        .collect();
    assert_eq!(
        statuses,
        [
            (SessionStatus::Ok, 0),
            (SessionStatus::Ok, 1),
            (SessionStatus::Exited, 1)
        ]
    );
}

#[test]
fn an_event_before_send_drops_does_not_count() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((DSN, options(&transport).before_send(|_| None)));
    vigil::capture_error(&error());
    drop(guard);
    let statuses: Vec<_> = updates(&envelopes(&transport))
        .iter()
        .map(|u| (u.status, u.errors))
        .collect();
    assert_eq!(
        statuses,
        [(SessionStatus::Ok, 0), (SessionStatus::Exited, 0)]
    );
}

#[test]
fn without_a_release_no_session_starts_and_that_is_counted() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let mut options = options(&transport);
    options.release = None;
    let guard = vigil::init((DSN, options));
    // `init` fills an unset release from SENTRY_RELEASE only.
    if std::env::var_os("SENTRY_RELEASE").is_some() {
        return;
    }
    vigil::capture_error(&error());
    let client = guard.client().unwrap().clone();
    drop(guard);
    assert!(updates(&envelopes(&transport)).is_empty());
    let dropped = client.delivery_stats().dropped;
    assert!(
        dropped.iter().any(|d| (d.reason, d.category, d.quantity)
            == (DiscardReason::InsufficientData, DataCategory::Session, 1)),
        "{dropped:?}"
    );
}

#[test]
fn sessions_by_hand_when_automatic_tracking_is_off() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let mut options = options(&transport).auto_session_tracking(false);
    options.send_default_pii = true;
    let guard = vigil::init((DSN, options));
    assert!(updates(&envelopes(&transport)).is_empty(), "none at init");

    vigil::configure_scope(|scope| {
        scope.set_user(Some(User {
            id: Some("user-7".into()),
            ip_address: Some("10.1.2.3".into()),
            ..Default::default()
        }));
    });
    vigil::start_session();
    // Starting again ends the running one (exited) first.
    vigil::start_session();
    vigil::end_session_with_status(SessionStatus::Abnormal);
    vigil::end_session(); // none left: nothing happens
    drop(guard);

    let updates = updates(&envelopes(&transport));
    let seen: Vec<_> = updates
        .iter()
        .map(|u| (u.init, u.status, u.distinct_id.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (true, SessionStatus::Ok, Some("user-7")),
            (false, SessionStatus::Exited, Some("user-7")),
            (true, SessionStatus::Ok, Some("user-7")),
            (false, SessionStatus::Abnormal, Some("user-7")),
        ]
    );
    assert_ne!(updates[0].session_id, updates[2].session_id);
    assert_eq!(updates[0].attrs.ip_address.as_deref(), Some("10.1.2.3"));
}

#[test]
fn request_mode_starts_no_process_session() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((DSN, options(&transport).session_mode(SessionMode::Request)));
    vigil::capture_error(&error());
    drop(guard);
    assert!(updates(&envelopes(&transport)).is_empty());
}

#[test]
fn an_ip_address_is_only_sent_with_default_pii() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((DSN, options(&transport).auto_session_tracking(false)));
    vigil::configure_scope(|scope| {
        scope.set_user(Some(User {
            email: Some("a@example.com".into()),
            ip_address: Some("10.1.2.3".into()),
            ..Default::default()
        }));
    });
    vigil::start_session();
    drop(guard);
    let updates = updates(&envelopes(&transport));
    assert_eq!(updates.len(), 2);
    assert!(updates.iter().all(|u| u.attrs.ip_address.is_none()));
    // The distinct id falls back to the email (hashed by the server).
    assert_eq!(updates[0].distinct_id.as_deref(), Some("a@example.com"));
}

#[cfg(feature = "panic")]
#[test]
fn a_panic_crashes_the_session_in_the_envelope_of_its_event() {
    let _main = MAIN_HUB.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Recording::default());
    let guard = vigil::init((
        DSN,
        options(&transport).integration(vigil::PanicIntegration::new()),
    ));
    vigil::capture_error(&error());
    let panicked = std::thread::spawn(|| panic!("worker gave up")).join();
    assert!(panicked.is_err());
    // A panic off the main thread is captured on the SDK's thread; the
    // guard's flush waits for it.
    assert!(guard.flush(None));
    // After the crash nothing changes the session any more.
    vigil::capture_error(&error());
    drop(guard);

    let envelopes = envelopes(&transport);
    let crash = envelopes
        .iter()
        .find(|e| e.event().is_some_and(|ev| ev.level == Level::Fatal))
        .expect("the panic's event");
    let in_crash: Vec<_> = updates(std::slice::from_ref(crash));
    assert_eq!(in_crash.len(), 1, "the crashed update rides with the event");
    assert_eq!(
        (in_crash[0].status, in_crash[0].errors),
        (SessionStatus::Crashed, 2)
    );
    assert!(in_crash[0].duration.is_some());
    let statuses: Vec<_> = updates(&envelopes)
        .iter()
        .map(|u| (u.status, u.errors))
        .collect();
    assert_eq!(
        statuses,
        [
            (SessionStatus::Ok, 0),
            (SessionStatus::Ok, 1),
            (SessionStatus::Crashed, 2)
        ],
        "one terminal update, none after it"
    );
}
