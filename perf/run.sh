#!/usr/bin/env bash
# Whole-system HTTP/1.1 proxy benchmark: turnpike (epoll, io_uring) side by side with nginx.
# Method: ../shared/PERF.md (see perf/README.md). Prints a table; records nothing by itself.
#
# Environment (all optional):
#   PROXIES      proxies to measure, in round order   (default "nginx turnpike-epoll turnpike-uring")
#   ROUNDS       interleaved rounds                   (default 3)
#   DURATION     seconds per wrk run                  (default 10)
#   CONNECTIONS  wrk connections                      (default 50)
#   PROXY_CPU    CPU the proxy is pinned to           (default 0)
#   LOAD_CPU     CPU for wrk and the backend          (default 1)
#   BASE_PORT    first of three local ports           (default 18080: backend, +1 nginx, +2 turnpike)
#   TURNPIKE_BIN use this binary instead of building target/release/turnpike
#   MAX_FOREIGN  % of machine CPU other processes may use during a run before it is repeated (default 10)
#   KEEP=1       keep the work directory (configs, logs, raw wrk output)
#   TOKENS       distinct RS256 tokens for the turnpike-jwt-* variants (default 2000)
#
# Proxies: nginx, turnpike-epoll, turnpike-uring (plain proxying), and turnpike-jwt-epoll,
# turnpike-jwt-uring: the same API secured with OAuth2, every request carrying one of TOKENS distinct
# RS256 JWTs in turn (wrk script), so after the warm-up every token is served from the per-core
# verified-token cache. Example: PROXIES="nginx turnpike-epoll turnpike-jwt-epoll" perf/run.sh
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
BACKEND_PORT=$BASE_PORT
NGINX_PORT=$((BASE_PORT + 1))
TURNPIKE_PORT=$((BASE_PORT + 2))
ROUTE=/bench/v1/hello
HZ=$(getconf CLK_TCK)

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
    ((${#missing[@]} == 0)) && return
    log "installing: ${missing[*]}"
    local sudo=""
    [[ $(id -u) -ne 0 ]] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}
install_missing
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

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
for p in "$BACKEND_PORT" "$NGINX_PORT" "$TURNPIKE_PORT"; do
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

# Extra wrk arguments and the probe's header for a proxy variant.
wrk_extra() { case $1 in turnpike-jwt-*) echo "-s $WORK/tokens.lua" ;; esac; }
probe_header() { case $1 in turnpike-jwt-*) echo "Authorization: Bearer $(head -1 "$WORK/tokens.txt")" ;; esac; }

start_nginx() { # name conf cpu
    taskset -c "$3" "$NGINX" -p "$WORK" -e "$WORK/$1-startup.log" -c "$2" >"$WORK/$1.out" 2>&1 &
    PID[$1]=$!
}

start_proxy() { # proxy name; sets PID[name]; returns 1 if it cannot start
    local name=$1 port
    case $name in
    nginx)
        start_nginx nginx "$WORK/proxy.conf" "$PROXY_CPU"
        port=$NGINX_PORT ;;
    turnpike-epoll | turnpike-uring)
        taskset -c "$PROXY_CPU" "$BIN" run --config "$WORK/gateway.toml" --listen "127.0.0.1:$TURNPIKE_PORT" \
            --workers 1 --driver "${name#turnpike-}" >"$WORK/$name.out" 2>&1 &
        PID[$name]=$!
        port=$TURNPIKE_PORT ;;
    turnpike-jwt-epoll | turnpike-jwt-uring)
        taskset -c "$PROXY_CPU" "$BIN" run --config "$WORK/gateway-jwt.toml" --listen "127.0.0.1:$TURNPIKE_PORT" \
            --workers 1 --driver "${name#turnpike-jwt-}" >"$WORK/$name.out" 2>&1 &
        PID[$name]=$!
        port=$TURNPIKE_PORT ;;
    *) die "unknown proxy $name (nginx, turnpike-epoll, turnpike-uring, turnpike-jwt-epoll, turnpike-jwt-uring)" ;;
    esac
    if ! wait_listening "$port" "${PID[$name]}"; then
        log "$name did not start; its output:"
        tail -n 20 "$WORK/$name.out" "$WORK/$name-error.log" 2>/dev/null >&2 || true
        kill -KILL "${PID[$name]}" 2>/dev/null || true
        unset "PID[$name]"
        return 1
    fi
    local code
    code=$(status_of "$port" "$(probe_header "$name")")
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

port_of() { case $1 in nginx) echo "$NGINX_PORT" ;; *) echo "$TURNPIKE_PORT" ;; esac; }

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
    local name=$1 round=$2 port out pid t0 t1 b0 b1 tot0 tot1 bk0 bk1 wrk_ticks
    port=$(port_of "$name")
    start_proxy "$name" || return 1
    pid=${PID[$name]}
    # Warm up (connections, pools, caches), then measure.
    # shellcheck disable=SC2046 # wrk_extra is a word list
    taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d1s $(wrk_extra "$name") "http://127.0.0.1:$port$ROUTE" >/dev/null 2>&1 || true
    wait_quiet
    out=$WORK/wrk-$name-$round.txt
    t0=$(ticks_of "$pid"); bk0=$(ticks_of "${PID[backend]}"); b0=$(machine_busy); tot0=$(machine_total)
    bash -c 'taskset -c "$1" wrk -t1 -c"$2" -d"$3"s --latency $6 "$4" >"$5" 2>&1; read -r line </proc/$$/stat; echo "$line" >"$5.stat"' \
        _ "$LOAD_CPU" "$CONNECTIONS" "$DURATION" "http://127.0.0.1:$port$ROUTE" "$out" "$(wrk_extra "$name")"
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
    for name in $PROXIES; do
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
        log "$(printf '%-15s round %d: %6s us/req %10s req/s p50 %s ms p99 %s ms rss %s KiB errors %s foreign %s%% proxy core %s%% load core %s%%' \
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
        printf "%-16s %12s %12s %9s %9s %9s %6s %10s %10s %7s %8s %8s\n", "proxy", "cpu_us/req", "req/s", "p50_ms", "p99_ms", "rss_MiB", "runs", "cpu/nginx", "rps/nginx", "errors", "proxy%", "load%"
        if ("nginx" in seen) { nc = median(cpu["nginx"]); nr = median(rps["nginx"]) }
        for (i = 1; i <= k; i++) {
            p = order[i]; c = median(cpu[p]); r = median(rps[p])
            cr = nc > 0 ? sprintf("%.2f", c / nc) : "-"; rr = nr > 0 ? sprintf("%.2f", r / nr) : "-"
            printf "%-16s %12.2f %12.0f %9.3f %9.3f %9.1f %6d %10s %10s %7d %8.0f %8.0f\n", p, c, r, median(p50[p]), median(p99[p]), median(rss[p]) / 1024, runs[p], cr, rr, err[p], median(pc[p]), median(lc[p])
        }
    }' "$RESULTS"
echo
echo "raw rows: perf/out/results-$stamp.tsv (not committed). Trust only differences above ~25 % (../shared/PERF.md)."
