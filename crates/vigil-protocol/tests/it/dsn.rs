//! DSN parsing, URLs, the auth header, and property tests of the parser.

use proptest::prelude::*;
use vigil_protocol::{Dsn, DsnError, Envelope, Scheme};

fn dsn(s: &str) -> Dsn {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn err(s: &str) -> DsnError {
    s.parse::<Dsn>().expect_err(s)
}

#[test]
fn plain_https_dsn() {
    let d = dsn("https://abc123@o4504.ingest.us.sentry.io/4505");
    assert_eq!(d.scheme(), Scheme::Https);
    assert_eq!(d.public_key(), "abc123");
    assert_eq!(d.secret_key(), None);
    assert_eq!(d.host(), "o4504.ingest.us.sentry.io");
    assert_eq!(d.port(), 443);
    assert_eq!(d.path(), "");
    assert_eq!(d.project_id(), "4505");
    assert_eq!(d.org_id(), Some(4504));
    assert_eq!(
        d.envelope_url(),
        "https://o4504.ingest.us.sentry.io/api/4505/envelope/"
    );
}

#[test]
fn http_with_port() {
    let d = dsn("http://key@127.0.0.1:8707/1");
    assert_eq!(d.scheme(), Scheme::Http);
    assert_eq!(d.port(), 8707);
    assert_eq!(d.org_id(), None);
    assert_eq!(d.envelope_url(), "http://127.0.0.1:8707/api/1/envelope/");
    assert_eq!(d.to_string(), "http://key@127.0.0.1:8707/1");
}

#[test]
fn default_ports_are_dropped_from_urls() {
    let d = dsn("https://key@h.example:443/1");
    assert_eq!(d.port(), 443);
    assert_eq!(d.envelope_url(), "https://h.example/api/1/envelope/");
    assert_eq!(d.to_string(), "https://key@h.example/1");
    let d = dsn("http://key@h.example:80/1");
    assert_eq!(d.envelope_url(), "http://h.example/api/1/envelope/");
    // The other scheme's default port is not a default.
    let d = dsn("http://key@h.example:443/1");
    assert_eq!(d.envelope_url(), "http://h.example:443/api/1/envelope/");
    assert_eq!(Scheme::Http.default_port(), 80);
    assert_eq!(Scheme::Https.default_port(), 443);
    assert_eq!(Scheme::Https.as_str(), "https");
}

#[test]
fn secret_key() {
    let d = dsn("https://public:secret@h.example/7");
    assert_eq!(d.public_key(), "public");
    assert_eq!(d.secret_key(), Some("secret"));
    assert_eq!(d.to_string(), "https://public:secret@h.example/7");
    // An empty secret is no secret.
    let d = dsn("https://public:@h.example/7");
    assert_eq!(d.secret_key(), None);
    assert_eq!(d.to_string(), "https://public@h.example/7");
}

#[test]
fn path_prefix_is_kept() {
    let d = dsn("https://k@h.example/sub/path/42");
    assert_eq!(d.path(), "/sub/path");
    assert_eq!(d.project_id(), "42");
    assert_eq!(
        d.envelope_url(),
        "https://h.example/sub/path/api/42/envelope/"
    );
    assert_eq!(d.to_string(), "https://k@h.example/sub/path/42");
}

#[test]
fn trailing_slash_is_ignored() {
    for s in ["https://k@h.example/42/", "https://k@h.example/42//"] {
        let d = dsn(s);
        assert_eq!(d.project_id(), "42");
        assert_eq!(d.envelope_url(), "https://h.example/api/42/envelope/");
        assert_eq!(d.to_string(), "https://k@h.example/42");
    }
    let d = dsn("https://k@h.example/sub/42/");
    assert_eq!(d.envelope_url(), "https://h.example/sub/api/42/envelope/");
}

#[test]
fn ipv6_hosts() {
    let d = dsn("http://k@[::1]:9000/3");
    assert_eq!(d.host(), "[::1]");
    assert_eq!(d.port(), 9000);
    assert_eq!(d.envelope_url(), "http://[::1]:9000/api/3/envelope/");
    assert_eq!(d.to_string(), "http://k@[::1]:9000/3");
    let d = dsn("https://k@[2001:db8::1]/3");
    assert_eq!(d.host(), "[2001:db8::1]");
    assert_eq!(d.port(), 443);
    assert_eq!(d.envelope_url(), "https://[2001:db8::1]/api/3/envelope/");
}

#[test]
fn org_id_comes_from_sentry_host_names() {
    assert_eq!(dsn("https://k@o123.ingest.sentry.io/1").org_id(), Some(123));
    assert_eq!(dsn("https://k@o0.ingest.us.sentry.io/1").org_id(), Some(0));
    for host in [
        "ingest.sentry.io",
        "o.ingest.sentry.io",
        "oabc.x.io",
        "o123",
        "foo.o123.io",
    ] {
        assert_eq!(dsn(&format!("https://k@{host}/1")).org_id(), None, "{host}");
    }
}

#[test]
fn scheme_is_case_insensitive_and_whitespace_trimmed() {
    let d = dsn("  HTTPS://k@h.example/1\n");
    assert_eq!(d.scheme(), Scheme::Https);
    assert_eq!(d.to_string(), "https://k@h.example/1");
}

#[test]
fn every_error() {
    assert_eq!(err(""), DsnError::Empty);
    assert_eq!(err("   "), DsnError::Empty);
    assert_eq!(err("k@h.example/1"), DsnError::MissingScheme);
    assert_eq!(
        err("ftp://k@h.example/1"),
        DsnError::UnsupportedScheme("ftp".into())
    );
    assert_eq!(
        err("://k@h.example/1"),
        DsnError::UnsupportedScheme(String::new())
    );
    assert_eq!(err("https://h.example/1"), DsnError::MissingPublicKey);
    assert_eq!(err("https://@h.example/1"), DsnError::MissingPublicKey);
    assert_eq!(
        err("https://:secret@h.example/1"),
        DsnError::MissingPublicKey
    );
    assert_eq!(err("https://k@/1"), DsnError::MissingHost);
    assert_eq!(err("https://k@:9000/1"), DsnError::MissingHost);
    assert_eq!(err("https://k@[::1/1"), DsnError::MissingHost);
    assert_eq!(
        err("https://k@h.example:x/1"),
        DsnError::InvalidPort("x".into())
    );
    assert_eq!(
        err("https://k@h.example:/1"),
        DsnError::InvalidPort(String::new())
    );
    assert_eq!(
        err("https://k@h.example:0/1"),
        DsnError::InvalidPort("0".into())
    );
    assert_eq!(
        err("https://k@h.example:65536/1"),
        DsnError::InvalidPort("65536".into())
    );
    assert_eq!(err("https://k@[::1]x/1"), DsnError::InvalidPort("x".into()));
    assert_eq!(err("https://k@h.example"), DsnError::MissingProjectId);
    assert_eq!(err("https://k@h.example/"), DsnError::MissingProjectId);
    assert_eq!(err("https://k@h.example//"), DsnError::MissingProjectId);
    assert_eq!(
        err("https://k@h.example/1?x=1"),
        DsnError::InvalidCharacter('?')
    );
    assert_eq!(
        err("https://k@h.example/1#frag"),
        DsnError::InvalidCharacter('#')
    );
    assert_eq!(
        err("https://k@h example/1"),
        DsnError::InvalidCharacter(' ')
    );
    assert_eq!(
        err("https://k@h.example/\u{0}1"),
        DsnError::InvalidCharacter('\u{0}')
    );
}

#[test]
fn error_messages_say_what_is_wrong() {
    let errors = [
        DsnError::Empty,
        DsnError::MissingScheme,
        DsnError::UnsupportedScheme("ftp".into()),
        DsnError::MissingPublicKey,
        DsnError::MissingHost,
        DsnError::InvalidPort("x".into()),
        DsnError::MissingProjectId,
        DsnError::InvalidCharacter('?'),
    ];
    for e in &errors {
        let text = e.to_string();
        assert!(text.starts_with("invalid dsn: "), "{text}");
        assert!(!text.ends_with('.'), "{text}");
    }
    assert!(errors[2].to_string().contains("ftp"));
    assert!(errors[5].to_string().contains("\"x\""));
}

#[test]
fn display_round_trips() {
    for s in [
        "https://k@h.example/1",
        "http://k:s@h.example:8080/a/b/c/99",
        "http://k@[::1]:9000/3",
        "https://0123456789abcdef@o1.ingest.sentry.io/project",
    ] {
        let d = dsn(s);
        assert_eq!(d.to_string(), s);
        assert_eq!(dsn(&d.to_string()), d);
    }
}

#[test]
fn debug_never_prints_the_secret() {
    let d = dsn("https://public:topsecret@h.example/1");
    for text in [format!("{d:?}"), format!("{d:#?}")] {
        assert!(!text.contains("topsecret"), "{text}");
        assert!(text.contains("public"), "{text}");
        assert!(text.contains("[redacted]"), "{text}");
    }
    let d = dsn("https://public@h.example/1");
    assert!(format!("{d:?}").contains("secret_key: None"));
}

#[test]
fn auth_header_format() {
    let d = dsn("https://public@h.example/1");
    assert_eq!(
        d.auth_header("vigil.rust/0.1.0"),
        "Sentry sentry_version=7, sentry_client=vigil.rust/0.1.0, sentry_key=public"
    );
    let d = dsn("https://public:secret@h.example/1");
    assert_eq!(
        d.auth_header("vigil.rust/0.1.0"),
        "Sentry sentry_version=7, sentry_client=vigil.rust/0.1.0, sentry_key=public, sentry_secret=secret"
    );
}

#[test]
fn sentry_types_agrees_on_urls() {
    for s in [
        "https://k@h.example/1",
        "http://k@h.example:8080/sub/path/42",
        "https://k:s@o12.ingest.sentry.io/99",
        "https://k@h.example:443/5",
    ] {
        let ours = dsn(s);
        let theirs: sentry_types::Dsn = s.parse().unwrap();
        assert_eq!(
            ours.envelope_url(),
            theirs.envelope_api_url().as_str(),
            "{s}"
        );
        assert_eq!(ours.public_key(), theirs.public_key());
        assert_eq!(ours.secret_key(), theirs.secret_key());
        assert_eq!(ours.project_id(), theirs.project_id().value());
    }
}

/// Parts of a DSN that must survive Display → parse.
#[derive(Debug, Clone)]
struct Parts {
    https: bool,
    key: String,
    secret: Option<String>,
    host: String,
    port: Option<u16>,
    prefix: Vec<String>,
    project: String,
}

impl Parts {
    fn to_dsn_string(&self) -> String {
        let mut s = format!(
            "{}://{}",
            if self.https { "https" } else { "http" },
            self.key
        );
        if let Some(secret) = &self.secret {
            s.push(':');
            s.push_str(secret);
        }
        s.push('@');
        s.push_str(&self.host);
        if let Some(port) = self.port {
            s.push_str(&format!(":{port}"));
        }
        for segment in &self.prefix {
            s.push('/');
            s.push_str(segment);
        }
        s.push('/');
        s.push_str(&self.project);
        s
    }
}

fn arb_host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\\.[a-z0-9]{1,8}){0,3}",
        (0u8..=255, 0u8..=255, 0u8..=255, 0u8..=255)
            .prop_map(|(a, b, c, d)| format!("{a}.{b}.{c}.{d}")),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", std::net::Ipv6Addr::from(s))),
    ]
}

fn arb_parts() -> impl Strategy<Value = Parts> {
    (
        any::<bool>(),
        "[a-f0-9]{1,32}",
        proptest::option::of("[a-zA-Z0-9]{1,16}"),
        arb_host(),
        proptest::option::of(1u16..),
        proptest::collection::vec("[a-zA-Z0-9_.-]{1,8}", 0..3),
        "[0-9]{1,7}",
    )
        .prop_map(|(https, key, secret, host, port, prefix, project)| Parts {
            https,
            key,
            secret,
            host,
            port,
            prefix,
            project,
        })
}

/// A legacy DSN's secret key is never stored or printed: not in the DSN
/// envelopes carry, not when headers are written, read or debugged.
#[test]
fn the_secret_key_stays_out_of_envelopes() {
    let dsn: Dsn = "https://public:s3cr3t@o1.ingest.example.com:8443/prefix/42"
        .parse()
        .unwrap();
    assert_eq!(
        dsn.to_public_string(),
        "https://public@o1.ingest.example.com:8443/prefix/42"
    );
    assert!(dsn.auth_header("x").contains("sentry_secret=s3cr3t"));

    let mut envelope = Envelope::new();
    envelope.headers_mut().dsn = Some(dsn.to_string());
    let written = String::from_utf8(envelope.to_vec().unwrap()).unwrap();
    assert!(!written.contains("s3cr3t"), "{written}");
    assert!(written.contains("https://public@o1.ingest.example.com:8443/prefix/42"));
    assert!(!format!("{envelope:?}").contains("s3cr3t"));

    let stored = format!(r#"{{"dsn":"{dsn}"}}"#);
    let read = Envelope::from_slice(stored.as_bytes()).unwrap();
    assert_eq!(
        read.headers().dsn.as_deref(),
        Some("https://public@o1.ingest.example.com:8443/prefix/42")
    );
    let header: serde_json::Value = serde_json::to_value(read.headers()).unwrap();
    assert!(!header.to_string().contains("s3cr3t"));

    // Without a secret, or not a DSN: unchanged.
    for text in ["https://public@host/1", "not a dsn", "https://host/a:b@c"] {
        let mut envelope = Envelope::new();
        envelope.headers_mut().dsn = Some(text.to_owned());
        let back = Envelope::from_slice(&envelope.to_vec().unwrap()).unwrap();
        assert_eq!(back.headers().dsn.as_deref(), Some(text));
    }
}

proptest! {
    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = s.parse::<Dsn>();
    }

    #[test]
    fn parse_never_panics_on_dsn_like_input(s in "[a-z:/@\\[\\]0-9.%?# -]{0,48}") {
        if let Ok(d) = s.parse::<Dsn>() {
            let _ = (d.envelope_url(), d.auth_header("x"), d.org_id(), format!("{d:?}"));
        }
    }

    #[test]
    fn display_then_parse_round_trips(parts in arb_parts()) {
        let text = parts.to_dsn_string();
        let d: Dsn = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(d.public_key(), parts.key.as_str());
        prop_assert_eq!(d.secret_key(), parts.secret.as_deref());
        prop_assert_eq!(d.host(), parts.host.as_str());
        prop_assert_eq!(d.project_id(), parts.project.as_str());
        let default = if parts.https { 443 } else { 80 };
        prop_assert_eq!(d.port(), parts.port.unwrap_or(default));
        let prefix: String = parts.prefix.iter().map(|s| format!("/{s}")).collect();
        prop_assert_eq!(d.path(), prefix.as_str());
        let again: Dsn = d.to_string().parse().unwrap();
        prop_assert_eq!(&again, &d);
        prop_assert_eq!(again.to_string(), d.to_string());
        let suffix = format!("/api/{}/envelope/", parts.project);
        prop_assert!(d.envelope_url().ends_with(&suffix), "{}", d.envelope_url());
    }
}
