#!/usr/bin/env bash
# DNS benchmark (issue 18): the numeric, warm-cache and fresh-lookup configs measured in one
# Perf/harness.py relay run, ROUNDS times interleaved (numeric-1 warm-1 fresh-1 numeric-2 ...), so each
# name-based rate has a numeric rate measured minutes before it on the same (shared) machine.
# dnsmasq answers *.perf.test on 127.0.0.1:15355; Perf/dns_delay.py on 127.0.0.1:15353 (the configs'
# dns_servers) delays every answer by DELAY_MS.
# NOTE.md gets the per-round ratios (Perf/dns_ratios.py).
# Usage: Perf/dns_bench.sh [ROUNDS=2] [DELAY_MS=20] [extra harness.py relay options...]
# Needs: swift build -c release; dnsmasq (dnsmasq-base), sip-tester. Output: Perf/results/dns-<UTC>/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
DELAY=${2:-20}
shift 2 2>/dev/null || shift $#
BIN=${TANDEM_BIN:-.build/release/tandem}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=Perf/results/dns-$STAMP
TMP=$(mktemp -d)
mkdir -p "$OUT"

/usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=15355 --user=root --group=root --cache-size=0 \
    --local-ttl=3600 --address=/perf.test/127.0.0.1 --pid-file="$TMP/dnsmasq.pid" >"$TMP/dnsmasq.log" 2>&1 &
DNSMASQ=$!
python3 Perf/dns_delay.py 15353 15355 "$DELAY" >"$TMP/delay.log" 2>&1 &
DELAYPID=$!
cleanup() { kill "$DELAYPID" "$DNSMASQ" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for _ in $(seq 50); do
    dig +short +time=1 +tries=1 -p 15353 @127.0.0.1 warmup.perf.test A | grep -q 127.0.0.1 && break
    sleep 0.1
done
dig +short +time=1 +tries=1 -p 15353 @127.0.0.1 check.perf.test A | grep -q 127.0.0.1 ||
    { echo "DNS at 127.0.0.1:15353 not answering" >&2; exit 1; }
# An answer from a dnsmasq or forwarder left over from an earlier run would hide that ours did not start.
kill -0 "$DNSMASQ" 2>/dev/null && kill -0 "$DELAYPID" 2>/dev/null ||
    { echo "dnsmasq or dns_delay.py did not start (ports 15355/15353 taken?)" >&2; cat "$TMP"/*.log >&2; exit 1; }

proxies=()
for round in $(seq "$ROUNDS"); do
    for kind in numeric warm fresh; do
        proxies+=(--proxy "$kind-$round=$BIN run -f Perf/configs/dns-$kind.cfg")
        # The fresh lookup adds DELAY ms to every INVITE -> 200: the usleep configs' bound, 50 + 2 x delay.
        [ "$kind" = fresh ] && proxies+=(--max-p90-for "fresh-$round=$((50 + 2 * DELAY))")
    done
done
python3 Perf/harness.py relay --out "$TMP/runs" "${proxies[@]}" "$@" | tee "$OUT/harness-output.txt"
cp -r "$TMP"/runs/*/. "$OUT/"
cp Perf/configs/dns-numeric.cfg Perf/configs/dns-warm.cfg Perf/configs/dns-fresh.cfg "$OUT/"
{
    echo "DNS delay ${DELAY} ms, rounds ${ROUNDS}, binary $BIN (tree at $(git rev-parse --short HEAD))."
    echo
    python3 Perf/dns_ratios.py "$OUT/results.json"
} >"$OUT/NOTE.md"
echo "results: $OUT"
