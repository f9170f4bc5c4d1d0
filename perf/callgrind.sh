#!/usr/bin/env bash
# Instructions per proxied request, counted by valgrind's callgrind: exact and repeatable on a
# shared machine, unlike wall-clock figures (../shared/PERF.md). Prints the total user-space
# instructions per request and the cost of reading the current snapshot (Worker::table, inlined
# into the connection loop), which must stay under 1 % of a proxied request.
#
#   perf/callgrind.sh            # 8 s of wrk -c10 load, epoll driver (valgrind's io_uring support is partial)
#   SECONDS_OF_LOAD=4 perf/callgrind.sh
#   SCENARIO=jwt perf/callgrind.sh   # the same API secured with OAuth2: every request carries an RS256
#                                    # JWT (verified once, then served from the per-core token cache)
#   SCENARIO=bearer-open perf/callgrind.sh  # the same requests as `jwt` (token included) to the open
#                                    # API: jwt minus this is what authentication itself costs
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${SECONDS_OF_LOAD:-8}
scenario=${SCENARIO:-plain}

need=()
command -v nginx >/dev/null || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
command -v valgrind >/dev/null || need+=(valgrind)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
cargo build --release -p turnpike-adapter

work=$(mktemp -d /tmp/turnpike-callgrind.XXXXXX)
mkdir -p "$work/apis" "$work/tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

cat >"$work/backend.conf" <<CONF
worker_processes 1; master_process off; daemon off; pid $work/backend.pid; error_log $work/backend-error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_requests 1000000000; keepalive_timeout 300s;
  client_body_temp_path $work/tmp/b; proxy_temp_path $work/tmp/p; fastcgi_temp_path $work/tmp/f;
  uwsgi_temp_path $work/tmp/u; scgi_temp_path $work/tmp/s;
  server { listen 127.0.0.1:18480; location / { default_type application/json;
    return 200 '{"status":"ok","service":"backend","message":"hello from the benchmark backend","padding":"xxxxxxxxx"}'; } } }
CONF
cat >"$work/apis/bench.yaml" <<YAML
openapi: 3.0.3
info: {title: Bench, version: "1.0"}
x-wso2-basePath: /bench/v1
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:18480"]}
paths:
  /*:
    get: {responses: {"200": {description: ok}}}
YAML
cat >"$work/gateway.toml" <<TOML
[runtime]
workers = 1
pin_workers = false
[apis]
directory = "$work/apis"
# Count the data plane only: no directory watcher, no admin API (its certificate generation alone
# would add hundreds of instructions per request to a short run).
watch = false
[admin]
enabled = false
[log]
level = "warn"
[security]
default = "none"
TOML

wrk_args=()
if [ "$scenario" = jwt ] || [ "$scenario" = bearer-open ]; then
    # An RS256 key pair (the test key in policy/tests/keys), its JWKS, and one token for an hour.
    key=policy/tests/keys/rsa2048.pem
    b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
    n=$(openssl rsa -in "$key" -noout -modulus | cut -d= -f2 | xxd -r -p | b64url)
    printf '{"keys":[{"kty":"RSA","kid":"bench","alg":"RS256","use":"sig","n":"%s","e":"AQAB"}]}' "$n" >"$work/jwks.json"
    now=$(date +%s)
    head=$(printf '{"alg":"RS256","typ":"JWT","kid":"bench"}' | b64url)
    body=$(printf '{"iss":"https://bench.local/token","sub":"bench","aud":"bench","azp":"bench-app","scope":"read","jti":"bench-1","iat":%d,"exp":%d}' "$now" $((now + 3600)) | b64url)
    sig=$(printf '%s.%s' "$head" "$body" | openssl dgst -sha256 -sign "$key" -binary | b64url)
    token="$head.$body.$sig"
    [ "$scenario" = jwt ] && sed -i 's/^default = "none"$/default = "oauth2"/' "$work/gateway.toml"
    cat >>"$work/gateway.toml" <<TOML
[[security.issuers]]
name = "bench"
issuer = "https://bench.local/token"
jwks_file = "$work/jwks.json"
algorithms = ["RS256"]
TOML
    wrk_args=(-H "Authorization: Bearer $token")
fi

nginx -p "$work" -c "$work/backend.conf" & pids+=($!)
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" target/release/turnpike run \
    --config "$work/gateway.toml" --listen 127.0.0.1:18481 --workers 1 --driver epoll --admin-listen off \
    >"$work/turnpike.log" 2>&1 &
tp=$!
for _ in $(seq 1 120); do curl -sf -o /dev/null "${wrk_args[@]}" http://127.0.0.1:18481/bench/v1/hello && break; sleep 0.5; done
# Steady state only: warm up (connections, pools), zero the counters, load, dump.
wrk -t1 -c10 -d1s "${wrk_args[@]}" http://127.0.0.1:18481/bench/v1/hello >/dev/null
callgrind_control --zero "$tp" >/dev/null
wrk -t1 -c10 -d"${secs}s" "${wrk_args[@]}" http://127.0.0.1:18481/bench/v1/hello >"$work/wrk.out"
grep -q "Non-2xx" "$work/wrk.out" && { echo "some requests failed:"; cat "$work/wrk.out"; exit 1; }
callgrind_control --dump=steady "$tp" >/dev/null
kill -INT "$tp"; wait "$tp" || true
profile=$(ls "$work"/callgrind.out.* | head -1)
requests=$(grep -oP '^\s*\K\d+(?= requests in)' "$work/wrk.out")
total=$(callgrind_annotate "$profile" | grep -oP '^\s*\K[\d,]+(?= \(100\.0%\)\s+PROGRAM TOTALS)' | tr -d ,)
table=$(callgrind_annotate --auto=yes "$profile" core/src/conn/h1.rs 2>/dev/null |
    grep -P 'let table = worker\.table\(\);' | head -1 | grep -oP '^\s*\K[\d,]+' | tr -d , || echo 0)
echo "scenario:                     $scenario"
echo "requests:                     $requests"
echo "instructions (steady state):  $total"
echo "instructions per request:     $((total / requests))"
echo "snapshot read per request:    $(( (table + requests / 2) / requests )) instruction(s) on 'worker.table()' (Rc clone; its drop adds a few)"
echo "profile: $profile (callgrind_annotate --inclusive=yes $profile)"
trap - EXIT
cleanup
