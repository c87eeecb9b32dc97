//! Cutting strings on character boundaries.

use proptest::prelude::*;

use crate::limits::text::{truncate_bytes, truncate_chars};

#[test]
fn strings_are_cut_on_char_boundaries() {
    let mut s = "é".repeat(10);
    truncate_chars(&mut s, 10);
    assert_eq!(s, "é".repeat(10), "at the limit nothing changes");
    let mut s = "é".repeat(11);
    truncate_chars(&mut s, 10);
    assert_eq!(s, format!("{}...", "é".repeat(7)));
    let mut s = "a€".repeat(10);
    truncate_bytes(&mut s, 10);
    assert!(s.len() <= 10 && s.ends_with("..."), "{s:?}");
    assert_eq!(s, "a€a...");
}

proptest! {
    #[test]
    fn truncation_respects_char_limits(s in ".{0,300}", limit in 3usize..200) {
        let mut cut = s.clone();
        truncate_chars(&mut cut, limit);
        prop_assert!(cut.chars().count() <= limit);
        if s.chars().count() <= limit {
            prop_assert_eq!(&cut, &s);
        } else {
            prop_assert!(cut.ends_with("..."));
            prop_assert!(s.starts_with(cut.trim_end_matches("...")));
        }
    }
}
