//! `ContextsIntegration`: the operating system, compiler, machine and
//! application contexts.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use vigil_core::protocol::{
    AppContext, Context, DeviceContext, Event, Map, OsContext, RuntimeContext, Value,
};
use vigil_core::{ClientOptions, Integration};

/// Adds the `os`, `rust`, `device` and `app` contexts to every event, and
/// the host name as `server_name` when personal data may be sent.
///
/// | key | type | fields |
/// |---|---|---|
/// | `os` | `os` | `name` (`Linux`, `macOS`, `Windows`, ...), `version`, `kernel_version`, `build`; on Linux also `distribution_name`, `distribution_version`, `distribution_pretty_name` from `/etc/os-release` |
/// | `rust` | `runtime` | `name: "rustc"`, `version`, `channel`, `raw_description`: the compiler that built the program (recorded at build time) |
/// | `device` | `device` | `arch`, `processor_count`; on Linux also `memory_size` and `boot_time` |
/// | `app` | `app` | `app_start_time`: when the client was created |
///
/// On Linux everything comes from `/proc` and `/etc/os-release` (no
/// process is started, no extra crate); on Linux `version` is the kernel's
/// version number (`6.8.0`) and `kernel_version` the full release
/// (`6.8.0-1021-gcp`). macOS reads `SystemVersion.plist`; Windows and other
/// systems get the name only (best effort, untested there).
///
/// The system contexts are computed once per process, when the first
/// client with this integration is created. They are merged into each
/// event without overriding anything: a context the event or the scope
/// already has under the same key wins whole (fields are not mixed).
///
/// # Personal data
/// The host name identifies a machine (and on desktops often its owner),
/// so it is sent only when [`ClientOptions::send_default_pii`] is on: then
/// an unset [`ClientOptions::server_name`] is filled with it when the
/// client is created. `device.name` is never set.
///
/// Name: `contexts`. On by default (feature `contexts`).
///
/// ```
/// let options = vigil::ClientOptions::new().integration(vigil::ContextsIntegration::new());
/// # #[cfg(feature = "test")] {
/// let events = vigil::test::with_captured_events_options(|| {
///     vigil::capture_message("hello", vigil::Level::Info);
/// }, options);
/// let json = serde_json::to_value(&events[0]).unwrap();
/// assert_eq!(json["contexts"]["rust"]["type"], "runtime");
/// assert_eq!(json["contexts"]["rust"]["name"], "rustc");
/// assert_eq!(json["contexts"]["device"]["arch"], std::env::consts::ARCH);
/// assert!(json.get("server_name").is_none()); // send_default_pii is off
/// # }
/// ```
#[derive(Debug, Default)]
pub struct ContextsIntegration {
    start: OnceLock<SystemTime>,
}

impl ContextsIntegration {
    /// The integration.
    pub fn new() -> ContextsIntegration {
        ContextsIntegration::default()
    }

    fn contexts(&self) -> impl Iterator<Item = (&'static str, Context)> + '_ {
        let start = *self.start.get_or_init(SystemTime::now);
        let app = AppContext {
            app_start_time: Some(start),
            ..Default::default()
        };
        system_contexts()
            .iter()
            .map(|(k, c)| (*k, c.clone()))
            .chain([("app", Context::from(app))])
    }
}

impl Integration for ContextsIntegration {
    fn name(&self) -> &'static str {
        "contexts"
    }

    fn setup(&self, options: &mut ClientOptions) {
        self.start.get_or_init(SystemTime::now);
        system_contexts();
        if options.send_default_pii && options.server_name.is_none() {
            options.server_name = hostname().map(Cow::Owned);
        }
    }

    fn process_event(&self, mut event: Event, _options: &ClientOptions) -> Option<Event> {
        for (key, context) in self.contexts() {
            event.contexts.entry(key.to_owned()).or_insert(context);
        }
        Some(event)
    }
}

/// The process-wide contexts, computed on first use.
fn system_contexts() -> &'static BTreeMap<&'static str, Context> {
    static CONTEXTS: OnceLock<BTreeMap<&'static str, Context>> = OnceLock::new();
    CONTEXTS.get_or_init(|| {
        BTreeMap::from([
            ("os", Context::from(os_context())),
            ("rust", Context::from(rust_context())),
            ("device", Context::from(device_context())),
        ])
    })
}

/// The compiler that built this crate, recorded by `build.rs`.
fn rust_context() -> RuntimeContext {
    let mut other = Map::new();
    if let Some(channel) = option_env!("VIGIL_RUSTC_CHANNEL") {
        other.insert("channel".into(), Value::from(channel));
    }
    RuntimeContext {
        name: Some("rustc".into()),
        version: option_env!("VIGIL_RUSTC_VERSION").map(str::to_owned),
        raw_description: option_env!("VIGIL_RUSTC_DESCRIPTION").map(str::to_owned),
        other,
    }
}

fn device_context() -> DeviceContext {
    let mut device = DeviceContext {
        arch: Some(std::env::consts::ARCH.into()),
        processor_count: std::thread::available_parallelism()
            .ok()
            .map(|n| n.get() as u64),
        ..Default::default()
    };
    if cfg!(any(target_os = "linux", target_os = "android")) {
        device.memory_size = read("/proc/meminfo").and_then(|m| parse_meminfo_total(&m));
        device.boot_time = read("/proc/stat").and_then(|s| parse_boot_time(&s));
    }
    device
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn read_trimmed(path: &str) -> Option<String> {
    read(path)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// `MemTotal:       16318480 kB` → bytes.
fn parse_meminfo_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut parts = line["MemTotal:".len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => value.checked_mul(1024),
        Some(_) => None,
    }
}

/// `btime 1718000000` in `/proc/stat` → boot time.
fn parse_boot_time(stat: &str) -> Option<SystemTime> {
    let secs: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// `KEY=value` lines of `os-release`, with quotes removed.
fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let unquoted = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            let unescaped = unquoted
                .replace("\\\"", "\"")
                .replace("\\$", "$")
                .replace("\\`", "`")
                .replace("\\\\", "\\");
            (k.trim().to_owned(), unescaped)
        })
        .collect()
}

/// The leading version number of a kernel release: `6.8.0-1021-gcp` →
/// `6.8.0`.
fn version_number(release: &str) -> Option<String> {
    let end = release
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(release.len());
    let number = release[..end].trim_end_matches('.');
    (!number.is_empty()).then(|| number.to_owned())
}

fn os_context() -> OsContext {
    let mut os = OsContext::default();
    match std::env::consts::OS {
        "linux" | "android" => {
            os.name = Some(
                if cfg!(target_os = "android") {
                    "Android"
                } else {
                    "Linux"
                }
                .into(),
            );
            let release = read_trimmed("/proc/sys/kernel/osrelease");
            os.version = release.as_deref().and_then(version_number);
            os.kernel_version = release;
            let os_release = read("/etc/os-release").or_else(|| read("/usr/lib/os-release"));
            if let Some(text) = os_release {
                let fields = parse_os_release(&text);
                for (key, field) in [
                    ("ID", "distribution_name"),
                    ("VERSION_ID", "distribution_version"),
                    ("PRETTY_NAME", "distribution_pretty_name"),
                ] {
                    if let Some(value) = fields.get(key).filter(|v| !v.is_empty()) {
                        os.other.insert(field.into(), Value::from(value.as_str()));
                    }
                }
            }
        }
        "macos" => {
            os.name = Some("macOS".into());
            if let Some(plist) = read("/System/Library/CoreServices/SystemVersion.plist") {
                os.version = plist_string(&plist, "ProductVersion");
                os.build = plist_string(&plist, "ProductBuildVersion");
            }
        }
        "windows" => os.name = Some("Windows".into()),
        "ios" => os.name = Some("iOS".into()),
        "freebsd" => os.name = Some("FreeBSD".into()),
        "netbsd" => os.name = Some("NetBSD".into()),
        "openbsd" => os.name = Some("OpenBSD".into()),
        other => os.name = Some(other.into()),
    }
    os
}

/// The `<string>` following `<key>{key}</key>` in an XML property list.
fn plist_string(plist: &str, key: &str) -> Option<String> {
    let after_key = &plist[plist.find(&format!("<key>{key}</key>"))?..];
    let start = after_key.find("<string>")? + "<string>".len();
    let end = after_key[start..].find("</string>")?;
    Some(after_key[start..start + end].trim().to_owned()).filter(|s| !s.is_empty())
}

/// The host name: `/proc/sys/kernel/hostname` on Linux, `COMPUTERNAME` on
/// Windows, elsewhere `HOSTNAME` or the output of `uname -n`.
fn hostname() -> Option<String> {
    if cfg!(any(target_os = "linux", target_os = "android"))
        && let Some(name) = read_trimmed("/proc/sys/kernel/hostname")
    {
        return Some(name);
    }
    let from_env = |var: &str| {
        std::env::var(var)
            .ok()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if cfg!(windows) {
        return from_env("COMPUTERNAME");
    }
    from_env("HOSTNAME").or_else(|| {
        let output = std::process::Command::new("uname")
            .arg("-n")
            .output()
            .ok()?;
        let name = String::from_utf8(output.stdout).ok()?;
        Some(name.trim().to_owned()).filter(|n| !n.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        let meminfo = "MemTotal:       16318480 kB\nMemFree:         1000 kB\n";
        assert_eq!(parse_meminfo_total(meminfo), Some(16_318_480 * 1024));
        assert_eq!(parse_meminfo_total("MemFree: 1 kB"), None);
        let stat = "cpu  1 2 3\nbtime 1718000000\nprocesses 5\n";
        assert_eq!(
            parse_boot_time(stat),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_718_000_000))
        );
        assert_eq!(version_number("6.8.0-1021-gcp").as_deref(), Some("6.8.0"));
        assert_eq!(version_number("5.15.0.").as_deref(), Some("5.15.0"));
        assert_eq!(version_number("rc1"), None);
    }

    #[test]
    fn parses_os_release() {
        let text = "# comment\nPRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\nVERSION_ID='13'\nNAME=\"A \\\"quoted\\\" name\"\n";
        let fields = parse_os_release(text);
        assert_eq!(fields["PRETTY_NAME"], "Debian GNU/Linux 13 (trixie)");
        assert_eq!(fields["ID"], "debian");
        assert_eq!(fields["VERSION_ID"], "13");
        assert_eq!(fields["NAME"], "A \"quoted\" name");
    }

    #[test]
    fn parses_plists() {
        let plist = "<dict>\n\t<key>ProductBuildVersion</key>\n\t<string>23E214</string>\n\t<key>ProductVersion</key>\n\t<string>14.4</string>\n</dict>";
        assert_eq!(
            plist_string(plist, "ProductVersion").as_deref(),
            Some("14.4")
        );
        assert_eq!(
            plist_string(plist, "ProductBuildVersion").as_deref(),
            Some("23E214")
        );
        assert_eq!(plist_string(plist, "Missing"), None);
    }
}
