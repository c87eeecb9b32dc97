//! The contexts integration: JSON shape of each context, merging with
//! contexts set by the user, and PII gating of `server_name`.

use serde_json::{Value, json};
use vigil::protocol::OsContext;
use vigil::test::with_captured_events_options;
use vigil::{ClientOptions, ContextsIntegration, Level};

fn capture_with(options: ClientOptions, f: impl FnOnce()) -> Value {
    let options = options.integration(ContextsIntegration::new());
    let events = with_captured_events_options(f, options);
    assert_eq!(events.len(), 1);
    serde_json::to_value(&events[0]).unwrap()
}

fn message() {
    vigil::capture_message("hello", Level::Info);
}

fn parse_rfc3339(s: &str) -> Option<std::time::SystemTime> {
    use time::format_description::well_known::Rfc3339;
    time::OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(Into::into)
}

fn is_rfc3339(value: &Value) -> bool {
    value.as_str().is_some_and(|s| parse_rfc3339(s).is_some())
}

#[test]
fn every_context_has_its_shape() {
    let before = std::time::SystemTime::now();
    let event = capture_with(ClientOptions::default(), message);
    let contexts = event["contexts"].as_object().unwrap();
    let keys: Vec<_> = contexts.keys().map(String::as_str).collect();
    // `trace` comes from the scope (every event carries its trace).
    assert_eq!(keys, ["app", "device", "os", "rust", "trace"]);

    let rust = &contexts["rust"];
    assert_eq!(rust["type"], "runtime");
    assert_eq!(rust["name"], "rustc");
    let version = rust["version"].as_str().unwrap();
    assert!(
        version
            .split('.')
            .take(3)
            .all(|p| p.split('-').next().unwrap().parse::<u32>().is_ok()),
        "{version}"
    );
    assert!(["stable", "beta", "nightly", "dev"].contains(&rust["channel"].as_str().unwrap()));
    assert!(
        rust["raw_description"]
            .as_str()
            .unwrap()
            .starts_with("rustc ")
    );

    let device = &contexts["device"];
    assert_eq!(device["type"], "device");
    assert_eq!(device["arch"], std::env::consts::ARCH);
    assert_eq!(
        device["processor_count"],
        std::thread::available_parallelism().unwrap().get() as u64
    );
    assert!(
        device.get("name").is_none(),
        "the host name is never sent here"
    );

    let os = &contexts["os"];
    assert_eq!(os["type"], "os");
    assert!(os["name"].is_string());

    let app = &contexts["app"];
    assert_eq!(app["type"], "app");
    assert!(is_rfc3339(&app["app_start_time"]));
    let start = parse_rfc3339(app["app_start_time"].as_str().unwrap()).unwrap();
    assert!(start >= before - std::time::Duration::from_millis(1));

    if cfg!(target_os = "linux") {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        assert_eq!(os["name"], "Linux");
        assert_eq!(os["kernel_version"], release.trim());
        assert!(release.trim().starts_with(os["version"].as_str().unwrap()));
        if let Ok(text) = std::fs::read_to_string("/etc/os-release") {
            let id = text
                .lines()
                .find_map(|l| l.strip_prefix("ID="))
                .unwrap()
                .trim_matches('"');
            assert_eq!(os["distribution_name"], id);
            assert!(os["distribution_pretty_name"].is_string());
        }
        assert!(device["memory_size"].as_u64().unwrap() > 1 << 20);
        assert!(is_rfc3339(&device["boot_time"]));
    }
}

#[test]
fn user_contexts_win() {
    let event = capture_with(ClientOptions::default(), || {
        vigil::configure_scope(|scope| {
            scope.set_context(
                "os",
                OsContext {
                    name: Some("CustomOS".into()),
                    ..Default::default()
                },
            );
        });
        message();
    });
    assert_eq!(
        event["contexts"]["os"],
        json!({"type": "os", "name": "CustomOS"})
    );
    assert_eq!(event["contexts"]["rust"]["name"], "rustc");
}

fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
}

#[test]
fn server_name_only_with_send_default_pii() {
    let without = capture_with(ClientOptions::default(), message);
    assert!(without.get("server_name").is_none());

    let with = capture_with(
        ClientOptions {
            send_default_pii: true,
            ..Default::default()
        },
        message,
    );
    assert!(with["server_name"].as_str().is_some_and(|s| !s.is_empty()));
    if cfg!(target_os = "linux") {
        assert_eq!(with["server_name"].as_str(), hostname().as_deref());
    }

    let explicit = capture_with(
        ClientOptions {
            send_default_pii: true,
            server_name: Some("explicit".into()),
            ..Default::default()
        },
        message,
    );
    assert_eq!(explicit["server_name"], "explicit");
}
