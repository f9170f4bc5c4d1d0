#!/usr/bin/env bash
# Whole-system HTTP/1.1 proxy benchmark: turnpike (epoll, io_uring, TLS) side by side with nginx and
# HAProxy.
# Method: ../shared/PERF.md (see perf/README.md). Prints a table; records nothing by itself.
#
# Environment (all optional):
#   PROXIES      proxies to measure, in round order   (default "nginx turnpike-epoll turnpike-uring")
#   ROUNDS       interleaved rounds                   (default 3)
#   DURATION     seconds per wrk run                  (default 10)
#   CONNECTIONS  wrk connections                      (default 50)
#   PROXY_CPU    CPU the proxy is pinned to           (default 0)
#   LOAD_CPU     CPU for wrk and the backend          (default 1)
#   BASE_PORT    first of six local ports             (default 18080: backend, +1 nginx, +2 turnpike,
#                +3 nginx-tls, +4 haproxy-tls, +5 turnpike's HTTPS listener)
#   HANDSHAKES   0: keep-alive only; 1: also every proxy with a new connection per request (rows
#                "<proxy>+hs", wrk -H Connection:close); only: just those (default 0)
#   TLS_KEY      server key of the TLS variants: ec (P-256) or rsa (2048 bits) (default ec)
#   TURNPIKE_BIN use this binary instead of building target/release/turnpike
#   MAX_FOREIGN  % of machine CPU other processes may use during a run before it is repeated (default 10)
#   KEEP=1       keep the work directory (configs, logs, raw wrk output)
#   TOKENS       distinct RS256 tokens for the turnpike-jwt-* variants (default 2000)
#
# Proxies: nginx, turnpike-epoll, turnpike-uring (plain proxying), and turnpike-jwt-epoll,
# turnpike-jwt-uring: the same API secured with OAuth2, every request carrying one of TOKENS distinct
# RS256 JWTs in turn (wrk script), so after the warm-up every token is served from the per-core
# verified-token cache. Example: PROXIES="nginx turnpike-epoll turnpike-jwt-epoll" perf/run.sh
#
# TLS variants, all with the same certificate (a test CA and a server certificate for 127.0.0.1 and
# localhost, made here with openssl), measured with wrk over https, keep-alive: nginx-tls (nginx
# terminating TLS, ssl_session_tickets on), haproxy-tls (HAProxy terminating TLS, http-reuse always;
# installed with apt-get when missing), turnpike-tls-epoll and turnpike-tls-uring (turnpike's [tls]
# listener, which serves the APIs too). Each keeps its backend connections alive. With HANDSHAKES=1
# every variant is measured a second time opening a new connection for each request (a TLS
# handshake per request for the TLS variants). Ratios in the summary: TLS variants against
# nginx-tls, plain ones against nginx, "+hs" rows against the "+hs" row of the same reference.
# Example: PROXIES="nginx-tls haproxy-tls turnpike-tls-epoll" HANDSHAKES=1 perf/run.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PROXIES=${PROXIES:-"nginx turnpike-epoll turnpike-uring"}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
PROXY_CPU=${PROXY_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
BASE_PORT=${BASE_PORT:-18080}
MAX_FOREIGN=${MAX_FOREIGN:-10}
HANDSHAKES=${HANDSHAKES:-0}
TLS_KEY=${TLS_KEY:-ec}
BACKEND_PORT=$BASE_PORT
NGINX_PORT=$((BASE_PORT + 1))
TURNPIKE_PORT=$((BASE_PORT + 2))
NGINX_TLS_PORT=$((BASE_PORT + 3))
HAPROXY_TLS_PORT=$((BASE_PORT + 4))
TURNPIKE_TLS_PORT=$((BASE_PORT + 5))
ROUTE=/bench/v1/hello
HZ=$(getconf CLK_TCK)

case $HANDSHAKES in
0) RUNS=$PROXIES ;;
1) RUNS="$PROXIES $(for p in $PROXIES; do printf '%s+hs ' "$p"; done)" ;;
only) RUNS=$(for p in $PROXIES; do printf '%s+hs ' "$p"; done) ;;
*) echo "HANDSHAKES must be 0, 1 or only" >&2; exit 2 ;;
esac
WITH_TLS=0
[[ " $PROXIES " == *"-tls"* ]] && WITH_TLS=1

WORK=$(mktemp -d -t turnpike-perf.XXXXXX)
declare -A PID=()

log() { printf '[perf] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
    local p
    for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.3
    for p in "${PID[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    if [[ ${KEEP:-0} == 1 ]]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- tools
install_missing() {
    local missing=()
    command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
    command -v wrk >/dev/null 2>&1 || missing+=(wrk)
    command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
    if ((WITH_TLS)); then
        command -v openssl >/dev/null 2>&1 || missing+=(openssl)
        command -v curl >/dev/null 2>&1 || missing+=(curl)
    fi
    if [[ " $PROXIES " == *" haproxy-tls "* ]]; then
        command -v haproxy >/dev/null 2>&1 || [[ -x /usr/sbin/haproxy ]] || missing+=(haproxy)
    fi
    ((${#missing[@]} == 0)) && return
    log "installing: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
install_missing
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

if [[ " $PROXIES " == *" turnpike-"* ]]; then
    if [[ -n ${TURNPIKE_BIN:-} ]]; then
        BIN=$TURNPIKE_BIN
    else
        log "building turnpike (release)"
        (cd "$ROOT" && cargo build --release -p turnpike-adapter)
        BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/turnpike
    fi
    [[ -x $BIN ]] || die "turnpike binary not found at $BIN"
fi

# ---------------------------------------------------------------- helpers
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_listening() { # port pid name
    local i
    for ((i = 0; i < 200; i++)); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# Prints the status code of GET $ROUTE on port $1 (plain bash, no curl needed).
status_of() { # port [extra header line]
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET %s HTTP/1.1\r\nHost: bench\r\n%sConnection: close\r\n\r\n" "$2" "$3" >&3
        IFS=" " read -r _ code _ <&3 && echo "$code"' _ "$1" "$ROUTE" "${2:+$2$'\r\n'}" 2>/dev/null || echo "none"
}

# Prints the status code of GET $ROUTE over https on port $1, the certificate checked against the
# test CA.
status_tls() { # port
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert "$WORK/ca.crt" \
        "https://127.0.0.1:$1$ROUTE" 2>/dev/null || echo "none"
}

# utime+stime (ticks) of a process and its children (process lines include all threads).
ticks_of() {
    local total=0 p f
    for p in "$1" $(pgrep -P "$1" || true); do
        [[ -r /proc/$p/stat ]] || continue
        f=$(sed 's/^.*) //' "/proc/$p/stat") # fields from 3 on; comm may hold spaces
        set -- $f
        total=$((total + ${12} + ${13}))     # fields 14 and 15
    done
    echo "$total"
}

rss_kib_of() {
    local total=0 p v
    for p in "$1" $(pgrep -P "$1" || true); do
        v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# Busy ticks of the whole machine (user nice system irq softirq steal).
machine_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
machine_total() { awk '/^cpu / {s = 0; for (i = 2; i <= 9; i++) s += $i; print s}' /proc/stat; }

# Waits (up to 15 s) until the machine is quiet: < 10 % busy over one second.
wait_quiet() {
    local i b0 t0 b1 t1 pct
    for ((i = 0; i < 15; i++)); do
        b0=$(machine_busy); t0=$(machine_total); sleep 1; b1=$(machine_busy); t1=$(machine_total)
        pct=$(( (b1 - b0) * 100 / ((t1 - t0) > 0 ? (t1 - t0) : 1) ))
        ((pct < 10)) && return 0
        log "machine busy (${pct}%), waiting"
    done
    log "warning: machine never became quiet"
}

to_ms() { # wrk latency like 812.00us / 1.23ms / 2.01s
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n *= 1000
        printf "%.3f", n }'
}

# ---------------------------------------------------------------- the backend and proxies
for p in "$BACKEND_PORT" "$NGINX_PORT" "$TURNPIKE_PORT" "$NGINX_TLS_PORT" "$HAPROXY_TLS_PORT" "$TURNPIKE_TLS_PORT"; do
    port_free "$p" || die "port $p is in use (set BASE_PORT)"
done
mkdir -p "$WORK/tmp" "$WORK/apis"
BODY='{"status":"ok","service":"turnpike-bench-backend","note":"fixed 100-byte JSON body for proxy tests"}'
(( ${#BODY} == 100 )) || die "backend body is ${#BODY} bytes, expected 100"

nginx_common() {
    cat <<CONF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/$1.pid;
error_log $WORK/$1-error.log warn;
events { worker_connections 4096; multi_accept on; }
CONF
}

{
    nginx_common backend
    cat <<CONF
http {
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path $WORK/tmp/b-body;
    proxy_temp_path $WORK/tmp/b-proxy;
    fastcgi_temp_path $WORK/tmp/b-fcgi;
    uwsgi_temp_path $WORK/tmp/b-uwsgi;
    scgi_temp_path $WORK/tmp/b-scgi;
    server {
        listen 127.0.0.1:$BACKEND_PORT backlog=4096;
        location / {
            default_type application/json;
            return 200 '$BODY';
        }
    }
}
CONF
} >"$WORK/backend.conf"

{
    nginx_common proxy
    cat <<CONF
http {
    access_log off;
    keepalive_requests 1000000000;
    keepalive_timeout 300s;
    client_body_temp_path $WORK/tmp/p-body;
    proxy_temp_path $WORK/tmp/p-proxy;
    fastcgi_temp_path $WORK/tmp/p-fcgi;
    uwsgi_temp_path $WORK/tmp/p-uwsgi;
    scgi_temp_path $WORK/tmp/p-scgi;
    upstream bench_backend {
        server 127.0.0.1:$BACKEND_PORT;
        keepalive 64;
        keepalive_requests 1000000000;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=4096;
        location /bench/v1/ {
            proxy_pass http://bench_backend/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
} >"$WORK/proxy.conf"

cat >"$WORK/apis/bench.yaml" <<YAML
openapi: 3.0.3
info: {title: Bench, version: "1.0"}
x-wso2-basePath: /bench/v1
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:$BACKEND_PORT"]}
paths:
  /*:
    get: {responses: {"200": {description: ok}}}
YAML

cat >"$WORK/gateway.toml" <<TOML
[runtime]
workers = 1
pin_workers = false
[apis]
directory = "$WORK/apis"
[log]
level = "warn"
[security]
default = "none"
TOML

# The JWT variants: an RS256 key (made here), its JWKS as a static issuer key set, TOKENS tokens
# (distinct jti and sub) valid for two hours, and a wrk script that sends them in turn.
if [[ " $PROXIES " == *" turnpike-jwt-"* ]]; then
    command -v openssl >/dev/null || die "openssl is needed for the JWT variants"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/jwt.key" 2>/dev/null
    b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
    n=$(openssl rsa -in "$WORK/jwt.key" -noout -modulus | cut -d= -f2 | xxd -r -p | b64url)
    printf '{"keys":[{"kty":"RSA","kid":"bench","alg":"RS256","use":"sig","n":"%s","e":"AQAB"}]}' "$n" >"$WORK/jwks.json"
    now=$(date +%s)
    head=$(printf '{"alg":"RS256","typ":"JWT","kid":"bench"}' | b64url)
    log "minting ${TOKENS:-2000} RS256 tokens"
    for ((i = 0; i < ${TOKENS:-2000}; i++)); do
        body=$(printf '{"iss":"https://bench.local/token","sub":"user-%d","aud":"bench","azp":"bench-app","scope":"read","jti":"bench-%d","iat":%d,"exp":%d}' \
            "$i" "$i" "$now" $((now + 7200)) | b64url)
        sig=$(printf '%s.%s' "$head" "$body" | openssl dgst -sha256 -sign "$WORK/jwt.key" -binary | b64url)
        echo "$head.$body.$sig"
    done >"$WORK/tokens.txt"
    cat >"$WORK/tokens.lua" <<LUA
local tokens = {}
for line in io.lines("$WORK/tokens.txt") do tokens[#tokens + 1] = "Bearer " .. line end
local i = 0
request = function()
    i = i % #tokens + 1
    return wrk.format(nil, nil, { ["Authorization"] = tokens[i] })
end
LUA
    sed 's/^default = "none"$/default = "oauth2"/' "$WORK/gateway.toml" >"$WORK/gateway-jwt.toml"
    cat >>"$WORK/gateway-jwt.toml" <<TOML
[[security.issuers]]
name = "bench"
issuer = "https://bench.local/token"
jwks_file = "$WORK/jwks.json"
algorithms = ["RS256"]
TOML
fi

# The TLS variants: one test CA and one server certificate (127.0.0.1, localhost) for all of them.
if ((WITH_TLS)); then
    case $TLS_KEY in
    ec) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    rsa) newkey=(-newkey rsa:2048) ;;
    *) die "TLS_KEY must be ec or rsa" ;;
    esac
    log "making a test CA and a $TLS_KEY server certificate for 127.0.0.1 and localhost"
    openssl req -x509 "${newkey[@]}" -nodes -keyout "$WORK/ca.key" -out "$WORK/ca.crt" -days 2 \
        -subj "/CN=Turnpike Perf CA" 2>/dev/null
    openssl req "${newkey[@]}" -nodes -keyout "$WORK/server.key" -out "$WORK/server.csr" \
        -subj "/CN=localhost" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$WORK/server.ext"
    openssl x509 -req -in "$WORK/server.csr" -CA "$WORK/ca.crt" -CAkey "$WORK/ca.key" -CAcreateserial \
        -days 2 -extfile "$WORK/server.ext" -out "$WORK/server.crt" 2>/dev/null
    cat "$WORK/server.crt" "$WORK/server.key" >"$WORK/server.pem" # HAProxy: chain and key in one file

    # nginx terminating TLS: the plain proxy's configuration with an ssl listener instead.
    sed -e "s|listen 127.0.0.1:$NGINX_PORT backlog=4096;|listen 127.0.0.1:$NGINX_TLS_PORT ssl backlog=4096;\\
        ssl_certificate $WORK/server.crt;\\
        ssl_certificate_key $WORK/server.key;\\
        ssl_session_tickets on;|" \
        -e "s|pid $WORK/proxy.pid;|pid $WORK/nginx-tls.pid;|" \
        -e "s|error_log $WORK/proxy-error.log|error_log $WORK/nginx-tls-error.log|" \
        -e "s|/p-|/t-|" "$WORK/proxy.conf" >"$WORK/proxy-tls.conf"
    grep -q "ssl_session_tickets on" "$WORK/proxy-tls.conf" || die "nginx-tls configuration not made"

    # HAProxy 2.6 terminating TLS (tickets on by default), one thread, backend connections reused.
    cat >"$WORK/haproxy.cfg" <<CONF
global
    nbthread 1
    maxconn 8192
    pidfile $WORK/haproxy.pid
defaults
    mode http
    timeout connect 5s
    timeout client 300s
    timeout server 300s
    timeout http-keep-alive 300s
frontend bench
    bind 127.0.0.1:$HAPROXY_TLS_PORT ssl crt $WORK/server.pem alpn http/1.1
    default_backend backend
backend backend
    http-reuse always
    http-request replace-path /bench/v1(/.*) \1
    server b1 127.0.0.1:$BACKEND_PORT maxconn 1000
CONF

    # turnpike's HTTPS listener (the plain listener stays too; only the HTTPS one is measured).
    cp "$WORK/gateway.toml" "$WORK/gateway-tls.toml"
    cat >>"$WORK/gateway-tls.toml" <<TOML
[tls]
listen = "127.0.0.1:$TURNPIKE_TLS_PORT"
[[tls.certificates]]
cert_file = "$WORK/server.crt"
key_file = "$WORK/server.key"
TOML
fi

# Extra wrk arguments, one per line, and the probe's header for a proxy variant ("+hs": a new
# connection for each request; wrk reconnects when the response says Connection: close; wrk only
# takes a -H header written "Name: value").
wrk_extra() {
    case $1 in turnpike-jwt-*) printf '%s\n' -s "$WORK/tokens.lua" ;; esac
    case $1 in *+hs) printf '%s\n' -H "Connection: close" ;; esac
}
probe_header() { case $1 in turnpike-jwt-*) echo "Authorization: Bearer $(head -1 "$WORK/tokens.txt")" ;; esac; }

start_nginx() { # name conf cpu
    taskset -c "$3" "$NGINX" -p "$WORK" -e "$WORK/$1-startup.log" -c "$2" >"$WORK/$1.out" 2>&1 &
    PID[$1]=$!
}

start_proxy() { # proxy name; sets PID[name]; returns 1 if it cannot start
    local name=$1 port
    case ${name%+hs} in
    nginx)
        start_nginx "$name" "$WORK/proxy.conf" "$PROXY_CPU"
        port=$NGINX_PORT ;;
    nginx-tls)
        start_nginx "$name" "$WORK/proxy-tls.conf" "$PROXY_CPU"
        port=$NGINX_TLS_PORT ;;
    haproxy-tls)
        taskset -c "$PROXY_CPU" "$HAPROXY" -db -f "$WORK/haproxy.cfg" >"$WORK/$name.out" 2>&1 &
        PID[$name]=$!
        port=$HAPROXY_TLS_PORT ;;
    turnpike-tls-epoll | turnpike-tls-uring)
        taskset -c "$PROXY_CPU" "$BIN" run --config "$WORK/gateway-tls.toml" --listen "127.0.0.1:$TURNPIKE_PORT" \
            --workers 1 --driver "$(driver_of "$name")" >"$WORK/$name.out" 2>&1 &
        PID[$name]=$!
        port=$TURNPIKE_TLS_PORT ;;
    turnpike-epoll | turnpike-uring)
        taskset -c "$PROXY_CPU" "$BIN" run --config "$WORK/gateway.toml" --listen "127.0.0.1:$TURNPIKE_PORT" \
            --workers 1 --driver "$(driver_of "$name")" >"$WORK/$name.out" 2>&1 &
        PID[$name]=$!
        port=$TURNPIKE_PORT ;;
    turnpike-jwt-epoll | turnpike-jwt-uring)
        taskset -c "$PROXY_CPU" "$BIN" run --config "$WORK/gateway-jwt.toml" --listen "127.0.0.1:$TURNPIKE_PORT" \
            --workers 1 --driver "$(driver_of "$name")" >"$WORK/$name.out" 2>&1 &
        PID[$name]=$!
        port=$TURNPIKE_PORT ;;
    *) die "unknown proxy $name (nginx, turnpike-epoll, turnpike-uring, turnpike-jwt-epoll, turnpike-jwt-uring, nginx-tls, haproxy-tls, turnpike-tls-epoll, turnpike-tls-uring)" ;;
    esac
    if ! wait_listening "$port" "${PID[$name]}"; then
        log "$name did not start; its output:"
        tail -n 20 "$WORK/$name.out" "$WORK/$name-error.log" 2>/dev/null >&2 || true
        kill -KILL "${PID[$name]}" 2>/dev/null || true
        unset "PID[$name]"
        return 1
    fi
    local code
    if is_tls "$name"; then code=$(status_tls "$port"); else code=$(status_of "$port" "$(probe_header "$name")"); fi
    if [[ $code != 200 ]]; then
        log "$name answered $code (not 200) on $ROUTE; its output:"
        tail -n 20 "$WORK/$name.out" >&2 || true
        kill -KILL "${PID[$name]}" 2>/dev/null || true
        unset "PID[$name]"
        return 1
    fi
}

stop_proxy() {
    local p=${PID[$1]:-}
    [[ -n $p ]] || return 0
    kill -TERM "$p" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
    unset "PID[$1]"
}

port_of() {
    case ${1%+hs} in
    nginx) echo "$NGINX_PORT" ;;
    nginx-tls) echo "$NGINX_TLS_PORT" ;;
    haproxy-tls) echo "$HAPROXY_TLS_PORT" ;;
    turnpike-tls-*) echo "$TURNPIKE_TLS_PORT" ;;
    *) echo "$TURNPIKE_PORT" ;;
    esac
}
is_tls() { [[ ${1%+hs} == *-tls || ${1%+hs} == *-tls-* ]]; }
url_of() { if is_tls "$1"; then echo "https://127.0.0.1:$(port_of "$1")$ROUTE"; else echo "http://127.0.0.1:$(port_of "$1")$ROUTE"; fi; }
driver_of() { local n=${1%+hs}; echo "${n##*-}"; }

log "work directory: $WORK"
start_nginx backend "$WORK/backend.conf" "$LOAD_CPU"
wait_listening "$BACKEND_PORT" "${PID[backend]}" || { cat "$WORK/backend.out" "$WORK/backend-error.log" >&2 || true; die "backend did not start"; }
[[ $(status_of "$BACKEND_PORT") == 200 ]] || die "backend does not answer 200"

# One proxy at a time (the turnpike variants share a port); each run starts it fresh.
# Writes "cpu_us rps p50_ms p99_ms rss_kib requests errors foreign_pct proxy_core_pct load_core_pct"
# to $WORK/line (the last two: share of one core used by the proxy, and by wrk + backend: when the
# load side is at ~100 % and the proxy is not, req/s measures the load side, not the proxy). Runs in the
# main shell (not a $(...) subshell) so that the EXIT trap knows every process it started.
measure() {
    local name=$1 round=$2 out pid t0 t1 b0 b1 tot0 tot1 bk0 bk1 wrk_ticks
    start_proxy "$name" || return 1
    pid=${PID[$name]}
    # Warm up (connections, pools, caches), then measure.
    local extra=()
    mapfile -t extra < <(wrk_extra "$name")
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d1s "${extra[@]}" "$(url_of "$name")" >/dev/null 2>&1 || true
    wait_quiet
    out=$WORK/wrk-$name-$round.txt
    t0=$(ticks_of "$pid"); bk0=$(ticks_of "${PID[backend]}"); b0=$(machine_busy); tot0=$(machine_total)
    bash -c 'cpu=$1 c=$2 d=$3 url=$4 out=$5; shift 5
        taskset -c "$cpu" wrk -t1 -c"$c" -d"$d"s --latency "$@" "$url" >"$out" 2>&1
        read -r line </proc/$$/stat; echo "$line" >"$out.stat"' \
        _ "$LOAD_CPU" "$CONNECTIONS" "$DURATION" "$(url_of "$name")" "$out" "${extra[@]}"
    t1=$(ticks_of "$pid"); bk1=$(ticks_of "${PID[backend]}"); b1=$(machine_busy); tot1=$(machine_total)
    wrk_ticks=$(sed 's/^.*) //' "$out.stat" | awk '{print $14 + $15}') # cutime + cstime of the wrapper
    local rss requests rps p50 p99 errors
    rss=$(rss_kib_of "$pid")
    stop_proxy "$name"
    requests=$(awk '/requests in/ {print $1}' "$out")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    errors=$(awk '/Non-2xx or 3xx responses:/ {n += $NF} /Socket errors:/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}' "$out")
    [[ -n $requests && $requests -gt 0 ]] || { log "$name: wrk completed no requests:"; cat "$out" >&2; return 1; }
    local cpu_us foreign
    cpu_us=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v n="$requests" 'BEGIN {printf "%.2f", d * 1e6 / hz / n}')
    foreign=$(awk -v busy=$((b1 - b0)) -v tot=$((tot1 - tot0)) -v ours=$((t1 - t0 + bk1 - bk0 + wrk_ticks)) \
        'BEGIN {f = (busy - ours) * 100 / (tot > 0 ? tot : 1); if (f < 0) f = 0; printf "%.1f", f}')
    local proxy_pct load_pct
    proxy_pct=$(awk -v d=$((t1 - t0)) -v hz="$HZ" -v s="$DURATION" 'BEGIN {printf "%.0f", d * 100 / hz / s}')
    load_pct=$(awk -v d=$((bk1 - bk0 + wrk_ticks)) -v hz="$HZ" -v s="$DURATION" 'BEGIN {printf "%.0f", d * 100 / hz / s}')
    echo "$cpu_us $rps $p50 $p99 $rss $requests $errors $foreign $proxy_pct $load_pct" >"$WORK/line"
}

RESULTS=$WORK/results.tsv
printf 'proxy\tround\tcpu_us_per_req\treq_per_s\tp50_ms\tp99_ms\trss_kib\trequests\terrors\tforeign_cpu_pct\tproxy_core_pct\tload_core_pct\n' >"$RESULTS"
declare -A SKIP=()
for ((round = 1; round <= ROUNDS; round++)); do
    for name in $RUNS; do
        [[ -n ${SKIP[$name]:-} ]] && continue
        line=""
        for attempt in 1 2 3; do
            if ! measure "$name" "$round"; then
                log "$name: cannot be measured; dropped from the comparison"
                SKIP[$name]=1
                line=""
                break
            fi
            line=$(cat "$WORK/line")
            read -r _ _ _ _ _ _ _ foreign _ <<<"$line"
            if awk -v f="$foreign" -v m="$MAX_FOREIGN" 'BEGIN {exit !(f <= m)}'; then break; fi
            log "$name round $round: ${foreign}% of the machine went to other processes; repeating (attempt $attempt)"
        done
        [[ -n $line ]] || continue
        set -- $line
        log "$(printf '%-22s round %d: %6s us/req %10s req/s p50 %s ms p99 %s ms rss %s KiB errors %s foreign %s%% proxy core %s%% load core %s%%' \
            "$name" "$round" "$1" "$2" "$3" "$4" "$5" "$7" "$8" "$9" "${10}")"
        printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$round" "$@" >>"$RESULTS"
    done
done

# ---------------------------------------------------------------- summary
mkdir -p "$ROOT/perf/out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cp "$RESULTS" "$ROOT/perf/out/results-$stamp.tsv"

echo
echo "HTTP/1.1, wrk -t1 -c$CONNECTIONS -d${DURATION}s, $ROUNDS round(s), proxy on CPU $PROXY_CPU, wrk+backend on CPU $LOAD_CPU; medians"
echo "*-tls: https ($TLS_KEY key), keep-alive; +hs: a new connection per request. Ratios (/ref): *-tls to nginx-tls, others to nginx, +hs to the reference's +hs"
awk -F'\t' '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    NR > 1 {
        if (!($1 in seen)) { seen[$1] = 1; order[++k] = $1 }
        cpu[$1] = cpu[$1] " " $3; rps[$1] = rps[$1] " " $4; p50[$1] = p50[$1] " " $5
        p99[$1] = p99[$1] " " $6; rss[$1] = rss[$1] " " $7; err[$1] += $9; runs[$1]++
        pc[$1] = pc[$1] " " $11; lc[$1] = lc[$1] " " $12
    }
    END {
        printf "%-22s %12s %12s %9s %9s %9s %6s %8s %8s %7s %8s %8s\n", "proxy", "cpu_us/req", "req/s", "p50_ms", "p99_ms", "rss_MiB", "runs", "cpu/ref", "rps/ref", "errors", "proxy%", "load%"
        for (i = 1; i <= k; i++) {
            p = order[i]; c = median(cpu[p]); r = median(rps[p])
            base = p; hs = sub(/\+hs$/, "", base)
            ref = (base ~ /-tls(-|$)/ ? "nginx-tls" : "nginx") (hs ? "+hs" : "")
            nc = (ref in seen) ? median(cpu[ref]) : 0; nr = (ref in seen) ? median(rps[ref]) : 0
            cr = nc > 0 ? sprintf("%.2f", c / nc) : "-"; rr = nr > 0 ? sprintf("%.2f", r / nr) : "-"
            printf "%-22s %12.2f %12.0f %9.3f %9.3f %9.1f %6d %8s %8s %7d %8.0f %8.0f\n", p, c, r, median(p50[p]), median(p99[p]), median(rss[p]) / 1024, runs[p], cr, rr, err[p], median(pc[p]), median(lc[p])
        }
    }' "$RESULTS"
echo
echo "raw rows: perf/out/results-$stamp.tsv (not committed). Trust only differences above ~25 % (../shared/PERF.md)."
