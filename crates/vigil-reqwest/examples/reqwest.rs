//! An outgoing request through `VigilMiddleware` inside a transaction, to a
//! tiny HTTP server this example runs on loopback; prints the header the
//! server received and the transaction Vigil would send.
//!
//! Needs no DSN: the envelopes are captured by the test transport of
//! `vigil_core::test`. Run with
//! `cargo run -p vigil-reqwest --example reqwest`.

use reqwest_middleware::ClientBuilder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use vigil_core::{ClientOptions, Hub, HubFutureExt, TransactionContext, TransactionOrSpan};
use vigil_reqwest::VigilMiddleware;

/// Answers one request with 200 and returns its `sentry-trace` header.
async fn serve_one(listener: TcpListener) -> Option<String> {
    let (mut stream, _) = listener.accept().await.ok()?;
    let mut buffer = vec![0; 4096];
    let read = stream.read(&mut buffer).await.ok()?;
    let request = String::from_utf8_lossy(&buffer[..read]).into_owned();
    stream
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        .await
        .ok()?;
    request
        .lines()
        .find_map(|line| line.strip_prefix("sentry-trace: ").map(str::to_owned))
}

fn main() {
    let envelopes = vigil_core::test::with_captured_envelopes_options(
        || {
            let hub = Hub::current();
            let transaction = hub.start_transaction(TransactionContext::new("checkout", "task"));
            hub.configure_scope(|scope| {
                scope.set_span(Some(TransactionOrSpan::from(transaction.clone())));
            });
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(
                async {
                    let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
                    let url = format!(
                        "http://{}/stock/42",
                        listener.local_addr().expect("an address")
                    );
                    let server = tokio::spawn(serve_one(listener));
                    let client = ClientBuilder::new(reqwest::Client::new())
                        .with(VigilMiddleware::new())
                        .build();
                    let response = client
                        .get(&url)
                        .send()
                        .await
                        .expect("the request is answered");
                    println!("status: {}", response.status());
                    let header = server.await.expect("the server ran");
                    println!(
                        "the server received sentry-trace: {}",
                        header.unwrap_or_default()
                    );
                }
                .bind_hub(hub.clone()),
            );
            transaction.finish();
        },
        ClientOptions::new().traces_sample_rate(1.0),
    );
    for envelope in &envelopes {
        if let Some(transaction) = envelope.transaction() {
            println!(
                "{}",
                serde_json::to_string_pretty(transaction).expect("serializes")
            );
        }
    }
}
