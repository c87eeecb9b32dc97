use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The severity of an event or breadcrumb.
///
/// Serialized as Sentry's lowercase names (`"debug"`, `"info"`, `"warning"`,
/// `"error"`, `"fatal"`). Ordered from least to most severe.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Diagnostic detail.
    Debug,
    /// Informational; the default for breadcrumbs and messages.
    #[default]
    Info,
    /// Something unexpected that was handled.
    Warning,
    /// An error; the default level of events.
    Error,
    /// A failure that ends the program or request.
    Fatal,
}

impl Level {
    /// The wire name of the level.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when parsing an unknown level name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseLevelError;

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown level (expected debug, info, warning, error or fatal)")
    }
}

impl std::error::Error for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Parses the canonical names and the legacy aliases Relay accepts
    /// (`warn`, `log`, `critical`).
    fn from_str(s: &str) -> Result<Level, ParseLevelError> {
        Ok(match s {
            "debug" => Level::Debug,
            "info" | "log" => Level::Info,
            "warning" | "warn" => Level::Warning,
            "error" => Level::Error,
            "fatal" | "critical" => Level::Fatal,
            _ => return Err(ParseLevelError),
        })
    }
}
