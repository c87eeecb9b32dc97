//! One trace across two services: a `checkout` service calls an
//! `inventory` service over HTTP and passes its trace on with the
//! propagation headers; both are axum apps behind `VigilLayer` with
//! tracing on, so each request is a transaction, and the inventory's
//! transaction and error land in the checkout's trace, under the span that
//! timed the call.
//!
//! ```text
//! cargo run -p vigil-tower --features axum --example two_services               # prints the trace
//! cargo run -p vigil-tower --features axum --example two_services -- --self-test # also checks it
//! ```
//!
//! Both services run in this process, on 127.0.0.1, and what they would
//! send is printed instead (this example uses `vigil-core` alone, which
//! has no HTTP transport; `vigil::init` sets up the real one).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use vigil_core::protocol::{Context, Envelope, EnvelopeItem, Level, SpanId, TraceContext};
use vigil_core::{Client, ClientOptions, Hub, Transport, TransportContext};
use vigil_tower::VigilLayer;

/// What was sent, one entry per item: kind, name or message, trace
/// context, and for a transaction the ids of its `http.client` spans.
type Sent = Vec<(&'static str, String, TraceContext, Vec<SpanId>)>;

/// Prints a line per event and transaction, and keeps them.
#[derive(Default)]
struct PrintTransport {
    sent: Mutex<Sent>,
}

impl Transport for PrintTransport {
    fn send_envelope(&self, envelope: Envelope) {
        for item in envelope.into_items() {
            let (kind, name, contexts, calls) = match item {
                EnvelopeItem::Event(event) => (
                    "error",
                    event.message.unwrap_or_default(),
                    event.contexts,
                    Vec::new(),
                ),
                EnvelopeItem::Transaction(tx) => {
                    let calls = tx
                        .spans
                        .iter()
                        .filter(|span| span.op.as_deref() == Some("http.client"))
                        .map(|span| span.span_id)
                        .collect();
                    (
                        "transaction",
                        tx.name.unwrap_or_default(),
                        tx.contexts,
                        calls,
                    )
                }
                _ => continue,
            };
            let Some(Context::Trace(trace)) = contexts.get("trace") else {
                continue;
            };
            eprintln!(
                "[{kind}] {name:?} trace={} span={} parent={}",
                trace.trace_id,
                trace.span_id,
                trace
                    .parent_span_id
                    .map_or_else(|| "-".to_owned(), |p| p.to_string()),
            );
            self.sent
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push((kind, name, (**trace).clone(), calls));
        }
    }
}

/// The inventory service: reports a low stock and answers a count.
async fn inventory(Path(item): Path<String>) -> String {
    vigil_core::capture_message(&format!("{item}: stock low"), Level::Warning);
    "3".to_owned()
}

/// The checkout service: asks the inventory, in a span that times the
/// call, with the trace's headers on the request.
async fn checkout(Path(item): Path<String>, State(inventory): State<SocketAddr>) -> String {
    let request = vigil_core::configure_scope(|scope| scope.get_span());
    let call =
        request.map(|parent| parent.start_child("http.client", &format!("GET /inventory/{item}")));
    let headers: Vec<(&str, String)> = match &call {
        Some(span) => span.iter_headers().collect(),
        None => {
            vigil_core::configure_scope(|scope| scope.iter_trace_propagation_headers().collect())
        }
    };
    let response = get_text(inventory, &format!("/inventory/{item}"), &headers).await;
    if let Some(span) = call {
        span.finish();
    }
    format!("in stock: {}", response.rsplit("\r\n").next().unwrap_or(""))
}

/// A plain HTTP/1.1 GET; returns the whole response.
async fn get_text(addr: SocketAddr, path: &str, headers: &[(&str, String)]) -> String {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("reads");
    response
}

async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serves") });
    addr
}

/// What the self-test expects: two transactions in one trace, the
/// inventory's under the checkout's `http.client` span, and the warning
/// inside the inventory's transaction.
fn check(sent: &Sent) -> Result<(), String> {
    let find = |kind: &str, name: &str| {
        sent.iter()
            .find(|(k, n, _, _)| *k == kind && n.starts_with(name))
            .map(|(_, _, trace, calls)| (trace.clone(), calls.clone()))
            .ok_or_else(|| format!("no {kind} {name:?} in {sent:?}"))
    };
    let (checkout, calls) = find("transaction", "GET /checkout")?;
    let (inventory, _) = find("transaction", "GET /inventory")?;
    let (warning, _) = find("error", "widget: stock low")?;
    if inventory.trace_id != checkout.trace_id || warning.trace_id != checkout.trace_id {
        return Err("the services are not in one trace".into());
    }
    if !inventory
        .parent_span_id
        .is_some_and(|parent| calls.contains(&parent))
    {
        return Err("the inventory's parent is not the checkout's client span".into());
    }
    if warning.span_id != inventory.span_id {
        return Err("the warning is not inside the inventory's transaction".into());
    }
    Ok(())
}

fn main() {
    let self_testing = std::env::args().any(|arg| arg == "--self-test");
    let transport = Arc::new(PrintTransport::default());
    let for_factory = transport.clone();
    let options = ClientOptions {
        dsn: Some(vigil_core::test::TEST_DSN.parse().expect("a DSN")),
        release: Some("two-services-example@0.1.0".into()),
        traces_sample_rate: 1.0,
        transport: Some(Arc::new(move |_: &TransportContext<'_>| {
            for_factory.clone() as Arc<dyn Transport>
        })),
        ..ClientOptions::default()
    };
    let client = Arc::new(Client::new(options));
    Hub::main().bind_client(Some(client.clone()));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let inventory_addr = serve(
            Router::new()
                .route("/inventory/{item}", get(inventory))
                .layer(VigilLayer::new()),
        )
        .await;
        let checkout_addr = serve(
            Router::new()
                .route("/checkout/{item}", get(checkout))
                .with_state(inventory_addr)
                .layer(VigilLayer::new()),
        )
        .await;
        let response = get_text(checkout_addr, "/checkout/widget", &[]).await;
        eprintln!(
            "checkout answered: {}",
            response.lines().next().unwrap_or("")
        );
    });
    client.flush(None);
    let sent = transport
        .sent
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if self_testing {
        match check(&sent) {
            Ok(()) => eprintln!("self-test passed: one trace across both services"),
            Err(problem) => {
                eprintln!("self-test FAILED: {problem}");
                std::process::exit(1);
            }
        }
    }
}
