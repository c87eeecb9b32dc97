//! Function names and source paths: cleaning demangled names, the path of
//! the code a frame belongs to, its module, and stable relative file names.

/// Relay trims `function`, `module`, `filename` and `abs_path` longer than
/// this many characters (it then records a `_meta` remark); we shorten them
/// first so that events pass unchanged.
pub(crate) const MAX_FIELD_CHARS: usize = 256;

/// Removes what makes a demangled name unstable across builds: a trailing
/// legacy hash (`::h0123456789abcdef`) and v0 crate disambiguators
/// (`std[e28293b1aa0f68bd]::`).
pub(crate) fn clean_function(name: &str) -> String {
    let name = strip_hash(name.trim());
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(open) = rest.find('[') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        let close = after.find(']');
        let is_disambiguator = close.is_some_and(|close| {
            let inner = &after[1..close];
            inner.len() >= 8
                && inner
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                && before
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
        });
        match close {
            Some(close) if is_disambiguator => rest = &after[close + 1..],
            _ => {
                out.push('[');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn strip_hash(name: &str) -> &str {
    if let Some(pos) = name.rfind("::h") {
        let hash = &name[pos + 3..];
        if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return &name[..pos];
        }
    }
    name
}

/// Tracks nesting of `<>`, `()` and `[]` (ignoring the `>` of `->`).
fn depth_step(depth: usize, prev: Option<char>, c: char) -> usize {
    match c {
        '<' | '(' | '[' => depth + 1,
        '>' if prev == Some('-') => depth,
        '>' | ')' | ']' => depth.saturating_sub(1),
        _ => depth,
    }
}

/// Splits `s` at every top-level occurrence of `sep`.
fn split_top_level<'a>(s: &'a str, sep: &str) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut prev = None;
    let mut start = 0;
    let mut i = 0;
    while i < s.len() {
        let c = s[i..].chars().next().unwrap_or(' ');
        if depth == 0 && s[i..].starts_with(sep) {
            parts.push(&s[start..i]);
            i += sep.len();
            start = i;
            prev = None;
            continue;
        }
        depth = depth_step(depth, prev, c);
        prev = Some(c);
        i += c.len_utf8();
    }
    parts.push(&s[start..]);
    parts
}

/// The parts of a qualified name `<Self as Trait>::rest`: `(Self, Some(Trait),
/// rest)`; for `<Self>::rest` the trait is `None`; for a plain path the whole
/// name is the self part.
fn split_qualified(function: &str) -> (&str, Option<&str>, &str) {
    let Some(inner_start) = function.strip_prefix('<').map(|_| 1) else {
        return (function, None, "");
    };
    let mut depth = 1;
    let mut prev = None;
    let mut as_pos = None;
    for (i, c) in function.char_indices().skip(1) {
        if depth == 1 && as_pos.is_none() && function[i..].starts_with(" as ") {
            as_pos = Some(i);
        }
        depth = depth_step(depth, prev, c);
        prev = Some(c);
        if depth == 0 {
            let rest = function[i + 1..].trim_start_matches("::");
            return match as_pos {
                Some(a) => (&function[inner_start..a], Some(&function[a + 4..i]), rest),
                None => (&function[inner_start..i], None, rest),
            };
        }
    }
    (function, None, "")
}

/// A path with generic arguments, closures, shims, `impl` blocks and
/// reference/`dyn` markers removed: `alloc::boxed::Box<F,A>` →
/// `alloc::boxed::Box`, `app::run::{{closure}}` → `app::run`.
fn canonical(path: &str) -> Vec<String> {
    let mut path = path.trim();
    for marker in ["&mut ", "&", "*const ", "*mut ", "dyn ", "impl "] {
        path = path.strip_prefix(marker).unwrap_or(path).trim_start();
    }
    let path = split_top_level(path, " + ")[0];
    split_top_level(path, "::")
        .into_iter()
        .map(str::trim)
        .filter(|seg| !seg.is_empty() && !seg.starts_with('{') && !seg.starts_with('<'))
        .map(|seg| {
            let end = seg.find(['<', '{', ' ']).unwrap_or(seg.len());
            seg[..end].to_owned()
        })
        .filter(|seg| !seg.is_empty())
        .collect()
}

fn join(base: Vec<String>, rest: &str) -> Vec<String> {
    let mut path = base;
    if !rest.is_empty() {
        path.extend(canonical(rest));
    }
    path
}

/// The canonical path of the code a function belongs to, seen from its
/// self type: `<app::Foo as core::fmt::Display>::fmt` → `app::Foo::fmt`.
pub(crate) fn self_path(function: &str) -> String {
    let (self_ty, _, rest) = split_qualified(function);
    join(canonical(self_ty), rest).join("::")
}

/// The canonical path seen from the implemented trait, if any:
/// `<app::Foo as core::fmt::Display>::fmt` → `core::fmt::Display::fmt`.
pub(crate) fn trait_path(function: &str) -> Option<String> {
    let (_, tr, rest) = split_qualified(function);
    tr.map(|tr| join(canonical(tr), rest).join("::"))
}

/// Whether a trait method's self type is a bare generic parameter or a
/// primitive (`<E as anyhow::Context>::f`, `<[T] as Debug>::fmt`): its
/// code is then best judged by the trait's path.
pub(crate) fn self_type_is_bare(function: &str) -> bool {
    let (self_ty, tr, _) = split_qualified(function);
    tr.is_some() && canonical(self_ty).len() <= 1
}

/// The module of a function: its canonical self path without the last
/// segment (`app::server::handle::{{closure}}` → `app::server`). `None`
/// for a function without a path (`main`, `_start`).
pub(crate) fn module_of(function: &str) -> Option<String> {
    let (self_ty, _, rest) = split_qualified(function);
    let mut path = join(canonical(self_ty), rest);
    if path.len() < 2 {
        return None;
    }
    path.pop();
    Some(path.join("::"))
}

/// The first segment of a canonical path.
pub(crate) fn crate_of(path: &str) -> &str {
    path.split("::").next().unwrap_or(path)
}

/// Whether `path` is `prefix` or lies below it (`app` matches `app` and
/// `app::db` but not `application`). A trailing `::` on the prefix is
/// ignored and `-` counts as `_`, so package names work too.
pub(crate) fn path_has_prefix(path: &str, prefix: &str) -> bool {
    let prefix = prefix.trim().trim_end_matches("::");
    if prefix.is_empty() || path.len() < prefix.len() {
        return false;
    }
    let head = &path.as_bytes()[..prefix.len()];
    let same = head
        .iter()
        .zip(prefix.bytes())
        .all(|(&a, b)| a == b || (a == b'_' && b == b'-'));
    same && path
        .get(prefix.len()..)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
}

/// Shortens a function name to Relay's limit: generic arguments go first,
/// then the end is cut and marked with `...`.
pub(crate) fn fit_function(name: String) -> String {
    if name.chars().count() <= MAX_FIELD_CHARS {
        return name;
    }
    cut_end(strip_generics(&name), MAX_FIELD_CHARS)
}

/// Removes generic argument lists (`Foo<T>` → `Foo`, `f::<T>` → `f`),
/// keeping the brackets of qualified paths (`<A as B>::f`).
fn strip_generics(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars();
    while let Some(c) = chars.next() {
        let after_ident = out
            .chars()
            .next_back()
            .is_some_and(|p| p.is_alphanumeric() || p == '_');
        if c == '<' && (after_ident || out.ends_with("::")) {
            let mut depth = depth_step(0, None, c);
            let mut prev = Some(c);
            while depth > 0 {
                let Some(c) = chars.next() else { break };
                depth = depth_step(depth, prev, c);
                prev = Some(c);
            }
            if out.ends_with("::") {
                out.truncate(out.len() - 2);
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// Cuts a string to `max` characters, ending it with `...` when cut.
pub(crate) fn cut_end(s: String, max: usize) -> String {
    if s.chars().count() <= max {
        return s;
    }
    let mut out: String = s.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// Cuts a path to `max` characters keeping its end (the file name), marked
/// with a leading `...`.
pub(crate) fn cut_start(s: String, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s;
    }
    let keep = max.saturating_sub(3);
    let mut out = String::from("...");
    out.extend(s.chars().skip(count - keep));
    out
}

fn is_separator(c: char) -> bool {
    c == '/' || c == '\\'
}

/// The segments of a path after resolving `.` and `..` lexically.
fn normalized_segments(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split(is_separator) {
        match seg {
            "" | "." => {}
            ".." if out.last().is_some_and(|s| *s != "..") => {
                out.pop();
            }
            _ => out.push(seg),
        }
    }
    out
}

fn is_absolute(path: &str) -> bool {
    path.starts_with(is_separator)
        || (path.as_bytes().get(1) == Some(&b':')
            && path.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
}

/// A cargo registry source directory is `<host>-<16 hex>`, e.g.
/// `index.crates.io-1949cf8c6b5b557f`.
fn is_registry_index(seg: &str) -> bool {
    seg.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Where a source file comes from, judged from its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A crate from a cargo registry or a git dependency.
    Dependency,
    /// The Rust standard library (`/rustc/<commit>/library/...` or a
    /// rustup toolchain's `rust-src`).
    Toolchain,
    /// Anything else: the project itself, C libraries, ...
    Other,
}

/// Classifies a path and returns its stable, relative form:
///
/// - registry crates: `serde-1.0.210/src/de.rs` (the registry prefix is
///   dropped), git dependencies: `<checkout>/src/lib.rs`;
/// - the standard library: `library/std/src/panicking.rs`;
/// - other absolute paths: from the package directory on, i.e. the
///   directory holding the innermost `src`, `tests`, `examples` or
///   `benches` directory (`/home/ci/app/src/main.rs` → `app/src/main.rs`),
///   else the file name alone;
/// - relative paths: as recorded, with `.` and `..` resolved.
pub(crate) fn relative_filename(path: &str) -> (String, Origin) {
    let segs = normalized_segments(path);
    let n = segs.len();
    for i in 0..n {
        if segs[i] == "registry"
            && i + 3 < n
            && segs[i + 1] == "src"
            && is_registry_index(segs[i + 2])
        {
            return (segs[i + 3..].join("/"), Origin::Dependency);
        }
        if segs[i] == "git" && i + 4 < n && segs[i + 1] == "checkouts" {
            let mut out = vec![segs[i + 2]];
            out.extend(&segs[i + 4..]);
            return (out.join("/"), Origin::Dependency);
        }
        if segs[i] == "rustlib" && i + 3 < n && segs[i + 1] == "src" && segs[i + 2] == "rust" {
            return (segs[i + 3..].join("/"), Origin::Toolchain);
        }
    }
    if path.starts_with("/rustc/") && n > 2 {
        return (segs[2..].join("/"), Origin::Toolchain);
    }
    if !is_absolute(path) {
        return (segs.join("/"), Origin::Other);
    }
    let is_dir_kind = |s: &str| matches!(s, "src" | "tests" | "examples" | "benches");
    // The innermost `src`/`tests`/... directory (never the file itself),
    // moved up over directly nested ones (`src/tests/...`).
    let last_dir = n.saturating_sub(1);
    let found = segs[..last_dir].iter().rposition(|s| is_dir_kind(s));
    match found {
        Some(mut pos) => {
            while pos > 0 && is_dir_kind(segs[pos - 1]) {
                pos -= 1;
            }
            let start = pos.saturating_sub(1);
            (segs[start..].join("/"), Origin::Other)
        }
        None => (
            segs.last().copied().unwrap_or(path).to_owned(),
            Origin::Other,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_hashes_and_disambiguators() {
        assert_eq!(
            clean_function("anyhow::__private::format_err::h59f4453a8e1aadff"),
            "anyhow::__private::format_err"
        );
        assert_eq!(
            clean_function("<std[e28293b1aa0f68bd]::backtrace::Backtrace>::create"),
            "<std::backtrace::Backtrace>::create"
        );
        assert_eq!(
            clean_function("<[T] as core::fmt::Debug>::fmt"),
            "<[T] as core::fmt::Debug>::fmt"
        );
        assert_eq!(clean_function("app::hash::h123"), "app::hash::h123");
    }

    #[test]
    fn paths_and_modules() {
        let boxed = "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call";
        assert_eq!(self_path(boxed), "alloc::boxed::Box::call");
        assert_eq!(
            trait_path(boxed).as_deref(),
            Some("core::ops::function::Fn::call")
        );
        assert_eq!(module_of(boxed).as_deref(), Some("alloc::boxed::Box"));

        assert_eq!(
            self_path("app::server::handle::{{closure}}"),
            "app::server::handle"
        );
        assert_eq!(
            module_of("app::server::handle::{{closure}}").as_deref(),
            Some("app::server")
        );
        assert_eq!(module_of("app::main").as_deref(), Some("app"));
        assert_eq!(module_of("main"), None);
        assert_eq!(
            self_path("anyhow::error::<impl anyhow::Error>::msg"),
            "anyhow::error::msg"
        );
        assert_eq!(
            self_path(
                "std::panicking::catch_unwind::do_call::<&dyn core::ops::function::Fn<(), Output = i32> + core::marker::Sync, i32>"
            ),
            "std::panicking::catch_unwind::do_call"
        );
        let dyn_fn = "<&dyn core::ops::function::Fn<(), Output = i32> + core::marker::Sync as core::ops::function::FnOnce<()>>::call_once";
        assert_eq!(self_path(dyn_fn), "core::ops::function::Fn::call_once");
        assert_eq!(
            trait_path(dyn_fn).as_deref(),
            Some("core::ops::function::FnOnce::call_once")
        );
        assert_eq!(
            self_path("<E as anyhow::context::ext::StdError>::ext_context"),
            "E::ext_context"
        );
        assert_eq!(
            trait_path("<E as anyhow::context::ext::StdError>::ext_context").as_deref(),
            Some("anyhow::context::ext::StdError::ext_context")
        );
        assert_eq!(
            self_path("<app::Wrapper<fn() -> u8>>::get"),
            "app::Wrapper::get"
        );
        assert_eq!(crate_of("app::Wrapper::get"), "app");
    }

    #[test]
    fn prefixes_respect_segments() {
        assert!(path_has_prefix("app::db::query", "app"));
        assert!(path_has_prefix("app::db::query", "app::db::"));
        assert!(path_has_prefix("my_app::x", "my-app"));
        assert!(path_has_prefix("app", "app"));
        assert!(!path_has_prefix("application::x", "app"));
        assert!(!path_has_prefix("std::panicking::x", "std::panic"));
        assert!(!path_has_prefix("app", ""));
    }

    #[test]
    fn long_names_fit() {
        let long = format!("app::f::<{}>", "Vec<u8>, ".repeat(60));
        let fitted = fit_function(long);
        assert_eq!(fitted, "app::f");
        let very_long = "a".repeat(300);
        let fitted = fit_function(very_long);
        assert_eq!(fitted.chars().count(), MAX_FIELD_CHARS);
        assert!(fitted.ends_with("..."));
        let path = format!("/{}/main.rs", "d".repeat(300));
        let cut = cut_start(path, MAX_FIELD_CHARS);
        assert_eq!(cut.chars().count(), MAX_FIELD_CHARS);
        assert!(cut.starts_with("...") && cut.ends_with("/main.rs"));
    }

    #[test]
    fn relative_filenames() {
        let cases = [
            (
                "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/anyhow-1.0.105/src/lib.rs",
                "anyhow-1.0.105/src/lib.rs",
                Origin::Dependency,
            ),
            (
                "/usr/local/cargo/git/checkouts/tokio-0123456789abcdef/a1b2c3d/tokio/src/lib.rs",
                "tokio-0123456789abcdef/tokio/src/lib.rs",
                Origin::Dependency,
            ),
            (
                "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/../../backtrace/src/lib.rs",
                "library/backtrace/src/lib.rs",
                Origin::Toolchain,
            ),
            (
                "/home/u/.rustup/toolchains/stable-x86_64-unknown-linux-gnu/lib/rustlib/src/rust/library/core/src/panicking.rs",
                "library/core/src/panicking.rs",
                Origin::Toolchain,
            ),
            (
                "/home/u/src/app/tests/it.rs",
                "app/tests/it.rs",
                Origin::Other,
            ),
            (
                "/home/u/app/src/tests/unit.rs",
                "app/src/tests/unit.rs",
                Origin::Other,
            ),
            (
                "/work/main/crates/vigil/src/lib.rs",
                "vigil/src/lib.rs",
                Origin::Other,
            ),
            (
                "/work/crates/registry/src/lib.rs",
                "registry/src/lib.rs",
                Origin::Other,
            ),
            ("/home/u/app/build.rs", "build.rs", Origin::Other),
            (
                "./csu/../csu/libc-start.c",
                "csu/libc-start.c",
                Origin::Other,
            ),
            ("src/main.rs", "src/main.rs", Origin::Other),
            (
                r"C:\Users\u\app\src\main.rs",
                "app/src/main.rs",
                Origin::Other,
            ),
        ];
        for (input, want, origin) in cases {
            assert_eq!(
                relative_filename(input),
                (want.to_owned(), origin),
                "{input}"
            );
        }
    }
}
