#!/usr/bin/env bash
# Runs every check and test of Turnpike: formatting, clippy (warnings are errors), the unit and
# conformance tests of each crate, and the end-to-end tests against the real binary.
# Works on a fresh Debian machine with the Rust toolchain: it installs what else it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use (installed only when missing).
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
fi

# Conformance vectors live beside the project (../shared/vectors); tests fail without them.
if [ ! -d ../shared/vectors ]; then
    echo "error: ../shared/vectors is missing (conformance vectors)" >&2
    exit 1
fi

echo "== rustfmt"
cargo fmt --all -- --check
echo "== clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== build (the binaries the end-to-end tests run)"
cargo build --locked -p turnpike-adapter -p turnpike-tests --bins
echo "== tests"
cargo test --workspace --locked -- --test-threads="${TEST_THREADS:-2}"
