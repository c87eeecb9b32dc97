//! Writing JSON objects and lists: maps with string keys, lists, and the
//! fields of an object that may leave out its leading fields.

use super::sink::JsonSink;

/// Writes a map with string keys as a JSON object, each value with
/// `write_value`.
pub(super) fn write_map<'a, S, K, V, M>(
    out: &mut S,
    map: M,
    mut write_value: impl FnMut(&mut S, &V),
) where
    S: JsonSink,
    K: AsRef<str> + 'a,
    V: 'a + ?Sized,
    M: IntoIterator<Item = (&'a K, &'a V)>,
{
    out.raw(b"{");
    for (index, (key, value)) in map.into_iter().enumerate() {
        if index > 0 {
            out.raw(b",");
        }
        out.string(key.as_ref());
        out.raw(b":");
        write_value(out, value);
    }
    out.raw(b"}");
}

/// Writes `flag` as `true` or `false`.
pub(super) fn write_bool<S: JsonSink>(flag: bool, out: &mut S) {
    out.raw(if flag { b"true" } else { b"false" });
}

/// Writes `items` as a JSON list, each item with `write_item`.
pub(super) fn write_list<'a, S, T>(
    out: &mut S,
    items: impl IntoIterator<Item = &'a T>,
    mut write_item: impl FnMut(&mut S, &T),
) where
    S: JsonSink,
    T: 'a + ?Sized,
{
    out.raw(b"[");
    for (index, item) in items.into_iter().enumerate() {
        if index > 0 {
            out.raw(b",");
        }
        write_item(out, item);
    }
    out.raw(b"]");
}

/// Writes `key` (a literal such as `,"name":`, comma included) and `text`
/// when `text` is there: an optional string field after a field that is
/// always written.
pub(super) fn write_opt_string<S: JsonSink, T: AsRef<str>>(
    out: &mut S,
    key: &[u8],
    text: &Option<T>,
) {
    if let Some(text) = text {
        out.raw(key);
        out.string(text.as_ref());
    }
}

/// The fields of an object none of which is always written, so that
/// whether a comma goes before a key is only known as they are written
/// (an object with a field that is always written first puts `,` in the
/// literal keys after it instead).
pub(super) struct Fields<'a, S> {
    out: &'a mut S,
    empty: bool,
}

impl<'a, S: JsonSink> Fields<'a, S> {
    /// Opens the object.
    pub(super) fn open(out: &'a mut S) -> Fields<'a, S> {
        out.raw(b"{");
        Fields { out, empty: true }
    }

    /// Writes `key` (the literal `"name":`), after a comma unless it is
    /// the first, and returns the sink for its value.
    pub(super) fn key(&mut self, key: &[u8]) -> &mut S {
        if !self.empty {
            self.out.raw(b",");
        }
        self.empty = false;
        self.out.raw(key);
        self.out
    }

    /// Starts an entry whose key the caller writes (an entry of a map
    /// flattened into the object), after a comma unless it is the first.
    pub(super) fn entry(&mut self) -> &mut S {
        self.key(b"")
    }

    /// Writes `"name":"text"` when `text` is there.
    pub(super) fn opt_string(&mut self, key: &[u8], text: &Option<String>) {
        if let Some(text) = text {
            self.key(key).string(text);
        }
    }

    /// Writes `"name":"text"` when `text` is not empty.
    pub(super) fn nonempty_string(&mut self, key: &[u8], text: &str) {
        if !text.is_empty() {
            self.key(key).string(text);
        }
    }

    /// Writes `"name":true` or `"name":false` when `flag` is there.
    pub(super) fn opt_bool(&mut self, key: &[u8], flag: Option<bool>) {
        if let Some(flag) = flag {
            write_bool(flag, self.key(key));
        }
    }

    /// Writes `"name":number` when `number` is there.
    pub(super) fn opt_number(&mut self, key: &[u8], number: Option<u64>) {
        if let Some(number) = number {
            self.key(key).serialized(&number);
        }
    }

    /// Closes the object.
    pub(super) fn close(self) {
        self.out.raw(b"}");
    }
}
