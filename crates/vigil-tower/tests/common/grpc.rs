//! A gRPC server and client for the gRPC tests, with real tonic: tonic's
//! prebuilt health service (`grpc.health.v1.Health`) and `Faults`, a
//! hand-written service (no protoc, no code generation) whose messages
//! are plain UTF-8 text, encoded by [`Utf8Codec`]. Included with `#[path]`
//! by the tests that need it.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Buf, BufMut};
use http::uri::PathAndQuery;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::{Channel, Endpoint, Server};
use tonic::{Code, Status};
use tower::{Service, service_fn};
use vigil_core::protocol::{Breadcrumb, Level, User};
use vigil_tower::{VigilGrpcLayer, VigilLayer};

/// The name of the hand-written service.
pub(crate) const FAULTS: &str = "vigil.test.Faults";
/// `Fail`: the request is `"<code> <message>"`; answers the message with
/// code 0, else fails with that code and message.
pub(crate) const FAIL: &str = "/vigil.test.Faults/Fail";
/// `Stream` (server streaming): the request is `"<count> <interval ms>
/// <code> <message>"`; sends `count` messages `item <i>`, one per
/// interval, then ends with that code and message. The handler tags the
/// call `stream=<count>`, and the stream captures `streaming item 0`
/// while it produces the first message.
pub(crate) const STREAM: &str = "/vigil.test.Faults/Stream";
/// `Tagged`: the request is an id; the handler tags the call `call=<id>`,
/// sets the user `<id>` and a breadcrumb `<id>`, awaits a little, captures
/// `call <id>` and answers the id.
pub(crate) const TAGGED: &str = "/vigil.test.Faults/Tagged";

/// A codec whose messages are UTF-8 text, as is.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Utf8Codec;

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

/// The hand-written service: routes [`FAIL`], [`STREAM`] and [`TAGGED`],
/// and answers any other method `UNIMPLEMENTED`, as generated services do.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Faults;

impl tonic::server::NamedService for Faults {
    const NAME: &'static str = FAULTS;
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type ItemStream = Pin<Box<dyn Stream<Item = Result<String, Status>> + Send>>;

impl Service<http::Request<tonic::body::Body>> for Faults {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(Utf8Codec);
            let response = match req.uri().path() {
                FAIL => grpc.unary(service_fn(fail), req).await,
                STREAM => grpc.server_streaming(service_fn(stream), req).await,
                TAGGED => grpc.unary(service_fn(tagged), req).await,
                _ => Status::unimplemented("no such method").into_http(),
            };
            Ok(response)
        })
    }
}

/// Splits `"<code> <rest>"`.
fn code_and_rest(text: &str) -> Result<(i32, &str), Status> {
    let (code, rest) = text.split_once(' ').unwrap_or((text, ""));
    let code = code
        .parse()
        .map_err(|_| Status::invalid_argument(format!("not a code: {code}")))?;
    Ok((code, rest))
}

async fn fail(req: tonic::Request<String>) -> Result<tonic::Response<String>, Status> {
    let (code, message) = code_and_rest(req.get_ref())?;
    match Code::from(code) {
        Code::Ok => Ok(tonic::Response::new(message.to_owned())),
        code => Err(Status::new(code, message)),
    }
}

async fn stream(req: tonic::Request<String>) -> Result<tonic::Response<ItemStream>, Status> {
    let text = req.into_inner();
    let mut parts = text.splitn(4, ' ');
    let mut number = || -> Result<u64, Status> {
        parts
            .next()
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| Status::invalid_argument("expected: count interval code message"))
    };
    let (count, interval) = (number()?, number()?);
    let code = i32::try_from(number()?).map_err(|_| Status::invalid_argument("code"))?;
    let message = parts.next().unwrap_or("").to_owned();
    vigil_core::configure_scope(|scope| scope.set_tag("stream", count.to_string()));
    let items = tokio_stream::iter(0..count).then(move |i| async move {
        if i > 0 {
            tokio::time::sleep(Duration::from_millis(interval)).await;
        }
        if i == 0 {
            // Runs while the response body is polled.
            vigil_core::capture_message("streaming item 0", Level::Info);
        }
        Ok(format!("item {i}"))
    });
    let end = tokio_stream::iter((code != 0).then(|| Err(Status::new(Code::from(code), message))));
    let stream: ItemStream = Box::pin(items.chain(end));
    Ok(tonic::Response::new(stream))
}

async fn tagged(req: tonic::Request<String>) -> Result<tonic::Response<String>, Status> {
    let id = req.into_inner();
    vigil_core::configure_scope(|scope| {
        scope.set_tag("call", &id);
        scope.set_user(Some(User {
            id: Some(id.clone()),
            ..User::default()
        }));
    });
    vigil_core::add_breadcrumb(Breadcrumb::message(id.clone()));
    let pause = id.bytes().map(u64::from).sum::<u64>() % 3;
    tokio::time::sleep(Duration::from_millis(pause)).await;
    tokio::task::yield_now().await;
    vigil_core::capture_message(&format!("call {id}"), Level::Info);
    tokio::task::yield_now().await;
    Ok(tonic::Response::new(id))
}

/// A loopback listener and the stream of its connections.
async fn listen() -> (SocketAddr, TcpListenerStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
    let addr = listener.local_addr().expect("an address");
    (addr, TcpListenerStream::new(listener))
}

/// Serves the health service (every service `SERVING`) and [`Faults`]
/// behind `layer` on a loopback port, in a task of the current runtime;
/// its address.
pub(crate) async fn serve(layer: VigilGrpcLayer) -> SocketAddr {
    let (addr, incoming) = listen().await;
    let (_reporter, health) = tonic_health::server::health_reporter();
    let router = Server::builder()
        .layer(layer)
        .add_service(health)
        .add_service(Faults);
    tokio::spawn(router.serve_with_incoming(incoming));
    addr
}

/// [`serve`] behind a plain [`VigilLayer`], which does not read trailers.
pub(crate) async fn serve_plain(layer: VigilLayer) -> SocketAddr {
    let (addr, incoming) = listen().await;
    let (_reporter, health) = tonic_health::server::health_reporter();
    let router = Server::builder()
        .layer(layer)
        .add_service(health)
        .add_service(Faults);
    tokio::spawn(router.serve_with_incoming(incoming));
    addr
}

/// A channel (one HTTP/2 connection) to `addr`.
pub(crate) async fn connect(addr: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{addr}"))
        .expect("a URI")
        .connect()
        .await
        .expect("connects")
}

/// A request with `message` and the ASCII `metadata`.
pub(crate) fn request<T>(message: T, metadata: &[(&str, &str)]) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    for (name, value) in metadata {
        let key = MetadataKey::from_bytes(name.as_bytes()).expect("a metadata key");
        let value: MetadataValue<_> = value.parse().expect("a metadata value");
        request.metadata_mut().append(key, value);
    }
    request
}

/// Calls the unary method `path` of [`Faults`].
pub(crate) async fn unary(
    channel: Channel,
    path: &'static str,
    request: tonic::Request<String>,
) -> Result<String, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unknown(e.to_string()))?;
    grpc.unary(request, PathAndQuery::from_static(path), Utf8Codec)
        .await
        .map(tonic::Response::into_inner)
}

/// Calls [`STREAM`].
pub(crate) async fn server_streaming(
    channel: Channel,
    request: tonic::Request<String>,
) -> Result<tonic::Streaming<String>, Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready()
        .await
        .map_err(|e| Status::unknown(e.to_string()))?;
    grpc.server_streaming(request, PathAndQuery::from_static(STREAM), Utf8Codec)
        .await
        .map(tonic::Response::into_inner)
}

/// Calls `grpc.health.v1.Health/Check` for `service`.
pub(crate) async fn health_check(
    channel: Channel,
    request: tonic::Request<tonic_health::pb::HealthCheckRequest>,
) -> Result<i32, Status> {
    let mut client = tonic_health::pb::health_client::HealthClient::new(channel);
    client.check(request).await.map(|r| r.into_inner().status)
}

/// A health check request for `service`.
pub(crate) fn health_request(service: &str) -> tonic_health::pb::HealthCheckRequest {
    tonic_health::pb::HealthCheckRequest {
        service: service.to_owned(),
    }
}
