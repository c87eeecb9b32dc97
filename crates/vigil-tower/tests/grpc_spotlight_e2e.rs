//! gRPC end to end against Spotlight (npm `@spotlightjs/spotlight`, run on
//! a loopback port of its own by `../shared/interop/spotlight.sh`), which
//! keeps every envelope it receives, transactions included. Vigil talks to
//! it over real HTTP with its own HTTP transport; the app is a real tonic
//! server with `VigilLayer::new().capture_server_errors(true).grpc()`,
//! called by a tonic client over HTTP/2. Own binary: it binds a client to
//! the main hub.
//!
//! What it proves: two calls, a health check that succeeds and a call
//! that fails with `INTERNAL`, arrive in the server as exactly two
//! transactions (`grpc.health.v1.Health/Check` with status `ok` and
//! `vigil.test.Faults/Fail` with `internal_error`, both source `route` and
//! op `grpc.server`), one error event for the failure (its method, code
//! and message in the `grpc` context, in the failing call's trace and
//! span) and one sessions item (two sessions `exited`).

mod common;
#[path = "common/grpc.rs"]
#[expect(
    dead_code,
    reason = "this test makes two calls; the shared helper serves more methods"
)]
mod grpc;
#[path = "common/spotlight.rs"]
#[expect(
    dead_code,
    reason = "the shared helper's HTTP/1 client is for HTTP apps"
)]
mod spotlight;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tonic::Code;
use vigil_core::{Client, ClientOptions, Hub};
use vigil_tower::VigilLayer;

use spotlight::{Item, Spotlight};

/// Spotlight's port for this test: not the script's default (8969), its
/// selftest's (18969) or another test's.
const PORT: &str = "18987";

/// How long the envelopes may take to show up in Spotlight.
const ARRIVAL: Duration = Duration::from_secs(20);

#[test]
fn a_grpc_call_and_a_failing_one_are_two_transactions_and_one_error() {
    let Some(dir) = common::interop_dir("the gRPC Spotlight end-to-end test") else {
        return;
    };
    let started = Instant::now();
    let spotlight = Spotlight::new(&dir, PORT);
    spotlight.start();
    let dsn = spotlight.run(&["dsn"]).trim().to_owned();

    // Spotlight keeps what earlier runs sent: this run's envelopes are the
    // ones with this release.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_nanos();
    let release = format!("vigil-grpc-spotlight-e2e@{}.{nanos}", std::process::id());
    let options = ClientOptions::new()
        .try_dsn(&dsn)
        .expect("spotlight.sh prints a valid DSN")
        .transport(vigil_transport::http())
        .release(release.clone())
        .traces_sample_rate(1.0);
    let client = Arc::new(Client::new(options));
    Hub::main().bind_client(Some(client.clone()));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (checked, failed) = runtime.block_on(async {
        let calls = async {
            let addr = grpc::serve(VigilLayer::new().capture_server_errors(true).grpc()).await;
            let channel = grpc::connect(addr).await;
            let request = grpc::request(grpc::health_request(""), &[("x-tenant", "acme")]);
            let checked = grpc::health_check(channel.clone(), request).await;
            let request = grpc::request("13 database is down".to_owned(), &[]);
            let failed = grpc::unary(channel, grpc::FAIL, request).await;
            (checked, failed)
        };
        tokio::time::timeout(Duration::from_secs(20), calls)
            .await
            .expect("the calls finish within 20 s")
    });
    drop(runtime);
    // SERVING.
    assert_eq!(checked.expect("the check succeeds"), 1);
    let failed = failed.expect_err("the call fails");
    assert_eq!(failed.code(), Code::Internal);
    assert_eq!(failed.message(), "database is down");

    assert!(
        client.flush(Duration::from_secs(20)),
        "the HTTP transport delivers every envelope within 20 s"
    );
    let stats = client.delivery_stats();
    // The error event, two transactions, and the calls' sessions counted
    // in an aggregate (sent by the flush).
    assert_eq!(stats.envelopes_sent, 4, "{stats:?}");
    assert_eq!(stats.events_sent, 1, "{stats:?}");
    assert!(stats.dropped.is_empty(), "{stats:?}");
    Hub::main().bind_client(None);
    let delivered = started.elapsed();

    // Delivered means Spotlight answered 200; poll its buffer until every
    // item shows up.
    let deadline = Instant::now() + ARRIVAL;
    let items = loop {
        let items = spotlight.items_of_release(&release);
        let count = |ty: &str| items.iter().filter(|i| i.header["type"] == ty).count();
        if count("transaction") >= 2 && count("event") >= 1 && count("sessions") >= 1 {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "Spotlight did not show 2 transactions, an event and a sessions item of release {release} within {ARRIVAL:?}; it has {} items of it:\n{}",
            items.len(),
            items
                .iter()
                .map(|i| format!("{} {}", i.header, i.payload))
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    let of_type = |ty: &str| -> Vec<&Item> {
        items
            .iter()
            .filter(|item| item.header["type"] == ty)
            .collect()
    };
    let (transactions, errors) = (of_type("transaction"), of_type("event"));
    assert_eq!(transactions.len(), 2, "exactly two transactions");
    assert_eq!(errors.len(), 1, "exactly one error event");
    let sessions = of_type("sessions");
    assert_eq!(sessions.len(), 1, "exactly one sessions item");
    assert_eq!(items.len(), 4, "nothing else");

    let named = |name: &str| -> &Item {
        transactions
            .iter()
            .find(|tx| tx.payload["transaction"] == name)
            .unwrap_or_else(|| panic!("no transaction {name}"))
    };
    let check = named("grpc.health.v1.Health/Check");
    let fail = named("vigil.test.Faults/Fail");
    for (tx, status, code) in [(check, "ok", 0), (fail, "internal_error", 13)] {
        assert_eq!(tx.payload["transaction_info"]["source"], "route");
        let trace = &tx.payload["contexts"]["trace"];
        assert_eq!(trace["op"], "grpc.server");
        assert_eq!(trace["origin"], "auto.grpc.tower");
        assert_eq!(trace["status"], status);
        assert_eq!(trace["data"]["rpc.grpc.status_code"], code);
        assert_eq!(trace["data"]["rpc.system"], "grpc");
        assert_eq!(tx.payload["request"]["method"], "POST");
        assert_eq!(
            tx.envelope["trace"]["transaction"],
            tx.payload["transaction"]
        );
    }
    assert_eq!(check.payload["request"]["headers"]["x-tenant"], "acme");

    let error = &errors[0].payload;
    assert_eq!(error["level"], "error");
    assert_eq!(error["transaction"], "vigil.test.Faults/Fail");
    let context = &error["contexts"]["grpc"];
    assert_eq!(context["method"], "vigil.test.Faults/Fail");
    assert_eq!(context["status_code"], 13);
    assert_eq!(context["status"], "INTERNAL");
    assert_eq!(context["message"], "database is down");
    let fail_trace = &fail.payload["contexts"]["trace"];
    assert_eq!(
        error["contexts"]["trace"]["trace_id"],
        fail_trace["trace_id"]
    );
    assert_eq!(error["contexts"]["trace"]["span_id"], fail_trace["span_id"]);
    assert_eq!(
        errors[0].envelope["trace"], fail.envelope["trace"],
        "one DSC"
    );

    // Request mode: each call is a session. The failure's event is a
    // message (like the layer's 5xx event), not an exception, so it does
    // not make its session `errored`: both exited.
    let aggregates = &sessions[0].payload;
    let buckets = aggregates["aggregates"].as_array().expect("buckets");
    let total = |outcome: &str| -> u64 {
        buckets
            .iter()
            .filter_map(|b| b.get(outcome).and_then(serde_json::Value::as_u64))
            .sum()
    };
    assert_eq!(total("exited"), 2, "{aggregates}");
    assert_eq!(total("errored"), 0, "{aggregates}");
    assert_eq!(total("crashed"), 0, "{aggregates}");

    eprintln!(
        "grpc spotlight e2e: transactions {} and {}, error {}; delivered after {delivered:?}, \
         seen in Spotlight after {:?}",
        check.payload["event_id"],
        fail.payload["event_id"],
        error["event_id"],
        started.elapsed()
    );
}
