//! Backtraces to Sentry stack traces.

use std::backtrace::BacktraceStatus;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use backtrace::{Backtrace, BacktraceSymbol};
use vigil_core::ClientOptions;
use vigil_core::protocol::{Frame, Stacktrace, Thread, Value};

use crate::in_app::{process_stacktrace, trim_innermost};
use crate::names::{
    MAX_FIELD_CHARS, clean_function, cut_end, cut_start, fit_function, module_of, relative_filename,
};

/// The most frames a stack trace keeps; Relay would drop the rest.
pub const MAX_FRAMES: usize = 250;

/// When a trace is longer than [`MAX_FRAMES`], this many of its oldest
/// frames are kept (the entry point), the rest of the budget goes to the
/// newest ones (where the error happened).
const KEEP_OLDEST: usize = 50;

/// Builds a frame from what a symbolizer knows about one code location.
fn make_frame(
    function: Option<String>,
    file: Option<String>,
    lineno: Option<u64>,
    colno: Option<u64>,
    instruction_addr: Option<String>,
) -> Frame {
    let function = function.filter(|f| !f.is_empty() && f != "<unknown>");
    let module = function
        .as_deref()
        .and_then(module_of)
        .map(|m| cut_end(m, MAX_FIELD_CHARS));
    let filename = file
        .as_deref()
        .map(|f| cut_start(relative_filename(f).0, MAX_FIELD_CHARS));
    Frame {
        function: function.map(fit_function),
        module,
        filename,
        abs_path: file.map(|f| cut_start(f, MAX_FIELD_CHARS)),
        lineno: lineno.filter(|&l| l > 0),
        colno: colno.filter(|&c| c > 0),
        instruction_addr,
        ..Default::default()
    }
}

fn frame_from_symbol(symbol: &BacktraceSymbol, instruction_addr: &str) -> Frame {
    frame_from_parts(
        symbol.name(),
        symbol.filename(),
        symbol.lineno(),
        symbol.colno(),
        instruction_addr,
    )
}

/// A frame from what a symbolizer found at one address (the parts of a
/// resolved [`BacktraceSymbol`] or of a [`backtrace::Symbol`]).
fn frame_from_parts(
    name: Option<backtrace::SymbolName<'_>>,
    file: Option<&std::path::Path>,
    lineno: Option<u32>,
    colno: Option<u32>,
    instruction_addr: &str,
) -> Frame {
    make_frame(
        name.map(|name| clean_function(&format!("{name:#}"))),
        file.map(|p| p.to_string_lossy().into_owned()),
        lineno.map(u64::from),
        colno.map(u64::from),
        Some(instruction_addr.to_owned()),
    )
}

/// Orders frames oldest first, trims the machinery at the innermost end,
/// caps the length and decides `in_app`.
fn finish(mut innermost_first: Vec<Frame>, options: &ClientOptions) -> Option<Stacktrace> {
    innermost_first.reverse();
    let mut frames = innermost_first;
    trim_innermost(&mut frames);
    if frames.is_empty() {
        return None;
    }
    if frames.len() > MAX_FRAMES {
        let drop_until = frames.len() - (MAX_FRAMES - KEEP_OLDEST);
        frames.drain(KEEP_OLDEST..drop_until);
    }
    let mut stacktrace = Stacktrace { frames };
    process_stacktrace(&mut stacktrace, options);
    Some(stacktrace)
}

/// Converts a [`backtrace::Backtrace`] into a Sentry stack trace.
///
/// - Frames are ordered oldest caller first, as Sentry expects; inlined
///   functions become frames of their own (sharing the instruction
///   address).
/// - `function` is the demangled name without the `::h0123abcd…` hash;
///   `module` is its path without the last segment (closures and generic
///   arguments removed); `filename` is a stable relative path (see below),
///   `abs_path` the path as recorded in the debug information;
///   `instruction_addr` is `0x…` hex.
/// - The frames of the capture machinery at the innermost end are removed:
///   the Vigil crates, `backtrace`, `anyhow`'s constructors and the panic
///   runtime (`std::panicking`, `core::panicking`, `rust_begin_unwind`,
///   ...), so the last frame is where the error happened.
/// - At most [`MAX_FRAMES`] frames are kept: the 50 oldest and the newest
///   ones.
/// - `in_app` follows [`process_stacktrace`](crate::process_stacktrace).
///
/// `filename` drops the cargo registry prefix
/// (`serde-1.0.210/src/de.rs`) and the toolchain prefix
/// (`library/std/src/panicking.rs`); other absolute paths start at the
/// package directory, the parent of the innermost `src`, `tests`,
/// `examples` or `benches` directory (`/home/ci/app/src/main.rs` →
/// `app/src/main.rs`), so they are the same on every build machine.
/// Function names and paths longer than Relay's limit of 256 characters
/// are shortened (generic arguments first).
///
/// An unresolved backtrace ([`Backtrace::new_unresolved`]) is symbolized
/// here, each instruction address once per process (later backtraces
/// through the same code reuse the result). Returns `None` when no frame is left, e.g. for an empty
/// backtrace.
///
/// ```
/// let options = vigil_core::ClientOptions::default();
/// let bt = backtrace::Backtrace::new();
/// let stacktrace = vigil_backtrace::backtrace_to_stacktrace(&bt, &options).unwrap();
/// let innermost = stacktrace.frames.last().unwrap();
/// assert!(innermost.function.as_deref().unwrap().contains("main"));
/// assert_eq!(innermost.in_app, Some(true));
/// ```
pub fn backtrace_to_stacktrace(bt: &Backtrace, options: &ClientOptions) -> Option<Stacktrace> {
    let mut frames = Vec::with_capacity(bt.frames().len());
    let unresolved = bt.frames().iter().all(|f| f.symbols().is_empty());
    for frame in bt.frames() {
        let ip = frame.ip().addr();
        if unresolved {
            frames.extend(symbolized(ip).iter().cloned());
            continue;
        }
        let addr = format!("{ip:#x}");
        let symbols = frame.symbols();
        if symbols.is_empty() {
            if ip != 0 {
                frames.push(make_frame(None, None, None, None, Some(addr)));
            }
            continue;
        }
        frames.extend(symbols.iter().map(|s| frame_from_symbol(s, &addr)));
    }
    finish(frames, options)
}

/// At most this many instruction addresses are kept symbolized; when the
/// cache is full it starts again empty.
const MAX_CACHED_ADDRESSES: usize = 4096;

/// The frames of an instruction address (several when functions were
/// inlined there), innermost first; symbolized once per address and
/// process, so an error raised again and again from the same code (a panic
/// storm from one bad request) costs the symbolizer nothing after the
/// first time.
fn symbolized(ip: usize) -> Arc<[Frame]> {
    static CACHE: LazyLock<Mutex<HashMap<usize, Arc<[Frame]>>>> = LazyLock::new(Default::default);
    let cache = || CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(frames) = cache().get(&ip) {
        return Arc::clone(frames);
    }
    let addr = format!("{ip:#x}");
    let mut frames = Vec::new();
    if ip != 0 {
        backtrace::resolve(ip as *mut std::ffi::c_void, |symbol| {
            frames.push(frame_from_parts(
                symbol.name(),
                symbol.filename(),
                symbol.lineno(),
                symbol.colno(),
                &addr,
            ));
        });
        if frames.is_empty() {
            frames.push(make_frame(None, None, None, None, Some(addr)));
        }
    }
    let frames: Arc<[Frame]> = frames.into();
    let mut cache = cache();
    if cache.len() >= MAX_CACHED_ADDRESSES {
        cache.clear();
    }
    cache.insert(ip, Arc::clone(&frames));
    frames
}

/// The stack trace of the calling thread, at the point of the call
/// (without the SDK's own frames), with the in-app rules of `options`.
///
/// Capturing and symbolizing a backtrace is slow: use it on error paths,
/// not hot paths. The first call in a process loads the debug information
/// (measured on a 2-core machine: about 90 ms for a small release binary,
/// 0.7 s for a debug one); later calls took about 20 µs (release) to
/// 0.8 ms (debug) for 8 to 18 frames. Returns `None` when no frame can be
/// captured.
pub fn current_stacktrace(options: &ClientOptions) -> Option<Stacktrace> {
    backtrace_to_stacktrace(&Backtrace::new_unresolved(), options)
}

/// Converts a [`std::backtrace::Backtrace`] into a Sentry stack trace,
/// with the same rules as [`backtrace_to_stacktrace`].
///
/// The standard library exposes no frames, only text, so this parses the
/// backtrace's alternate `Display` output (`{:#}`, which has absolute
/// paths and instruction addresses). That format is not a stable interface
/// of the standard library: lines that do not parse are skipped. Returns
/// `None` when the backtrace was not captured (`RUST_BACKTRACE` and
/// `RUST_LIB_BACKTRACE` unset or `0`, or unsupported) or yields no frame.
pub fn std_backtrace_to_stacktrace(
    bt: &std::backtrace::Backtrace,
    options: &ClientOptions,
) -> Option<Stacktrace> {
    if bt.status() != BacktraceStatus::Captured {
        return None;
    }
    finish(parse_std_backtrace(&format!("{bt:#}")), options)
}

/// Parses `std::backtrace::Backtrace` text (either `{}` or `{:#}` form)
/// into frames, innermost first:
///
/// ```text
///    4:     0x55df6a34a8cf - anyhow::error::<impl anyhow::Error>::msg::hc3b9914997d359fe
///                                at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/anyhow-1.0.105/src/backtrace.rs:10:14
/// ```
///
/// A line that starts with an index opens a frame; an `at` line gives the
/// location of the symbol above it; any other indented line is a further
/// (inlined) symbol of the same frame.
fn parse_std_backtrace(text: &str) -> Vec<Frame> {
    struct Pending {
        function: Option<String>,
        file: Option<String>,
        lineno: Option<u64>,
        colno: Option<u64>,
        addr: Option<String>,
    }
    let mut frames = Vec::new();
    let mut pending: Option<Pending> = None;
    let mut addr: Option<String> = None;
    let mut in_frame = false;
    let flush = |pending: &mut Option<Pending>, frames: &mut Vec<Frame>| {
        if let Some(p) = pending.take() {
            let unknown = p.function.is_none() && p.file.is_none();
            let null = p.addr.as_deref().is_none_or(|a| a == "0x0");
            if !(unknown && null) {
                frames.push(make_frame(p.function, p.file, p.lineno, p.colno, p.addr));
            }
        }
    };
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(location) = trimmed.strip_prefix("at ") {
            if let Some(p) = pending.as_mut().filter(|p| p.file.is_none()) {
                let (file, lineno, colno) = parse_location(location);
                p.file = Some(file.to_owned());
                p.lineno = lineno;
                p.colno = colno;
            }
            continue;
        }
        let indexed = trimmed
            .split_once(':')
            .filter(|(index, _)| !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()));
        let name = if let Some((_, rest)) = indexed {
            in_frame = true;
            let rest = rest.trim();
            match rest.split_once(" - ") {
                Some((a, name)) if a.starts_with("0x") => {
                    addr = Some(a.trim().to_ascii_lowercase());
                    name
                }
                _ => {
                    addr = None;
                    rest
                }
            }
        } else if in_frame && line.starts_with(char::is_whitespace) {
            trimmed
        } else {
            // A header or trailer ("stack backtrace:", "disabled backtrace").
            continue;
        };
        flush(&mut pending, &mut frames);
        pending = Some(Pending {
            function: Some(clean_function(name)).filter(|n| n != "<unknown>"),
            file: None,
            lineno: None,
            colno: None,
            addr: addr.clone(),
        });
    }
    flush(&mut pending, &mut frames);
    frames
}

/// Splits `path:line:column` (or `path:line`) from the right, so drive
/// letters and colons inside the path survive.
fn parse_location(location: &str) -> (&str, Option<u64>, Option<u64>) {
    let number = |s: &str| s.parse::<u64>().ok();
    match location.rsplit_once(':') {
        Some((rest, last)) if number(last).is_some() => match rest.rsplit_once(':') {
            Some((path, line)) if number(line).is_some() => (path, number(line), number(last)),
            _ => (rest, number(last), None),
        },
        _ => (location, None, None),
    }
}

/// The calling thread as a `threads` entry: its id (the number of
/// [`std::thread::ThreadId`]) and its name. No stack trace and no flags
/// are set.
///
/// Safe to call while the thread's locals are being destroyed.
pub fn current_thread() -> Thread {
    let thread = std::thread::current();
    let debug = format!("{:?}", thread.id());
    let digits: String = debug.chars().filter(char::is_ascii_digit).collect();
    let id = match digits.parse::<u64>() {
        Ok(n) => Value::from(n),
        Err(_) => Value::from(debug),
    };
    Thread {
        id: Some(id),
        name: thread
            .name()
            .map(|n| cut_end(n.to_owned(), MAX_FIELD_CHARS)),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = "   0:     0x556ba4fef23b - std[e28293b1aa0f68bd]::backtrace_rs::backtrace::libunwind::trace
                               at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/../../backtrace/src/backtrace/libunwind.rs:117:9
   1:     0x556ba4fef23b - <std[e28293b1aa0f68bd]::backtrace::Backtrace>::create
                               at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/std/src/backtrace.rs:331:13
   2:     0x55df6a34a8cf - anyhow::error::<impl anyhow::Error>::msg::hc3b9914997d359fe
                               at /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/anyhow-1.0.105/src/backtrace.rs:10:14
   3:     0x55df6a27973a - app::load::h0fce5e22a181468f
                               at /home/ci/app/src/config.rs:10:13
                           app::main::h0fce5e22a181468f
                               at /home/ci/app/src/main.rs:4:5
   4:     0x55df6a279cfb - core::ops::function::FnOnce::call_once::h9147384068ba6e8f
                               at /rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/ops/function.rs:250:5
   5:     0x55df6a279cce - main
   6:     0x7f00a720124a - __libc_start_call_main
                               at ./csu/../sysdeps/nptl/libc_start_call_main.h:58:16
   7:                0x0 - <unknown>
";

    #[test]
    fn parses_std_backtrace_text() {
        let st = finish(parse_std_backtrace(FULL), &ClientOptions::default()).unwrap();
        let json = serde_json::to_value(&st).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"frames": [
                {
                    "function": "__libc_start_call_main",
                    "filename": "sysdeps/nptl/libc_start_call_main.h",
                    "abs_path": "./csu/../sysdeps/nptl/libc_start_call_main.h",
                    "lineno": 58, "colno": 16, "in_app": false,
                    "instruction_addr": "0x7f00a720124a"
                },
                {"function": "main", "in_app": false, "instruction_addr": "0x55df6a279cce"},
                {
                    "function": "core::ops::function::FnOnce::call_once",
                    "module": "core::ops::function::FnOnce",
                    "filename": "library/core/src/ops/function.rs",
                    "abs_path": "/rustc/59807616e1fa2540724bfbac14d7976d7e4a3860/library/core/src/ops/function.rs",
                    "lineno": 250, "colno": 5, "in_app": false,
                    "instruction_addr": "0x55df6a279cfb"
                },
                {
                    "function": "app::main", "module": "app",
                    "filename": "app/src/main.rs", "abs_path": "/home/ci/app/src/main.rs",
                    "lineno": 4, "colno": 5, "in_app": true,
                    "instruction_addr": "0x55df6a27973a"
                },
                {
                    "function": "app::load", "module": "app",
                    "filename": "app/src/config.rs", "abs_path": "/home/ci/app/src/config.rs",
                    "lineno": 10, "colno": 13, "in_app": true,
                    "instruction_addr": "0x55df6a27973a"
                }
            ]})
        );
    }

    #[test]
    fn parses_the_short_form_too() {
        let short = "   0: app::load
             at ./src/config.rs:10:13
   1: app::main
             at ./src/main.rs:4:5
";
        let frames = parse_std_backtrace(short);
        let names: Vec<_> = frames
            .iter()
            .map(|f| f.function.as_deref().unwrap())
            .collect();
        assert_eq!(names, ["app::load", "app::main"]);
        assert_eq!(frames[0].filename.as_deref(), Some("src/config.rs"));
        assert_eq!(frames[0].instruction_addr, None);
        assert!(parse_std_backtrace("disabled backtrace").is_empty());
    }

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("/a/b.rs:10:3"),
            ("/a/b.rs", Some(10), Some(3))
        );
        assert_eq!(parse_location("/a/b.rs:10"), ("/a/b.rs", Some(10), None));
        assert_eq!(
            parse_location(r"C:\a\b.rs:7:1"),
            (r"C:\a\b.rs", Some(7), Some(1))
        );
        assert_eq!(parse_location("/a/b.rs"), ("/a/b.rs", None, None));
    }

    #[test]
    fn long_traces_keep_both_ends() {
        let frames: Vec<Frame> = (0..400)
            .map(|i| make_frame(Some(format!("app::f{i}")), None, None, None, None))
            .collect();
        // Innermost first: f0 is the innermost.
        let st = finish(frames, &ClientOptions::default()).unwrap();
        assert_eq!(st.frames.len(), MAX_FRAMES);
        assert_eq!(st.frames[0].function.as_deref(), Some("app::f399"));
        assert_eq!(st.frames[49].function.as_deref(), Some("app::f350"));
        assert_eq!(st.frames[50].function.as_deref(), Some("app::f199"));
        assert_eq!(st.frames[249].function.as_deref(), Some("app::f0"));
    }

    #[test]
    fn current_thread_has_an_id_and_name() {
        let thread = std::thread::Builder::new()
            .name("named-worker".into())
            .spawn(current_thread)
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(thread.name.as_deref(), Some("named-worker"));
        assert!(thread.id.unwrap().is_u64());
    }
}
