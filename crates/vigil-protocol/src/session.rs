use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::event::EventId;

/// The state of a release-health session.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SessionStatus {
    /// In progress.
    #[default]
    Ok,
    /// Ended normally.
    Exited,
    /// Ended by an unhandled error.
    Crashed,
    /// Ended in an unknown way.
    Abnormal,
}

/// Session attributes that never change after the first update.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionAttributes {
    /// The release (required).
    pub release: String,
    /// The environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The user's IP address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The user agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

impl SessionAttributes {
    /// Attributes naming the release; the other fields are empty.
    pub fn new(release: impl Into<String>) -> SessionAttributes {
        SessionAttributes {
            release: release.into(),
            ..SessionAttributes::default()
        }
    }
}

/// A `session` item: one update of a release-health session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUpdate {
    /// The session id.
    #[serde(rename = "sid")]
    pub session_id: EventId,
    /// A distinct user or device id.
    #[serde(rename = "did", default, skip_serializing_if = "Option::is_none")]
    pub distinct_id: Option<String>,
    /// Logical clock.
    #[serde(rename = "seq", default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// When this update was made.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::rfc3339_opt"
    )]
    pub timestamp: Option<SystemTime>,
    /// When the session started.
    #[serde(with = "crate::time::rfc3339")]
    pub started: SystemTime,
    /// True on the first update only.
    #[serde(default)]
    pub init: bool,
    /// Seconds since the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// The state.
    #[serde(default)]
    pub status: SessionStatus,
    /// Errors seen in the session.
    #[serde(default)]
    pub errors: u64,
    /// Immutable attributes.
    pub attrs: SessionAttributes,
}

impl SessionUpdate {
    /// An update of session `session_id`, started at `started`, with the
    /// required fields only: every other field has the value it takes when
    /// absent from the JSON (no `init`, status [`SessionStatus::Ok`], no
    /// errors, the optional fields empty). Set `init` on the first update.
    pub fn new(
        session_id: EventId,
        started: SystemTime,
        attrs: SessionAttributes,
    ) -> SessionUpdate {
        SessionUpdate {
            session_id,
            distinct_id: None,
            sequence: None,
            timestamp: None,
            started,
            init: false,
            duration: None,
            status: SessionStatus::Ok,
            errors: 0,
            attrs,
        }
    }
}

/// A `sessions` item: sessions of one release and environment, counted
/// per minute instead of sent one by one (request mode, for servers).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionAggregates {
    /// The buckets, one per start minute and distinct id.
    pub aggregates: Vec<SessionAggregateItem>,
    /// The attributes every session counted here shares.
    #[serde(rename = "attrs")]
    pub attributes: SessionAttributes,
}

impl SessionAggregates {
    /// Aggregates of sessions with `attributes`, no bucket yet.
    pub fn new(attributes: SessionAttributes) -> SessionAggregates {
        SessionAggregates {
            aggregates: Vec::new(),
            attributes,
        }
    }

    /// How many sessions the buckets count in all.
    pub fn total(&self) -> u64 {
        self.aggregates
            .iter()
            .map(SessionAggregateItem::total)
            .sum()
    }
}

/// One bucket of [`SessionAggregates`]: the sessions that started in one
/// minute (and had one distinct id), counted by how they ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionAggregateItem {
    /// The start minute (seconds below the minute are zero).
    #[serde(with = "crate::time::rfc3339")]
    pub started: SystemTime,
    /// The distinct user or device id the sessions had, if any.
    #[serde(rename = "did", default, skip_serializing_if = "Option::is_none")]
    pub distinct_id: Option<String>,
    /// Sessions that ended normally with no error.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub exited: u32,
    /// Sessions that ended normally after at least one error.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub errored: u32,
    /// Sessions whose end is unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub abnormal: u32,
    /// Sessions ended by an unhandled error.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub crashed: u32,
}

impl SessionAggregateItem {
    /// An empty bucket for sessions started at `started` (taken as is: round
    /// it down to the minute first) with `distinct_id`.
    pub fn new(started: SystemTime, distinct_id: Option<String>) -> SessionAggregateItem {
        SessionAggregateItem {
            started,
            distinct_id,
            exited: 0,
            errored: 0,
            abnormal: 0,
            crashed: 0,
        }
    }

    /// How many sessions the bucket counts.
    pub fn total(&self) -> u64 {
        [self.exited, self.errored, self.abnormal, self.crashed]
            .iter()
            .map(|&n| u64::from(n))
            .sum()
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
