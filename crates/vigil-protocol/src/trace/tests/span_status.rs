//! `SpanStatus`: names, legacy aliases, JSON, the HTTP mapping.

use serde_json::json;

use crate::trace::span_status::{ParseSpanStatusError, SpanStatus};

const ALL: [(SpanStatus, &str); 17] = [
    (SpanStatus::Ok, "ok"),
    (SpanStatus::Cancelled, "cancelled"),
    (SpanStatus::Unknown, "unknown"),
    (SpanStatus::InvalidArgument, "invalid_argument"),
    (SpanStatus::DeadlineExceeded, "deadline_exceeded"),
    (SpanStatus::NotFound, "not_found"),
    (SpanStatus::AlreadyExists, "already_exists"),
    (SpanStatus::PermissionDenied, "permission_denied"),
    (SpanStatus::ResourceExhausted, "resource_exhausted"),
    (SpanStatus::FailedPrecondition, "failed_precondition"),
    (SpanStatus::Aborted, "aborted"),
    (SpanStatus::OutOfRange, "out_of_range"),
    (SpanStatus::Unimplemented, "unimplemented"),
    (SpanStatus::InternalError, "internal_error"),
    (SpanStatus::Unavailable, "unavailable"),
    (SpanStatus::DataLoss, "data_loss"),
    (SpanStatus::Unauthenticated, "unauthenticated"),
];

#[test]
fn every_name_round_trips() {
    for (status, name) in ALL {
        assert_eq!(status.as_str(), name);
        assert_eq!(status.to_string(), name);
        assert_eq!(name.parse(), Ok(status));
        assert_eq!(serde_json::to_value(status).unwrap(), json!(name));
        assert_eq!(
            serde_json::from_value::<SpanStatus>(json!(name)).unwrap(),
            status
        );
    }
}

#[test]
fn legacy_names_are_read_as_relay_rewrites_them_and_never_written() {
    assert_eq!("unknown_error".parse(), Ok(SpanStatus::InternalError));
    assert_eq!("failure".parse(), Ok(SpanStatus::InternalError));
    assert_eq!("success".parse(), Ok(SpanStatus::Ok));
    for (status, _) in ALL {
        assert!(!["unknown_error", "failure", "success"].contains(&status.as_str()));
    }
}

#[test]
fn other_names_are_rejected() {
    for name in ["", "OK", "Ok", "not-found", "error", " ok", "internal"] {
        assert_eq!(
            name.parse::<SpanStatus>(),
            Err(ParseSpanStatusError),
            "{name:?}"
        );
        assert!(serde_json::from_value::<SpanStatus>(json!(name)).is_err());
    }
    assert!(serde_json::from_value::<SpanStatus>(json!(0)).is_err());
}

#[test]
fn http_status_codes_map_as_in_the_reference_sdks() {
    let cases = [
        (100, SpanStatus::Ok),
        (200, SpanStatus::Ok),
        (204, SpanStatus::Ok),
        (301, SpanStatus::Ok),
        (399, SpanStatus::Ok),
        (400, SpanStatus::InvalidArgument),
        (401, SpanStatus::Unauthenticated),
        (402, SpanStatus::InvalidArgument),
        (403, SpanStatus::PermissionDenied),
        (404, SpanStatus::NotFound),
        (405, SpanStatus::InvalidArgument),
        (409, SpanStatus::AlreadyExists),
        (413, SpanStatus::FailedPrecondition),
        (429, SpanStatus::ResourceExhausted),
        (499, SpanStatus::InvalidArgument),
        (500, SpanStatus::InternalError),
        (501, SpanStatus::Unimplemented),
        (502, SpanStatus::InternalError),
        (503, SpanStatus::Unavailable),
        (504, SpanStatus::DeadlineExceeded),
        (599, SpanStatus::InternalError),
        (600, SpanStatus::Unknown),
        (u16::MAX, SpanStatus::Unknown),
    ];
    for (code, status) in cases {
        assert_eq!(SpanStatus::from_http_status(code), status, "{code}");
    }
}
