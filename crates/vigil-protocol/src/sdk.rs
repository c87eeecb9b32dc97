use serde::{Deserialize, Serialize};

/// The `sdk` interface: which SDK produced the event.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSdkInfo {
    /// SDK name, `vigil.rust` for Vigil.
    pub name: String,
    /// SDK version (semver).
    pub version: String,
    /// Names of the enabled integrations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrations: Vec<String>,
    /// Packages that make up the SDK.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<ClientSdkPackage>,
}

/// One package of [`ClientSdkInfo::packages`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSdkPackage {
    /// `source:identifier`, e.g. `cargo:vigil`.
    pub name: String,
    /// The package version.
    pub version: String,
}
