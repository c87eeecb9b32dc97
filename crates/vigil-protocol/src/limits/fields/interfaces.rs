//! Limits of the event interfaces: exceptions and their mechanisms, stack
//! traces, threads, breadcrumbs and the user.

use std::net::IpAddr;

use super::MESSAGE_CHARS;
use crate::breadcrumb::Breadcrumb;
use crate::exception::{Exception, Stacktrace, Thread};
use crate::limits::bags::fit_map_bag;
use crate::limits::text::{truncate_chars, truncate_cow, truncate_opt, truncate_smol};
use crate::user::User;

const EXCEPTION_TYPE_CHARS: usize = 256;
const MODULE_CHARS: usize = 256;
const MECHANISM_TYPE_CHARS: usize = 128;
const MECHANISM_SOURCE_CHARS: usize = 128;
const HELP_LINK_CHARS: usize = 256;
const FUNCTION_CHARS: usize = 512;
const THREAD_NAME_CHARS: usize = 1024;
const EMAIL_CHARS: usize = 75;
const USER_ID_CHARS: usize = 128;
const USERNAME_CHARS: usize = 128;
const GEO_CHARS: usize = 1024;
const BREADCRUMB_TYPE_CHARS: usize = 128;
const BREADCRUMB_CATEGORY_CHARS: usize = 128;
const MAX_FRAMES: usize = 250;

/// `(bytes, depth)` of each data bag.
const MECHANISM_DATA_BAG: (usize, usize) = (2048, 5);
const BREADCRUMB_DATA_BAG: (usize, usize) = (2048, 5);

/// Fits an exception, its mechanism and its stack trace.
pub(super) fn trim_exception(exception: &mut Exception) {
    truncate_chars(&mut exception.ty, EXCEPTION_TYPE_CHARS);
    truncate_opt(&mut exception.value, MESSAGE_CHARS);
    truncate_opt(&mut exception.module, MODULE_CHARS);
    if let Some(mechanism) = &mut exception.mechanism {
        truncate_chars(&mut mechanism.ty, MECHANISM_TYPE_CHARS);
        truncate_opt(&mut mechanism.description, MESSAGE_CHARS);
        truncate_opt(&mut mechanism.help_link, HELP_LINK_CHARS);
        truncate_opt(&mut mechanism.source, MECHANISM_SOURCE_CHARS);
        fit_map_bag(&mut mechanism.data, MECHANISM_DATA_BAG);
    }
    trim_stacktrace(&mut exception.stacktrace);
}

/// Fits a thread's name and stack trace.
pub(super) fn trim_thread(thread: &mut Thread) {
    truncate_opt(&mut thread.name, THREAD_NAME_CHARS);
    trim_stacktrace(&mut thread.stacktrace);
}

/// Keeps the newest [`MAX_FRAMES`] frames; removes a stack trace without
/// frames (Relay rejects an empty `frames`).
fn trim_stacktrace(stacktrace: &mut Option<Stacktrace>) {
    let Some(st) = stacktrace else { return };
    if st.frames.is_empty() {
        *stacktrace = None;
        return;
    }
    if st.frames.len() > MAX_FRAMES {
        // Oldest first: the newest frames are at the end.
        st.frames.drain(..st.frames.len() - MAX_FRAMES);
    }
    for frame in &mut st.frames {
        truncate_opt(&mut frame.function, FUNCTION_CHARS);
        truncate_opt(&mut frame.raw_function, FUNCTION_CHARS);
    }
}

/// Fits one breadcrumb (done when it is added to a [`Breadcrumbs`](crate::breadcrumb_list::Breadcrumbs)).
pub(crate) fn trim_breadcrumb(crumb: &mut Breadcrumb) {
    truncate_smol(&mut crumb.ty, BREADCRUMB_TYPE_CHARS);
    if let Some(category) = &mut crumb.category {
        truncate_cow(category, BREADCRUMB_CATEGORY_CHARS);
    }
    truncate_opt(&mut crumb.message, MESSAGE_CHARS);
    fit_map_bag(&mut crumb.data, BREADCRUMB_DATA_BAG);
}

/// Fits the user's ids and location; removes an IP address Relay rejects.
pub(super) fn trim_user(user: &mut User) {
    truncate_opt(&mut user.id, USER_ID_CHARS);
    truncate_opt(&mut user.username, USERNAME_CHARS);
    truncate_opt(&mut user.email, EMAIL_CHARS);
    if user
        .ip_address
        .as_deref()
        .is_some_and(|ip| ip != "{{auto}}" && ip.parse::<IpAddr>().is_err())
    {
        user.ip_address = None;
    }
    if let Some(geo) = &mut user.geo {
        truncate_opt(&mut geo.city, GEO_CHARS);
        truncate_opt(&mut geo.country_code, GEO_CHARS);
        truncate_opt(&mut geo.region, GEO_CHARS);
    }
}
