//! Real sockets on 127.0.0.1: plain hyper with `TowerToHyperService`, and
//! axum with `ConnectInfo`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::{Layer, service_fn};
use vigil_core::ClientOptions;
use vigil_core::protocol::Level;
use vigil_tower::VigilLayer;

use crate::support::capture;

/// Sends one request with `Connection: close`; returns the raw response.
async fn send(addr: SocketAddr, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nX-Forwarded-For: 198.51.100.1\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("answers in time")
    .expect("reads");
    response
}

#[test]
fn plain_hyper() {
    let events = capture(ClientOptions::default(), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let addr = listener.local_addr().expect("an address");
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.expect("accepts");
            let service = VigilLayer::new().layer(service_fn(
                |_req: http::Request<hyper::body::Incoming>| async {
                    vigil_core::configure_scope(|s| s.set_tag("server", "hyper"));
                    tokio::task::yield_now().await;
                    vigil_core::capture_message("from hyper", Level::Info);
                    Ok::<_, Infallible>(http::Response::new(String::from("hello")))
                },
            ));
            hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service))
                .await
                .expect("serves");
        });
        let response = send(addr, "/hyper?x=1").await;
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("hello"), "{response}");
        server.await.expect("the server ends");
        vigil_core::capture_message("after", Level::Info);
    });
    assert_eq!(events.len(), 2);
    let event = &events[0];
    assert_eq!(event.tags["server"], "hyper");
    let request = event.request.as_ref().expect("request data");
    assert_eq!(
        request.url.as_deref().map(|u| u.ends_with("/hyper")),
        Some(true)
    );
    assert!(
        request
            .url
            .as_deref()
            .unwrap_or("")
            .starts_with("http://127.0.0.1:")
    );
    assert_eq!(request.query_string.as_deref(), Some("x=1"));
    assert_eq!(request.headers["x-forwarded-for"], "[Filtered]");
    assert_eq!(event.transaction.as_deref(), Some("GET /hyper"));
    assert!(events[1].tags.is_empty());
}

#[test]
fn axum_serve_with_connect_info() {
    let events = capture(
        ClientOptions {
            send_default_pii: true,
            ..ClientOptions::default()
        },
        async {
            let app = axum::Router::new()
                .route("/ip", axum::routing::get(crate::support::capturing_handler))
                .layer(VigilLayer::new());
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
            let addr = listener.local_addr().expect("an address");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(async move {
                axum::serve(
                    listener,
                    app.into_make_service_with_connect_info::<SocketAddr>(),
                )
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
            });
            let response = send(addr, "/ip").await;
            assert!(response.starts_with("HTTP/1.1 200"), "{response}");
            let _ = stop.send(());
            server.await.expect("joins").expect("serves");
        },
    );
    assert_eq!(events.len(), 1);
    let request = events[0].request.as_ref().expect("request data");
    assert_eq!(request.headers["x-forwarded-for"], "198.51.100.1");
    if cfg!(feature = "axum") {
        assert_eq!(request.env["REMOTE_ADDR"], "127.0.0.1");
    } else {
        assert!(request.env.is_empty());
    }
}
