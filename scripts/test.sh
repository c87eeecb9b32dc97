#!/usr/bin/env bash
# The whole test suite, exactly what CI runs (`.ci/run` calls this script).
# Needs: a Rust toolchain (rustup) and python3; installs the rest itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"

step() { printf '\n==> %s\n' "$*"; }

# A one-shot run gains nothing from incremental compilation, whose caches
# would take gigabytes of the CI disk.
export CARGO_INCREMENTAL=0

step "toolchain components and system packages"
echo "  disk free here: $(df -h . | awk 'NR==2 {print $4}')"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# The `native-tls` feature (built by --all-features) links OpenSSL.
if ! pkg-config --exists openssl 2>/dev/null; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq libssl-dev pkg-config
fi
command -v python3 >/dev/null || { echo "python3 is required (interop tests)" >&2; exit 1; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo package: every published crate builds from its own tarball"
# In a target directory of its own for this run: cargo treats the crates of
# its temporary package registry as immutable, so a build directory (or an
# unpacked copy under $CARGO_HOME/registry/src/-<hash>/, keyed by the
# registry's path) left by an earlier run would verify against that run's
# sources. --allow-dirty: the check is the packaged contents, also
# mid-change.
package_target="$(mktemp -d "${TMPDIR:-/tmp}/vigil-package.XXXXXX")"
cargo package --workspace --exclude vigil-bench --exclude vigil-test --locked --allow-dirty \
    --target-dir "$package_target"
rm -rf "$package_target" "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/vigil-*

# Every envelope the suite produces is written here and checked by the
# two independent oracles at the end.
dump_dir="$(mktemp -d "${TMPDIR:-/tmp}/vigil-envelopes.XXXXXX")"
cleanup() {
    rm -rf "$dump_dir"
    # The Bugsink end-to-end test leaves its server running for reuse; stop it.
    if [ -x "$root/../shared/interop/bugsink.sh" ]; then
        BUGSINK_PORT=18717 BUGSINK_DATA_DIR="${TMPDIR:-/tmp}/vigil-bugsink-18717" \
            bash "$root/../shared/interop/bugsink.sh" stop >/dev/null 2>&1 || true
    fi
    # So does the Spotlight end-to-end test (vigil-tower's spotlight_e2e).
    # And vigil-actix's (bugsink_e2e).
    if [ -x "$root/../shared/interop/bugsink.sh" ]; then
        BUGSINK_PORT=18719 BUGSINK_DATA_DIR="${TMPDIR:-/tmp}/vigil-bugsink-18719" \
            bash "$root/../shared/interop/bugsink.sh" stop >/dev/null 2>&1 || true
    fi
    if [ -x "$root/../shared/interop/spotlight.sh" ]; then
        SPOTLIGHT_PORT=18979 bash "$root/../shared/interop/spotlight.sh" stop >/dev/null 2>&1 || true
        # And the tracing end-to-end test (vigil-tower's tracing_e2e).
        SPOTLIGHT_PORT=18981 bash "$root/../shared/interop/spotlight.sh" stop >/dev/null 2>&1 || true
        # And the spotlight option test (vigil-tower's spotlight_option).
        SPOTLIGHT_PORT=18983 bash "$root/../shared/interop/spotlight.sh" stop >/dev/null 2>&1 || true
        # And the logs end-to-end test (vigil-tower's telemetry_spotlight_e2e).
        SPOTLIGHT_PORT=18985 bash "$root/../shared/interop/spotlight.sh" stop >/dev/null 2>&1 || true
        # And the gRPC end-to-end test (vigil-tower's grpc_spotlight_e2e).
        SPOTLIGHT_PORT=18987 bash "$root/../shared/interop/spotlight.sh" stop >/dev/null 2>&1 || true
        # And vigil-actix's spotlight_e2e.
        SPOTLIGHT_PORT=18989 bash "$root/../shared/interop/spotlight.sh" stop >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
export VIGIL_ENVELOPE_DUMP_DIR="$dump_dir"

step "cargo test (unit, integration, doctests)"
cargo test --workspace --all-features --locked

step "examples run: the quickstart demo (file sink), the axum, two-services, tonic and actix self-tests"
demo_dir="$(mktemp -d "${TMPDIR:-/tmp}/vigil-demo.XXXXXX")"
(cd "$demo_dir" && env -u SENTRY_DSN cargo run -q --manifest-path "$root/Cargo.toml" --locked -p vigil-telemetry --example quickstart)
# What the file sink wrote goes to the oracles too.
cp "$demo_dir"/vigil-envelopes/*.envelope "$VIGIL_ENVELOPE_DUMP_DIR"/
rm -rf "$demo_dir"
cargo run -q --locked -p vigil-tower --features axum --example axum -- --self-test
cargo run -q --locked -p vigil-tower --features axum --example two_services -- --self-test
cargo run -q --locked -p vigil-tower --example tonic -- --self-test
cargo run -q --locked -p vigil-actix --example actix -- --self-test

step "debug images: a release build, stripped and split, lists its own image with the build id"
cargo test -q -p vigil-debug-images --all-features --locked --test it -- --ignored
rm -rf target/debug-images-release

step "minimal build of the facade"
cargo check -p vigil-telemetry --no-default-features --locked

step "TLS feature sets of the facade: each builds, and pulls in only its own TLS stack"
# features | crates that must not be in the dependency tree
while IFS='|' read -r features absent; do
    echo "  --features ${features:-<none>}"
    cargo check -q -p vigil-telemetry --no-default-features --features "$features" --locked
    tree="$(cargo tree -q -p vigil-telemetry --no-default-features --features "$features" \
        -e normal --prefix none --locked | sed 's/ .*//' | sort -u)"
    for crate in $absent; do
        if grep -qx "$crate" <<<"$tree"; then
            echo "feature set '$features' pulls in $crate" >&2
            exit 1
        fi
    done
done <<'SETS'
http,rustls|native-tls
http,rustls-no-provider|ring native-tls
http,platform-verifier|ring native-tls
http,native-tls|rustls ring
http|rustls ring native-tls
SETS

step "migration: the reference SDK's own examples and tests, renamed, against Vigil"
python3 scripts/migration_check.py
# Its build (the reference's examples and tests) is not needed again.
rm -rf target/migration

step "rustdoc with -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --all-features --no-deps --locked

step "oracles: Relay (--strict) and sentry-types over every envelope the suite produced"
cargo test -p vigil-telemetry --all-features --locked --test oracles -- --ignored --exact every_dumped_envelope_passes_both_oracles --nocapture

echo "  build directory: $(du -sh target | cut -f1)"
