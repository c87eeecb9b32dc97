//! Runs each piece of the suite with a tiny budget (one round of 1 ms
//! batches) and checks the reports: the suite's plumbing, not the numbers.

use std::process::Command;

use serde_json::Value;

fn bench(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_vigil-bench"))
        .args(args)
        .output()
        .expect("run vigil-bench");
    assert!(
        out.status.success(),
        "vigil-bench {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = out
        .stdout
        .split(|&b| b == b'\n')
        .rev()
        .find(|l| l.starts_with(b"{"))
        .expect("a JSON report");
    serde_json::from_slice(line).expect("valid JSON")
}

fn quick(op: &str) -> Value {
    bench(&["op", op, "--rounds", "1", "--batch-ms", "1"])
}

#[test]
fn both_sdks_send_the_same_event() {
    let r = quick("op4");
    for sdk in ["vigil", "sentry"] {
        let event = &r[format!("{sdk}_event")];
        assert_eq!(event["breadcrumbs"], 20, "{sdk}: {r}");
        assert_eq!(event["tags"], 5, "{sdk}: {r}");
        assert_eq!(event["user"], true, "{sdk}: {r}");
        assert!(r[format!("{sdk}_ns")].as_f64().unwrap() > 0.0);
        assert!(r[format!("{sdk}_bytes")].as_f64().unwrap() > 0.0);
    }
    let r = quick("op9");
    for sdk in ["vigil", "sentry"] {
        let event = &r[format!("{sdk}_event")];
        assert_eq!(event["breadcrumbs"], 25, "{sdk}: {r}");
        assert_eq!(event["tags"], 8, "{sdk}: {r}");
    }
    let r = quick("op9r");
    for sdk in ["vigil", "sentry"] {
        let event = &r[format!("{sdk}_event")];
        assert_eq!(event["breadcrumbs"], 5, "{sdk}: {r}");
        assert_eq!(event["tags"], 5, "{sdk}: {r}");
        assert_eq!(event["user"], false, "{sdk}: {r}");
    }
}

#[test]
fn every_single_thread_op_reports_both_sdks() {
    for op in [
        "op1", "op1r", "op2", "op2r", "op3", "op5", "op6", "op6r", "op7",
    ] {
        let r = quick(op);
        assert_eq!(r["op"], op);
        for key in [
            "vigil_ns",
            "sentry_ns",
            "ratio",
            "vigil_bytes",
            "sentry_bytes",
        ] {
            assert!(r[key].as_f64().is_some(), "{op}: no {key} in {r}");
        }
    }
    // No client (never bound, or unbound): nothing allocates.
    for op in ["op6", "op6r"] {
        let r = quick(op);
        assert_eq!(r["vigil_bytes"], 0.0, "{op}: {r}");
        assert_eq!(r["sentry_bytes"], 0.0, "{op}: {r}");
    }
}

#[test]
fn two_threads_and_scope_memory() {
    let r = quick("op8");
    for key in [
        "vigil_ns",
        "sentry_ns",
        "vigil_1t_ns",
        "vigil_scaling",
        "machine_scaling",
    ] {
        assert!(r[key].as_f64().is_some_and(|x| x > 0.0), "no {key} in {r}");
    }
    let r = bench(&["op", "scope-mem"]);
    assert!(r["vigil_bytes"].as_u64().is_some_and(|b| b > 0), "{r}");
    assert!(r["sentry_bytes"].as_u64().is_some_and(|b| b > 0), "{r}");
}

#[test]
fn callgrind_mode_runs_the_loop() {
    for sdk in ["vigil", "sentry"] {
        let r = bench(&["callgrind", "op4", sdk, "3"]);
        assert_eq!(r["sdk"], sdk);
        assert_eq!(r["n"], 3);
    }
}

#[test]
fn tracing_ops_do_the_same_work_on_both_sdks() {
    for op in ["tx1", "tx2", "tx3", "tx4", "tx5", "tx1u", "tx5u"] {
        let r = quick(op);
        assert_eq!(r["op"], op);
        for key in [
            "vigil_ns",
            "sentry_ns",
            "ratio",
            "vigil_bytes",
            "sentry_bytes",
        ] {
            assert!(r[key].as_f64().is_some(), "{op}: no {key} in {r}");
        }
        assert!(
            r["note"].as_str().is_some_and(|n| !n.is_empty()),
            "{op}: {r}"
        );
        let differs = r["work_differs"].as_array().expect("work_differs");
        let expected: &[&str] = if op == "tx3" { &["names"] } else { &[] };
        assert_eq!(differs, expected, "{op}: {r}");
        for sdk in ["vigil", "sentry"] {
            let work = &r[format!("{sdk}_work")];
            match op {
                "tx1" => {
                    assert_eq!(work["transactions"], 1, "{sdk}: {r}");
                    assert_eq!(work["transaction"]["spans"], 10, "{sdk}: {r}");
                    assert_eq!(work["transaction"]["tags"], 5, "{sdk}: {r}");
                    assert_eq!(work["transaction"]["user"], true, "{sdk}: {r}");
                }
                "tx2" => assert_eq!(work["transaction"]["spans"], 3, "{sdk}: {r}"),
                "tx3" => {
                    assert_eq!(work["names"][0], "sentry-trace", "{sdk}: {r}");
                    assert_eq!(work["sentry_trace_in_transaction"], true, "{sdk}: {r}");
                }
                "tx4" => {
                    assert_eq!(work["event"]["in_transaction"], true, "{sdk}: {r}");
                    assert_eq!(work["event"]["breadcrumbs"], 20, "{sdk}: {r}");
                }
                "tx5" => {
                    assert_eq!(work["transactions"], 10, "{sdk}: {r}");
                    assert_eq!(work["events"], 1, "{sdk}: {r}");
                    assert_eq!(work["event"]["in_transaction"], true, "{sdk}: {r}");
                    assert_eq!(work["event"]["request"], true, "{sdk}: {r}");
                    assert_eq!(work["event"]["tags"], 6, "{sdk}: {r}");
                }
                "tx1u" => assert_eq!(work["envelopes"], 0, "{sdk}: {r}"),
                "tx5u" => {
                    assert_eq!(work["transactions"], 0, "{sdk}: {r}");
                    assert_eq!(work["events"], 1, "{sdk}: {r}");
                }
                _ => unreachable!(),
            }
        }
    }
    // Vigil also sends `baggage`; sentry 0.49 does not.
    let r = quick("tx3");
    assert_eq!(r["vigil_work"]["names"][1], "baggage", "{r}");
    assert_eq!(r["sentry_work"]["names"].as_array().map(Vec::len), Some(1));
}

#[test]
fn callgrind_mode_runs_a_traced_request() {
    for sdk in ["vigil", "sentry"] {
        let r = bench(&["callgrind", "tx5", sdk, "3"]);
        assert_eq!(r["sdk"], sdk);
    }
}

#[test]
fn actix_ops_do_the_same_work_on_both_sdks() {
    for op in ["ax1", "ax2"] {
        let r = quick(op);
        assert_eq!(r["op"], op);
        for key in [
            "vigil_ns",
            "sentry_ns",
            "ratio",
            "vigil_floor_ns",
            "sentry_floor_ns",
            "vigil_bytes",
            "sentry_bytes",
        ] {
            assert!(r[key].as_f64().is_some(), "{op}: no {key} in {r}");
        }
        assert!(
            r["note"].as_str().is_some_and(|n| !n.is_empty()),
            "{op}: {r}"
        );
        // Vigil's error event also has the request's http breadcrumb; in
        // ax2 its transaction also has the handler's tag.
        let differs = r["work_differs"].as_array().expect("work_differs");
        let expected: &[&str] = if op == "ax1" {
            &["event.breadcrumbs"]
        } else {
            &["event.breadcrumbs", "transaction.tags"]
        };
        assert_eq!(differs, expected, "{op}: {r}");
        for sdk in ["vigil", "sentry"] {
            let work = &r[format!("{sdk}_work")];
            assert_eq!(work["events"], 1, "{sdk}: {r}");
            assert_eq!(work["event"]["request"], true, "{sdk}: {r}");
            assert_eq!(work["event"]["tags"], 6, "{sdk}: {r}");
            let transactions = if op == "ax1" { 0 } else { 10 };
            assert_eq!(work["transactions"], transactions, "{sdk}: {r}");
            if op == "ax2" {
                assert_eq!(work["event"]["in_transaction"], true, "{sdk}: {r}");
                assert_eq!(
                    work["transaction"]["transaction"], "GET /api/items/{id}",
                    "{sdk}: {r}"
                );
            }
        }
    }
    for sdk in ["vigil", "sentry"] {
        let r = bench(&["callgrind", "ax1", sdk, "3"]);
        assert_eq!(r["sdk"], sdk);
    }
}
