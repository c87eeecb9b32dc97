//! The attributes every structured log and trace metric carries (Sentry's
//! telemetry conventions): the SDK, the environment, the release, the
//! server, and the scope's user when `send_default_pii` allows it.

use crate::client::Client;
use crate::scope::Scope;

impl Client {
    /// Calls `set` with each default attribute (all are text): the caller
    /// keeps those the record has not set itself.
    pub(crate) fn default_attributes(
        &self,
        scope: Option<&Scope>,
        mut set: impl FnMut(&'static str, &str),
    ) {
        let o = &self.options;
        set("sentry.sdk.name", &self.sdk.name);
        set("sentry.sdk.version", &self.sdk.version);
        set(
            "sentry.environment",
            o.environment.as_deref().unwrap_or("production"),
        );
        if let Some(release) = &o.release {
            set("sentry.release", release);
        }
        if let Some(server_name) = &o.server_name {
            set("server.address", server_name);
        }
        if o.send_default_pii
            && let Some(user) = scope.and_then(Scope::user)
        {
            if let Some(id) = &user.id {
                set("user.id", id);
            }
            if let Some(name) = &user.username {
                set("user.name", name);
            }
            if let Some(email) = &user.email {
                set("user.email", email);
            }
        }
    }
}
