//! HTTP's optional white space (OWS) around header values and list
//! members.

/// `value` without surrounding spaces and tabs.
pub(super) fn trim_ows(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}
