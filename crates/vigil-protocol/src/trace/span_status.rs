//! [`SpanStatus`]: how the operation of a span ended.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// How the operation of a span or transaction ended: the statuses Relay
/// knows, written in `snake_case` (`"ok"`, `"not_found"`, ...).
///
/// Parsing also accepts the legacy names Relay rewrites: `unknown_error`
/// and `failure` become [`InternalError`](SpanStatus::InternalError),
/// `success` becomes [`Ok`](SpanStatus::Ok). They are never written.
///
/// ```
/// use vigil_protocol::SpanStatus;
/// assert_eq!(SpanStatus::from_http_status(404), SpanStatus::NotFound);
/// assert_eq!(SpanStatus::NotFound.to_string(), "not_found");
/// assert_eq!("unknown_error".parse(), Ok(SpanStatus::InternalError));
/// assert_eq!(serde_json::to_string(&SpanStatus::Ok).unwrap(), r#""ok""#);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpanStatus {
    /// The operation succeeded (HTTP 1xx to 3xx).
    Ok,
    /// The operation was cancelled, usually by the caller (HTTP 499).
    Cancelled,
    /// It is not known whether the operation succeeded.
    Unknown,
    /// The caller passed an invalid argument (HTTP 400 and most 4xx).
    InvalidArgument,
    /// The deadline passed before the operation completed (HTTP 504).
    DeadlineExceeded,
    /// Something the operation needed was not found (HTTP 404).
    NotFound,
    /// What the operation tried to create already exists (HTTP 409).
    AlreadyExists,
    /// The caller may not do this (HTTP 403).
    PermissionDenied,
    /// A quota or resource ran out (HTTP 429).
    ResourceExhausted,
    /// The system is not in the state the operation needs (HTTP 413 in
    /// the HTTP mapping).
    FailedPrecondition,
    /// The operation was aborted, typically by a concurrency conflict.
    Aborted,
    /// The operation went past a valid range.
    OutOfRange,
    /// The operation is not implemented (HTTP 501).
    Unimplemented,
    /// An internal error (HTTP 500 and other 5xx).
    InternalError,
    /// The service is unavailable (HTTP 503).
    Unavailable,
    /// Data was lost or corrupted.
    DataLoss,
    /// The caller is not authenticated (HTTP 401).
    Unauthenticated,
}

impl SpanStatus {
    /// The wire name of the status.
    pub const fn as_str(self) -> &'static str {
        match self {
            SpanStatus::Ok => "ok",
            SpanStatus::Cancelled => "cancelled",
            SpanStatus::Unknown => "unknown",
            SpanStatus::InvalidArgument => "invalid_argument",
            SpanStatus::DeadlineExceeded => "deadline_exceeded",
            SpanStatus::NotFound => "not_found",
            SpanStatus::AlreadyExists => "already_exists",
            SpanStatus::PermissionDenied => "permission_denied",
            SpanStatus::ResourceExhausted => "resource_exhausted",
            SpanStatus::FailedPrecondition => "failed_precondition",
            SpanStatus::Aborted => "aborted",
            SpanStatus::OutOfRange => "out_of_range",
            SpanStatus::Unimplemented => "unimplemented",
            SpanStatus::InternalError => "internal_error",
            SpanStatus::Unavailable => "unavailable",
            SpanStatus::DataLoss => "data_loss",
            SpanStatus::Unauthenticated => "unauthenticated",
        }
    }

    /// The status of an operation that got this HTTP response status, as
    /// the reference SDKs map it.
    ///
    /// Below 400 is [`Ok`](SpanStatus::Ok); 401, 403, 404, 409, 413 and
    /// 429 have their own statuses and other 4xx are
    /// [`InvalidArgument`](SpanStatus::InvalidArgument); 501, 503 and 504
    /// have their own and other 5xx are
    /// [`InternalError`](SpanStatus::InternalError). A code of 600 or
    /// more is no HTTP status: [`Unknown`](SpanStatus::Unknown).
    pub const fn from_http_status(code: u16) -> SpanStatus {
        match code {
            0..=399 => SpanStatus::Ok,
            401 => SpanStatus::Unauthenticated,
            403 => SpanStatus::PermissionDenied,
            404 => SpanStatus::NotFound,
            409 => SpanStatus::AlreadyExists,
            413 => SpanStatus::FailedPrecondition,
            429 => SpanStatus::ResourceExhausted,
            400..=499 => SpanStatus::InvalidArgument,
            501 => SpanStatus::Unimplemented,
            503 => SpanStatus::Unavailable,
            504 => SpanStatus::DeadlineExceeded,
            500..=599 => SpanStatus::InternalError,
            _ => SpanStatus::Unknown,
        }
    }

    /// The status of a gRPC call that ended with this `grpc-status` code:
    /// the status of the same name (`13`, `INTERNAL`, is
    /// [`InternalError`](SpanStatus::InternalError)); a code gRPC does not
    /// define is [`Unknown`](SpanStatus::Unknown).
    ///
    /// ```
    /// use vigil_protocol::SpanStatus;
    /// assert_eq!(SpanStatus::from_grpc_status(0), SpanStatus::Ok);
    /// assert_eq!(SpanStatus::from_grpc_status(5), SpanStatus::NotFound);
    /// assert_eq!(SpanStatus::from_grpc_status(13), SpanStatus::InternalError);
    /// assert_eq!(SpanStatus::from_grpc_status(99), SpanStatus::Unknown);
    /// ```
    pub const fn from_grpc_status(code: u32) -> SpanStatus {
        match code {
            0 => SpanStatus::Ok,
            1 => SpanStatus::Cancelled,
            3 => SpanStatus::InvalidArgument,
            4 => SpanStatus::DeadlineExceeded,
            5 => SpanStatus::NotFound,
            6 => SpanStatus::AlreadyExists,
            7 => SpanStatus::PermissionDenied,
            8 => SpanStatus::ResourceExhausted,
            9 => SpanStatus::FailedPrecondition,
            10 => SpanStatus::Aborted,
            11 => SpanStatus::OutOfRange,
            12 => SpanStatus::Unimplemented,
            13 => SpanStatus::InternalError,
            14 => SpanStatus::Unavailable,
            15 => SpanStatus::DataLoss,
            16 => SpanStatus::Unauthenticated,
            _ => SpanStatus::Unknown,
        }
    }
}

impl fmt::Display for SpanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when parsing a name that is no span status.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseSpanStatusError;

impl fmt::Display for ParseSpanStatusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown span status")
    }
}

impl std::error::Error for ParseSpanStatusError {}

impl FromStr for SpanStatus {
    type Err = ParseSpanStatusError;

    /// Accepts the wire names and the legacy names Relay rewrites
    /// (`unknown_error`, `failure`, `success`); case matters.
    fn from_str(s: &str) -> Result<SpanStatus, ParseSpanStatusError> {
        Ok(match s {
            "ok" | "success" => SpanStatus::Ok,
            "cancelled" => SpanStatus::Cancelled,
            "unknown" => SpanStatus::Unknown,
            "invalid_argument" => SpanStatus::InvalidArgument,
            "deadline_exceeded" => SpanStatus::DeadlineExceeded,
            "not_found" => SpanStatus::NotFound,
            "already_exists" => SpanStatus::AlreadyExists,
            "permission_denied" => SpanStatus::PermissionDenied,
            "resource_exhausted" => SpanStatus::ResourceExhausted,
            "failed_precondition" => SpanStatus::FailedPrecondition,
            "aborted" => SpanStatus::Aborted,
            "out_of_range" => SpanStatus::OutOfRange,
            "unimplemented" => SpanStatus::Unimplemented,
            "internal_error" | "unknown_error" | "failure" => SpanStatus::InternalError,
            "unavailable" => SpanStatus::Unavailable,
            "data_loss" => SpanStatus::DataLoss,
            "unauthenticated" => SpanStatus::Unauthenticated,
            _ => return Err(ParseSpanStatusError),
        })
    }
}

impl Serialize for SpanStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpanStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<SpanStatus, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Reads an optional status as Relay does: a value that is no known status
/// name (another string, a number, ...) is dropped rather than failing the
/// whole object.
pub(crate) fn deserialize_lenient<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<SpanStatus>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(name)) => name.parse().ok(),
        _ => None,
    })
}
