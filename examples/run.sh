#!/usr/bin/env bash
# Starts Turnpike on the example APIs in examples/apis, with the example backend they point to
# (turnpike-backend on 127.0.0.1:8081, a small JSON echo server). Ctrl-C stops both.
#
#   ./examples/run.sh                 # gateway on http://127.0.0.1:9090
#   curl -i http://127.0.0.1:9090/petstore/v1/pets/7
#
# Extra arguments go to `turnpike run` (e.g. --workers 1 --driver epoll).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p turnpike-adapter -p turnpike-tests --bins
target/release/turnpike-backend --listen 127.0.0.1:8081 &
backend=$!
trap 'kill "$backend" 2>/dev/null || true' EXIT INT TERM
echo "example backend on 127.0.0.1:8081; gateway on 127.0.0.1:9090 (try: curl -i http://127.0.0.1:9090/petstore/v1/pets/7)"
target/release/turnpike run --config examples/gateway.toml "$@"
