#!/usr/bin/env python3
"""Compile the reference SDK's own examples and run its own tests against Vigil.

The crates.io package of `sentry` 0.49 ships 11 examples and 9 test files.
This script fetches that package (cargo downloads it into its registry),
copies the examples and tests into a temporary crate (never into this
repository), renames the crate paths mechanically (`sentry::` -> `vigil::`,
`sentry_tracing::` -> `vigil::tracing::`, ...), builds every target against
this checkout and runs the tests. It reports:

- how many examples compile after the rename alone, and how many tests
  compile and pass after it;
- the same after the rename plus the remaining edits `MIGRATING.md` lists
  (its "Mechanical edits" table: each row a literal text replacement).

Every test or example that does not pass is named in `MIGRATING.md`'s
table "Reference tests and examples that do not pass", with the reason. The
script fails when the outcome differs from that table in either direction:
a listed failure that now passes (update the table) or a failure it does
not list.

Usage: scripts/migration_check.py [--keep]   (--keep leaves the temp dir)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_VERSION = "0.49.5"
MIGRATING = ROOT / "MIGRATING.md"

# The crate-name rename: what a user does with search and replace. Order
# matters: the longer paths first.
RENAMES = [
    ("sentry::integrations::", "vigil::integrations::"),
    ("sentry_core::", "vigil::"),
    ("sentry_tower::", "vigil::tower::"),
    ("sentry_tracing::", "vigil::tracing::"),
    ("sentry_anyhow::", "vigil::anyhow::"),
    ("sentry_log::", "vigil::log::"),
    ("sentry_slog::", "vigil::slog::"),
    ("sentry_actix::", "vigil::actix::"),
    ("sentry_debug_images::", "vigil::integrations::debug_images::"),
    ("sentry_panic::", "vigil::integrations::panic::"),
    ("sentry_backtrace::", "vigil::integrations::backtrace::"),
    ("sentry::", "vigil::"),
]

# Cargo features of the reference that its tests and examples test with
# `cfg(feature = ...)`: the migrated crate declares them all, with the
# reference's default set on, plus `test` (the reference's CI runs its
# tests with it) and `metrics`. A test the source declares that does not
# run is reported as "not run".
REFERENCE_FEATURES = [
    "actix", "anyhow", "backtrace", "contexts", "debug-images", "log", "logs",
    "metrics", "panic", "release-health", "slog", "test", "tower", "tracing",
    "transport", "opentelemetry",
]
ENABLED_FEATURES = [
    "backtrace", "contexts", "debug-images", "logs", "metrics", "panic", "transport",
    "release-health", "test",
]

# What the examples and tests use besides the SDK (the reference's own
# development dependencies).
DEV_DEPENDENCIES = """
anyhow = "1"
http = "1"
log = { version = "0.4.25", features = ["kv"] }
pretty_env_logger = "0.5"
slog = "2"
tokio = { version = "1", features = ["macros", "rt", "rt-multi-thread", "time"] }
tower = { version = "0.5", features = ["util"] }
tracing = "0.1.41"
tracing-subscriber = { version = "0.3.18", features = ["fmt", "registry", "std"] }
"""

VIGIL_FEATURES = [
    "test", "log", "slog", "tracing", "tower", "anyhow", "panic", "contexts", "backtrace",
    "debug-images",
]


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, text=True, **kwargs)


def fetch_reference(work: Path) -> Path:
    """Has cargo download `sentry` into its registry; returns its source dir."""
    fetch = work / "fetch"
    (fetch / "src").mkdir(parents=True)
    (fetch / "src" / "lib.rs").write_text("")
    (fetch / "Cargo.toml").write_text(
        f"""[package]
name = "fetch-reference"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
sentry = {{ version = "={REFERENCE_VERSION}", default-features = false }}
"""
    )
    out = subprocess.run(
        ["cargo", "metadata", "--format-version", "1",
         "--manifest-path", str(fetch / "Cargo.toml")],
        check=True, text=True, stdout=subprocess.PIPE,
    ).stdout
    for package in json.loads(out)["packages"]:
        if package["name"] == "sentry" and package["version"] == REFERENCE_VERSION:
            return Path(package["manifest_path"]).parent
    raise SystemExit(f"cargo metadata did not list sentry {REFERENCE_VERSION}")


def parse_migrating():
    """Reads the two tables of MIGRATING.md the script depends on."""
    text = MIGRATING.read_text()

    def table(heading):
        match = re.search(r"^#+ " + re.escape(heading) + r"\n(.*?)(?=^#|\Z)", text, re.M | re.S)
        if not match:
            raise SystemExit(f"MIGRATING.md has no section {heading!r}")
        rows = []
        for line in match.group(1).splitlines():
            line = line.strip()
            if not line.startswith("|") or re.match(r"^\|[\s|:-]+\|$", line):
                continue
            # A `|` inside a cell is written `\|` (GitHub's table rule).
            cells = [
                cell.strip().replace("\\|", "|")
                for cell in re.split(r"(?<!\\)\|", line[1:-1])
            ]
            rows.append(cells)
        return rows[1:]  # without the header row

    def code(cell):
        match = re.fullmatch(r"`(.*)`", cell)
        if not match:
            raise SystemExit(f"MIGRATING.md: expected `code` in table cell {cell!r}")
        return match.group(1)

    edits = [(code(row[0]), code(row[1])) for row in table("Mechanical edits")]
    expected = {}
    for row in table("Reference tests and examples that do not pass"):
        expected[code(row[0])] = row[1]
    return edits, expected


def write_crate(crate: Path, reference: Path, replacements):
    """The migrated crate: the reference's examples and tests, renamed."""
    examples, tests = [], []
    for kind, names in (("examples", examples), ("tests", tests)):
        source_dir = reference / kind
        target_dir = crate / kind
        for source in sorted(source_dir.rglob("*.rs")):
            relative = source.relative_to(source_dir)
            text = source.read_text()
            for old, new in replacements:
                text = text.replace(old, new)
            target = target_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            if relative.parent == Path("."):
                names.append(relative.stem)
    (crate / "src").mkdir(parents=True, exist_ok=True)
    (crate / "src" / "lib.rs").write_text("")
    features = "\n".join(
        f'{name} = []' for name in REFERENCE_FEATURES if name != "default"
    )
    targets = "".join(
        f'\n[[example]]\nname = "{name}"\npath = "examples/{name}.rs"\n' for name in examples
    ) + "".join(
        f'\n[[test]]\nname = "{name}"\npath = "tests/{name}.rs"\n' for name in tests
    )
    vigil_path = ROOT / "crates" / "vigil"
    (crate / "Cargo.toml").write_text(
        f"""[package]
name = "migrated"
version = "0.0.0"
edition = "2021"
publish = false
autoexamples = false
autotests = false

[workspace]

[features]
default = {json.dumps(ENABLED_FEATURES)}
{features}

[dependencies]
vigil = {{ package = "vigil-telemetry", path = "{vigil_path}", features = {json.dumps(VIGIL_FEATURES)} }}

[dev-dependencies]
{DEV_DEPENDENCIES}

# No debug info for the dependencies, Vigil's crates among them: as in the
# workspace, so that the build fits a small CI disk.
[profile.dev.package."*"]
debug = false
{targets}"""
    )
    return examples, tests


def count_tests(path: Path):
    """The test functions a test file declares (for a file that does not compile)."""
    text = path.read_text()
    names = re.findall(r"#\[(?:tokio::)?test\]\s*(?:async\s+)?fn\s+(\w+)", text)
    return names


def build_and_run(crate: Path, examples, tests):
    """Builds every target and runs the test binaries; returns outcome per name."""
    target_dir = ROOT / "target" / "migration"
    env = dict(os.environ, CARGO_TARGET_DIR=str(target_dir))
    proc = subprocess.run(
        ["cargo", "build", "--examples", "--tests", "--keep-going",
         "--message-format=json-render-diagnostics", "--quiet"],
        cwd=crate, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    built, errors = {}, {}
    for line in proc.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        target = message.get("target", {})
        kind = (target.get("kind") or [""])[0]
        if message.get("reason") == "compiler-artifact" and kind in ("example", "test"):
            if "migrated" in message.get("package_id", ""):
                built[(kind, target["name"])] = message.get("executable")
    # Error text per failed target, from the rendered stderr.
    current = None
    for line in proc.stderr.splitlines():
        match = re.match(r"error: could not compile `migrated` \((example|test) \"([^\"]+)\"", line)
        if match:
            current = None
            continue
        match = re.match(r"^error(\[E\d+\])?: (.*)", line)
        if match:
            current = match.group(2)
            errors.setdefault("_pending", []).append(current)
            continue
        match = re.match(r"^\s+--> (examples|tests)/([^/.]+)", line)
        if match and errors.get("_pending"):
            kind = "example" if match.group(1) == "examples" else "test"
            errors.setdefault((kind, match.group(2)), []).extend(errors.pop("_pending"))

    outcomes = {}
    for name in examples:
        key = ("example", name)
        outcomes[f"example {name}"] = "compiles" if key in built else "does not compile"
    for name in tests:
        key = ("test", name)
        if key not in built:
            for test in count_tests(crate / "tests" / f"{name}.rs"):
                outcomes[f"{name}::{test}"] = "does not compile"
            continue
        result = subprocess.run(
            [built[key]], cwd=crate, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300,
        )
        for match in re.finditer(r"^test (\S+) \.\.\. (ok|FAILED|ignored)", result.stdout, re.M):
            verdict = {"ok": "passes", "FAILED": "fails", "ignored": "ignored"}[match.group(2)]
            outcomes[f"{name}::{match.group(1)}"] = verdict
        crashed = result.returncode != 0 and not re.search(r"^test result:", result.stdout, re.M)
        for test in count_tests(crate / "tests" / f"{name}.rs"):
            # Declared but not reported: the binary died first, or a `cfg`
            # left the test out.
            outcomes.setdefault(f"{name}::{test}", "crashes" if crashed else "not run")
    return outcomes, errors


def summarize(label, outcomes):
    examples = {k: v for k, v in outcomes.items() if k.startswith("example ")}
    tests = {k: v for k, v in outcomes.items() if not k.startswith("example ")}
    compiled = sum(v == "compiles" for v in examples.values())
    passed = sum(v == "passes" for v in tests.values())
    print(f"{label}: {compiled} of {len(examples)} examples compile; "
          f"{passed} of {len(tests)} tests pass")
    return compiled, len(examples), passed, len(tests)


def main():
    keep = "--keep" in sys.argv[1:]
    edits, expected = parse_migrating()
    work = Path(tempfile.mkdtemp(prefix="vigil-migration."))
    try:
        reference = fetch_reference(work)
        print(f"reference: {reference}")
        results = {}
        for label, replacements in (("rename only", RENAMES), ("rename + MIGRATING.md edits", RENAMES + edits)):
            crate = work / ("renamed" if label == "rename only" else "edited")
            examples, tests = write_crate(crate, reference, replacements)
            outcomes, errors = build_and_run(crate, examples, tests)
            results[label] = (outcomes, errors)
        print()
        for label, (outcomes, errors) in results.items():
            print(f"== {label}")
            for name, verdict in sorted(outcomes.items()):
                if verdict not in ("passes", "compiles"):
                    print(f"   {verdict:17} {name}")
            for key, messages in sorted((k, v) for k, v in errors.items() if k != "_pending"):
                for message in messages[:5]:
                    print(f"   error in {key[0]} {key[1]}: {message}")
        print()
        counts = {label: summarize(label, outcomes) for label, (outcomes, _) in results.items()}
        final, _ = results["rename + MIGRATING.md edits"]
        failing = {name for name, verdict in final.items() if verdict not in ("passes", "compiles")}
        unexpected = sorted(failing - expected.keys())
        fixed = sorted(expected.keys() - failing)
        status = 0
        if unexpected:
            status = 1
            print("\nFailures MIGRATING.md does not list (fix them, or list them with the reason):")
            for name in unexpected:
                print(f"   {final[name]:17} {name}")
        if fixed:
            status = 1
            print("\nListed in MIGRATING.md but passing now (remove them from the table):")
            for name in fixed:
                print(f"   {name}")
        summary = {label: dict(zip(("examples_compiled", "examples", "tests_passed", "tests"), c))
                   for label, c in counts.items()}
        print("\nmigration summary:", json.dumps(summary))
        return status
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
