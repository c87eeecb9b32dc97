use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The user affected by an event.
///
/// A plain struct so that the idiom below keeps compiling as fields are added:
///
/// ```
/// let user = vigil_protocol::User {
///     id: Some(42.to_string()),
///     email: Some("john.doe@example.com".into()),
///     ..Default::default()
/// };
/// assert_eq!(serde_json::to_string(&user).unwrap(),
///            r#"{"id":"42","email":"john.doe@example.com"}"#);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// A unique identifier of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The user's email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's IP address; `"{{auto}}"` asks the server to use the
    /// connection's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// The user's login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Approximate location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub geo: Option<Geo>,
    /// Any further data about the user (the `data` object).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, Value>,
    /// Further fields written beside the known ones in the `user` object
    /// (`{"id": .., "plan": "pro"}`); a key that names a field above is
    /// not written.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// Approximate geographical location of a user.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Geo {
    /// City name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Two-letter ISO 3166 country code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// Region name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}
