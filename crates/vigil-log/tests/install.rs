//! Installing the logger globally: the global maximum level and the `log`
//! macros. A file of its own, because it sets the process's logger.

use std::sync::Once;

use log::LevelFilter;
use serde_json::json;
use vigil_log::VigilLogger;

/// Installs the logger once for the whole test binary.
fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| VigilLogger::new().install().unwrap());
}

#[test]
fn install_sets_logger_and_max_level() {
    install();
    assert_eq!(log::max_level(), LevelFilter::Info);
    assert!(VigilLogger::new().install().is_err());

    let mut line = 0;
    let events = vigil_core::test::with_captured_events(|| {
        log::info!("starting");
        log::debug!("not even created");
        line = line!() + 1;
        log::error!(target: "my_app::jobs", "job {} failed", 7);
    });
    assert_eq!(events.len(), 1);
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["message"], "job 7 failed");
    assert_eq!(json["logger"], "my_app::jobs");
    assert_eq!(
        json["contexts"]["log"],
        json!({"module_path": module_path!(), "file": file!(), "line": line})
    );
    let crumbs = &json["breadcrumbs"]["values"];
    assert_eq!(crumbs.as_array().unwrap().len(), 1);
    assert_eq!(crumbs[0]["message"], "starting");
    assert_eq!(crumbs[0]["category"], module_path!());
}

#[cfg(feature = "kv")]
#[test]
fn macros_with_key_values() {
    install();
    let events = vigil_core::test::with_captured_events(|| {
        log::error!(user_id = 42, admin = false, name = "ada"; "denied");
    });
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(
        json["extra"],
        json!({"user_id": 42, "admin": false, "name": "ada"})
    );
}
