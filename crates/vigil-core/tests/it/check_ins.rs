//! Cron check-ins through the client: the defaults a check-in gets,
//! `before_send_check_in`, Relay's limits, one envelope per check-in, and
//! the job helpers (`monitor`, `monitor_result`, `MonitorGuard`).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use vigil_core::protocol::{
    CheckIn, CheckInStatus, DataCategory, DiscardReason, Envelope, EnvelopeItem, IntervalUnit,
    MonitorConfig, MonitorSchedule, TraceId,
};
use vigil_core::{ClientOptions, MonitorGuard, TransactionContext};

use crate::support::harness;

/// The check-in of each envelope; every envelope must carry exactly one
/// item, a check-in.
fn check_ins(envelopes: &[Envelope]) -> Vec<CheckIn> {
    envelopes
        .iter()
        .map(|envelope| {
            let items: Vec<_> = envelope.items().collect();
            assert_eq!(items.len(), 1, "one item per check-in envelope");
            match items[0] {
                EnvelopeItem::CheckIn(check_in) => (**check_in).clone(),
                other => panic!("not a check-in: {other:?}"),
            }
        })
        .collect()
}

#[test]
fn a_check_in_gets_the_release_environment_and_trace_and_is_sent_alone() {
    let h = harness(
        ClientOptions::new()
            .release("svc@1.0")
            .environment("staging")
            // Neither applies to check-ins.
            .before_send(|_| None)
            .sample_rate(0.0),
    );
    let (first, second, trace_id) = h.run(|| {
        let first = vigil_core::capture_check_in(CheckIn::new("job-a", CheckInStatus::InProgress));
        let second = vigil_core::capture_check_in(CheckIn::new("job-b", CheckInStatus::Ok));
        let trace_id = vigil_core::configure_scope(|scope| scope.propagation_context().trace_id());
        (first, second, trace_id)
    });
    let envelopes = h.transport.fetch_and_clear_envelopes();
    assert_eq!(envelopes.len(), 2, "each check-in in its own envelope");
    for envelope in &envelopes {
        assert_eq!(envelope.headers().event_id, None);
        assert!(envelope.headers().trace.is_none());
        assert!(envelope.headers().dsn.is_some());
        assert!(envelope.headers().sdk.is_some());
    }
    let sent = check_ins(&envelopes);
    assert_eq!(sent[0].check_in_id, first);
    assert_eq!(sent[1].check_in_id, second);
    assert_ne!(first, second);
    for check_in in &sent {
        assert_eq!(check_in.release.as_deref(), Some("svc@1.0"));
        assert_eq!(check_in.environment.as_deref(), Some("staging"));
        assert_eq!(check_in.trace_id, Some(trace_id));
        assert_eq!(check_in.duration, None);
    }
    assert_eq!(h.client.loss_recorder().total_dropped(), 0);
}

#[test]
fn values_the_check_in_sets_are_kept_and_a_span_gives_its_trace() {
    let h = harness(
        ClientOptions::new()
            .release("svc@1.0")
            .traces_sample_rate(1.0),
    );
    let own_trace = TraceId::new();
    let span_trace = h.run(|| {
        let mut check_in = CheckIn::new("job", CheckInStatus::Error);
        check_in.release = Some("other@2".into());
        check_in.environment = Some("qa".into());
        check_in.trace_id = Some(own_trace);
        vigil_core::capture_check_in(check_in);

        let transaction = vigil_core::start_transaction(TransactionContext::new("run", "task"));
        vigil_core::configure_scope(|scope| scope.set_span(Some(transaction.clone().into())));
        vigil_core::capture_check_in(CheckIn::new("job", CheckInStatus::Ok));
        vigil_core::configure_scope(|scope| scope.set_span(None));
        transaction.trace_id()
    });
    let sent = check_ins(
        &h.transport
            .fetch_and_clear_envelopes()
            .into_iter()
            .filter(|e| e.transaction().is_none())
            .collect::<Vec<_>>(),
    );
    assert_eq!(sent[0].release.as_deref(), Some("other@2"));
    assert_eq!(sent[0].environment.as_deref(), Some("qa"));
    assert_eq!(sent[0].trace_id, Some(own_trace));
    assert_eq!(sent[1].environment.as_deref(), Some("production"));
    assert_eq!(sent[1].trace_id, Some(span_trace));
}

#[test]
fn before_send_check_in_changes_or_drops_and_the_drops_are_counted() {
    let h = harness(ClientOptions::new().before_send_check_in(|mut check_in| {
        match check_in.monitor_slug.as_str() {
            "secret" => return None,
            "boom" => panic!("before_send_check_in failed"),
            _ => {}
        }
        check_in.monitor_slug.push_str("-seen");
        Some(check_in)
    }));
    let ids = h.run(|| {
        ["kept", "secret", "boom"]
            .map(|slug| vigil_core::capture_check_in(CheckIn::new(slug, CheckInStatus::Ok)))
    });
    assert!(
        ids.iter().all(|id| !id.is_nil()),
        "ids are returned even for drops"
    );
    let sent = check_ins(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].monitor_slug, "kept-seen");
    assert_eq!(sent[0].check_in_id, ids[0]);
    let stats = h.client.delivery_stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::BeforeSend, DataCategory::Monitor),
        2
    );
}

#[test]
fn relays_limits_cut_the_slug_and_drop_what_relay_would_reject() {
    let h = harness(ClientOptions::new());
    h.run(|| {
        vigil_core::capture_check_in(CheckIn::new("é".repeat(60), CheckInStatus::Ok));
        vigil_core::capture_check_in(CheckIn::new("", CheckInStatus::Ok));
        let mut long_environment = CheckIn::new("job", CheckInStatus::Ok);
        long_environment.environment = Some("e".repeat(65));
        vigil_core::capture_check_in(long_environment);
        let mut huge = CheckIn::new("job", CheckInStatus::Ok);
        huge.release = Some("r".repeat(101 * 1024));
        vigil_core::capture_check_in(huge);
        let mut longest = CheckIn::new("job", CheckInStatus::Ok);
        longest.environment = Some("e".repeat(64));
        vigil_core::capture_check_in(longest);
    });
    let sent = check_ins(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].monitor_slug, "é".repeat(50));
    assert_eq!(sent[1].environment.as_deref().map(str::len), Some(64));
    let stats = h.client.delivery_stats();
    assert_eq!(
        stats.dropped_count(DiscardReason::InsufficientData, DataCategory::Monitor),
        1
    );
    assert_eq!(
        stats.dropped_count(DiscardReason::InternalSdkError, DataCategory::Monitor),
        2
    );
}

fn config() -> MonitorConfig {
    let mut config = MonitorConfig::new(MonitorSchedule::interval(10, IntervalUnit::Minute));
    config.checkin_margin = Some(2);
    config
}

/// Checks a run's two check-ins and returns the final one.
fn run_of(h: &crate::support::Harness, slug: &str) -> CheckIn {
    let sent = check_ins(&h.transport.fetch_and_clear_envelopes());
    assert_eq!(sent.len(), 2, "in_progress, then the end: {sent:?}");
    let (start, end) = (&sent[0], &sent[1]);
    assert_eq!(start.status, CheckInStatus::InProgress);
    assert_eq!(start.duration, None);
    assert_eq!(start.monitor_slug, slug);
    assert_eq!(end.monitor_slug, slug);
    assert_eq!(start.check_in_id, end.check_in_id);
    assert!(!start.check_in_id.is_nil());
    assert_eq!(start.trace_id, end.trace_id);
    assert!(end.duration.is_some(), "the end carries the duration");
    end.clone()
}

#[test]
fn monitor_sends_in_progress_then_ok_with_the_duration() {
    let h = harness(ClientOptions::new());
    let value = h.run(|| {
        vigil_core::monitor("import", Some(config()), || {
            std::thread::sleep(Duration::from_millis(30));
            7
        })
    });
    assert_eq!(value, 7);
    let end = run_of(&h, "import");
    assert_eq!(end.status, CheckInStatus::Ok);
    let duration = end.duration.unwrap();
    assert!((0.03..5.0).contains(&duration), "duration {duration}");
    assert_eq!(end.monitor_config, Some(config()));
}

#[test]
fn monitor_result_reports_err_as_error_and_ok_as_ok() {
    let h = harness(ClientOptions::new());
    let failed: Result<u8, String> =
        h.run(|| vigil_core::monitor_result("sync", None, || Err("remote down".to_owned())));
    assert_eq!(failed, Err("remote down".to_owned()));
    let end = run_of(&h, "sync");
    assert_eq!(end.status, CheckInStatus::Error);
    assert_eq!(end.monitor_config, None);

    let ok: Result<u8, String> = h.run(|| vigil_core::monitor_result("sync", None, || Ok(1)));
    assert_eq!(ok, Ok(1));
    assert_eq!(run_of(&h, "sync").status, CheckInStatus::Ok);
}

#[test]
fn a_panicking_job_sends_error_and_the_panic_goes_on() {
    let h = harness(ClientOptions::new());
    let outcome = h.run(|| {
        catch_unwind(AssertUnwindSafe(|| {
            vigil_core::monitor("explodes", Some(config()), || -> u8 {
                panic!("job failed")
            })
        }))
    });
    let payload = outcome.expect_err("the panic propagates");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"job failed"));
    let end = run_of(&h, "explodes");
    assert_eq!(end.status, CheckInStatus::Error);
    assert_eq!(end.monitor_config, Some(config()));

    let outcome = h.run(|| {
        catch_unwind(AssertUnwindSafe(|| {
            vigil_core::monitor_result("explodes", None, || -> Result<(), ()> {
                panic!("job failed")
            })
        }))
    });
    assert!(outcome.is_err());
    assert_eq!(run_of(&h, "explodes").status, CheckInStatus::Error);
}

#[test]
fn a_guard_finishes_on_another_thread_or_sends_error_when_dropped() {
    let h = harness(ClientOptions::new());
    let guard = h.run(|| MonitorGuard::start("drain", None));
    let id = guard.check_in_id();
    // Finished on a thread whose current hub is not the harness's.
    let finished = std::thread::spawn(move || guard.finish(CheckInStatus::Ok))
        .join()
        .unwrap();
    assert_eq!(finished, id);
    let end = run_of(&h, "drain");
    assert_eq!(end.check_in_id, id);
    assert_eq!(end.status, CheckInStatus::Ok);

    h.run(|| drop(MonitorGuard::start("drain", None)));
    assert_eq!(run_of(&h, "drain").status, CheckInStatus::Error);

    h.run(|| MonitorGuard::start("drain", None).error());
    assert_eq!(run_of(&h, "drain").status, CheckInStatus::Error);
}

#[test]
fn without_a_client_the_job_runs_and_nothing_is_sent() {
    let hub = std::sync::Arc::new(vigil_core::Hub::new(
        None,
        std::sync::Arc::new(vigil_core::Scope::new()),
    ));
    let value = vigil_core::Hub::run(hub, || {
        let id = vigil_core::capture_check_in(CheckIn::new("job", CheckInStatus::Ok));
        assert!(!id.is_nil());
        vigil_core::monitor("job", None, || 5)
    });
    assert_eq!(value, 5);
}
