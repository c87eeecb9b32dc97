//! Cron monitor check-ins: the `check_in` item (`protocol-telemetry.md`
//! §E.1).
//!
//! A check-in tells Sentry that a scheduled job started
//! ([`CheckInStatus::InProgress`]) or finished ([`CheckInStatus::Ok`] /
//! [`CheckInStatus::Error`], with its duration). Sending the
//! [`MonitorConfig`] with a check-in creates the monitor, or updates it,
//! on the server ("upsert").
//!
//! ```
//! use vigil_protocol::{CheckIn, CheckInStatus, MonitorConfig, MonitorSchedule};
//! let mut config = MonitorConfig::new(MonitorSchedule::crontab("0 3 * * *").unwrap());
//! config.checkin_margin = Some(5);
//! let mut check_in = CheckIn::new("nightly-job", CheckInStatus::InProgress);
//! check_in.monitor_config = Some(config);
//! let json = serde_json::to_value(&check_in).unwrap();
//! assert_eq!(json["status"], "in_progress");
//! assert_eq!(json["monitor_config"]["schedule"]["type"], "crontab");
//! assert_eq!(json["monitor_config"]["checkin_margin"], 5);
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::trace::trace_id::TraceId;

/// The id of a check-in: a UUID written as 32 hex digits.
///
/// The SDK makes a new one for each run of a job; the check-in that ends
/// the run repeats it. The nil id means "the latest `in_progress` check-in
/// of the monitor".
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckInId(Uuid);

impl CheckInId {
    /// A new random (v4) id.
    pub fn new() -> CheckInId {
        CheckInId(Uuid::new_v4())
    }

    /// The nil id: the server applies the check-in to the monitor's latest
    /// `in_progress` check-in.
    pub const fn nil() -> CheckInId {
        CheckInId(Uuid::nil())
    }

    /// Whether this is the nil id.
    pub fn is_nil(&self) -> bool {
        self.0.is_nil()
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl From<Uuid> for CheckInId {
    fn from(uuid: Uuid) -> CheckInId {
        CheckInId(uuid)
    }
}

impl From<CheckInId> for Uuid {
    fn from(id: CheckInId) -> Uuid {
        id.0
    }
}

impl fmt::Display for CheckInId {
    /// 32 lowercase hex digits, as on the wire.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.simple(), f)
    }
}

impl fmt::Debug for CheckInId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CheckInId({})", self.0.simple())
    }
}

impl FromStr for CheckInId {
    type Err = uuid::Error;

    /// Accepts 32 hex digits or the dashed form.
    fn from_str(s: &str) -> Result<CheckInId, uuid::Error> {
        Uuid::try_parse(s).map(CheckInId)
    }
}

impl Serialize for CheckInId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Uuid::encode_buffer();
        s.serialize_str(self.0.simple().encode_lower(&mut buf))
    }
}

impl<'de> Deserialize<'de> for CheckInId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CheckInId, D::Error> {
        let s = <Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The status of a check-in.
///
/// The server also knows `missed` and `unknown`, which it computes itself
/// (Relay rewrites a `missed` sent by an SDK to `unknown`); an SDK sends
/// only these three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CheckInStatus {
    /// The job started and has not finished yet.
    InProgress,
    /// The job finished successfully.
    Ok,
    /// The job failed.
    Error,
}

impl CheckInStatus {
    /// The wire name: `in_progress`, `ok` or `error`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CheckInStatus::InProgress => "in_progress",
            CheckInStatus::Ok => "ok",
            CheckInStatus::Error => "error",
        }
    }
}

impl fmt::Display for CheckInStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `check_in` item: one check-in of a cron monitor.
///
/// Build it with [`CheckIn::new`] and set the optional fields. The capture
/// functions of `vigil-core` fill `release`, `environment` and `trace_id`
/// when they are unset.
///
/// On the wire the trace id is `contexts.trace.trace_id` (the only context
/// Sentry reads from a check-in); fields that are `None` are left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckIn {
    /// The id of this run of the job (a new one per run; the check-in that
    /// ends the run repeats it).
    pub check_in_id: CheckInId,
    /// The monitor's slug (required, not empty; Sentry keeps 50
    /// characters).
    pub monitor_slug: String,
    /// The status.
    pub status: CheckInStatus,
    /// How long the job ran, in seconds (for `ok` and `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// The release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
    /// The environment (Sentry accepts at most 64 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The trace the job ran in, which links the check-in to the errors
    /// of the run (`contexts.trace.trace_id` on the wire).
    #[serde(
        rename = "contexts",
        default,
        skip_serializing_if = "Option::is_none",
        with = "trace_contexts"
    )]
    pub trace_id: Option<TraceId>,
    /// The monitor's configuration, to create or update the monitor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_config: Option<MonitorConfig>,
}

impl CheckIn {
    /// A check-in of monitor `monitor_slug` with a new random id and the
    /// optional fields empty.
    pub fn new(monitor_slug: impl Into<String>, status: CheckInStatus) -> CheckIn {
        CheckIn {
            check_in_id: CheckInId::new(),
            monitor_slug: monitor_slug.into(),
            status,
            duration: None,
            release: None,
            environment: None,
            trace_id: None,
            monitor_config: None,
        }
    }
}

/// `Option<TraceId>` as `{"trace": {"trace_id": ..}}`.
mod trace_contexts {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::trace::trace_id::TraceId;

    #[derive(Serialize, Deserialize)]
    struct Contexts {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        trace: Option<Trace>,
    }

    #[derive(Serialize, Deserialize)]
    struct Trace {
        trace_id: TraceId,
    }

    pub(super) fn serialize<S: Serializer>(
        trace_id: &Option<TraceId>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        Contexts {
            trace: trace_id.map(|trace_id| Trace { trace_id }),
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<TraceId>, D::Error> {
        let contexts = Option::<Contexts>::deserialize(d)?;
        Ok(contexts.and_then(|c| c.trace).map(|t| t.trace_id))
    }
}

/// A monitor's configuration, sent with a check-in to create the monitor
/// or update it.
///
/// ```
/// use vigil_protocol::{IntervalUnit, MonitorConfig, MonitorSchedule};
/// let mut config = MonitorConfig::new(MonitorSchedule::interval(10, IntervalUnit::Minute));
/// config.max_runtime = Some(5);
/// config.timezone = Some("Europe/Vienna".into());
/// assert_eq!(
///     serde_json::to_string(&config).unwrap(),
///     r#"{"schedule":{"type":"interval","value":10,"unit":"minute"},"max_runtime":5,"timezone":"Europe/Vienna"}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MonitorConfig {
    /// When the job is expected to run.
    pub schedule: MonitorSchedule,
    /// Minutes after the expected time before a missing check-in counts as
    /// missed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkin_margin: Option<u64>,
    /// Minutes a run may stay `in_progress` before it counts as failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_runtime: Option<u64>,
    /// The time zone of a crontab schedule, a tz database name such as
    /// `Europe/Vienna` (UTC when unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// How many failed check-ins in a row open an issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_issue_threshold: Option<u64>,
    /// How many successful check-ins in a row resolve the issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_threshold: Option<u64>,
    /// The owner of the monitor's issues: `user:john@example.com` or
    /// `team:slug`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl MonitorConfig {
    /// A configuration with `schedule` and the optional fields empty.
    pub fn new(schedule: MonitorSchedule) -> MonitorConfig {
        MonitorConfig {
            schedule,
            checkin_margin: None,
            max_runtime: None,
            timezone: None,
            failure_issue_threshold: None,
            recovery_threshold: None,
            owner: None,
        }
    }
}

/// When a monitored job is expected to run.
///
/// On the wire: `{"type":"crontab","value":"0 * * * *"}` or
/// `{"type":"interval","value":5,"unit":"minute"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ScheduleRepr", into = "ScheduleRepr")]
#[non_exhaustive]
pub enum MonitorSchedule {
    /// A crontab expression (five fields). Build it with
    /// [`MonitorSchedule::crontab`], which checks it.
    Crontab(String),
    /// Every `value` `unit`s after the last check-in.
    Interval {
        /// How many units.
        value: u64,
        /// The unit.
        unit: IntervalUnit,
    },
}

impl MonitorSchedule {
    /// A crontab schedule, checked: five whitespace-separated fields
    /// (minute 0-59, hour 0-23, day of month 1-31, month 1-12 or
    /// `jan`-`dec`, day of week 0-6 or `sun`-`sat`), each a
    /// comma-separated list of `*`, a value, a range `a-b`, or `*` or a
    /// range with a step (`*/15`, `1-30/2`). Aliases such as `@daily` are
    /// not accepted.
    ///
    /// ```
    /// use vigil_protocol::MonitorSchedule;
    /// assert!(MonitorSchedule::crontab("*/15 9-17 * * mon-fri").is_ok());
    /// let error = MonitorSchedule::crontab("0 24 * * *").unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     r#"invalid crontab "0 24 * * *": hour: 24 is out of range 0-23"#
    /// );
    /// ```
    ///
    /// # Errors
    /// [`InvalidSchedule`] naming the first field that is wrong and why.
    pub fn crontab(expression: impl Into<String>) -> Result<MonitorSchedule, InvalidSchedule> {
        let expression = expression.into();
        match crontab::validate(&expression) {
            Ok(()) => Ok(MonitorSchedule::Crontab(expression)),
            Err(reason) => Err(InvalidSchedule { expression, reason }),
        }
    }

    /// An interval schedule: every `value` `unit`s.
    pub fn interval(value: u64, unit: IntervalUnit) -> MonitorSchedule {
        MonitorSchedule::Interval { value, unit }
    }
}

/// The unit of an interval schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IntervalUnit {
    /// Years.
    Year,
    /// Months.
    Month,
    /// Weeks.
    Week,
    /// Days.
    Day,
    /// Hours.
    Hour,
    /// Minutes.
    Minute,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ScheduleRepr {
    Crontab { value: String },
    Interval { value: u64, unit: IntervalUnit },
}

impl From<ScheduleRepr> for MonitorSchedule {
    fn from(repr: ScheduleRepr) -> MonitorSchedule {
        match repr {
            ScheduleRepr::Crontab { value } => MonitorSchedule::Crontab(value),
            ScheduleRepr::Interval { value, unit } => MonitorSchedule::Interval { value, unit },
        }
    }
}

impl From<MonitorSchedule> for ScheduleRepr {
    fn from(schedule: MonitorSchedule) -> ScheduleRepr {
        match schedule {
            MonitorSchedule::Crontab(value) => ScheduleRepr::Crontab { value },
            MonitorSchedule::Interval { value, unit } => ScheduleRepr::Interval { value, unit },
        }
    }
}

/// A crontab expression that [`MonitorSchedule::crontab`] refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSchedule {
    expression: String,
    reason: String,
}

impl InvalidSchedule {
    /// The expression that was refused.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for InvalidSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid crontab {:?}: {}", self.expression, self.reason)
    }
}

impl std::error::Error for InvalidSchedule {}

/// The crontab check behind [`MonitorSchedule::crontab`].
mod crontab {
    struct Field {
        name: &'static str,
        min: u64,
        max: u64,
        names: &'static [&'static str],
    }

    const MONTHS: &[&str] = &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const DAYS: &[&str] = &["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    const FIELDS: [Field; 5] = [
        Field {
            name: "minute",
            min: 0,
            max: 59,
            names: &[],
        },
        Field {
            name: "hour",
            min: 0,
            max: 23,
            names: &[],
        },
        Field {
            name: "day of month",
            min: 1,
            max: 31,
            names: &[],
        },
        Field {
            name: "month",
            min: 1,
            max: 12,
            names: MONTHS,
        },
        Field {
            name: "day of week",
            min: 0,
            max: 6,
            names: DAYS,
        },
    ];

    /// `Ok` for a valid expression, else why it is not.
    pub(super) fn validate(expression: &str) -> Result<(), String> {
        let parts: Vec<&str> = expression.split_whitespace().collect();
        if parts.len() != FIELDS.len() {
            return Err(format!(
                "{} fields, expected 5 (minute hour day-of-month month day-of-week)",
                parts.len()
            ));
        }
        for (part, field) in parts.iter().zip(&FIELDS) {
            for item in part.split(',') {
                check_item(item, field).map_err(|e| format!("{}: {e}", field.name))?;
            }
        }
        Ok(())
    }

    fn check_item(item: &str, field: &Field) -> Result<(), String> {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        if let Some(step) = step {
            match step.parse::<u64>() {
                Ok(step) if step > 0 => {}
                _ => return Err(format!("{step:?} is not a step (a whole number above 0)")),
            }
        }
        if range == "*" {
            return Ok(());
        }
        match range.split_once('-') {
            Some((low, high)) => {
                let (low, high) = (value(low, field)?, value(high, field)?);
                if low > high {
                    return Err(format!("the range {range:?} runs backwards"));
                }
                Ok(())
            }
            None if step.is_some() => {
                Err(format!("{item:?}: a step needs `*` or a range before it"))
            }
            None => value(range, field).map(|_| ()),
        }
    }

    fn value(text: &str, field: &Field) -> Result<u64, String> {
        if let Some(i) = field
            .names
            .iter()
            .position(|name| name.eq_ignore_ascii_case(text))
        {
            return Ok(i as u64 + field.min);
        }
        match text.parse::<u64>() {
            Ok(v) if (field.min..=field.max).contains(&v) => Ok(v),
            Ok(v) => Err(format!("{v} is out of range {}-{}", field.min, field.max)),
            Err(_) if text.is_empty() => Err("an empty value".into()),
            Err(_) => Err(format!("{text:?} is not a value")),
        }
    }
}
