//! The scope: data merged into every event captured while it is current.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use smol_str::ToSmolStr;

use crate::propagation::PropagationContext;
use crate::session::Session;
use crate::tags::Tags;
use crate::transaction::TransactionOrSpan;
use vigil_protocol::{
    Attachment, Breadcrumb, Breadcrumbs, Context, Event, Level, SmolStr, Transaction, User, Value,
};

/// An event processor: may change or drop (`None`) an event.
pub(crate) type EventProcessor = Arc<dyn Fn(Event) -> Option<Event> + Send + Sync>;

const DEFAULT_MAX_BREADCRUMBS: usize = 100;

/// Data attached to every event captured while the scope is current: tags,
/// user, contexts, extra, level, fingerprint, transaction, breadcrumbs,
/// event processors and attachments, and the trace its events belong to
/// (its [`PropagationContext`]).
///
/// Scopes are copy-on-write: every field is shared with the scope it was
/// pushed from until one side writes to it, so pushing a scope costs a few
/// reference-count increments and a write copies only the field written.
///
/// Get one through [`configure_scope`](crate::configure_scope),
/// [`with_scope`](crate::with_scope) or
/// [`Hub::configure_scope`](crate::Hub::configure_scope).
#[derive(Clone, Default)]
pub struct Scope {
    pub(crate) level: Option<Level>,
    pub(crate) max_breadcrumbs: Option<usize>,
    pub(crate) tags: Tags,
    pub(crate) breadcrumbs: Breadcrumbs,
    /// The fields set less often, shared as one unit so that copying a
    /// scope costs a few reference counts whatever it holds.
    pub(crate) rest: Arc<Rest>,
    /// The trace; shared by the scopes pushed from this one.
    pub(crate) propagation: Arc<PropagationContext>,
    /// The running transaction or span, if one was set.
    pub(crate) span: Option<TransactionOrSpan>,
    /// The release-health session events captured here count for.
    pub(crate) session: Option<Arc<Session>>,
}

#[derive(Clone, Default)]
pub(crate) struct Rest {
    pub(crate) fingerprint: Option<Arc<[String]>>,
    pub(crate) transaction: Option<Arc<str>>,
    pub(crate) user: Option<Arc<User>>,
    pub(crate) extra: Arc<BTreeMap<String, Value>>,
    pub(crate) contexts: Arc<BTreeMap<String, Context>>,
    pub(crate) event_processors: Arc<Vec<EventProcessor>>,
    /// Each attachment is shared, so copying the list copies no content
    /// and a merge can tell entries apart by identity.
    pub(crate) attachments: Arc<Vec<Arc<Attachment>>>,
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("level", &self.level)
            .field("fingerprint", &self.rest.fingerprint)
            .field("transaction", &self.rest.transaction)
            .field("user", &self.rest.user)
            .field("tags", &self.tags)
            .field("extra", &self.rest.extra)
            .field("contexts", &self.rest.contexts)
            .field("breadcrumbs", &self.breadcrumbs.len())
            .field("event_processors", &self.rest.event_processors.len())
            .field("attachments", &self.rest.attachments)
            .field("propagation", &self.propagation)
            .field("span", &self.span)
            .field("session", &self.session.is_some())
            .finish()
    }
}

impl Scope {
    fn rest_mut(&mut self) -> &mut Rest {
        Arc::make_mut(&mut self.rest)
    }

    /// An empty scope.
    pub fn new() -> Scope {
        Scope::default()
    }

    /// Removes all data: tags, user, extra, contexts, level, fingerprint,
    /// transaction, breadcrumbs and attachments, and starts a new trace.
    /// Event processors stay. Other scopes (parents, children) are not
    /// touched.
    pub fn clear(&mut self) {
        let processors = self.rest.event_processors.clone();
        let max = self.max_breadcrumbs;
        let session = self.session.take();
        *self = Scope::default();
        self.session = session;
        if !processors.is_empty() {
            self.rest_mut().event_processors = processors;
        }
        self.max_breadcrumbs = max;
    }

    /// Sets the level of events captured in this scope (overrides the level
    /// the event was captured with). `None` removes the override.
    pub fn set_level(&mut self, level: Option<Level>) {
        self.level = level;
    }

    /// The level override, if any.
    pub fn level(&self) -> Option<Level> {
        self.level
    }

    /// Sets the fingerprint of events that do not have their own; `None`
    /// removes it.
    pub fn set_fingerprint(&mut self, fingerprint: Option<&[&str]>) {
        self.rest_mut().fingerprint =
            fingerprint.map(|f| f.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>().into());
    }

    /// Sets the transaction name of events that do not have their own.
    /// When the scope's span is a transaction (see
    /// [`set_span`](Scope::set_span)), that transaction is renamed too (its
    /// name's source becomes `custom`).
    pub fn set_transaction(&mut self, transaction: Option<&str>) {
        if let (Some(name), Some(TransactionOrSpan::Transaction(bound))) = (transaction, &self.span)
        {
            bound.set_name(name);
        }
        self.rest_mut().transaction = transaction.map(Arc::from);
    }

    /// The transaction name, if any.
    pub fn transaction(&self) -> Option<&str> {
        self.rest.transaction.as_deref()
    }

    /// Sets the user; `None` removes it.
    pub fn set_user(&mut self, user: Option<User>) {
        self.rest_mut().user = user.map(Arc::new);
    }

    /// The user, if any.
    pub fn user(&self) -> Option<&User> {
        self.rest.user.as_deref()
    }

    /// Sets a tag. Keys and values of up to 23 bytes are stored inline
    /// (no allocation).
    pub fn set_tag<V: fmt::Display>(&mut self, key: &str, value: V) {
        self.tags.insert(key, value.to_smolstr());
    }

    /// Removes a tag.
    pub fn remove_tag(&mut self, key: &str) {
        self.tags.remove(key);
    }

    /// The tags.
    pub fn tags(&self) -> &Tags {
        &self.tags
    }

    /// Sets an extra value: `set_extra("retries", 3.into())`,
    /// `set_extra("request", json!({"id": 7}))`.
    pub fn set_extra(&mut self, key: &str, value: Value) {
        Arc::make_mut(&mut self.rest_mut().extra).insert(key.to_owned(), value);
    }

    /// Removes an extra value.
    pub fn remove_extra(&mut self, key: &str) {
        if self.rest.extra.contains_key(key) {
            Arc::make_mut(&mut self.rest_mut().extra).remove(key);
        }
    }

    /// The extra values.
    pub fn extra(&self) -> &BTreeMap<String, Value> {
        &self.rest.extra
    }

    /// Sets a context, e.g. `set_context("os", OsContext { .. })`.
    pub fn set_context(&mut self, key: &str, context: impl Into<Context>) {
        Arc::make_mut(&mut self.rest_mut().contexts).insert(key.to_owned(), context.into());
    }

    /// Removes a context.
    pub fn remove_context(&mut self, key: &str) {
        if self.rest.contexts.contains_key(key) {
            Arc::make_mut(&mut self.rest_mut().contexts).remove(key);
        }
    }

    /// The contexts.
    pub fn contexts(&self) -> &BTreeMap<String, Context> {
        &self.rest.contexts
    }

    /// Adds a breadcrumb directly, bypassing `before_breadcrumb` (use
    /// [`add_breadcrumb`](crate::add_breadcrumb) for the normal path).
    pub fn add_breadcrumb(&mut self, breadcrumb: Breadcrumb) {
        let max = self.max_breadcrumbs.unwrap_or(DEFAULT_MAX_BREADCRUMBS);
        self.breadcrumbs.push_capped(breadcrumb, max);
    }

    /// Removes all breadcrumbs.
    pub fn clear_breadcrumbs(&mut self) {
        self.breadcrumbs.clear();
    }

    /// The stored breadcrumbs, oldest first.
    pub fn breadcrumbs(&self) -> &Breadcrumbs {
        &self.breadcrumbs
    }

    /// Adds an event processor, run at capture after the scope's data has
    /// been applied, in the order added. Returning `None` drops the event
    /// (counted as `event_processor`); so does a panic.
    pub fn add_event_processor(
        &mut self,
        processor: impl Fn(Event) -> Option<Event> + Send + Sync + 'static,
    ) {
        Arc::make_mut(&mut self.rest_mut().event_processors).push(Arc::new(processor));
    }

    /// Adds an attachment, sent with every event captured in this scope.
    pub fn add_attachment(&mut self, attachment: Attachment) {
        Arc::make_mut(&mut self.rest_mut().attachments).push(Arc::new(attachment));
    }

    /// Removes all attachments.
    pub fn clear_attachments(&mut self) {
        self.rest_mut().attachments = Arc::default();
    }

    /// The attachments, in the order added.
    pub fn attachments(&self) -> impl ExactSizeIterator<Item = &Attachment> {
        self.rest.attachments.iter().map(|a| &**a)
    }

    /// The trace this scope's events belong to.
    pub fn propagation_context(&self) -> &PropagationContext {
        &self.propagation
    }

    /// Makes `span` the scope's current span (or clears it): events
    /// captured in the scope then carry its trace and span ids, their
    /// envelopes its trace's sampling context, and
    /// [`iter_trace_propagation_headers`](Scope::iter_trace_propagation_headers)
    /// makes it the parent of what is called.
    pub fn set_span(&mut self, span: Option<TransactionOrSpan>) {
        self.span = span;
    }

    /// The scope's current span, if any.
    pub fn get_span(&self) -> Option<TransactionOrSpan> {
        self.span.clone()
    }

    /// Makes this scope's events belong to another trace: one continued
    /// from incoming headers
    /// ([`PropagationContext::continue_from_headers`]) or a new one
    /// ([`PropagationContext::new`]).
    pub fn set_propagation_context(&mut self, context: PropagationContext) {
        self.propagation = Arc::new(context);
    }

    /// Merges the data fields (no processors) into `event`.
    /// With `set_level` false the scope's level override is not applied
    /// (a scope applied later has its own).
    pub(crate) fn apply_data(&self, event: &mut Event, max_breadcrumbs: usize, set_level: bool) {
        if let (Some(level), true) = (self.level, set_level) {
            event.level = level;
        }
        self.fill_shared(
            &mut event.user,
            &mut event.tags,
            &mut event.extra,
            &mut event.contexts,
        );
        if event.transaction.is_none()
            && let Some(t) = &self.rest.transaction
        {
            event.transaction = Some((**t).to_owned());
        }
        if event.fingerprint.is_empty()
            && let Some(f) = &self.rest.fingerprint
        {
            event.fingerprint = f.to_vec();
        }
        if !event.contexts.contains_key("trace") {
            let trace = match &self.span {
                Some(span) => span.get_trace_context(),
                None => self.propagation.trace_context(),
            };
            event
                .contexts
                .insert("trace".to_owned(), Context::from(trace));
        }
        if !self.breadcrumbs.is_empty() && event.breadcrumbs.len() < max_breadcrumbs {
            // Shared, not copied: the event holds the scope's list.
            let own = std::mem::replace(&mut event.breadcrumbs, self.breadcrumbs.clone());
            event.breadcrumbs.append(own);
        }
        event.breadcrumbs.keep_newest(max_breadcrumbs);
    }

    /// Merges the data a transaction takes from its scope: user, tags,
    /// extra and contexts where the transaction has none of its own (no
    /// breadcrumbs, no event processors).
    pub(crate) fn apply_to_transaction(&self, transaction: &mut Transaction) {
        self.fill_shared(
            &mut transaction.user,
            &mut transaction.tags,
            &mut transaction.extra,
            &mut transaction.contexts,
        );
    }

    /// User, tags, extra and contexts, where the payload has none of its
    /// own: what events and transactions both take from a scope.
    fn fill_shared(
        &self,
        user: &mut Option<User>,
        tags: &mut BTreeMap<SmolStr, SmolStr>,
        extra: &mut BTreeMap<String, Value>,
        contexts: &mut BTreeMap<String, Context>,
    ) {
        if user.is_none()
            && let Some(scope_user) = &self.rest.user
        {
            *user = Some((**scope_user).clone());
        }
        self.tags.fill_missing(tags);
        merge_missing(extra, &self.rest.extra);
        merge_missing(contexts, &self.rest.contexts);
    }

    /// Applies the changes that `edited` made relative to `base` onto
    /// `self`: the three-way merge behind lossless concurrent
    /// `configure_scope`.
    pub(crate) fn merge_changes(&mut self, base: &Scope, edited: &Scope) {
        if edited.level != base.level {
            self.level = edited.level;
        }
        self.tags.merge_changes(&base.tags, &edited.tags);
        if edited.max_breadcrumbs != base.max_breadcrumbs {
            self.max_breadcrumbs = edited.max_breadcrumbs;
        }
        if !edited.breadcrumbs.shares_storage_with(&base.breadcrumbs) {
            match edited.breadcrumbs.added_since(&base.breadcrumbs) {
                Some(added) => {
                    let max = self.max_breadcrumbs.unwrap_or(DEFAULT_MAX_BREADCRUMBS);
                    self.breadcrumbs.append(added);
                    self.breadcrumbs.keep_newest(max);
                }
                // Cleared (or rebuilt): the edit replaces the list.
                None => self.breadcrumbs = edited.breadcrumbs.clone(),
            }
        }
        if !Arc::ptr_eq(&base.rest, &edited.rest) {
            self.rest_mut().merge_changes(&base.rest, &edited.rest);
        }
        if !Arc::ptr_eq(&base.propagation, &edited.propagation) {
            self.propagation = edited.propagation.clone();
        }
        let span_changed = match (&base.span, &edited.span) {
            (None, None) => false,
            (Some(a), Some(b)) => !a.same_as(b),
            _ => true,
        };
        if span_changed {
            self.span = edited.span.clone();
        }
    }
}

impl Rest {
    fn merge_changes(&mut self, base: &Rest, edited: &Rest) {
        if !opt_arc_same(&edited.fingerprint, &base.fingerprint) {
            self.fingerprint = edited.fingerprint.clone();
        }
        if !opt_arc_same(&edited.transaction, &base.transaction) {
            self.transaction = edited.transaction.clone();
        }
        if !opt_arc_same(&edited.user, &base.user) {
            self.user = edited.user.clone();
        }
        merge_map(&mut self.extra, &base.extra, &edited.extra);
        merge_map(&mut self.contexts, &base.contexts, &edited.contexts);
        merge_list(
            &mut self.event_processors,
            &base.event_processors,
            &edited.event_processors,
        );
        merge_list(
            &mut self.attachments,
            &base.attachments,
            &edited.attachments,
        );
    }
}

fn opt_arc_same<T: ?Sized>(a: &Option<Arc<T>>, b: &Option<Arc<T>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

fn merge_missing<K: Ord + Clone, V: Clone>(into: &mut BTreeMap<K, V>, from: &BTreeMap<K, V>) {
    if into.is_empty() {
        into.clone_from(from);
        return;
    }
    for (k, v) in from {
        if !into.contains_key(k) {
            into.insert(k.clone(), v.clone());
        }
    }
}

fn merge_map<K: Ord + Clone, V: Clone + PartialEq>(
    current: &mut Arc<BTreeMap<K, V>>,
    base: &Arc<BTreeMap<K, V>>,
    edited: &Arc<BTreeMap<K, V>>,
) {
    if Arc::ptr_eq(base, edited) {
        return;
    }
    let target = Arc::make_mut(current);
    for (k, v) in edited.iter() {
        if base.get(k) != Some(v) {
            target.insert(k.clone(), v.clone());
        }
    }
    for k in base.keys() {
        if !edited.contains_key(k) {
            target.remove(k);
        }
    }
}

/// The three-way merge of a list whose entries are shared: the entries
/// the edit removed (by clearing the list) leave the current list, the
/// entries it added join it at the end, and entries added concurrently
/// stay. Entries are told apart by identity, not by value, so clearing
/// and re-adding an equal entry is seen as what it is.
fn merge_list<T: ?Sized>(
    current: &mut Arc<Vec<Arc<T>>>,
    base: &Arc<Vec<Arc<T>>>,
    edited: &Arc<Vec<Arc<T>>>,
) {
    if Arc::ptr_eq(base, edited) {
        return;
    }
    let contains = |list: &[Arc<T>], entry: &Arc<T>| list.iter().any(|e| Arc::ptr_eq(e, entry));
    let target = Arc::make_mut(current);
    target.retain(|entry| !contains(base, entry) || contains(edited, entry));
    target.extend(edited.iter().filter(|e| !contains(base, e)).cloned());
}
