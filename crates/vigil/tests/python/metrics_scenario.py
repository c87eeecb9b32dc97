"""The trace-metrics scenario of `tests/metrics_python.rs`, run by sentry-python (PyPI `sentry-sdk`).

    python metrics_scenario.py RELEASE ENVIRONMENT SERVER_NAME

sentry-sdk is initialized with a DSN, RELEASE, ENVIRONMENT, SERVER_NAME, `send_default_pii=True`,
`traces_sample_rate=1.0`, no default or auto-enabled integrations (so that nothing but the scenario sends anything)
and a transport that keeps every envelope in memory and sends nothing. Metrics are on by default. The scenario sets
a user on the scope, then captures counters, gauges and distributions with `sentry_sdk.metrics.count/gauge/
distribution`, with and without units, with attributes of each primitive type (string, integer, float, boolean):
some outside any span, one in a transaction and two in a child span of it; then it flushes and closes the client.

The Rust side captures the same metrics with `vigil::metrics::{counter, gauge, distribution}` in the same order;
keep both lists in step.

Output on stdout: a header line `METRICS-SCENARIO-PY {"sdk": ..., "version": ...}`, then one line
`METRICS-SCENARIO-PY-ENVELOPE <base64>` per recorded envelope, in the order they were captured, each the envelope
as sentry-sdk serializes it for the wire (`Envelope.serialize()`), so both SDKs' envelopes are read by the same
parser.
"""
import base64
import json
import sys

import sentry_sdk
import sentry_sdk.metrics
from sentry_sdk.transport import Transport

DSN = "http://pykey@127.0.0.1:9/1"


class RecordingTransport(Transport):
    """Keeps every envelope, serialized; nothing leaves the process."""

    envelopes = []

    def capture_envelope(self, envelope):
        RecordingTransport.envelopes.append(envelope.serialize())


def scenario():
    """The metrics, in the order the Rust side captures them."""
    metrics = sentry_sdk.metrics
    sentry_sdk.set_user({"id": "42", "username": "bob", "email": "bob@example.com", "ip_address": "10.0.0.7"})
    metrics.count(
        "http.requests",
        1,
        attributes={
            "http.route": "/checkout",
            "http.response.status_code": 200,
            "cache.ratio": 0.75,
            "cache.hit": True,
        },
    )
    metrics.count("jobs.processed", 3)
    metrics.gauge("queue.depth", 42, attributes={"queue.name": "mail"})
    metrics.gauge("memory.used", 512.5, unit="megabyte", attributes={"process.restarted": False})
    metrics.distribution("http.response_time", 187.5, unit="millisecond", attributes={"http.route": "/checkout"})
    with sentry_sdk.start_transaction(op="task", name="checkout"):
        metrics.count("checkout.started", 1, attributes={"payment.provider": "card"})
        with sentry_sdk.start_span(op="db.query", name="load cart"):
            metrics.distribution(
                "db.query.duration",
                12.25,
                unit="millisecond",
                attributes={"db.system": "sqlite", "db.rows": 3},
            )
            metrics.gauge("db.pool.size", 4)
    metrics.distribution("upload.progress", 0.5, unit="ratio", attributes={"upload.retried": True, "upload.parts": 2})


def main():
    release, environment, server_name = sys.argv[1], sys.argv[2], sys.argv[3]
    sentry_sdk.init(
        dsn=DSN,
        release=release,
        environment=environment,
        server_name=server_name,
        send_default_pii=True,
        traces_sample_rate=1.0,
        transport=RecordingTransport,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    scenario()
    sentry_sdk.flush()
    sentry_sdk.get_client().close()
    print("METRICS-SCENARIO-PY " + json.dumps({"sdk": "sentry.python", "version": sentry_sdk.VERSION}), flush=True)
    for envelope in RecordingTransport.envelopes:
        print("METRICS-SCENARIO-PY-ENVELOPE " + base64.b64encode(envelope).decode("ascii"), flush=True)


if __name__ == "__main__":
    main()
