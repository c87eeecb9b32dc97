#!/usr/bin/env bash
# The benchmark suite measured against freshly resolved dependencies: the
# newest semver-compatible versions, what a user who runs `cargo add vigil`
# today gets, rather than the versions pinned in the committed Cargo.lock.
#
# The workspace (everything but target/ and .git/) is copied to
# ${VIGIL_FRESH_DIR:-<repo>/target/fresh-deps}; `cargo update` runs there,
# so the committed Cargo.lock is never touched. The copy builds into a
# target directory of its own, so the main build is not disturbed.
#
# Versions are resolved as for a user's project on the installed toolchain:
# the workspace's `rust-version` (Vigil's MSRV) does not hold dependencies
# back (`CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=allow`; set it to
# `fallback` to resolve MSRV-aware instead). Should the newest version of a
# dependency need a newer rustc than the installed one, the build says so.
#
# Without network access `cargo update` falls back to `--offline`, which
# resolves from the local registry cache: the newest versions cached, not
# necessarily the newest published (a warning says so).
#
# Usage: scripts/bench-fresh.sh [suite flags]   e.g. --ops op1,op9 --no-callgrind
# (the flags go to `vigil-bench suite`).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
dest="${VIGIL_FRESH_DIR:-$repo/target/fresh-deps}"
# Marks a directory this script created, the only kind it empties.
marker=".vigil-fresh-deps"
# The dependencies whose resolved versions are printed.
watched=(smol_str sentry serde_json)

step() { printf '\n==> %s\n' "$*"; }

dest="$(realpath -m "$dest")"
case "$dest/" in
    "$repo/target/"*) ;;
    "$repo/"*)
        echo "bench-fresh: VIGIL_FRESH_DIR must not be the repository or inside it (except under target/)" >&2
        exit 1
        ;;
esac
mkdir -p "$dest"
if [ -n "$(ls -A "$dest")" ] && [ ! -e "$dest/$marker" ]; then
    echo "bench-fresh: $dest is not empty and was not made by this script; refusing to overwrite it" >&2
    exit 1
fi

step "copying the workspace to $dest"
# Everything from the last copy goes, except its build output (kept, so a
# second run only rebuilds what changed).
find "$dest" -mindepth 1 -maxdepth 1 ! -name target ! -name "$marker" -exec rm -rf {} +
tar -C "$repo" --exclude=./target --exclude=./.git -cf - . | tar -C "$dest" -xf -
touch "$dest/$marker"

cd "$dest"
export CARGO_TARGET_DIR="$dest/target"
export CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS="${CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS:-allow}"

step "cargo update (in the copy; incompatible rust versions: $CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS)"
if ! cargo update; then
    echo "bench-fresh: cargo update failed (no network?); resolving from the local registry cache" >&2
    echo "bench-fresh: WARNING: offline, the versions below are the newest cached, not necessarily the newest published" >&2
    cargo update --offline
    export CARGO_NET_OFFLINE=true
fi

# `name version` of every package called $1 in the lock file $2.
locked_versions() {
    awk -v want="$1" '
        $1 == "name" { name = $3; gsub(/"/, "", name) }
        $1 == "version" && name == want { v = $3; gsub(/"/, "", v); printf "%s%s", sep, v; sep = ", " }
        /^\[\[package\]\]/ { name = "" }
    ' "$2"
}

step "resolved versions (fresh | committed Cargo.lock)"
for name in "${watched[@]}"; do
    printf '  %-12s %-12s | %s\n' "$name" \
        "$(locked_versions "$name" "$dest/Cargo.lock")" \
        "$(locked_versions "$name" "$repo/Cargo.lock")"
done

step "cargo run --release -q -p vigil-bench -- suite $*"
cargo run --release -q -p vigil-bench -- suite "$@"
