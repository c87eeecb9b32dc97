#!/usr/bin/env bash
# The whole test suite, exactly what CI runs (`.ci/run` calls this script).
# Needs: a Rust toolchain (rustup) and python3; installs the rest itself.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "toolchain components"
rustup component add rustfmt clippy >/dev/null 2>&1 || true

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

# Every envelope the suite produces is written here and checked by the
# two independent oracles at the end.
dump_dir="$(mktemp -d "${TMPDIR:-/tmp}/vigil-envelopes.XXXXXX")"
trap 'rm -rf "$dump_dir"' EXIT
export VIGIL_ENVELOPE_DUMP_DIR="$dump_dir"

step "cargo test (unit, integration, doctests)"
cargo test --workspace --all-features --locked

step "minimal build of the facade"
cargo check -p vigil --no-default-features --locked

step "rustdoc with -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked

step "oracles: Relay (--strict) and sentry-types over every envelope the suite produced"
cargo test -p vigil --all-features --locked --test oracles -- --ignored --exact every_dumped_envelope_passes_both_oracles --nocapture
