//! An actix-web 4 server with a hub per request.
//!
//! ```text
//! cargo run -p vigil-actix --example actix                # serves on 127.0.0.1:3000
//! curl 'http://127.0.0.1:3000/users/42?plan=pro'
//! curl -X POST -H 'content-type: application/json' -d '{"sku":"A-1"}' http://127.0.0.1:3000/checkout
//! cargo run -p vigil-actix --example actix -- --self-test # serves requests to itself on loopback, checks, exits
//! ```
//!
//! Events are printed to stderr instead of being sent: this example uses
//! `vigil-core` alone, which has no HTTP transport. In an application,
//! `vigil::init` does the setup of `main` below with the real transport.

use std::error::Error as StdError;
use std::fmt;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, ResponseError, web};
use vigil_actix::{MaxRequestBodySize, VigilMiddleware};
use vigil_core::protocol::{Breadcrumb, Envelope, EnvelopeItem, Event, Level, User};
use vigil_core::{Client, ClientOptions, Hub, Transport, TransportContext};

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
                let exception = event.exception.values.last().and_then(|e| e.value.clone());
                eprintln!(
                    "[event] {} {:?} transaction={:?} tags={:?} user={:?} url={:?} body={:?}",
                    event.level,
                    event.message.as_ref().or(exception.as_ref()),
                    event.transaction,
                    event.tags,
                    event.user.as_ref().and_then(|u| u.id.clone()),
                    event.request.as_ref().and_then(|r| r.url.clone()),
                    event.request.as_ref().and_then(|r| r.data.clone()),
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
async fn show_user(id: web::Path<u64>, query: web::Query<Vec<(String, String)>>) -> String {
    let id = id.into_inner();
    let plan = query
        .iter()
        .find(|(name, _)| name == "plan")
        .map_or("free", |(_, value)| value.as_str())
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
    actix_web::rt::time::sleep(Duration::from_millis(5)).await;

    // The child task forks the request's hub: it sees the user, the tag
    // and the breadcrumb, and what it sets stays in the task.
    let email = vigil_core::spawn(async move {
        vigil_core::configure_scope(|scope| scope.set_tag("task", "welcome-email"));
        actix_web::rt::task::yield_now().await;
        vigil_core::capture_message("welcome email bounced", Level::Warning);
    });
    vigil_core::capture_message("user profile viewed", Level::Info);
    let _ = email.await;
    format!("user {id}\n")
}

/// The application's error type, with a cause.
#[derive(Debug)]
struct PaymentError(std::io::Error);

impl fmt::Display for PaymentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("payment failed")
    }
}

impl StdError for PaymentError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

impl ResponseError for PaymentError {
    fn status_code(&self) -> StatusCode {
        StatusCode::BAD_GATEWAY
    }
}

/// Reads a JSON body, then fails with a 502: captured by the middleware
/// with the error's chain and the body.
async fn checkout(body: web::Json<serde_json::Value>) -> Result<HttpResponse, PaymentError> {
    vigil_core::configure_scope(|scope| {
        scope.set_tag("sku", body["sku"].as_str().unwrap_or("?"));
    });
    Err(PaymentError(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "payment provider timed out",
    )))
}

/// A panic, captured by `capture_panics` and then propagated: actix-web
/// closes the connection without a response.
async fn explode() -> HttpResponse {
    panic!("the handler exploded");
}

/// Sends one request with `Connection: close`; returns the raw response
/// (empty when the server closed the connection without one).
fn send(addr: SocketAddr, request_line: &str, extra: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a timeout");
    let request = format!("{request_line}\r\nHost: {addr}\r\nConnection: close\r\n{extra}\r\n");
    stream.write_all(request.as_bytes()).expect("writes");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

/// Sends requests to the running server and checks the events.
fn self_test(addr: SocketAddr, transport: &PrintTransport) -> Result<(), String> {
    for (path, expected) in [("/users/1?plan=pro", 200), ("/users/2", 200)] {
        let response = send(addr, &format!("GET {path} HTTP/1.1"), "");
        if !response.starts_with(&format!("HTTP/1.1 {expected}")) {
            return Err(format!("unexpected response to {path}: {response}"));
        }
    }
    let body = r#"{"sku":"A-1","password":"hunter2"}"#;
    let response = send(
        addr,
        "POST /checkout HTTP/1.1",
        &format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    if !response.starts_with("HTTP/1.1 502") {
        return Err(format!("unexpected response to /checkout: {response}"));
    }
    eprintln!("sending /panic: the panic report printed next is expected");
    let panicked = send(addr, "GET /panic HTTP/1.1", "");
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
        let request = event.request.clone().unwrap_or_default();
        let url = request.url.as_deref().unwrap_or("");
        let exceptions: Vec<&str> = event
            .exception
            .values
            .iter()
            .filter_map(|e| e.value.as_deref())
            .collect();
        let ok = match (event.message.as_deref(), user) {
            (Some("user profile viewed"), Some(id)) => {
                url.ends_with(&format!("/users/{id}"))
                    && event.transaction.as_deref() == Some("GET /users/{id}")
                    && event.tags.get("plan").map(|v| v.as_str())
                        == Some(if id == "1" { "pro" } else { "free" })
                    && !event.tags.contains_key("task")
            }
            (Some("welcome email bounced"), Some(id)) => {
                url.ends_with(&format!("/users/{id}"))
                    && event.tags.get("task").map(|v| v.as_str()) == Some("welcome-email")
                    && event.breadcrumbs.len() == 1
            }
            (None, None) if event.level == Level::Fatal => {
                url.ends_with("/panic") && exceptions == ["the handler exploded"]
            }
            (None, None) => {
                url.ends_with("/checkout")
                    && exceptions == ["payment provider timed out", "payment failed"]
                    && event.tags.get("sku").map(|v| v.as_str()) == Some("A-1")
                    && request.data
                        == Some(serde_json::json!({"sku": "A-1", "password": "[Filtered]"}))
            }
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

    // A client on the main hub, which the hubs of the worker threads
    // follow: what `vigil::init` does, with a printing transport.
    let transport = Arc::new(PrintTransport::default());
    let for_factory = Arc::clone(&transport);
    let dsn = std::env::var("SENTRY_DSN").unwrap_or_else(|_| vigil_core::test::TEST_DSN.to_owned());
    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("SENTRY_DSN is a valid DSN")
        .release("vigil-actix-example@0.1.0")
        .transport(move |_: &TransportContext<'_>| Arc::clone(&for_factory) as Arc<dyn Transport>);
    Hub::main().bind_client(Some(Arc::new(Client::new(options))));
    // Process-wide data reaches every event, from every worker and request.
    vigil_core::configure_global_scope(|scope| scope.set_tag("service", "example"));

    let bind = if self_testing {
        "127.0.0.1:0"
    } else {
        "127.0.0.1:3000"
    };
    let server = HttpServer::new(|| {
        App::new()
            // The last `wrap`: it runs first, so everything after it runs
            // under the request's hub.
            .wrap(
                VigilMiddleware::new()
                    .capture_panics(true)
                    .error_type::<PaymentError>()
                    .max_request_body_size(MaxRequestBodySize::Small),
            )
            .route("/users/{id}", web::get().to(show_user))
            .route("/checkout", web::post().to(checkout))
            .route("/panic", web::get().to(explode))
    })
    .workers(2)
    .bind(bind)
    .expect("binds");
    let addr = server.addrs()[0];
    let system = actix_web::rt::System::new();
    if !self_testing {
        eprintln!("listening on http://{addr}");
        if let Err(error) = system.block_on(server.run()) {
            eprintln!("server failed: {error}");
            std::process::exit(1);
        }
        return;
    }
    let result = system.block_on(async {
        let server = server.run();
        let handle = server.handle();
        let running = actix_web::rt::spawn(server);
        // The client blocks: it runs on a thread of its own.
        let transport = Arc::clone(&transport);
        let result = actix_web::rt::task::spawn_blocking(move || self_test(addr, &transport))
            .await
            .map_err(|e| format!("the self-test thread failed: {e}"))
            .and_then(|result| result);
        handle.stop(true).await;
        let _ = running.await;
        result
    });
    match result {
        Ok(()) => eprintln!("self-test passed"),
        Err(error) => {
            eprintln!("self-test failed: {error}");
            std::process::exit(1);
        }
    }
}
