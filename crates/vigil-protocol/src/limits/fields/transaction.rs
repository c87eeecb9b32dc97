//! [`trim_transaction`]: the field limits of an event, applied to a
//! transaction's attributes, and the span limits to each of its spans.

use super::contexts::trim_context;
use super::interfaces::trim_user;
use super::request::trim_request;
use super::span::trim_span;
use super::tags::trim_tags;
use super::{
    SERVER_NAME_CHARS, clean_dist, clean_environment, clean_release, trim_extra, trim_sdk,
    trim_transaction_name,
};
use crate::limits::text::truncate_opt;
use crate::transaction::Transaction;

/// Applies Relay's field limits to `transaction` in place: its name,
/// release, environment, dist, server name, user, request, contexts, tags,
/// extra and SDK as [`trim_event`](super::trim_event) does for an event,
/// and each span as `trim_span` does.
pub(in crate::limits) fn trim_transaction(transaction: &mut Transaction) {
    trim_transaction_name(&mut transaction.name);
    truncate_opt(&mut transaction.server_name, SERVER_NAME_CHARS);
    clean_release(&mut transaction.release);
    clean_environment(&mut transaction.environment);
    clean_dist(&mut transaction.dist);
    if let Some(user) = &mut transaction.user {
        trim_user(user);
    }
    if let Some(request) = &mut transaction.request {
        trim_request(request);
    }
    for (name, context) in &mut transaction.contexts {
        trim_context(name, context);
    }
    trim_tags(&mut transaction.tags);
    trim_extra(&mut transaction.extra);
    trim_sdk(&mut transaction.sdk);
    for span in &mut transaction.spans {
        trim_span(span);
    }
}
