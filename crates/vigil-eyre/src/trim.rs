//! Removing the frames of `eyre`'s and `color-eyre`'s constructors from
//! the innermost end of a stack trace.
//!
//! `vigil-backtrace` already removes its own machinery there (the
//! `backtrace` crate, the standard library's panic and backtrace code);
//! what is left at the innermost end of a `color-eyre` backtrace is the
//! report's construction: `color-eyre`'s hook, the boxed hook's call,
//! `eyre`'s `capture_handler` and constructor (`eyre!`, `wrap_err`,
//! `Report::from_std` through `From` and `?`), and the standard library's
//! glue between them.

use vigil_core::protocol::Frame;

/// Crates whose frames at the innermost end are the report's construction.
const CONSTRUCTOR_CRATES: &[&str] = &["eyre", "color_eyre"];

/// Crates whose frames between the constructors and the application are
/// glue (`Box<dyn Fn>::call`, `FromResidual::from_residual`,
/// `Result::map_err`, ...), never the place an error was created.
const GLUE_CRATES: &[&str] = &["std", "core", "alloc", "backtrace"];

/// What a frame at the innermost end is.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Kind {
    /// `eyre` or `color-eyre`.
    Constructor,
    /// The standard library, `backtrace`, C code or an unknown symbol.
    Glue,
    /// Anything else: the application or a library it calls.
    Caller,
}

/// Removes the report's construction from the innermost end of `frames`
/// (ordered oldest first): the trailing run of constructor and glue
/// frames, when it holds at least one constructor frame. If that run is
/// the whole trace (no caller frame found), only the frames from the
/// oldest constructor frame on are removed.
pub(crate) fn trim_constructors(frames: &mut Vec<Frame>) {
    let kinds: Vec<Kind> = frames
        .iter()
        .rev()
        .map(kind_of)
        .take_while(|&k| k != Kind::Caller)
        .collect();
    let Some(oldest_constructor) = kinds.iter().rposition(|&k| k == Kind::Constructor) else {
        return;
    };
    let drop = if kinds.len() < frames.len() {
        kinds.len()
    } else {
        oldest_constructor + 1
    };
    frames.truncate(frames.len() - drop);
}

fn kind_of(frame: &Frame) -> Kind {
    let Some(function) = frame.function.as_deref() else {
        return Kind::Glue;
    };
    let crates = crates_of(function);
    if crates
        .iter()
        .flatten()
        .any(|c| CONSTRUCTOR_CRATES.contains(c))
    {
        // A program whose own crate is called `eyre` (an example named
        // `eyre.rs`, say) has functions named `eyre::...` too: when the
        // frame's source file is known, it has to lie in a copy of the
        // `eyre` repository.
        match frame.abs_path.as_deref().or(frame.filename.as_deref()) {
            Some(path) if !is_eyre_source(path) => Kind::Caller,
            _ => Kind::Constructor,
        }
    } else if crates.iter().flatten().all(|c| GLUE_CRATES.contains(c)) {
        // Also a function without a path: C code of the runtime.
        Kind::Glue
    } else {
        Kind::Caller
    }
}

/// Whether a source file belongs to `eyre` or `color-eyre`: some directory
/// on its path is a package or checkout of theirs (`eyre-0.6.14` in the
/// cargo registry, `eyre-1a2b3c4d` among git checkouts, `eyre` or
/// `color-eyre` in a clone of the repository or a `vendor` directory).
fn is_eyre_source(path: &str) -> bool {
    let mut directories: Vec<&str> = path.split(['/', '\\']).collect();
    directories.pop();
    directories.iter().any(|dir| {
        ["eyre", "color-eyre", "color_eyre"].iter().any(|name| {
            dir.strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
        })
    })
}

/// The crates a function name belongs to: for a qualified path
/// (`<Self as Trait>::f`, `<Self>::f`) the crate of the self type and of
/// the trait, for a plain path its first segment. `None` where a part has
/// no crate (a bare generic such as `E`, a primitive type).
fn crates_of(function: &str) -> [Option<&str>; 2] {
    let Some(qualified) = function.strip_prefix('<') else {
        return [crate_of_path(function), None];
    };
    let mut depth = 0usize;
    let mut as_at = None;
    let mut end = qualified.len();
    let mut previous = ' ';
    for (i, c) in qualified.char_indices() {
        let arrow = previous == '-';
        previous = c;
        match c {
            '<' | '(' | '[' => depth += 1,
            ')' | ']' => depth = depth.saturating_sub(1),
            // The arrow of a function type: `dyn Fn(&T) -> U`.
            '>' if arrow => {}
            '>' if depth == 0 => {
                end = i;
                break;
            }
            '>' => depth = depth.saturating_sub(1),
            ' ' if depth == 0 && as_at.is_none() && qualified[i..].starts_with(" as ") => {
                as_at = Some(i);
            }
            _ => {}
        }
    }
    match as_at {
        Some(at) => [
            crate_of_path(&qualified[..at]),
            crate_of_path(&qualified[at + 4..end]),
        ],
        None => [crate_of_path(&qualified[..end]), None],
    }
}

/// The crate of a path or type: `eyre::Report` → `eyre`,
/// `&mut alloc::vec::Vec<T>` → `alloc`, `dyn core::ops::Fn()` → `core`,
/// `std[1a2b3c]::io` → `std`; `E`, `u8` and `[T]` have none.
fn crate_of_path(path: &str) -> Option<&str> {
    let mut rest = path.trim_start();
    loop {
        let before = rest;
        rest = rest.trim_start_matches(['&', '*', '(', '[', '<', ' ']);
        for prefix in ["mut ", "const ", "dyn ", "impl "] {
            if let Some(r) = rest.strip_prefix(prefix) {
                rest = r;
            }
        }
        if rest.len() == before.len() {
            break;
        }
    }
    let ident_end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let (name, mut after) = rest.split_at(ident_end);
    // A v0 crate disambiguator: `std[1a2b3c4d]::`.
    if let Some(hashed) = after.strip_prefix('[')
        && let Some(close) = hashed.find(']')
    {
        after = &hashed[close + 1..];
    }
    (!name.is_empty() && after.starts_with("::")).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(names: &[&str]) -> Vec<Frame> {
        names
            .iter()
            .map(|n| Frame {
                function: (!n.is_empty()).then(|| (*n).to_owned()),
                ..Default::default()
            })
            .collect()
    }

    fn names(frames: &[Frame]) -> Vec<&str> {
        frames
            .iter()
            .map(|f| f.function.as_deref().unwrap_or(""))
            .collect()
    }

    #[test]
    fn crates_of_names() {
        for (name, expected) in [
            ("app::load", [Some("app"), None]),
            (
                "eyre::error::<impl eyre::Report>::from_std",
                [Some("eyre"), None],
            ),
            ("<eyre::Report>::from_std", [Some("eyre"), None]),
            (
                "<E as eyre::context::ext::StdError>::ext_report",
                [None, Some("eyre")],
            ),
            (
                "<core::result::Result<T,E> as eyre::context::WrapErr<T,E>>::wrap_err",
                [Some("core"), Some("eyre")],
            ),
            (
                "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
                [Some("alloc"), Some("core")],
            ),
            (
                "<&mut app::Config as core::fmt::Display>::fmt",
                [Some("app"), Some("core")],
            ),
            ("<[T] as core::fmt::Debug>::fmt", [None, Some("core")]),
            ("<std[1a2b3c4d]::io::Error>::new", [Some("std"), None]),
            (
                "color_eyre::config::EyreHook::into_eyre_hook::{{closure}}",
                [Some("color_eyre"), None],
            ),
            (
                "<alloc::boxed::Box<dyn core::ops::function::Fn(&T) -> U> as app::Run>::run",
                [Some("alloc"), Some("app")],
            ),
            ("main", [None, None]),
        ] {
            assert_eq!(crates_of(name), expected, "{name}");
        }
    }

    #[test]
    fn trims_the_construction_up_to_the_caller() {
        let mut trace = frames(&[
            "main",
            "std::rt::lang_start",
            "app::main",
            "app::load",
            "<core::result::Result<T,F> as core::ops::try_trait::FromResidual<core::result::Result<core::convert::Infallible,E>>>::from_residual",
            "<eyre::Report as core::convert::From<E>>::from",
            "eyre::error::<impl eyre::Report>::from_std",
            "eyre::capture_handler",
            "",
            "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
            "color_eyre::config::EyreHook::into_eyre_hook::{{closure}}",
            "color_eyre::config::EyreHook::default",
        ]);
        trim_constructors(&mut trace);
        assert_eq!(
            names(&trace),
            ["main", "std::rt::lang_start", "app::main", "app::load"]
        );
    }

    #[test]
    fn leaves_traces_without_constructors_alone() {
        let original = frames(&[
            "app::main",
            "app::load",
            "core::result::Result<T,E>::map_err",
        ]);
        let mut trace = original.clone();
        trim_constructors(&mut trace);
        assert_eq!(trace, original);
        let mut empty = Vec::new();
        trim_constructors(&mut empty);
        assert!(empty.is_empty());
    }

    #[test]
    fn without_a_caller_only_the_constructors_go() {
        let mut trace = frames(&[
            "_start",
            "std::rt::lang_start",
            "eyre::private::format_err",
            "core::ops::function::Fn::call",
            "color_eyre::config::EyreHook::default",
        ]);
        trim_constructors(&mut trace);
        assert_eq!(names(&trace), ["_start", "std::rt::lang_start"]);
    }

    #[test]
    fn an_application_crate_called_eyre_is_the_caller() {
        let mut trace = frames(&[
            "eyre::main",
            "eyre::start",
            "eyre::context::<impl eyre::WrapErr<T,E> for core::result::Result<T,E>>::wrap_err",
            "eyre::capture_handler",
            "color_eyre::config::EyreHook::default",
        ]);
        for (frame, path) in trace.iter_mut().zip([
            "/home/ci/app/examples/eyre.rs",
            "/home/ci/app/examples/eyre.rs",
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/eyre-0.6.14/src/context.rs",
        ]) {
            frame.abs_path = Some(path.to_owned());
        }
        trim_constructors(&mut trace);
        assert_eq!(names(&trace), ["eyre::main", "eyre::start"]);
    }

    #[test]
    fn eyre_sources() {
        for path in [
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/eyre-0.6.14/src/lib.rs",
            "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/color-eyre-0.6.5/src/config.rs",
            "/root/.cargo/git/checkouts/eyre-0123abcd/4567ef8/eyre/src/error.rs",
            "/src/app/vendor/color-eyre/src/lib.rs",
            r"C:\Users\ci\.cargo\registry\src\index.crates.io-1949cf8c6b5b557f\eyre-0.6.14\src\lib.rs",
        ] {
            assert!(is_eyre_source(path), "{path}");
        }
        for path in [
            "/home/ci/app/examples/eyre.rs",
            "/home/ci/vigil-eyre/src/lib.rs",
            "/home/ci/eyrele/src/main.rs",
            "eyre.rs",
        ] {
            assert!(!is_eyre_source(path), "{path}");
        }
    }

    #[test]
    fn an_application_type_in_a_glue_trait_is_the_caller() {
        let mut trace = frames(&[
            "app::main",
            "<app::Settings as core::str::FromStr>::from_str",
            "eyre::private::format_err",
        ]);
        trim_constructors(&mut trace);
        assert_eq!(
            names(&trace),
            [
                "app::main",
                "<app::Settings as core::str::FromStr>::from_str"
            ]
        );
    }
}
