//! [`TransactionSource`] and [`TransactionInfo`]: where a transaction's
//! name came from (`protocol-telemetry.md` A.1, `transaction_info.source`).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a transaction's name came from, written in `snake_case`
/// (`"route"`, `"url"`, ...).
///
/// Dynamic sampling and the grouping of transactions by name depend on it:
/// a [`Url`](TransactionSource::Url) name is high-cardinality and Sentry
/// may rewrite it, a [`Route`](TransactionSource::Route) name is kept as
/// it is. Integrations set it; a name the user sets is
/// [`Custom`](TransactionSource::Custom), the default.
///
/// [`Unknown`](TransactionSource::Unknown) is set by Relay only, for a
/// transaction sent without a source: SDKs must not send it. It exists so
/// that what Relay wrote can be read back, and is written as `"unknown"`
/// if present. Reading JSON turns every name this version does not know
/// (such as Relay's `"sanitized"`) into `Unknown`; [`FromStr`] rejects
/// them.
///
/// ```
/// use vigil_protocol::TransactionSource;
/// assert_eq!(TransactionSource::Route.to_string(), "route");
/// assert_eq!("url".parse(), Ok(TransactionSource::Url));
/// assert!("sanitized".parse::<TransactionSource>().is_err());
/// let read: TransactionSource = serde_json::from_str(r#""sanitized""#).unwrap();
/// assert_eq!(read, TransactionSource::Unknown);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransactionSource {
    /// A name set by the user (the default).
    #[default]
    Custom,
    /// The raw URL path of a request, e.g. `/users/42`.
    Url,
    /// A parametrized route, e.g. `/users/{id}`.
    Route,
    /// The name of a view or handler.
    View,
    /// The name of a UI component.
    Component,
    /// The name of a background task or job.
    Task,
    /// Set by Relay when the SDK sent no source; never send it.
    Unknown,
}

impl TransactionSource {
    /// Every source, in declaration order ([`Unknown`](Self::Unknown)
    /// last).
    pub const ALL: [TransactionSource; 7] = [
        TransactionSource::Custom,
        TransactionSource::Url,
        TransactionSource::Route,
        TransactionSource::View,
        TransactionSource::Component,
        TransactionSource::Task,
        TransactionSource::Unknown,
    ];

    /// The wire name, e.g. `route`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TransactionSource::Custom => "custom",
            TransactionSource::Url => "url",
            TransactionSource::Route => "route",
            TransactionSource::View => "view",
            TransactionSource::Component => "component",
            TransactionSource::Task => "task",
            TransactionSource::Unknown => "unknown",
        }
    }
}

impl fmt::Display for TransactionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when parsing a name that is no
/// [`TransactionSource`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseTransactionSourceError;

impl fmt::Display for ParseTransactionSourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown transaction source")
    }
}

impl std::error::Error for ParseTransactionSourceError {}

impl FromStr for TransactionSource {
    type Err = ParseTransactionSourceError;

    /// Accepts the wire names, `unknown` included; case matters.
    fn from_str(s: &str) -> Result<TransactionSource, ParseTransactionSourceError> {
        TransactionSource::ALL
            .into_iter()
            .find(|source| source.as_str() == s)
            .ok_or(ParseTransactionSourceError)
    }
}

impl Serialize for TransactionSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TransactionSource {
    /// Reads a wire name; any other string is [`Unknown`](Self::Unknown).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<TransactionSource, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        Ok(name.parse().unwrap_or(TransactionSource::Unknown))
    }
}

/// A transaction's `transaction_info`: annotations about its name.
///
/// ```
/// use vigil_protocol::{TransactionInfo, TransactionSource};
/// let info = TransactionInfo { source: TransactionSource::Route };
/// assert_eq!(serde_json::to_string(&info).unwrap(), r#"{"source":"route"}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionInfo {
    /// Where the name came from. Reading JSON without it gives
    /// [`Unknown`](TransactionSource::Unknown), as Relay does.
    #[serde(default = "unknown_source")]
    pub source: TransactionSource,
}

fn unknown_source() -> TransactionSource {
    TransactionSource::Unknown
}
