//! TLS: an `https` DSN served over loopback by a server whose certificate
//! a private CA signed (a self-hosted Sentry behind its company's CA).
//! Envelopes reach it when the CA is trusted (given as PEM or as a file)
//! or verification is off, and never when it is not.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use vigil_core::protocol::{DataCategory, DiscardReason, Level};
use vigil_core::{ClientOptions, Hub, Scope, Transport};
use vigil_transport::HttpTransportOptions;

use crate::{fast_options, http_client};

/// A private CA and a server certificate for `127.0.0.1` it signed.
struct Pki {
    ca_pem: String,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Names of their own: with the CA's name as its subject too, OpenSSL
    // (the `native-tls` stack) would take the server's certificate for a
    // self-signed one.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "Vigil test CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("the CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().expect("a server key");
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("server parameters");
    server_params
        .distinguished_name
        .push(DnType::CommonName, "vigil test server");
    let server_cert = server_params
        .signed_by(&server_key, &issuer)
        .expect("the server certificate");
    Pki {
        ca_pem: ca_cert.pem(),
        server_chain: vec![server_cert.der().clone()],
        server_key: PrivatePkcs8KeyDer::from(server_key.serialize_der()).into(),
    }
}

/// An HTTPS server on loopback answering every request `200 {}`; counts
/// the envelope posts it read completely.
struct TlsServer {
    port: u16,
    envelopes: Arc<AtomicUsize>,
}

impl TlsServer {
    fn start(pki: &Pki) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(pki.server_chain.clone(), pki.server_key.clone_key())
            .expect("the server certificate and key");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let envelopes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&envelopes);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let config = Arc::clone(&config);
                let counted = Arc::clone(&counted);
                thread::spawn(move || serve(stream, config, &counted));
            }
        });
        TlsServer { port, envelopes }
    }

    fn dsn(&self) -> String {
        format!("https://public@127.0.0.1:{}/1", self.port)
    }

    fn envelopes(&self) -> usize {
        self.envelopes.load(Ordering::SeqCst)
    }
}

/// Serves one connection: requests read in full, each answered `200`.
/// A failed handshake (an untrusted certificate on the client's side)
/// ends it.
fn serve(stream: TcpStream, config: Arc<rustls::ServerConfig>, counted: &AtomicUsize) {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let Ok(connection) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = BufReader::new(rustls::StreamOwned::new(connection, stream));
    loop {
        let mut request_line = String::new();
        if tls.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            if tls.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                content_length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; content_length];
        if tls.read_exact(&mut body).is_err() {
            return;
        }
        if request_line.contains("/envelope/") {
            counted.fetch_add(1, Ordering::SeqCst);
        }
        let answer =
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
        if tls
            .get_mut()
            .write_all(answer)
            .and_then(|()| tls.get_mut().flush())
            .is_err()
        {
            return;
        }
    }
}

/// Captures one event through an HTTP transport with `http` to `server`
/// and returns how many events the transport dropped for a network error.
fn send_one(server: &TlsServer, http: HttpTransportOptions) -> u64 {
    send_one_with(server, ClientOptions::new(), http)
}

/// [`send_one`] with client options.
fn send_one_with(server: &TlsServer, options: ClientOptions, http: HttpTransportOptions) -> u64 {
    let (client, transport) = http_client(&server.dsn(), options, http);
    let client = Arc::new(client);
    let hub = Hub::new(Some(Arc::clone(&client)), Arc::new(Scope::new()));
    hub.capture_message("over TLS", Level::Error);
    client.flush(Duration::from_secs(5));
    let dropped = transport
        .delivery_stats()
        .expect("the HTTP transport keeps statistics")
        .dropped_count(DiscardReason::NetworkError, DataCategory::Error);
    client.close(Duration::from_secs(2));
    dropped
}

#[test]
fn a_private_ca_given_as_pem_is_trusted() {
    let pki = pki();
    let server = TlsServer::start(&pki);
    let http = fast_options()
        .root_certificates_pem(pki.ca_pem.as_bytes())
        .expect("the CA bundle parses");
    assert_eq!(send_one(&server, http), 0);
    assert_eq!(server.envelopes(), 1);
}

#[test]
fn a_private_ca_given_as_a_file_is_trusted() {
    let pki = pki();
    let server = TlsServer::start(&pki);
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, &pki.ca_pem).expect("the CA file");
    let http = fast_options()
        .root_certificates_file(&path)
        .expect("the CA file parses");
    assert_eq!(send_one(&server, http), 0);
    assert_eq!(server.envelopes(), 1);
}

#[test]
fn a_server_the_default_roots_do_not_trust_gets_nothing() {
    let pki = pki();
    let server = TlsServer::start(&pki);
    // Mozilla's roots do not include the private CA: the handshake fails,
    // the event is counted as a network drop, nothing arrives.
    assert_eq!(send_one(&server, fast_options().max_attempts(1)), 1);
    assert_eq!(server.envelopes(), 0);
}

#[test]
fn verification_can_be_turned_off_for_a_test_server() {
    let pki = pki();
    let server = TlsServer::start(&pki);
    assert_eq!(
        send_one(&server, fast_options().danger_accept_invalid_certs(true)),
        0
    );
    assert_eq!(server.envelopes(), 1);
}

#[test]
fn the_client_option_accept_invalid_certs_turns_verification_off() {
    let pki = pki();
    let server = TlsServer::start(&pki);
    let options = ClientOptions::new().accept_invalid_certs(true);
    assert_eq!(send_one_with(&server, options, fast_options()), 0);
    assert_eq!(server.envelopes(), 1);
}

#[test]
fn bad_bundles_are_refused_with_the_reason() {
    let err = HttpTransportOptions::new()
        .root_certificates_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        .unwrap_err();
    assert!(err.to_string().contains("no certificate found"), "{err}");
    let err = HttpTransportOptions::new()
        .root_certificates_file("/nonexistent/ca.pem")
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("invalid root certificates in /nonexistent/ca.pem: cannot read the file"),
        "{err}"
    );
}
