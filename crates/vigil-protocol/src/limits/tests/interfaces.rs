//! Exceptions, stack traces, threads, the user and breadcrumbs.

use std::collections::BTreeMap;

use serde_json::json;

use super::{assert_cut, exception_with_frames, frames, long, trimmed};
use crate::breadcrumb::Breadcrumb;
use crate::breadcrumb_list::Breadcrumbs;
use crate::event::{Event, Values};
use crate::exception::{Exception, Mechanism, Stacktrace, Thread};
use crate::limits::json_size::map_size;
use crate::user::{Geo, User};

#[test]
fn exception_fields_are_limited() {
    let event = trimmed(Event {
        exception: Values::from(vec![Exception {
            ty: long(300),
            value: Some(long(9000)),
            module: Some(long(257)),
            mechanism: Some(Mechanism {
                ty: long(200),
                description: Some(long(9000)),
                help_link: Some(format!("https://{}", long(300))),
                source: Some(long(129)),
                data: BTreeMap::from([("blob".into(), json!(long(3000)))]),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let e = &event.exception.values[0];
    assert_cut(e.ty.as_str(), 256);
    assert_cut(e.value.as_deref().unwrap(), 8192);
    assert_cut(e.module.as_deref().unwrap(), 256);
    let m = e.mechanism.as_ref().unwrap();
    assert_cut(&m.ty, 128);
    assert_cut(m.description.as_deref().unwrap(), 8192);
    assert_cut(m.help_link.as_deref().unwrap(), 256);
    assert_cut(m.source.as_deref().unwrap(), 128);
    assert!(map_size(&m.data) <= 2048);
    assert!(m.data["blob"].as_str().unwrap().ends_with("..."));
}

#[test]
fn at_most_250_frames_keeping_the_newest() {
    let event = trimmed(Event {
        exception: Values::from(vec![exception_with_frames(400)]),
        threads: Values::from(vec![Thread {
            id: Some(json!(1)),
            stacktrace: Some(Stacktrace {
                frames: frames(300),
            }),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let frames = &event.exception.values[0]
        .stacktrace
        .as_ref()
        .unwrap()
        .frames;
    assert_eq!(frames.len(), 250);
    assert_eq!(frames[0].function.as_deref(), Some("f150"));
    assert_eq!(frames[249].function.as_deref(), Some("f399"));
    let frames = &event.threads.values[0].stacktrace.as_ref().unwrap().frames;
    assert_eq!(frames.len(), 250);
    assert_eq!(frames[249].function.as_deref(), Some("f299"));
}

#[test]
fn empty_stack_traces_are_removed_and_function_names_limited() {
    let mut exception = exception_with_frames(1);
    exception.stacktrace.as_mut().unwrap().frames[0].function = Some(long(600));
    exception.stacktrace.as_mut().unwrap().frames[0].raw_function = Some(long(513));
    let event = trimmed(Event {
        exception: Values::from(vec![
            exception,
            Exception {
                ty: "E".into(),
                stacktrace: Some(Stacktrace::default()),
                ..Default::default()
            },
        ]),
        ..Default::default()
    });
    let frame = &event.exception.values[0]
        .stacktrace
        .as_ref()
        .unwrap()
        .frames[0];
    assert_cut(frame.function.as_deref().unwrap(), 512);
    assert_cut(frame.raw_function.as_deref().unwrap(), 512);
    assert_eq!(event.exception.values[1].stacktrace, None);
}

#[test]
fn thread_names_are_limited_to_1024_chars() {
    let event = trimmed(Event {
        threads: Values::from(vec![Thread {
            name: Some(long(2000)),
            stacktrace: Some(Stacktrace::default()),
            ..Default::default()
        }]),
        ..Default::default()
    });
    assert_cut(event.threads.values[0].name.as_deref().unwrap(), 1024);
    assert_eq!(event.threads.values[0].stacktrace, None);
}

#[test]
fn user_fields_are_limited() {
    let user = trimmed(Event {
        user: Some(User {
            id: Some(long(129)),
            username: Some(long(200)),
            email: Some(format!("{}@example.com", long(80))),
            ip_address: Some("not an ip".into()),
            geo: Some(Geo {
                city: Some(long(1025)),
                country_code: Some(long(1025)),
                region: Some(long(1025)),
            }),
            ..Default::default()
        }),
        ..Default::default()
    })
    .user
    .unwrap();
    assert_cut(user.id.as_deref().unwrap(), 128);
    assert_cut(user.username.as_deref().unwrap(), 128);
    assert_cut(user.email.as_deref().unwrap(), 75);
    assert_eq!(user.ip_address, None);
    let geo = user.geo.unwrap();
    assert_cut(geo.city.as_deref().unwrap(), 1024);
    assert_cut(geo.country_code.as_deref().unwrap(), 1024);
    assert_cut(geo.region.as_deref().unwrap(), 1024);
}

#[test]
fn valid_ip_addresses_are_kept() {
    for ip in ["{{auto}}", "127.0.0.1", "::1", "2001:db8::1"] {
        let user = trimmed(Event {
            user: Some(User {
                ip_address: Some(ip.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .user
        .unwrap();
        assert_eq!(user.ip_address.as_deref(), Some(ip));
    }
    for ip in ["", "{{ auto }}", "[::1]", "1.2.3", "fe80::1%eth0"] {
        let user = trimmed(Event {
            user: Some(User {
                ip_address: Some(ip.into()),
                ..Default::default()
            }),
            ..Default::default()
        })
        .user
        .unwrap();
        assert_eq!(user.ip_address, None, "{ip:?}");
    }
}

#[test]
fn breadcrumb_fields_are_limited() {
    let event = trimmed(Event {
        breadcrumbs: Breadcrumbs::from(vec![Breadcrumb {
            ty: long(129).into(),
            category: Some(long(129).into()),
            message: Some(long(8193)),
            data: (0..100)
                .map(|i| (format!("k{i:03}"), json!(long(50))))
                .collect(),
            ..Default::default()
        }]),
        ..Default::default()
    });
    let crumb = &event.breadcrumbs[0];
    assert_cut(&crumb.ty, 128);
    assert_cut(crumb.category.as_deref().unwrap(), 128);
    assert_cut(crumb.message.as_deref().unwrap(), 8192);
    let size = serde_json::to_vec(&crumb.data).unwrap().len();
    assert!(size <= 2048, "{size}");
    assert!(size > 1900, "keeps as much as fits: {size}");
    assert!(crumb.data.contains_key("k000"));
    assert!(!crumb.data.contains_key("k099"));
}

#[test]
fn breadcrumb_data_deeper_than_5_levels_becomes_text() {
    let event = trimmed(Event {
        breadcrumbs: Breadcrumbs::from(vec![Breadcrumb {
            data: BTreeMap::from([("a".into(), json!({"b": {"c": {"d": {"e": 1}}}}))]),
            ..Default::default()
        }]),
        ..Default::default()
    });
    assert_eq!(
        event.breadcrumbs[0].data["a"],
        json!({"b": {"c": {"d": "{\"e\":1}"}}})
    );
}
