"""Python downstream of a Vigil service: an HTTP server that continues the caller's trace with sentry-sdk.

    python trace_server.py TRACES_SAMPLE_RATE

Listens on 127.0.0.1 (a free port, printed as the first stdout line: {"port": N}) and, for every GET, does what a
sentry-sdk integration does with an incoming request: `sentry_sdk.continue_trace(headers)`, then runs the returned
transaction with `start_transaction`. The response body is one JSON object: the transaction's trace_id,
parent_span_id, parent_sampled, its own sampling decision (`sampled`), the baggage sentry items it received, the
baggage it would send on (get_baggage), and the `trace` header of the envelope sentry-sdk made for the transaction
(null when it sent none). sentry-sdk has a DSN with the public key `pyserver` and a transport that keeps envelopes
and sends nothing. Exits when stdin closes.
"""
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import sentry_sdk
from sentry_sdk.transport import Transport

DSN = "http://pyserver@127.0.0.1:9/2"


class KeepTransport(Transport):
    """Keeps every envelope in memory; nothing leaves the process."""

    envelopes = []

    def capture_envelope(self, envelope):
        KeepTransport.envelopes.append(envelope)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        headers = {name: value for name, value in self.headers.items()}
        before = len(KeepTransport.envelopes)
        transaction = sentry_sdk.continue_trace(headers, op="http.server", name="GET " + self.path)
        with sentry_sdk.start_transaction(transaction):
            outgoing_baggage = sentry_sdk.get_baggage()
        sentry_sdk.flush(timeout=5)
        sent = [e for e in KeepTransport.envelopes[before:]
                if any(item.type == "transaction" for item in e.items)]
        baggage = transaction._baggage
        body = json.dumps({
            "received": headers,
            "trace_id": transaction.trace_id,
            "parent_span_id": transaction.parent_span_id,
            "parent_sampled": transaction.parent_sampled,
            "sampled": transaction.sampled,
            "sentry_items": baggage.sentry_items if baggage is not None else None,
            "outgoing_baggage": outgoing_baggage,
            "envelope_trace": sent[0].headers.get("trace") if sent else None,
            "transactions_sent": len(sent),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def main():
    sentry_sdk.init(dsn=DSN, transport=KeepTransport, traces_sample_rate=float(sys.argv[1]),
                    release="python-server@1.0.0", environment="interop", default_integrations=False,
                    auto_enabling_integrations=False)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    # The test process holds our stdin: when it ends, so do we.
    threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
