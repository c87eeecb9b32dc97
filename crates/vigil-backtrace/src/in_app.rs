//! In-app detection and trimming of the SDK's own frames.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use vigil_core::ClientOptions;
use vigil_core::protocol::{Frame, Stacktrace};

use crate::names::{
    Origin, crate_of, path_has_prefix, relative_filename, self_path, self_type_is_bare, trait_path,
};

/// Crates that are never application code: the standard library, the
/// async runtime and web stack, error plumbing, and the SDK itself. An
/// entry also covers `<entry>_*` crates when it is listed in
/// [`SYSTEM_CRATE_FAMILIES`].
const SYSTEM_CRATES: &[&str] = &[
    "std",
    "core",
    "alloc",
    "backtrace",
    "test",
    "panic_unwind",
    "panic_abort",
    "rustc_demangle",
    "anyhow",
];

/// Crate families: the crate itself and every `<name>_*` crate
/// (`tokio_util`, `futures_util`, `vigil_core`, ...).
const SYSTEM_CRATE_FAMILIES: &[&str] = &[
    "vigil", "tokio", "futures", "hyper", "tower", "axum", "tracing",
];

/// Functions of the C runtime, the thread start-up code and the unwinder.
const RUNTIME_FUNCTIONS: &[&str] = &[
    "main",
    "_start",
    "start",
    "__libc_start_main",
    "__libc_start_main_impl",
    "__libc_start_call_main",
    "start_thread",
    "clone",
    "clone3",
    "__clone",
    "__clone3",
    "thread_start",
    "_pthread_start",
    "_pthread_body",
    "BaseThreadInitThunk",
    "RtlUserThreadStart",
    "__scrt_common_main_seh",
    "invoke_main",
    "mainCRTStartup",
    "rust_begin_unwind",
    "rust_panic",
    "__rust_try",
    "__rust_start_panic",
    "_Unwind_RaiseException",
    "_Unwind_Resume",
    "_Unwind_Backtrace",
];

/// Paths whose frames make up the panic, backtrace and capture machinery.
/// Matched on whole path segments against the self and the trait path.
const MACHINERY_PATHS: &[&str] = &[
    "std::panicking",
    "std::panic",
    "core::panicking",
    "core::panic",
    "std::rt::begin_panic",
    "std::backtrace",
    "std::backtrace_rs",
    "std::sys::backtrace",
    "std::sys_common::backtrace",
    "core::ops::function",
    "core::ops::try_trait",
    "core::result::Result::map_err",
    "core::option::Option::ok_or_else",
];

/// Crates whose frames are trimmed from the innermost end of a stack
/// trace: the capture machinery, never the place an error happened.
const MACHINERY_CRATES: &[&str] = &["backtrace", "anyhow"];

fn is_vigil_crate(name: &str) -> bool {
    name == "vigil" || name.starts_with("vigil_")
}

fn is_system_crate(name: &str) -> bool {
    SYSTEM_CRATES.contains(&name)
        || SYSTEM_CRATE_FAMILIES.iter().any(|family| {
            name == *family
                || name
                    .strip_prefix(family)
                    .is_some_and(|rest| rest.starts_with('_'))
        })
}

fn is_runtime_function(function: &str) -> bool {
    RUNTIME_FUNCTIONS.contains(&function) || function.starts_with("__rustc::")
}

/// The paths a function is judged by: its self path, and for trait
/// methods the trait's path. A trait method on a bare generic type
/// (`<E as anyhow::Context>::f`) is judged by the trait alone; one on a
/// concrete type by both.
///
/// Parsing a name takes a while (generic arguments, closures, trait
/// impls) and the same functions show up in stack trace after stack
/// trace, so the result is kept per name (at most
/// [`MAX_CACHED_FUNCTIONS`] names; when full the cache starts again).
fn judged_paths(function: &str) -> Arc<[String]> {
    static CACHE: LazyLock<Mutex<PathsByFunction>> = LazyLock::new(Default::default);
    let cache = || CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(paths) = cache().get(function) {
        return Arc::clone(paths);
    }
    let own = self_path(function);
    let paths: Arc<[String]> = match trait_path(function) {
        Some(implemented) if self_type_is_bare(function) => vec![implemented],
        Some(implemented) => vec![own, implemented],
        None => vec![own],
    }
    .into();
    let mut cache = cache();
    if cache.len() >= MAX_CACHED_FUNCTIONS {
        cache.clear();
    }
    cache.insert(function.into(), Arc::clone(&paths));
    paths
}

/// Judged paths by function name.
type PathsByFunction = HashMap<Box<str>, Arc<[String]>>;

/// At most this many function names keep their judged paths.
const MAX_CACHED_FUNCTIONS: usize = 4096;

fn is_std_crate(name: &str) -> bool {
    matches!(name, "std" | "core" | "alloc")
}

fn is_machinery_path(path: &str) -> bool {
    let krate = crate_of(path);
    is_vigil_crate(krate)
        || MACHINERY_CRATES.contains(&krate)
        || MACHINERY_PATHS.iter().any(|p| path_has_prefix(path, p))
}

/// Whether a function belongs to the machinery that produced the stack
/// trace (the SDK, `backtrace`, `anyhow`'s constructors, the panic runtime),
/// as opposed to the code where the error happened.
///
/// A trait method counts through its trait only when the self type is
/// bare or from the standard library (`<Box<F> as Fn>::call`): an
/// application type implementing a Vigil trait is application code.
pub(crate) fn is_machinery(function: &str) -> bool {
    if is_runtime_function(function) {
        return true;
    }
    let paths = judged_paths(function);
    match &*paths {
        [own, implemented] => {
            is_machinery_path(own)
                || (is_std_crate(crate_of(own)) && is_machinery_path(implemented))
        }
        _ => paths.iter().any(|p| is_machinery_path(p)),
    }
}

/// Removes machinery frames from the innermost end (the end of the list,
/// frames being ordered oldest first).
pub(crate) fn trim_innermost(frames: &mut Vec<Frame>) {
    while frames
        .last()
        .is_some_and(|f| f.function.as_deref().is_some_and(is_machinery))
    {
        frames.pop();
    }
}

/// The path in-app prefixes are matched against: the self path and, for
/// trait methods, the trait path.
fn match_paths(frame: &Frame) -> Arc<[String]> {
    match (&frame.function, &frame.module) {
        (Some(function), _) => judged_paths(function),
        (None, Some(module)) => Arc::new([module.clone()]),
        (None, None) => Arc::new([]),
    }
}

fn is_system_frame(frame: &Frame, paths: &[String]) -> bool {
    let Some(function) = frame.function.as_deref() else {
        // Without a symbol there is nothing to show as application code.
        return true;
    };
    if is_runtime_function(function) {
        return true;
    }
    let file = frame.abs_path.as_deref().or(frame.filename.as_deref());
    if let Some(file) = file
        && relative_filename(file).1 != Origin::Other
    {
        return true;
    }
    // A function without a path that is not Rust source: C code such as
    // `__call_tls_dtors` or `start_thread`.
    if !function.contains("::") && !file.is_some_and(|f| f.ends_with(".rs")) {
        return true;
    }
    // `<app::Foo as core::fmt::Display>::fmt` is application code; so is
    // `<std::X as app::Trait>::f`: the impl lives in the application.
    !paths.is_empty() && paths.iter().all(|p| is_system_crate(crate_of(p)))
}

fn decide(frame: &Frame, options: &ClientOptions) -> Option<bool> {
    let paths = match_paths(frame);
    let matches = |prefixes: &[&str]| {
        paths
            .iter()
            .any(|path| prefixes.iter().any(|prefix| path_has_prefix(path, prefix)))
    };
    if matches(&options.in_app_include) {
        Some(true)
    } else if matches(&options.in_app_exclude) || is_system_frame(frame, &paths) {
        Some(false)
    } else {
        None
    }
}

/// Marks the frames of a stack trace as application code or not
/// (`in_app`). Frames that already have `in_app` set keep it.
///
/// Rules, first match wins, per frame:
/// 1. the function's path (its self type's path for trait methods, or the
///    trait's) starts with an [`in_app_include`] prefix → `true`;
/// 2. it starts with an [`in_app_exclude`] prefix → `false`;
/// 3. system code → `false`: the standard library (`std`, `core`,
///    `alloc`), `backtrace`, `anyhow`, the Vigil crates, `tokio*`,
///    `futures*`, `hyper*`, `tower*`, `axum*`, `tracing*`, the panic and
///    start-up machinery (`rust_begin_unwind`, `__libc_start_main`, ...),
///    frames without a function name, functions without a path outside
///    Rust source files (C code), and frames whose source file lies in
///    the cargo registry, a git dependency checkout or the Rust toolchain;
/// 4. otherwise the frame is undecided.
///
/// If no frame ends up in-app, every undecided frame becomes in-app;
/// otherwise undecided frames are left without `in_app`.
///
/// Prefixes match whole path segments (`app` matches `app::db` but not
/// `application`); a trailing `::` is ignored and `-` counts as `_`.
///
/// [`in_app_include`]: ClientOptions::in_app_include
/// [`in_app_exclude`]: ClientOptions::in_app_exclude
pub fn process_stacktrace(stacktrace: &mut Stacktrace, options: &ClientOptions) {
    for frame in &mut stacktrace.frames {
        if frame.in_app.is_none() {
            frame.in_app = decide(frame, options);
        }
    }
    if !stacktrace.frames.iter().any(|f| f.in_app == Some(true)) {
        for frame in &mut stacktrace.frames {
            if frame.in_app.is_none() {
                frame.in_app = Some(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(function: &str, abs_path: Option<&str>) -> Frame {
        Frame {
            function: Some(function.to_owned()),
            abs_path: abs_path.map(str::to_owned),
            ..Default::default()
        }
    }

    fn in_app(frames: &[Frame], options: &ClientOptions) -> Vec<Option<bool>> {
        let mut st = Stacktrace {
            frames: frames.to_vec(),
        };
        process_stacktrace(&mut st, options);
        st.frames.iter().map(|f| f.in_app).collect()
    }

    #[test]
    fn machinery_is_recognised() {
        for f in [
            "std::panicking::begin_panic_handler::{{closure}}",
            "std::panic::catch_unwind",
            "core::panicking::panic_fmt",
            "__rustc::rust_begin_unwind",
            "rust_begin_unwind",
            "std::sys::backtrace::__rust_end_short_backtrace",
            "<alloc::boxed::Box<F,A> as core::ops::function::Fn<Args>>::call",
            "backtrace::backtrace::trace",
            "vigil_backtrace::current_stacktrace",
            "<vigil_backtrace::AttachStacktraceIntegration as vigil_core::integration::Integration>::process_event",
            "vigil::integrations::panic::panic_hook",
            "<E as anyhow::context::ext::StdError>::ext_context",
            "<core::result::Result<T,F> as core::ops::try_trait::FromResidual<core::result::Result<core::convert::Infallible,E>>>::from_residual",
            "core::result::Result<T,E>::map_err",
        ] {
            assert!(is_machinery(f), "{f}");
        }
        for f in [
            "app::main",
            "app::run::{{closure}}",
            "<app::Foo as vigil_core::integration::Integration>::process_event",
            "core::result::unwrap_failed",
            "vigilant::run",
        ] {
            assert!(!is_machinery(f), "{f}");
        }
    }

    #[test]
    fn trims_only_the_innermost_run() {
        let mut frames = vec![
            frame("app::main", None),
            frame("std::panic::catch_unwind", None),
            frame("app::work", None),
            frame("core::panicking::panic_fmt", None),
            frame("vigil::integrations::panic::panic_hook", None),
        ];
        trim_innermost(&mut frames);
        let names: Vec<_> = frames
            .iter()
            .filter_map(|f| f.function.as_deref())
            .collect();
        assert_eq!(
            names,
            ["app::main", "std::panic::catch_unwind", "app::work"]
        );
    }

    #[test]
    fn undecided_frames_become_in_app_when_nothing_else_is() {
        let frames = [
            frame("_start", None),
            frame("std::rt::lang_start", None),
            frame("app::main", Some("/src/app/src/main.rs")),
            frame(
                "serde_json::from_str",
                Some(
                    "/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde_json-1.0.0/src/de.rs",
                ),
            ),
            frame("<alloc::vec::Vec<T> as core::fmt::Debug>::fmt", None),
            frame("<app::Config as core::fmt::Display>::fmt", None),
            Frame {
                instruction_addr: Some("0x1".into()),
                ..Default::default()
            },
        ];
        let got = in_app(&frames, &ClientOptions::default());
        assert_eq!(
            got,
            [
                Some(false),
                Some(false),
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                Some(false)
            ]
        );
    }

    #[test]
    fn include_and_exclude_win() {
        let frames = [
            frame("app::main", None),
            frame("app::db::query", None),
            frame("helper::run", None),
            frame("tokio::runtime::park", None),
        ];
        let options = ClientOptions {
            in_app_include: vec!["app", "tokio::runtime"],
            in_app_exclude: vec!["app::db"],
            ..Default::default()
        };
        // `app::db` matches both; include is checked first.
        assert_eq!(
            in_app(&frames, &options),
            [Some(true), Some(true), None, Some(true)]
        );
        let options = ClientOptions {
            in_app_exclude: vec!["app::db"],
            ..Default::default()
        };
        assert_eq!(
            in_app(&frames, &options),
            [Some(true), Some(false), Some(true), Some(false)]
        );
    }

    #[test]
    fn explicit_values_are_kept() {
        let mut std_frame = frame("std::thread::spawn", None);
        std_frame.in_app = Some(true);
        let frames = [std_frame, frame("app::main", None)];
        assert_eq!(
            in_app(&frames, &ClientOptions::default()),
            [Some(true), None]
        );
    }
}
