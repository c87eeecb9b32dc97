//! Cron check-ins on the wire: the `check_in` item's JSON, the envelope
//! round trip (also through `sentry-types`), and the crontab check.

use sentry_types::protocol::v7 as sentry;
use serde_json::json;
use vigil_protocol::{
    CheckIn, CheckInId, CheckInStatus, DataCategory, Envelope, EnvelopeItem, IntervalUnit,
    MonitorConfig, MonitorSchedule, TraceId,
};

use crate::fixtures::TRACE_ID;

const ID: &str = "c762b164a9ff4dbea6ae6d29ac3182ae";

fn full_check_in() -> CheckIn {
    let mut config = MonitorConfig::new(MonitorSchedule::crontab("0 3 * * *").unwrap());
    config.checkin_margin = Some(5);
    config.max_runtime = Some(30);
    config.timezone = Some("UTC".into());
    config.failure_issue_threshold = Some(2);
    config.recovery_threshold = Some(3);
    config.owner = Some("team:backend".into());
    let mut check_in = CheckIn::new("nightly-job", CheckInStatus::Ok);
    check_in.check_in_id = ID.parse().unwrap();
    check_in.duration = Some(12.5);
    check_in.release = Some("vigil-demo@1.0.0".into());
    check_in.environment = Some("staging".into());
    check_in.trace_id = Some(TRACE_ID.parse::<TraceId>().unwrap());
    check_in.monitor_config = Some(config);
    check_in
}

#[test]
fn a_check_in_is_written_as_sentry_expects() {
    assert_eq!(
        serde_json::to_value(full_check_in()).unwrap(),
        json!({
            "check_in_id": ID,
            "monitor_slug": "nightly-job",
            "status": "ok",
            "duration": 12.5,
            "release": "vigil-demo@1.0.0",
            "environment": "staging",
            "contexts": {"trace": {"trace_id": TRACE_ID}},
            "monitor_config": {
                "schedule": {"type": "crontab", "value": "0 3 * * *"},
                "checkin_margin": 5,
                "max_runtime": 30,
                "timezone": "UTC",
                "failure_issue_threshold": 2,
                "recovery_threshold": 3,
                "owner": "team:backend"
            }
        })
    );
}

#[test]
fn a_minimal_check_in_has_only_the_required_fields() {
    let mut check_in = CheckIn::new("heartbeat", CheckInStatus::InProgress);
    check_in.check_in_id = ID.parse().unwrap();
    assert_eq!(
        serde_json::to_string(&check_in).unwrap(),
        format!(r#"{{"check_in_id":"{ID}","monitor_slug":"heartbeat","status":"in_progress"}}"#)
    );
    check_in.monitor_config = Some(MonitorConfig::new(MonitorSchedule::interval(
        5,
        IntervalUnit::Minute,
    )));
    assert_eq!(
        serde_json::to_value(&check_in).unwrap()["monitor_config"],
        json!({"schedule": {"type": "interval", "value": 5, "unit": "minute"}})
    );
    for (unit, name) in [
        (IntervalUnit::Year, "year"),
        (IntervalUnit::Month, "month"),
        (IntervalUnit::Week, "week"),
        (IntervalUnit::Day, "day"),
        (IntervalUnit::Hour, "hour"),
        (IntervalUnit::Minute, "minute"),
    ] {
        assert_eq!(serde_json::to_value(unit).unwrap(), name);
    }
    for (status, name) in [
        (CheckInStatus::InProgress, "in_progress"),
        (CheckInStatus::Ok, "ok"),
        (CheckInStatus::Error, "error"),
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), name);
        assert_eq!(status.as_str(), name);
    }
}

#[test]
fn check_in_ids_are_32_hex_digits_and_read_in_both_forms() {
    let id = CheckInId::new();
    assert_ne!(id, CheckInId::new());
    assert!(!id.is_nil() && CheckInId::nil().is_nil());
    let text = id.to_string();
    assert_eq!(text.len(), 32);
    assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(serde_json::to_value(id).unwrap(), text);
    let dashed = id.as_uuid().hyphenated().to_string();
    assert_eq!(
        serde_json::from_value::<CheckInId>(json!(dashed)).unwrap(),
        id
    );
}

#[test]
fn what_other_sdks_and_relay_write_is_read() {
    // sentry-python's payload (sent through `capture_event`), trimmed:
    // `duration` is null on `in_progress`, extra event fields are ignored.
    let python = json!({
        "type": "check_in",
        "monitor_slug": "nightly-job",
        "check_in_id": ID,
        "status": "in_progress",
        "duration": null,
        "environment": "staging",
        "release": "vigil-demo@1.0.0",
        "monitor_config": {
            "schedule": {"type": "crontab", "value": "0 3 * * *"},
            "checkin_margin": 5, "max_runtime": 30, "timezone": "UTC"
        },
        "contexts": {"trace": {"trace_id": TRACE_ID, "span_id": "b0e6f15b45c36b12"}},
        "platform": "python"
    });
    let check_in: CheckIn = serde_json::from_value(python).unwrap();
    assert_eq!(check_in.status, CheckInStatus::InProgress);
    assert_eq!(check_in.duration, None);
    assert_eq!(check_in.trace_id.unwrap().to_string(), TRACE_ID);
    let config = check_in.monitor_config.unwrap();
    assert_eq!(
        config.schedule,
        MonitorSchedule::Crontab("0 3 * * *".into())
    );
    assert_eq!(config.max_runtime, Some(30));
    // Contexts without a trace.
    let bare: CheckIn = serde_json::from_value(json!({
        "check_in_id": ID, "monitor_slug": "m", "status": "error", "contexts": {}
    }))
    .unwrap();
    assert_eq!(bare.trace_id, None);
    // The status is required.
    assert!(
        serde_json::from_value::<CheckIn>(json!({"check_in_id": ID, "monitor_slug": "m"})).is_err()
    );
}

#[test]
fn a_check_in_round_trips_through_an_envelope() {
    let check_in = full_check_in();
    let mut envelope = Envelope::new();
    envelope.add_item(check_in.clone());
    assert_eq!(envelope.headers().event_id, None);
    let item = envelope.items().next().unwrap();
    assert_eq!(item.ty(), "check_in");
    assert_eq!(item.category(), DataCategory::Monitor);
    assert_eq!(
        item.outcomes().collect::<Vec<_>>(),
        [(DataCategory::Monitor, 1)]
    );
    let bytes = envelope.to_vec().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let payload = serde_json::to_string(&check_in).unwrap();
    assert_eq!(
        lines[1],
        format!(r#"{{"type":"check_in","length":{}}}"#, payload.len())
    );
    assert_eq!(lines[2], payload);
    let back = Envelope::from_slice(&bytes).unwrap();
    match back.items().next() {
        Some(EnvelopeItem::CheckIn(read)) => assert_eq!(**read, check_in),
        other => panic!("not a check-in: {other:?}"),
    }

    // The crates.io parser reads the same check-in.
    let theirs = sentry::Envelope::from_slice(&bytes).unwrap();
    let Some(sentry::EnvelopeItem::MonitorCheckIn(theirs)) = theirs.items().next() else {
        panic!("sentry-types does not see a check-in");
    };
    assert_eq!(theirs.check_in_id.simple().to_string(), ID);
    assert_eq!(theirs.monitor_slug, "nightly-job");
    assert_eq!(theirs.status, sentry::MonitorCheckInStatus::Ok);
    assert_eq!(theirs.environment.as_deref(), Some("staging"));
    assert_eq!(theirs.duration, Some(12.5));
    let config = theirs.monitor_config.as_ref().unwrap();
    assert_eq!(
        config.schedule,
        sentry::MonitorSchedule::Crontab {
            value: "0 3 * * *".into()
        }
    );
    assert_eq!(config.checkin_margin, Some(5));
    assert_eq!(config.recovery_threshold, Some(3));
}

#[test]
fn valid_crontabs_are_accepted() {
    for expression in [
        "* * * * *",
        "0 3 * * *",
        " 0  3 *   * * ",
        "*/15 * * * *",
        "0 9-17 * * 1-5",
        "0 9-17/2 * * mon-fri",
        "0,15,30,45 * * * *",
        "0 0 1 jan *",
        "0 0 1,15 JAN,Jul SUN",
        "59 23 31 12 6",
        "0 0 */2 * *",
        "1-59/2 0 1 1 0",
    ] {
        let schedule = MonitorSchedule::crontab(expression)
            .unwrap_or_else(|e| panic!("{expression:?} refused: {e}"));
        assert_eq!(schedule, MonitorSchedule::Crontab(expression.into()));
        // The reference validator agrees (it takes names only alone, not
        // in lists or ranges).
        if !expression.chars().any(char::is_alphabetic) {
            assert!(
                sentry::MonitorSchedule::from_crontab(expression).is_ok(),
                "sentry-types refuses {expression:?}"
            );
        }
    }
}

#[test]
fn invalid_crontabs_are_refused_with_a_clear_reason() {
    for (expression, reason) in [
        (
            "",
            "0 fields, expected 5 (minute hour day-of-month month day-of-week)",
        ),
        (
            "* * * *",
            "4 fields, expected 5 (minute hour day-of-month month day-of-week)",
        ),
        (
            "* * * * * *",
            "6 fields, expected 5 (minute hour day-of-month month day-of-week)",
        ),
        (
            "@daily",
            "1 fields, expected 5 (minute hour day-of-month month day-of-week)",
        ),
        ("60 * * * *", "minute: 60 is out of range 0-59"),
        ("0 24 * * *", "hour: 24 is out of range 0-23"),
        ("0 0 0 * *", "day of month: 0 is out of range 1-31"),
        ("0 0 32 * *", "day of month: 32 is out of range 1-31"),
        ("0 0 1 13 *", "month: 13 is out of range 1-12"),
        ("0 0 * * 7", "day of week: 7 is out of range 0-6"),
        ("0 0 * * sunday", "day of week: \"sunday\" is not a value"),
        (
            "*/0 * * * *",
            "minute: \"0\" is not a step (a whole number above 0)",
        ),
        (
            "*/x * * * *",
            "minute: \"x\" is not a step (a whole number above 0)",
        ),
        (
            "5/10 * * * *",
            "minute: \"5/10\": a step needs `*` or a range before it",
        ),
        ("0 17-9 * * *", "hour: the range \"17-9\" runs backwards"),
        ("0, * * * *", "minute: an empty value"),
        ("a * * * *", "minute: \"a\" is not a value"),
        ("-1 * * * *", "minute: an empty value"),
    ] {
        let error = MonitorSchedule::crontab(expression).unwrap_err();
        assert_eq!(error.expression(), expression);
        assert_eq!(error.reason(), reason, "for {expression:?}");
        assert_eq!(
            error.to_string(),
            format!("invalid crontab {expression:?}: {reason}")
        );
        assert!(
            sentry::MonitorSchedule::from_crontab(expression).is_err(),
            "sentry-types accepts {expression:?}"
        );
    }
}
