//! End to end against Bugsink, a real self-hosted Sentry-compatible server
//! (`../shared/interop/bugsink.sh`), over real HTTP on loopback with the
//! HTTP transport; the stored payload is then checked by Relay's
//! normalizer (`relay-validate.py --strict`). Own binary: it binds a client
//! to the main hub.
//!
//! What it proves: a POST to an actix-web server with `VigilMiddleware`,
//! whose handler reads the JSON body and returns the application's error
//! type (a 503 with a two-level `source()` chain), arrives in Bugsink as
//! one error event with the whole chain, the mechanism, the route's
//! transaction name, the caller's trace, the request's data filtered
//! without `send_default_pii` (secrets, the client's address), the body
//! (its password filtered) and the response context; the response carries
//! the event's id in `X-Sentry-Event`.

mod common;

use std::error::Error as StdError;
use std::fmt;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{App, HttpServer, ResponseError, web};
use serde_json::{Value, json};
use vigil_actix::{MaxRequestBodySize, VigilMiddleware};
use vigil_core::{Client, ClientOptions, Hub};

use common::{Server, header, send};

/// Bugsink's port and data directory for this test (the facade's Bugsink
/// test uses 18717); `scripts/test.sh` stops it.
const PORT: &str = "18719";

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const SPAN: &str = "b7ad6b7169203331";

fn bugsink(dir: &Path, args: &[&str]) -> String {
    let data = std::env::temp_dir().join(format!("vigil-bugsink-{PORT}"));
    let data = data.to_str().expect("a UTF-8 temp dir");
    common::bash(
        &dir.join("bugsink.sh"),
        args,
        &[("BUGSINK_PORT", PORT), ("BUGSINK_DATA_DIR", data)],
    )
}

/// An error with a message and an optional cause.
#[derive(Debug)]
struct Layer(&'static str, Option<Box<Layer>>);

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl StdError for Layer {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.1.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// The application's error type.
#[derive(Debug)]
struct CheckoutError(Layer);

impl fmt::Display for CheckoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("checkout failed")
    }
}

impl StdError for CheckoutError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.0)
    }
}

impl ResponseError for CheckoutError {
    fn status_code(&self) -> StatusCode {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn checkout(order: web::Path<u64>, body: web::Json<Value>) -> Result<String, CheckoutError> {
    vigil_core::configure_scope(|scope| {
        scope.set_tag("order", *order);
        scope.set_tag("sku", body["sku"].as_str().unwrap_or("?"));
    });
    Err(CheckoutError(Layer(
        "database unavailable",
        Some(Box::new(Layer("connection refused", None))),
    )))
}

#[test]
fn a_server_error_arrives_in_bugsink_with_its_chain_request_and_body() {
    let Some(dir) = common::interop_dir("the Bugsink end-to-end test", "bugsink.sh") else {
        return;
    };
    bugsink(&dir, &["start"]);
    let project = format!("vigil-actix-e2e-{}", std::process::id());
    let dsn = bugsink(&dir, &["dsn", &project]).trim().to_owned();
    assert!(dsn.starts_with("http://"), "{dsn}");

    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("bugsink.sh prints a valid DSN")
        .transport(vigil_transport::http())
        .release("vigil-actix-e2e@1.0.0")
        .environment("e2e");
    let client = Arc::new(Client::new(options));
    Hub::main().bind_client(Some(Arc::clone(&client)));

    let server = Server::start(|| {
        let server = HttpServer::new(|| {
            App::new()
                .wrap(
                    VigilMiddleware::new()
                        .error_type::<CheckoutError>()
                        .emit_header(true)
                        .max_request_body_size(MaxRequestBodySize::Small),
                )
                .route("/orders/{id}/checkout", web::post().to(checkout))
        })
        .workers(2)
        .bind(("127.0.0.1", 0))
        .expect("binds");
        (server.addrs()[0], server.run())
    });
    let addr = server.addr;
    let body = r#"{"sku":"A-1","qty":2,"card":{"number":"4111","password":"hunter2"}}"#;
    let response = send(
        addr,
        &format!(
            "POST /orders/991/checkout?coupon=SPRING&token=t0k HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\
             Authorization: Bearer s3cret\r\nX-Forwarded-For: 203.0.113.9\r\n\
             sentry-trace: {TRACE}-{SPAN}-1\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    server.stop();
    assert!(
        response.starts_with("HTTP/1.1 503"),
        "unexpected response: {response}"
    );
    let event_id = header(&response, "x-sentry-event")
        .expect("the event id in X-Sentry-Event")
        .to_owned();
    assert_eq!(event_id.len(), 32);

    assert!(
        client.flush(Duration::from_secs(30)),
        "the HTTP transport delivers the event"
    );
    let stats = client.delivery_stats();
    assert_eq!(stats.events_sent, 1, "{stats:?}");
    assert!(stats.dropped.is_empty(), "{stats:?}");
    Hub::main().bind_client(None);

    let raw = bugsink(
        &dir,
        &[
            "events",
            &project,
            "--raw",
            "--wait-for",
            "1",
            "--timeout",
            "60",
        ],
    );
    let events: Vec<Value> = raw
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(events.len(), 1, "the event arrived exactly once");
    let stored = &events[0];
    assert_eq!(
        stored["event_id"].as_str().map(|id| id.replace('-', "")),
        Some(event_id)
    );
    assert_eq!(stored["exception_type"], "CheckoutError");
    let data = &stored["data"];

    let chain: Vec<(&str, &str)> = data["exception"]["values"]
        .as_array()
        .expect("exceptions")
        .iter()
        .map(|v| (v["type"].as_str().unwrap(), v["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        chain,
        [
            ("Layer", "connection refused"),
            ("Layer", "database unavailable"),
            ("CheckoutError", "checkout failed"),
        ]
    );
    assert_eq!(
        data["exception"]["values"][2]["mechanism"],
        json!({"type": "auto.http.actix", "handled": true})
    );
    assert_eq!(data["level"], "error");
    assert_eq!(data["release"], "vigil-actix-e2e@1.0.0");
    assert_eq!(data["environment"], "e2e");
    assert_eq!(data["transaction"], "POST /orders/{id}/checkout");
    assert_eq!(data["tags"]["order"], "991");
    assert_eq!(data["tags"]["sku"], "A-1");
    assert_eq!(data["contexts"]["response"]["status_code"], 503);
    assert_eq!(data["contexts"]["trace"]["trace_id"], TRACE);
    assert_eq!(data["contexts"]["trace"]["parent_span_id"], SPAN);

    let request = &data["request"];
    assert_eq!(request["method"], "POST");
    assert_eq!(
        request["url"],
        format!("http://{addr}/orders/991/checkout").as_str()
    );
    assert_eq!(request["query_string"], "coupon=SPRING&token=[Filtered]");
    assert_eq!(request["headers"]["authorization"], "[Filtered]");
    assert_eq!(request["headers"]["x-forwarded-for"], "[Filtered]");
    assert_eq!(request["headers"]["content-type"], "application/json");
    assert!(request.get("env").is_none(), "no address without PII");
    assert_eq!(
        request["data"],
        json!({"sku": "A-1", "qty": 2, "card": {"number": "4111", "password": "[Filtered]"}})
    );
    let crumbs = data["breadcrumbs"]["values"].as_array().expect("crumbs");
    assert_eq!(crumbs.len(), 1);
    assert_eq!(crumbs[0]["data"]["status_code"], 503);

    // Relay accepts the stored payload, unchanged.
    let file = std::env::temp_dir().join(format!("vigil-actix-e2e-{}.json", std::process::id()));
    std::fs::write(&file, serde_json::to_vec(data).expect("serializes")).expect("writes");
    let out = Command::new("python3")
        .arg(dir.join("relay-validate.py"))
        .arg("--strict")
        .arg(&file)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "Relay rejected the payload:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
