//! An axum 0.8 service with a scope per request.
//!
//! ```text
//! cargo run -p vigil-tower --features axum --example axum                # serves on 127.0.0.1:3000
//! curl 'http://127.0.0.1:3000/users/42?plan=pro'
//! curl 'http://127.0.0.1:3000/fail'
//! cargo run -p vigil-tower --features axum --example axum -- --self-test # sends requests to itself, checks, exits
//! ```
//!
//! Events are printed to stderr instead of being sent: this example uses
//! `vigil-core` alone, which has no HTTP transport. In an application,
//! `vigil::init` does the setup of `main` below with the real transport.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::StatusCode;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vigil_core::protocol::{Breadcrumb, Envelope, EnvelopeItem, Event, Level, User};
use vigil_core::{Client, ClientOptions, Hub, Transport, TransportContext};
use vigil_tower::VigilLayer;

/// A transport that prints a line per event to stderr and keeps the
/// events (for `--self-test`).
#[derive(Default)]
struct PrintTransport {
    events: Mutex<Vec<Event>>,
}

impl Transport for PrintTransport {
    fn send_envelope(&self, envelope: Envelope) {
        for item in envelope.into_items() {
            if let EnvelopeItem::Event(event) = item {
                let url = event.request.as_ref().and_then(|r| r.url.clone());
                let exception = event.exception.values.first().and_then(|e| e.value.clone());
                eprintln!(
                    "[event] {} {:?} transaction={:?} tags={:?} user={:?} url={:?} breadcrumbs={}",
                    event.level,
                    event.message.as_ref().or(exception.as_ref()),
                    event.transaction,
                    event.tags,
                    event.user.as_ref().and_then(|u| u.id.clone()),
                    url,
                    event.breadcrumbs.len(),
                );
                self.events
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(*event);
            }
        }
    }
}

/// Per-request scope data, a child task, and a capture.
async fn show_user(Path(id): Path<u64>, RawQuery(query): RawQuery) -> String {
    let plan = query
        .as_deref()
        .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("plan=")))
        .unwrap_or("free")
        .to_owned();
    // Acts on this request's hub only.
    vigil_core::configure_scope(|scope| {
        scope.set_user(Some(User {
            id: Some(id.to_string()),
            ..User::default()
        }));
        scope.set_tag("plan", &plan);
    });
    vigil_core::add_breadcrumb(Breadcrumb::message(format!("loading user {id}")));
    tokio::time::sleep(Duration::from_millis(5)).await;

    // The child task forks the request's hub: it sees the user, the tag and
    // the breadcrumb, and what it sets stays in the task.
    let email = vigil_core::spawn(async move {
        vigil_core::configure_scope(|scope| scope.set_tag("task", "welcome-email"));
        tokio::task::yield_now().await;
        vigil_core::capture_message("welcome email bounced", Level::Warning);
    });
    vigil_core::capture_message("user profile viewed", Level::Info);
    let _ = email.await;
    format!("user {id}\n")
}

/// A 5xx response, captured by `capture_server_errors`.
async fn fail() -> (StatusCode, &'static str) {
    vigil_core::configure_scope(|scope| scope.set_tag("step", "payment"));
    (StatusCode::BAD_GATEWAY, "payment provider down\n")
}

/// A panic, captured by `capture_panics` and then propagated: hyper closes
/// the connection without a response.
async fn explode() -> &'static str {
    panic!("the handler exploded");
}

fn app() -> Router {
    Router::new()
        .route("/users/{id}", get(show_user))
        .route("/fail", get(fail))
        .route("/panic", get(explode))
        // `Router::layer`: runs after routing, so transactions are named
        // after the route (`GET /users/{id}`) with the `axum` feature.
        .layer(
            VigilLayer::new()
                .capture_server_errors(true)
                .capture_panics(true),
        )
}

/// Sends one request with `Connection: close`; returns the raw response
/// (empty when the server closed the connection without one).
async fn send(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = String::new();
    let read = tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    );
    let _ = read.await.expect("the server answers in time");
    response
}

/// Sends requests to the running server and checks the events.
async fn self_test(addr: SocketAddr, transport: &PrintTransport) -> Result<(), String> {
    let responses = tokio::join!(
        send(addr, "/users/1?plan=pro"),
        send(addr, "/users/2"),
        send(addr, "/fail"),
    );
    for response in [&responses.0, &responses.1] {
        if !response.starts_with("HTTP/1.1 200") {
            return Err(format!("unexpected response: {response}"));
        }
    }
    if !responses.2.starts_with("HTTP/1.1 502") {
        return Err(format!("unexpected response: {}", responses.2));
    }
    eprintln!("sending /panic: the panic report printed next is expected");
    let panicked = send(addr, "/panic").await;
    if !panicked.is_empty() {
        return Err(format!("expected a closed connection, got: {panicked}"));
    }

    let events = std::mem::take(
        &mut *transport
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    // 2 × (profile viewed + email bounced) + 1 × 502 + 1 × panic.
    if events.len() != 6 {
        return Err(format!("expected 6 events, got {}", events.len()));
    }
    for event in &events {
        let user = event.user.as_ref().and_then(|u| u.id.as_deref());
        let url = event
            .request
            .as_ref()
            .and_then(|r| r.url.as_deref())
            .unwrap_or("");
        let ok = match (event.message.as_deref(), user) {
            (Some("user profile viewed"), Some(id)) => {
                url.ends_with(&format!("/users/{id}"))
                    && event.tags.get("plan").map(|v| v.as_str())
                        == Some(if id == "1" { "pro" } else { "free" })
                    && !event.tags.contains_key("task")
            }
            (Some("welcome email bounced"), Some(id)) => {
                url.ends_with(&format!("/users/{id}"))
                    && event.tags.get("task").map(|v| v.as_str()) == Some("welcome-email")
                    && event.breadcrumbs.len() == 1
            }
            (Some("502 Bad Gateway"), None) => {
                url.ends_with("/fail")
                    && event.tags.get("step").map(|v| v.as_str()) == Some("payment")
            }
            (None, None) => event.level == Level::Fatal && url.ends_with("/panic"),
            _ => false,
        };
        if !ok || event.tags.get("service").map(|v| v.as_str()) != Some("example") {
            return Err(format!("event with foreign or missing data: {event:#?}"));
        }
    }
    Ok(())
}

fn main() {
    let self_testing = std::env::args().any(|arg| arg == "--self-test");

    // A client on the main hub, which the hub of every thread follows: what
    // `vigil::init` does, with a printing transport.
    let transport = Arc::new(PrintTransport::default());
    let for_factory = transport.clone();
    let dsn = std::env::var("SENTRY_DSN").unwrap_or_else(|_| vigil_core::test::TEST_DSN.to_owned());
    let options = ClientOptions {
        dsn: Some(dsn.parse().expect("SENTRY_DSN is a valid DSN")),
        release: Some("vigil-tower-example@0.1.0".into()),
        transport: Some(Arc::new(move |_: &TransportContext<'_>| {
            for_factory.clone() as Arc<dyn Transport>
        })),
        ..ClientOptions::default()
    };
    Hub::main().bind_client(Some(Arc::new(Client::new(options))));
    // Process-wide data reaches every event, from every thread and request.
    vigil_core::configure_global_scope(|scope| scope.set_tag("service", "example"));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let result = runtime.block_on(async {
        let bind = if self_testing {
            "127.0.0.1:0"
        } else {
            "127.0.0.1:3000"
        };
        let listener = TcpListener::bind(bind).await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let server = axum::serve(listener, app());
        if !self_testing {
            eprintln!("listening on http://{addr}");
            return server.await.map_err(|e| e.to_string());
        }
        let server = tokio::spawn(async move { server.await });
        let result = self_test(addr, &transport).await;
        server.abort();
        result
    });
    match result {
        Ok(()) if self_testing => eprintln!("self-test passed"),
        Ok(()) => {}
        Err(error) => {
            eprintln!("self-test failed: {error}");
            std::process::exit(1);
        }
    }
}
