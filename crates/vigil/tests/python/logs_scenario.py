"""The structured-logs scenario of `tests/logs_python.rs`, run by sentry-python (PyPI `sentry-sdk`).

    python logs_scenario.py RELEASE ENVIRONMENT SERVER_NAME

sentry-sdk is initialized with a DSN, RELEASE, ENVIRONMENT, SERVER_NAME, `enable_logs=True`,
`traces_sample_rate=1.0`, no default or auto-enabled integrations (so that nothing but the scenario writes logs)
and a transport that keeps every envelope in memory and sends nothing. The scenario writes logs with
`sentry_sdk.logger` at every level, with named template parameters of each primitive type, with extra attributes
(`attributes={...}`) of each primitive type, without parameters, and two inside a transaction (one in the
transaction itself, one in a child span), then flushes and closes the client.

The Rust side writes the same logs with `vigil::logger_*!` in the same order; keep both lists in step.

Output on stdout: a header line `LOGS-SCENARIO-PY {"sdk": ..., "version": ...}`, then one line
`LOGS-SCENARIO-PY-ENVELOPE <base64>` per recorded envelope, in the order they were captured, each the envelope as
sentry-sdk serializes it for the wire (`Envelope.serialize()`), so both SDKs' envelopes are read by the same parser.
"""
import base64
import json
import sys

import sentry_sdk
import sentry_sdk.logger
from sentry_sdk.transport import Transport

DSN = "http://pykey@127.0.0.1:9/1"


class RecordingTransport(Transport):
    """Keeps every envelope, serialized; nothing leaves the process."""

    envelopes = []

    def capture_envelope(self, envelope):
        RecordingTransport.envelopes.append(envelope.serialize())


def scenario():
    """The logs, in the order the Rust side writes them."""
    log = sentry_sdk.logger
    log.info("Adding item {item} for user {user}", item=7, user="bob")
    log.warning(
        "Low stock for {sku}: {left} left",
        sku="A-1",
        left=3,
        attributes={
            "stock.warehouse": "north",
            "stock.count": 3,
            "stock.ratio": 0.25,
            "stock.reorder": True,
        },
    )
    log.error("Payment failed")
    log.debug("Took {ms} ms, cached {cached}", ms=12.5, cached=False)
    log.trace("Tick")
    with sentry_sdk.start_transaction(op="task", name="checkout"):
        log.info("Checkout for {user}", user="bob")
        with sentry_sdk.start_span(op="db.query", name="load cart"):
            log.info("Loaded {rows} rows", rows=3, attributes={"db.system": "sqlite"})
    log.fatal("Shutting down after {errors} errors", errors=2, attributes={"shutdown.clean": False})


def main():
    release, environment, server_name = sys.argv[1], sys.argv[2], sys.argv[3]
    sentry_sdk.init(
        dsn=DSN,
        release=release,
        environment=environment,
        server_name=server_name,
        enable_logs=True,
        traces_sample_rate=1.0,
        transport=RecordingTransport,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    scenario()
    sentry_sdk.flush()
    sentry_sdk.get_client().close()
    print("LOGS-SCENARIO-PY " + json.dumps({"sdk": "sentry.python", "version": sentry_sdk.VERSION}), flush=True)
    for envelope in RecordingTransport.envelopes:
        print("LOGS-SCENARIO-PY-ENVELOPE " + base64.b64encode(envelope).decode("ascii"), flush=True)


if __name__ == "__main__":
    main()
