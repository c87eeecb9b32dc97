"""Relay's StoreNormalizer as an oracle for Vigil's feedback items.

Usage: python feedback_oracle.py ENVELOPE_FILE ...   (the tools venv's
python: PyPI sentry-relay). relay-validate.py checks a `feedback` item's
framing and JSON only; here each feedback payload also goes through
`StoreNormalizer.normalize_event` (what Relay runs on the event of a
`feedback` item). Fails when Relay reports errors, records a trimmed or
rejected value (`_meta`), changes the type, or loses or changes the
`feedback` context or the trace and span ids of the `trace` context.
Prints one JSON line per feedback checked.
"""

import datetime
import json
import sys

from sentry_relay.processing import StoreNormalizer


def items(data):
    lines = data.split(b"\n", 1)
    rest = lines[1] if len(lines) > 1 else b""
    while rest.strip():
        header_line, _, rest = rest.lstrip().partition(b"\n")
        header = json.loads(header_line)
        length = header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length + 1:]
        yield header, payload


def without_type(context):
    return {k: v for k, v in (context or {}).items() if k != "type"}


def main():
    normalizer = StoreNormalizer(
        enable_trimming=True,
        received_at=datetime.datetime.now(datetime.timezone.utc).isoformat(),
        max_secs_in_past=30 * 24 * 3600,
        max_secs_in_future=60,
    )
    failures = []
    checked = 0
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        for header, payload in items(data):
            if header.get("type") != "feedback":
                continue
            checked += 1
            sent = json.loads(payload)
            out = normalizer.normalize_event(sent)
            problems = []
            if out.get("errors"):
                problems.append("errors: %s" % out["errors"])
            if out.get("_meta"):
                problems.append("_meta: %s" % json.dumps(out["_meta"]))
            if out.get("type") != "feedback":
                problems.append("type became %r" % out.get("type"))
            contexts = out.get("contexts") or {}
            if without_type(contexts.get("feedback")) != without_type(sent["contexts"].get("feedback")):
                problems.append("contexts.feedback changed: %s -> %s"
                                % (sent["contexts"].get("feedback"), contexts.get("feedback")))
            # Relay adds `status: unknown` to a trace context without one.
            trace_ids = lambda c: ((c or {}).get("trace_id"), (c or {}).get("span_id"))
            if trace_ids(contexts.get("trace")) != trace_ids(sent["contexts"].get("trace")):
                problems.append("contexts.trace changed: %s -> %s"
                                % (sent["contexts"].get("trace"), contexts.get("trace")))
            print(json.dumps({"path": path, "event_id": out.get("event_id"),
                              "feedback": contexts.get("feedback"), "problems": problems}))
            if problems:
                failures.append((path, problems))
    if checked == 0:
        failures.append(("-", ["no feedback item found"]))
    for path, problems in failures:
        print("%s: %s" % (path, "; ".join(problems)), file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
