"""The cron check-in scenario of `tests/check_ins_python.rs`, run by sentry-python (PyPI `sentry-sdk`).

    python check_ins_scenario.py RELEASE ENVIRONMENT SERVER_NAME

sentry-sdk is initialized with a DSN, RELEASE, ENVIRONMENT, SERVER_NAME, `sample_rate=0.0` (check-ins are never
sampled), `traces_sample_rate=1.0`, no default or auto-enabled integrations (so that nothing but the scenario sends
anything, and no exception is captured as an event) and a transport that keeps every envelope in memory and sends
nothing. The scenario runs four jobs, outside any span unless said otherwise:

- `nightly-import`: `capture_checkin` by hand, `in_progress` then `ok` with the first check-in's id and a duration of
  1.5 s, both with a crontab monitor config (schedule, `checkin_margin`, `max_runtime`, `timezone`);
- `queue-drain`: the `monitor` context manager around a job that succeeds, with an interval monitor config;
- `hourly-sync`: the `monitor` decorator, without a config, on a job that raises (caught outside);
- `report-mailer`: the `monitor` context manager around a job that raises, inside a transaction, with a crontab
  config that also has `failure_issue_threshold`, `recovery_threshold` and `owner`.

Then it flushes and closes the client. The Rust side runs the same jobs with `vigil::capture_check_in`,
`vigil::monitor`, `vigil::monitor_result` and `vigil::MonitorGuard`, in the same order; keep both in step.

Output on stdout: a header line `CHECK-INS-SCENARIO-PY {"sdk": ..., "version": ...}`, then one line
`CHECK-INS-SCENARIO-PY-ENVELOPE <base64>` per recorded envelope, in the order they were captured, each the envelope
as sentry-sdk serializes it for the wire (`Envelope.serialize()`), so both SDKs' envelopes are read by the same
parser.
"""
import base64
import json
import sys

import sentry_sdk
import sentry_sdk.crons
from sentry_sdk.transport import Transport

DSN = "http://pykey@127.0.0.1:9/1"

NIGHTLY_CONFIG = {
    "schedule": {"type": "crontab", "value": "0 3 * * *"},
    "checkin_margin": 5,
    "max_runtime": 30,
    "timezone": "Europe/Vienna",
}
DRAIN_CONFIG = {
    "schedule": {"type": "interval", "value": 10, "unit": "minute"},
    "checkin_margin": 2,
    "max_runtime": 5,
}
MAILER_CONFIG = {
    "schedule": {"type": "crontab", "value": "30 6 * * mon-fri"},
    "timezone": "UTC",
    "failure_issue_threshold": 2,
    "recovery_threshold": 3,
    "owner": "team:reports",
}


class RecordingTransport(Transport):
    """Keeps every envelope, serialized; nothing leaves the process."""

    envelopes = []

    def capture_envelope(self, envelope):
        RecordingTransport.envelopes.append(envelope.serialize())


@sentry_sdk.crons.monitor(monitor_slug="hourly-sync")
def hourly_sync():
    """A job that fails."""
    raise ValueError("the upstream is down")


def scenario():
    """The jobs, in the order the Rust side runs them."""
    check_in_id = sentry_sdk.crons.capture_checkin(
        monitor_slug="nightly-import", status="in_progress", monitor_config=NIGHTLY_CONFIG
    )
    sentry_sdk.crons.capture_checkin(
        monitor_slug="nightly-import",
        check_in_id=check_in_id,
        status="ok",
        duration=1.5,
        monitor_config=NIGHTLY_CONFIG,
    )
    with sentry_sdk.crons.monitor(monitor_slug="queue-drain", monitor_config=DRAIN_CONFIG):
        pass
    try:
        hourly_sync()
    except ValueError:
        pass
    with sentry_sdk.start_transaction(op="task", name="send reports"):
        try:
            with sentry_sdk.crons.monitor(monitor_slug="report-mailer", monitor_config=MAILER_CONFIG):
                raise RuntimeError("the mail server refused")
        except RuntimeError:
            pass


def main():
    release, environment, server_name = sys.argv[1], sys.argv[2], sys.argv[3]
    sentry_sdk.init(
        dsn=DSN,
        release=release,
        environment=environment,
        server_name=server_name,
        sample_rate=0.0,
        traces_sample_rate=1.0,
        transport=RecordingTransport,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    scenario()
    sentry_sdk.flush()
    sentry_sdk.get_client().close()
    print("CHECK-INS-SCENARIO-PY " + json.dumps({"sdk": "sentry.python", "version": sentry_sdk.VERSION}), flush=True)
    for envelope in RecordingTransport.envelopes:
        print("CHECK-INS-SCENARIO-PY-ENVELOPE " + base64.b64encode(envelope).decode("ascii"), flush=True)


if __name__ == "__main__":
    main()
