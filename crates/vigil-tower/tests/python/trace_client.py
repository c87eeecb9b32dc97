"""Python upstream of a Vigil service: sentry-sdk starts a trace and calls the service.

    python trace_client.py URL

sentry-sdk (no default integrations, traces_sample_rate=1.0, a DSN with the public key `pykey`, a transport that
keeps envelopes and sends nothing) starts a transaction and a child span, and makes one HTTP GET to URL with the
span's `sentry-trace` (get_traceparent) and `baggage` (get_baggage) headers. Prints one JSON line: the trace id,
the span id, the headers sent, the baggage's sentry items as sentry-sdk parsed them, and the HTTP status.
"""
import http.client
import json
import sys
import urllib.parse

import sentry_sdk
from sentry_sdk.tracing_utils import Baggage
from sentry_sdk.transport import Transport

DSN = "http://pykey@127.0.0.1:9/1"


class KeepTransport(Transport):
    """Keeps every envelope in memory; nothing leaves the process."""

    envelopes = []

    def capture_envelope(self, envelope):
        KeepTransport.envelopes.append(envelope)


def main():
    url = urllib.parse.urlsplit(sys.argv[1])
    sentry_sdk.init(dsn=DSN, transport=KeepTransport, traces_sample_rate=1.0, release="python-client@1.0.0",
                    environment="interop", default_integrations=False, auto_enabling_integrations=False)
    with sentry_sdk.start_transaction(name="python-calls-vigil", op="task") as transaction:
        with sentry_sdk.start_span(op="http.client", name="GET " + url.path) as span:
            headers = {"sentry-trace": sentry_sdk.get_traceparent(), "baggage": sentry_sdk.get_baggage()}
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
            conn.request("GET", url.path, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
    sentry_sdk.flush(timeout=5)
    print(json.dumps({
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "transaction_span_id": transaction.span_id,
        "sampled": span.sampled,
        "headers": headers,
        "sentry_items": Baggage.from_incoming_header(headers["baggage"]).sentry_items,
        "status": response.status,
    }))


if __name__ == "__main__":
    main()
