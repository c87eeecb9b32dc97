//! A tonic 0.14 gRPC server with a scope per call, and a client calling it.
//!
//! ```text
//! cargo run -p vigil-tower --example tonic                # serves on a loopback port, calls it, prints what was sent
//! cargo run -p vigil-tower --example tonic -- --self-test # the same, then checks it and exits non-zero if wrong
//! ```
//!
//! The server has tonic's prebuilt health service and `example.Orders`, a
//! small hand-written service (no protoc, no code generation: its
//! messages are UTF-8 text). Events and transactions are printed to
//! stderr instead of being sent: this example uses `vigil-core` alone,
//! which has no HTTP transport. In an application, `vigil::init` does the
//! setup of `main` below with the real transport.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut};
use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};
use tower::{Service, service_fn};
use vigil_core::protocol::{Envelope, EnvelopeItem, Event, Level, Transaction};
use vigil_core::{Client, ClientOptions, Hub, Transport, TransportContext};
use vigil_tower::VigilLayer;

/// A transport that prints a line per event and transaction to stderr and
/// keeps them (for `--self-test`).
#[derive(Default)]
struct PrintTransport {
    events: Mutex<Vec<Event>>,
    transactions: Mutex<Vec<Transaction>>,
}

impl Transport for PrintTransport {
    fn send_envelope(&self, envelope: Envelope) {
        for item in envelope.into_items() {
            match item {
                EnvelopeItem::Event(event) => {
                    eprintln!(
                        "[event] {} {:?} transaction={:?} tags={:?} grpc={:?}",
                        event.level,
                        event.message,
                        event.transaction,
                        event.tags,
                        event
                            .contexts
                            .get("grpc")
                            .and_then(|c| serde_json::to_string(c).ok()),
                    );
                    self.events
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(*event);
                }
                EnvelopeItem::Transaction(transaction) => {
                    let trace =
                        serde_json::to_value(&transaction.contexts["trace"]).unwrap_or_default();
                    eprintln!(
                        "[transaction] {:?} op={} status={} grpc-status={} trace={}",
                        transaction.name,
                        trace["op"],
                        trace["status"],
                        trace["data"]["rpc.grpc.status_code"],
                        trace["trace_id"],
                    );
                    self.transactions
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(*transaction);
                }
                _ => {}
            }
        }
    }
}

/// Messages are UTF-8 text, as is.
#[derive(Clone, Copy, Default)]
struct Utf8Codec;

impl Codec for Utf8Codec {
    type Encode = String;
    type Decode = String;
    type Encoder = Utf8Codec;
    type Decoder = Utf8Codec;

    fn encoder(&mut self) -> Utf8Codec {
        Utf8Codec
    }

    fn decoder(&mut self) -> Utf8Codec {
        Utf8Codec
    }
}

impl Encoder for Utf8Codec {
    type Item = String;
    type Error = Status;

    fn encode(&mut self, item: String, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(item.as_bytes());
        Ok(())
    }
}

impl Decoder for Utf8Codec {
    type Item = String;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<String>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| Status::invalid_argument("not UTF-8"))
    }
}

/// `example.Orders`: `Get` (unary) and `Watch` (server streaming).
#[derive(Clone, Copy)]
struct Orders;

impl tonic::server::NamedService for Orders {
    const NAME: &'static str = "example.Orders";
}

type Updates = Pin<Box<dyn Stream<Item = Result<String, Status>> + Send>>;

impl Service<http::Request<tonic::body::Body>> for Orders {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(Utf8Codec);
            Ok(match req.uri().path() {
                "/example.Orders/Get" => grpc.unary(service_fn(get_order), req).await,
                "/example.Orders/Watch" => {
                    grpc.server_streaming(service_fn(watch_order), req).await
                }
                _ => Status::unimplemented("no such method").into_http(),
            })
        })
    }
}

/// Reads an order: `0` is the broken one (`INTERNAL`, captured by the
/// layer); an id that is no number is the caller's error
/// (`INVALID_ARGUMENT`, not captured).
async fn get_order(req: Request<String>) -> Result<Response<String>, Status> {
    // Acts on this call's hub only.
    let tenant = req
        .metadata()
        .get("x-tenant")
        .and_then(|t| t.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    vigil_core::configure_scope(|scope| scope.set_tag("tenant", &tenant));
    let id: u64 = req
        .get_ref()
        .parse()
        .map_err(|_| Status::invalid_argument("the order id is a number"))?;
    if id == 0 {
        return Err(Status::internal("orders database is down"));
    }
    vigil_core::capture_message(&format!("order {id} viewed"), Level::Info);
    Ok(Response::new(format!("order {id}: shipped")))
}

/// Streams three updates of an order, 20 ms apart: the call's transaction
/// lasts until the last one.
async fn watch_order(req: Request<String>) -> Result<Response<Updates>, Status> {
    let id = req.into_inner();
    let updates = tokio_stream::iter(["packed", "shipped", "delivered"]).then(move |step| {
        let id = id.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(format!("order {id}: {step}"))
        }
    });
    Ok(Response::new(Box::pin(updates) as Updates))
}

/// Calls `Get` with `id` and the metadata.
async fn get(
    channel: Channel,
    id: &str,
    metadata: &[(&'static str, &str)],
) -> Result<String, Status> {
    let mut request = Request::new(id.to_owned());
    for (name, value) in metadata {
        request.metadata_mut().insert(
            *name,
            value.parse().map_err(|_| Status::internal("metadata"))?,
        );
    }
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = PathAndQuery::from_static("/example.Orders/Get");
    Ok(grpc.unary(request, path, Utf8Codec).await?.into_inner())
}

/// Calls `Watch` with `id`; the updates.
async fn watch(channel: Channel, id: &str) -> Result<Vec<String>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unavailable(e.to_string()))?;
    let path = PathAndQuery::from_static("/example.Orders/Watch");
    let mut stream = grpc
        .server_streaming(Request::new(id.to_owned()), path, Utf8Codec)
        .await?
        .into_inner();
    let mut updates = Vec::new();
    while let Some(update) = stream.message().await? {
        updates.push(update);
    }
    Ok(updates)
}

/// The calls the client makes; what they returned, as text.
async fn calls(addr: SocketAddr) -> Result<Vec<String>, String> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .map_err(|e| e.to_string())?
        .connect()
        .await
        .map_err(|e| e.to_string())?;
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let check = health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .map(|r| format!("health: {:?}", r.into_inner().status()));
    // The caller's trace, as an upstream service with Sentry would send it.
    let trace = "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1";
    let results = [
        check,
        get(
            channel.clone(),
            "42",
            &[
                ("x-tenant", "acme"),
                ("authorization", "Bearer s3cr3t"),
                ("sentry-trace", trace),
            ],
        )
        .await,
        get(channel.clone(), "0", &[("x-tenant", "acme")]).await,
        get(channel.clone(), "x", &[]).await,
        watch(channel, "42").await.map(|updates| updates.join(", ")),
    ];
    Ok(results
        .into_iter()
        .map(|result| match result {
            Ok(text) => text,
            Err(status) => format!("{:?}: {}", status.code(), status.message()),
        })
        .collect())
}

/// Checks what the calls returned and what was sent.
fn self_test(results: &[String], transport: &PrintTransport) -> Result<(), String> {
    let expected = [
        "health: Serving",
        "order 42: shipped",
        "Internal: orders database is down",
        "InvalidArgument: the order id is a number",
        "order 42: packed, order 42: shipped, order 42: delivered",
    ];
    if results != expected {
        return Err(format!("unexpected answers: {results:?}"));
    }
    let transactions = std::mem::take(
        &mut *transport
            .transactions
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    let mut seen: Vec<(String, String, String)> = transactions
        .iter()
        .map(|tx| {
            let trace = serde_json::to_value(&tx.contexts["trace"]).unwrap_or_default();
            (
                tx.name.clone().unwrap_or_default(),
                trace["status"].as_str().unwrap_or("").to_owned(),
                trace["op"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    seen.sort();
    let mut want: Vec<(String, String, String)> = [
        ("example.Orders/Get", "internal_error"),
        ("example.Orders/Get", "invalid_argument"),
        ("example.Orders/Get", "ok"),
        ("example.Orders/Watch", "ok"),
        ("grpc.health.v1.Health/Check", "ok"),
    ]
    .iter()
    .map(|(name, status)| {
        (
            (*name).to_owned(),
            (*status).to_owned(),
            "grpc.server".to_owned(),
        )
    })
    .collect();
    want.sort();
    if seen != want {
        return Err(format!("unexpected transactions: {seen:?}"));
    }
    // Every status was read, from the headers of a failure or the
    // trailers at the end of a success; the stream's transaction lasted
    // until its third update.
    for tx in &transactions {
        let trace = serde_json::to_value(&tx.contexts["trace"]).unwrap_or_default();
        if !trace["data"]["rpc.grpc.status_code"].is_u64() {
            return Err(format!("no gRPC status in {:?}", tx.name));
        }
        let duration = tx
            .timestamp
            .duration_since(tx.start_timestamp)
            .unwrap_or_default();
        if tx.name.as_deref() == Some("example.Orders/Watch")
            && duration < Duration::from_millis(55)
        {
            return Err(format!("the stream's transaction lasted only {duration:?}"));
        }
    }
    let continued = transactions.iter().any(|tx| {
        let trace = serde_json::to_value(&tx.contexts["trace"]).unwrap_or_default();
        trace["trace_id"] == "771a43a4192642f0b136d5159a501700"
            && trace["parent_span_id"] == "b0e6f15b45c36b12"
    });
    if !continued {
        return Err("the caller's trace was not continued".to_owned());
    }

    let events = std::mem::take(
        &mut *transport
            .events
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    if events.len() != 2 {
        return Err(format!("expected 2 events, got {}", events.len()));
    }
    for event in &events {
        let text = event.message.as_deref().unwrap_or_default();
        let request = event.request.as_ref();
        let header = |name: &str| {
            request
                .and_then(|r| r.headers.get(name))
                .map(String::as_str)
        };
        let ok = event.tags.get("tenant").map(|t| t.as_str()) == Some("acme")
            && event.transaction.as_deref() == Some("example.Orders/Get")
            && match text {
                "order 42 viewed" => header("authorization") == Some("[Filtered]"),
                "gRPC INTERNAL: orders database is down" => {
                    let grpc = event
                        .contexts
                        .get("grpc")
                        .and_then(|c| serde_json::to_value(c).ok())
                        .unwrap_or_default();
                    grpc["status_code"] == 13 && grpc["method"] == "example.Orders/Get"
                }
                _ => false,
            };
        if !ok {
            return Err(format!("unexpected event: {event:#?}"));
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
        release: Some("vigil-tower-tonic-example@0.1.0".into()),
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
    let results = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let (_reporter, health) = tonic_health::server::health_reporter();
        let server = Server::builder()
            // `.grpc()`: each call's transaction ends with its stream and
            // takes the status of its trailers.
            .layer(VigilLayer::new().capture_server_errors(true).grpc())
            .add_service(health)
            .add_service(Orders)
            .serve_with_incoming(TcpListenerStream::new(listener));
        let server = tokio::spawn(server);
        eprintln!("serving on {addr}; calling it");
        let results = calls(addr).await;
        server.abort();
        results
    });
    drop(runtime);
    let result = results.and_then(|results| {
        for line in &results {
            eprintln!("[client] {line}");
        }
        if self_testing {
            self_test(&results, &transport)
        } else {
            Ok(())
        }
    });
    Hub::main().bind_client(None);
    client.close(Some(Duration::from_secs(2)));
    match result {
        Ok(()) if self_testing => eprintln!("self-test passed"),
        Ok(()) => {}
        Err(error) => {
            eprintln!("failed: {error}");
            std::process::exit(1);
        }
    }
}
