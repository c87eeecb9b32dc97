use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// The `sdk` interface: which SDK produced the event.
///
/// The strings are `Cow<'static, str>`: an SDK's own name, version and
/// integration names are literals, so attaching this to every event
/// copies no text.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSdkInfo {
    /// SDK name, `vigil.rust` for Vigil.
    pub name: Cow<'static, str>,
    /// SDK version (semver).
    pub version: Cow<'static, str>,
    /// Names of the enabled integrations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrations: Vec<Cow<'static, str>>,
    /// Packages that make up the SDK.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<ClientSdkPackage>,
}

/// One package of [`ClientSdkInfo::packages`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSdkPackage {
    /// `source:identifier`, e.g. `cargo:vigil-telemetry`.
    pub name: Cow<'static, str>,
    /// The package version.
    pub version: Cow<'static, str>,
}
