#!/bin/bash
# CPU per forwarded request of the two delay proxies, side by side: Perf/delay_proxy.c (built here) and
# Perf/delay_proxy.py, each in front of the nginx test server with DELAY ms, loaded by h2load with HTTP/1.1
# (C connections, one request in flight each) and HTTP/2 over TLS (2 connections x 100 streams), ROUNDS
# interleaved rounds of SECONDS each. Prints one line per measurement: requests done, the proxy's CPU
# (utime+stime from /proc, 10 ms ticks) and microseconds of proxy CPU per request; the load average with it.
#
#   bash Perf/delay_proxy_cpu.sh [SECONDS=10] [ROUNDS=2] [DELAY=20] [C=64]
#
# Needs nginx (scripts/test-servers/nginx.sh start; started here when not running, and stopped again) and
# h2load (Debian nghttp2-client). Ports 27490-27493.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-10}
ROUNDS=${2:-2}
DELAY=${3:-20}
CONNS=${4:-64}
TMP=$(mktemp -d)
started_nginx=0
if [ ! -f .test-servers/nginx/env ]; then bash scripts/test-servers/nginx.sh start >/dev/null; started_nginx=1; fi
# shellcheck disable=SC1091
source .test-servers/nginx/env
cc -O2 -o "$TMP/delay_proxy" Perf/delay_proxy.c
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ "$started_nginx" = 1 ]; then bash scripts/test-servers/nginx.sh stop >/dev/null || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT
"$TMP/delay_proxy" 27490 "$TANDEM_TEST_NGINX_PORT" "$DELAY" & pids+=($!); C1=$!
python3 Perf/delay_proxy.py 27491 "$TANDEM_TEST_NGINX_PORT" "$DELAY" & pids+=($!); P1=$!
"$TMP/delay_proxy" 27492 "$TANDEM_TEST_NGINX_TLS_PORT" "$DELAY" & pids+=($!); C2=$!
python3 Perf/delay_proxy.py 27493 "$TANDEM_TEST_NGINX_TLS_PORT" "$DELAY" & pids+=($!); P2=$!
sleep 1

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
measure() {  # NAME PID URL H2LOAD-ARGS...
    local name=$1 pid=$2 url=$3; shift 3
    local t0 t1 out done_
    t0=$(ticks "$pid")
    out=$(h2load "$@" -D "$SECONDS_EACH" "$url" 2>&1)
    t1=$(ticks "$pid")
    done_=$(echo "$out" | sed -n 's/^requests: .* \([0-9]*\) done,.*/\1/p')
    awk -v n="$name" -v d="$done_" -v t=$((t1 - t0)) -v l="$(cut -d' ' -f1 /proc/loadavg)" -v s="$SECONDS_EACH" \
        'BEGIN { printf "%-10s %8d req (%6.0f/s)  cpu %5.2f s  %6.1f us/req  load %s\n", n, d, d / s, t / 100, t * 10000 / (d > 0 ? d : 1), l }'
}
for r in $(seq "$ROUNDS"); do
    echo "round $r"
    measure c-h1 "$C1" "http://127.0.0.1:27490/" --h1 -c "$CONNS"
    measure py-h1 "$P1" "http://127.0.0.1:27491/" --h1 -c "$CONNS"
    measure c-h2 "$C2" "https://127.0.0.1:27492/" -c 2 -m 100
    measure py-h2 "$P2" "https://127.0.0.1:27493/" -c 2 -m 100
done
