"""The release-health scenario of `tests/sessions_python.rs`, run by sentry-python (PyPI `sentry-sdk`).

    python sessions_scenario.py main|crash RELEASE

sentry-sdk is initialized with a DSN, RELEASE, `auto_session_tracking=True`, its default integrations (among them
`excepthook` and `atexit`) and a transport that keeps every envelope in memory and sends nothing. sentry-sdk's
`auto_session_tracking` only covers the request sessions of its web integrations: `init` starts no session for the
process (the header line reports whether one was running), so the script starts the application session itself,
as Vigil's `init` does. Then the role:

- `main`: one handled error (`capture_exception` inside `except`), then a clean exit: the `atexit` integration ends
  the session and closes the client, which flushes the pending session update.
- `crash`: an unhandled exception; the `excepthook` integration captures it with `mechanism.handled: false`, then
  the interpreter exits (status 1) through the same `atexit` path.

Output on stdout, written by an `atexit` handler registered before `init` (so it runs after sentry-sdk's): a header
line `SESSIONS-SCENARIO-PY {"sdk": ..., "version": ..., "role": ..., "session_started_by_init": ...}`, then one line
`SESSIONS-SCENARIO-PY-ENVELOPE {"items": [{"type": ..., "payload": ...}, ...]}` per recorded envelope, in the
order they were captured (payloads as JSON, `null` when an item is not JSON).
"""
import atexit
import json
import sys

import sentry_sdk
from sentry_sdk.transport import Transport

DSN = "http://pykey@127.0.0.1:9/1"

HEADER = {"sdk": "sentry.python", "version": sentry_sdk.VERSION}


class RecordingTransport(Transport):
    """Keeps every envelope, as the item types and payloads it carries; nothing leaves the process."""

    envelopes = []

    def capture_envelope(self, envelope):
        items = []
        for item in envelope.items:
            try:
                payload = json.loads(item.get_bytes())
            except ValueError:
                payload = None
            items.append({"type": item.type, "payload": payload})
        RecordingTransport.envelopes.append({"items": items})


def print_recording():
    """Prints the header and every recorded envelope (runs at exit, after sentry-sdk's own atexit handler)."""
    print("SESSIONS-SCENARIO-PY " + json.dumps(HEADER), flush=True)
    for envelope in RecordingTransport.envelopes:
        print("SESSIONS-SCENARIO-PY-ENVELOPE " + json.dumps(envelope), flush=True)


def main():
    role, release = sys.argv[1], sys.argv[2]
    if role not in ("main", "crash"):
        sys.exit("unknown role %r" % role)
    HEADER["role"] = role
    # Registered before init: atexit runs handlers last-in first-out, so this one runs after the handler of
    # sentry-sdk's atexit integration has ended the session and closed the client.
    atexit.register(print_recording)
    sentry_sdk.init(dsn=DSN, release=release, auto_session_tracking=True, transport=RecordingTransport,
                    auto_enabling_integrations=False)
    HEADER["session_started_by_init"] = getattr(sentry_sdk.get_isolation_scope(), "_session", None) is not None
    sentry_sdk.start_session(session_mode="application")
    if role == "main":
        try:
            int("not a number")
        except ValueError:
            sentry_sdk.capture_exception()
    else:
        raise RuntimeError("unhandled crash in the child process")


if __name__ == "__main__":
    main()
