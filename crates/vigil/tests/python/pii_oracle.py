"""Relay's default data scrubbing as an oracle for Vigil's event scrubber.

Usage: python pii_oracle.py ENVELOPE_FILE_OR_DIR ...   (the tools venv's
python: PyPI sentry-relay). Prints one JSON summary line; exits 1 when a
finding is one Vigil's defaults should have made.

Every event and transaction item is run through
`sentry_relay.pii_strip_event` with the configuration Sentry projects get
by default (`scrubData`, `scrubDefaults`, `scrubIpAddresses` on). Each
value Relay changes or removes is a finding, classified:

- `key`: Relay filtered it because of its key name (checked by asking Relay
  itself whether the key name alone makes a harmless value filtered), at a
  place Vigil's scrubber covers (extra, contexts, breadcrumb data, request
  data/env/headers/cookies/query, user data, span data). Vigil's defaults
  cover these: every such finding is a violation.
- `cookie`: a cookie Relay filters by name (`@anything:filter` on
  `request.cookies`): also Vigil's to filter, so a violation.
- otherwise the finding is counted by rule and place and left to the
  server: patterns inside values (card numbers, IBANs, e-mail and IP
  addresses in text, `Bearer` tokens, secrets in free text), the IP
  address removal, and places Vigil does not scrub (tags, messages).
"""

import gzip
import json
import os
import re
import sys
from collections import Counter

from sentry_relay import convert_datascrubbing_config, pii_strip_event

CONFIG = convert_datascrubbing_config(
    {"scrubData": True, "scrubDefaults": True, "scrubIpAddresses": True}
)

# Places (as path prefixes) where Vigil's scrubber filters by key name.
# `*` stands for one path segment.
SCRUBBED_PLACES = [
    ("extra",),
    ("contexts", "*"),
    ("breadcrumbs", "values", "*", "data"),
    ("request", "data"),
    ("request", "env"),
    ("request", "headers"),
    ("request", "cookies"),
    ("request", "query_string"),
    ("user", "data"),
    ("spans", "*", "data"),
]

_key_cache = {}


def relay_filters_key(key):
    """Whether Relay filters a harmless value only because of its key."""
    if key not in _key_cache:
        probe = {"event_id": "0" * 32, "extra": {key: "plain"}}
        out = pii_strip_event(CONFIG, probe)
        _key_cache[key] = out.get("extra", {}).get(key) != "plain"
    return _key_cache[key]


def in_scrubbed_place(path):
    for place in SCRUBBED_PLACES:
        if len(path) > len(place) and all(
            p == "*" or p == str(s) for p, s in zip(place, path)
        ):
            return True
    return False


def lookup(value, path):
    for segment in path:
        if isinstance(value, dict):
            if segment not in value:
                return None
            value = value[segment]
        elif isinstance(value, list):
            try:
                value = value[int(segment)]
            except (ValueError, IndexError):
                return None
        else:
            return None
    return value


def key_of(normalized, path):
    """The key name a value sits under: the last object key, or the name
    of a `[name, value]` pair (headers, cookies and queries are pair lists
    after Relay reads them)."""
    if len(path) >= 2 and path[-1] == "1":
        pair = lookup(normalized, path[:-1])
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str):
            return pair[0]
    for segment in reversed(path):
        if not segment.isdigit():
            return segment
    return None


def remarks(meta, path=()):
    """(path, [rule ids]) of every `_meta` node with remarks."""
    for key, node in meta.items():
        if key == "":
            rules = [r[0] for r in node.get("rem", [])]
            if rules:
                yield path, rules
        elif isinstance(node, dict):
            yield from remarks(node, path + (key,))


def count_filtered(value):
    if value == "[Filtered]":
        return 1
    if isinstance(value, dict):
        return sum(count_filtered(v) for v in value.values())
    if isinstance(value, list):
        return sum(count_filtered(v) for v in value)
    return 0


def items_of(data):
    """(type, payload bytes) of each item of an envelope."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    lines = data.split(b"\n", 1)
    rest = lines[1] if len(lines) > 1 else b""
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        if not header_line.strip():
            continue
        header = json.loads(header_line)
        length = header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length + 1 :]
        yield header.get("type"), payload


def check_event(event, where, summary, violations):
    vigil_filtered = count_filtered(
        {k: event.get(k) for k in ("extra", "contexts", "breadcrumbs", "request", "user", "spans")}
    )
    summary["vigil_filtered_values"] += vigil_filtered
    # `_meta` paths are those of Relay's own reading of the event (headers,
    # cookies and queries as pair lists): compare with that reading
    # unscrubbed.
    read = pii_strip_event({}, event)
    out = pii_strip_event(CONFIG, event)
    for path, rules in remarks(out.get("_meta", {})):
        if lookup(out, path) == lookup(read, path):
            continue  # a remark without a change (already "[Filtered]")
        rule = rules[0]
        key = key_of(out, path)
        if in_scrubbed_place(path) and key and relay_filters_key(key):
            kind = "key"
        elif path[:2] == ("request", "cookies") and rule.startswith("@anything"):
            kind = "cookie"
        else:
            summary["left_to_server"][f"{rule} at {'.'.join(p if not p.isdigit() else '*' for p in path)}"] += 1
            continue
        violations.append({"where": where, "path": ".".join(path), "key": key, "rule": rule, "kind": kind})


def main(args):
    files = []
    for arg in args:
        if os.path.isdir(arg):
            files += sorted(
                os.path.join(arg, f) for f in os.listdir(arg) if f.endswith(".envelope")
            )
        else:
            files.append(arg)
    summary = {
        "envelopes": len(files),
        "events": 0,
        "transactions": 0,
        "vigil_filtered_values": 0,
        "left_to_server": Counter(),
    }
    violations = []
    for name in files:
        with open(name, "rb") as f:
            data = f.read()
        for index, (ty, payload) in enumerate(items_of(data)):
            if ty not in ("event", "transaction"):
                continue
            summary["events" if ty == "event" else "transactions"] += 1
            event = json.loads(payload)
            check_event(event, f"{name}#{index}", summary, violations)
    summary["violations"] = violations[:50]
    summary["violation_count"] = len(violations)
    print(json.dumps(summary, sort_keys=True))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
