//! Walking an event or a transaction and filtering what the
//! [`EventScrubber`]'s rules name.

use std::borrow::Cow;

use serde_json::Value;
use vigil_protocol::{Breadcrumbs, Context, Event, Request, Transaction, User};

use crate::privacy::{self, FILTERED};
use crate::scrubber::EventScrubber;

/// Nested objects and arrays are followed this deep; deeper values (which
/// no normalizer keeps anyway) are left as they are.
const MAX_DEPTH: usize = 64;

/// The scrubber's rules for one payload.
pub(super) struct Walker<'a> {
    rules: &'a EventScrubber,
    send_default_pii: bool,
}

impl<'a> Walker<'a> {
    pub(super) fn new(rules: &'a EventScrubber, send_default_pii: bool) -> Walker<'a> {
        Walker {
            rules,
            send_default_pii,
        }
    }

    fn sensitive(&self, key: &str) -> bool {
        self.rules.is_sensitive_key(key, self.send_default_pii)
    }

    pub(super) fn event(&self, event: &mut Event) {
        self.entries(event.extra.iter_mut(), 0);
        for context in event.contexts.values_mut() {
            self.context(context);
        }
        self.breadcrumbs(&mut event.breadcrumbs);
        if let Some(request) = &mut event.request {
            self.request(request);
        }
        if let Some(user) = &mut event.user {
            self.user(user);
        }
        if let Some(name) = &mut event.transaction {
            filter_name(name);
        }
    }

    pub(super) fn transaction(&self, transaction: &mut Transaction) {
        self.entries(transaction.extra.iter_mut(), 0);
        for context in transaction.contexts.values_mut() {
            self.context(context);
        }
        if let Some(request) = &mut transaction.request {
            self.request(request);
        }
        if let Some(user) = &mut transaction.user {
            self.user(user);
        }
        if let Some(name) = &mut transaction.name {
            filter_name(name);
        }
        for span in &mut transaction.spans {
            self.entries(span.data.iter_mut(), 0);
        }
    }

    /// A context's own fields (the trace context's `data`).
    fn context(&self, context: &mut Context) {
        match context {
            Context::Other(map) => self.entries(map.iter_mut(), 0),
            Context::Os(c) => self.entries(c.other.iter_mut(), 0),
            Context::Runtime(c) => self.entries(c.other.iter_mut(), 0),
            Context::Device(c) => self.entries(c.other.iter_mut(), 0),
            Context::App(c) => self.entries(c.other.iter_mut(), 0),
            Context::Trace(c) => self.entries(c.data.iter_mut(), 0),
            // The message, contact e-mail and name are what the user chose
            // to send: they stay. The URL is filtered as any URL is.
            Context::Feedback(c) => {
                if let Some(url) = &mut c.url {
                    replace_owned(url, |u| privacy::filter_url(u, false));
                }
                self.entries(c.other.iter_mut(), 0);
            }
            _ => {}
        }
    }

    /// Breadcrumbs may share their storage with the scope's: only those
    /// that need a change are copied.
    fn breadcrumbs(&self, breadcrumbs: &mut Breadcrumbs) {
        for index in 0..breadcrumbs.len() {
            let needs = breadcrumbs
                .get(index)
                .is_some_and(|crumb| self.entries_need(crumb.data.iter(), 0));
            if needs && let Some(crumb) = breadcrumbs.get_mut(index) {
                self.entries(crumb.data.iter_mut(), 0);
            }
        }
    }

    fn request(&self, request: &mut Request) {
        if let Some(url) = &mut request.url {
            replace_owned(url, |u| privacy::filter_url(u, false));
        }
        if let Some(query) = &mut request.query_string {
            replace_owned(query, privacy::filter_query);
        }
        if let Some(data) = &mut request.data {
            self.value(data, 0);
        }
        if let Some(cookies) = &mut request.cookies {
            *cookies = self.cookies(cookies, false);
        }
        for (name, value) in &mut request.headers {
            if name.eq_ignore_ascii_case("cookie") {
                *value = self.cookies(value, false);
            } else if name.eq_ignore_ascii_case("set-cookie") {
                *value = self.cookies(value, true);
            } else if privacy::is_sensitive_header(name) || self.sensitive(name) {
                set_filtered_text(value);
            } else if name.eq_ignore_ascii_case("referer") {
                replace_owned(value, |u| privacy::filter_url(u, false));
            }
        }
        for (name, value) in &mut request.env {
            if self.sensitive(name) {
                set_filtered_text(value);
            }
        }
    }

    /// A cookie header's value, filtered cookie by cookie; one that does
    /// not parse is filtered whole.
    fn cookies(&self, value: &str, set_cookie: bool) -> String {
        if value == FILTERED {
            return value.to_owned();
        }
        privacy::filter_cookies_by(value, set_cookie, |name| {
            privacy::is_sensitive_cookie(name) || self.sensitive(name)
        })
        .unwrap_or_else(|| FILTERED.to_owned())
    }

    fn user(&self, user: &mut User) {
        if user.ip_address.is_some() && self.sensitive("ip_address") {
            user.ip_address = None;
        }
        self.entries(user.data.iter_mut(), 0);
    }

    fn entries<'m>(
        &self,
        entries: impl Iterator<Item = (&'m String, &'m mut Value)>,
        depth: usize,
    ) {
        for (key, value) in entries {
            self.entry(key, value, depth);
        }
    }

    fn entry(&self, key: &str, value: &mut Value, depth: usize) {
        if self.sensitive(key) {
            if value.as_str() != Some(FILTERED) {
                *value = Value::String(FILTERED.to_owned());
            }
            return;
        }
        if let Value::String(text) = value {
            match url_kind(key) {
                Some(UrlKind::Url) => replace_owned(text, |u| privacy::filter_url(u, false)),
                Some(UrlKind::Query) => replace_owned(text, privacy::filter_query),
                None => {}
            }
            return;
        }
        self.value(value, depth + 1);
    }

    fn value(&self, value: &mut Value, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::Object(map) => self.entries(map.iter_mut(), depth),
            Value::Array(values) => {
                for value in values {
                    self.value(value, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// Whether [`Walker::entries`] would change anything (without
    /// changing it).
    fn entries_need<'m>(
        &self,
        mut entries: impl Iterator<Item = (&'m String, &'m Value)>,
        depth: usize,
    ) -> bool {
        entries.any(|(key, value)| self.entry_needs(key, value, depth))
    }

    fn entry_needs(&self, key: &str, value: &Value, depth: usize) -> bool {
        if self.sensitive(key) {
            return value.as_str() != Some(FILTERED);
        }
        if let Value::String(text) = value {
            return match url_kind(key) {
                Some(UrlKind::Url) => matches!(privacy::filter_url(text, false), Cow::Owned(_)),
                Some(UrlKind::Query) => matches!(privacy::filter_query(text), Cow::Owned(_)),
                None => false,
            };
        }
        self.value_needs(value, depth + 1)
    }

    fn value_needs(&self, value: &Value, depth: usize) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match value {
            Value::Object(map) => self.entries_need(map.iter(), depth),
            Value::Array(values) => values.iter().any(|v| self.value_needs(v, depth + 1)),
            _ => false,
        }
    }
}

/// What a string under a key of data is, when it is a URL or a query.
enum UrlKind {
    Url,
    Query,
}

/// The keys integrations and OpenTelemetry conventions put URLs and
/// queries under.
fn url_kind(key: &str) -> Option<UrlKind> {
    match key {
        "url" | "http.url" | "url.full" | "http.target" => Some(UrlKind::Url),
        "http.query" | "url.query" | "query_string" => Some(UrlKind::Query),
        _ => None,
    }
}

/// A transaction name holding a query (`GET /search?token=…`) keeps it
/// filtered.
fn filter_name(name: &mut String) {
    if let Some(at) = name.find('?')
        && let Cow::Owned(query) = privacy::filter_query(&name[at + 1..])
    {
        name.truncate(at + 1);
        name.push_str(&query);
    }
}

/// Replaces `text` by what `filter` makes of it, if that is a change.
fn replace_owned(text: &mut String, filter: impl for<'t> FnOnce(&'t str) -> Cow<'t, str>) {
    if let Cow::Owned(filtered) = filter(text) {
        *text = filtered;
    }
}

fn set_filtered_text(value: &mut String) {
    if value != FILTERED {
        *value = FILTERED.to_owned();
    }
}
