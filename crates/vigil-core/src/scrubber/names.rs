//! Whole key names looked up ignoring ASCII case, with `-` and `_` the
//! same: a sorted list behind a cheap pre-check, since nearly every key an
//! event holds is not on the list.

/// A set of key names.
#[derive(Clone, Debug, Default)]
pub(super) struct NameSet {
    /// The names, normalized ([`normalize_byte`]), sorted, deduplicated.
    names: Vec<String>,
    /// Bit `n` set when a name is `n` bytes long (`n < 64`).
    lengths: u64,
    /// Whether a name is 64 bytes or longer.
    has_long: bool,
    /// Bit `b` set when a name starts with the (normalized) byte `b`.
    first_bytes: [u64; 4],
}

impl NameSet {
    pub(super) fn new(names: impl IntoIterator<Item = String>) -> NameSet {
        let mut normalized: Vec<String> = names
            .into_iter()
            .filter(|k| !k.is_empty())
            .map(|k| {
                String::from_utf8_lossy(&k.bytes().map(normalize_byte).collect::<Vec<_>>())
                    .into_owned()
            })
            .collect();
        normalized.sort_unstable();
        normalized.dedup();
        let mut set = NameSet {
            names: Vec::new(),
            lengths: 0,
            has_long: false,
            first_bytes: [0; 4],
        };
        for name in &normalized {
            let len = name.len();
            if len < 64 {
                set.lengths |= 1 << len;
            } else {
                set.has_long = true;
            }
            let first = name.as_bytes()[0];
            set.first_bytes[usize::from(first >> 6)] |= 1 << (first & 63);
        }
        set.names = normalized;
        set
    }

    /// The names, normalized and sorted.
    pub(super) fn names(&self) -> &[String] {
        &self.names
    }

    pub(super) fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether `key` is in the set (ignoring ASCII case, `-` as `_`).
    pub(super) fn contains(&self, key: &str) -> bool {
        let bytes = key.as_bytes();
        let Some(&first) = bytes.first() else {
            return false;
        };
        let len = bytes.len();
        let length_possible = if len < 64 {
            self.lengths & (1 << len) != 0
        } else {
            self.has_long
        };
        let first = normalize_byte(first);
        if !length_possible || self.first_bytes[usize::from(first >> 6)] & (1 << (first & 63)) == 0
        {
            return false;
        }
        self.names
            .binary_search_by(|name| name.bytes().cmp(bytes.iter().copied().map(normalize_byte)))
            .is_ok()
    }
}

/// Lower-cased with `-` as `_`, the form names are kept in.
fn normalize_byte(b: u8) -> u8 {
    if b == b'-' {
        b'_'
    } else {
        b.to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_ignoring_case_and_dash_or_underscore() {
        let set = NameSet::new(["X-Api-Key".to_owned(), "otp".to_owned(), String::new()]);
        assert_eq!(set.names(), ["otp", "x_api_key"]);
        assert!(set.contains("x_api_key"));
        assert!(set.contains("X-API-KEY"));
        assert!(set.contains("OTP"));
        assert!(!set.contains("otp2"));
        assert!(!set.contains("x_api_ke"));
        assert!(!set.contains(""));
        assert!(!set.contains("ötp"));
        let long = "a".repeat(70);
        let set = NameSet::new([long.clone()]);
        assert!(set.contains(&long.to_ascii_uppercase()));
        assert!(!set.contains(&"a".repeat(71)));
    }
}
