#!/usr/bin/env bash
# DNS benchmark (issue 18): the numeric, warm-cache and fresh-lookup configs measured in one
# Perf/harness.py relay run, ROUNDS times interleaved (numeric-1 warm-1 fresh-1 numeric-2 ...), so each
# name-based rate has a numeric rate measured minutes before it on the same (shared) machine.
# The configs' dns_servers, 127.0.0.1:15353, answer every name DELAY_MS late; the DNS side (RIG) shares
# the cores with the proxy and SIPp, so by default it is the cheapest there is:
#   RIG=responder (default): Perf/dns_delay.c compiled here, answering A 127.0.0.1 (TTL 3600) itself;
#   RIG=forwarder: the same program forwarding to dnsmasq on 127.0.0.1:15355 (a real DNS server);
#   RIG=python: Perf/dns_delay.py forwarding to dnsmasq (the earlier runs' rig).
# The DNS chain's own ceiling (fresh queries/s through 15353, no SIP; dnsperf with names never asked
# before) is measured before and after the rounds (dns-chain.txt): a fresh-lookup rate can only be
# judged against min(numeric rate, chain ceiling).
# NOTE.md gets the per-round ratios (Perf/dns_ratios.py), raw and against that bound.
# Usage: Perf/dns_bench.sh [ROUNDS=2] [DELAY_MS=20] [extra harness.py relay options...]
# Env: SIP_PORT, UAS_PORT, UAC_PORT, CONTROL_PORT (defaults 15060, 15070, 15080, 18870) move the proxy and
# SIPp off ports another process on the machine holds (the configs are rewritten into the temp dir).
# Needs: swift build -c release; dnsmasq (dnsmasq-base), sip-tester, dnsperf, a C compiler.
# Output: Perf/results/dns-<UTC>/.
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

RIG=${RIG:-responder}
DNSMASQ=
if [ "$RIG" != responder ]; then
    /usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
        --listen-address=127.0.0.1 --bind-interfaces --port=15355 --user=root --group=root --cache-size=0 \
        --local-ttl=3600 --address=/perf.test/127.0.0.1 --pid-file="$TMP/dnsmasq.pid" >"$TMP/dnsmasq.log" 2>&1 &
    DNSMASQ=$!
fi
case "$RIG" in
    python) python3 Perf/dns_delay.py 15353 15355 "$DELAY" >"$TMP/delay.log" 2>&1 & ;;
    forwarder|responder)
        cc -O2 -o "$TMP/dns_delay" Perf/dns_delay.c
        "$TMP/dns_delay" 15353 "$([ "$RIG" = forwarder ] && echo 15355 || echo 0)" "$DELAY" >"$TMP/delay.log" 2>&1 & ;;
    *) echo "RIG must be responder, forwarder or python" >&2; exit 2 ;;
esac
DELAYPID=$!
cleanup() { kill "$DELAYPID" $DNSMASQ 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for _ in $(seq 50); do
    dig +short +time=1 +tries=1 -p 15353 @127.0.0.1 warmup.perf.test A | grep -q 127.0.0.1 && break
    sleep 0.1
done
dig +short +time=1 +tries=1 -p 15353 @127.0.0.1 check.perf.test A | grep -q 127.0.0.1 ||
    { echo "DNS at 127.0.0.1:15353 not answering" >&2; exit 1; }
# An answer from a dnsmasq or forwarder left over from an earlier run would hide that ours did not start.
{ [ -z "$DNSMASQ" ] || kill -0 "$DNSMASQ" 2>/dev/null; } && kill -0 "$DELAYPID" 2>/dev/null ||
    { echo "dnsmasq or dns_delay did not start (ports 15355/15353 taken?)" >&2; cat "$TMP"/*.log >&2; exit 1; }

# The chain's ceiling: dnsperf (up to 1,000 queries outstanding) for 8 s of names never asked before,
# through 15353 (and straight to dnsmasq on 15355, no delay, when the rig has one), without SIP, with the
# rig's CPU per query (its processes' clock ticks over the queries answered).
python3 -c 'import sys
for i in range(400000): print(f"{sys.argv[1]}{i}.perf.test A")' "chain$STAMP-" >"$TMP/names.txt"
chain() {  # LABEL: appends one line "LABEL port P: N queries/s, L% lost, avg latency S s"
    local port out
    local ports=15353 ticks0 ticks1
    [ -n "$DNSMASQ" ] && ports="15353 15355"
    for port in $ports; do
        ticks0=$(cat /proc/$DELAYPID/stat ${DNSMASQ:+/proc/$DNSMASQ/stat} | awk '{t += $14 + $15} END {print t}')
        out=$(dnsperf -s 127.0.0.1 -p $port -d "$TMP/names.txt" -l 8 -q 1000 -b 4096 2>&1)
        echo "$1 port $port: $(echo "$out" | awk '/Queries per second/ {printf "%.0f queries/s", $4}
            /Queries lost/ {gsub(/[()%]/, "", $4); lost=$4} /Average Latency/ {lat=$4}
            /Queries completed/ {done=$3}
            END {printf ", %s%% lost, avg latency %s s", lost, lat}')" \
            "(rig CPU $(cat /proc/$DELAYPID/stat ${DNSMASQ:+/proc/$DNSMASQ/stat} |
                awk -v t0="$ticks0" -v n="$(echo "$out" | awk '/Queries completed/ {print $3}')" \
                '{t += $14 + $15} END {printf "%.1f", (t - t0) * 10000 / (n > 0 ? n : 1)}') us/query)" |
            tee -a "$OUT/dns-chain.txt"
        # New names for the next measurement (dnsmasq keeps no cache, but stay honest).
        sed -i "s/^chain[^-]*-/chain$1$port-/" "$TMP/names.txt"
    done
}
chain before

SIP_PORT=${SIP_PORT:-15060} UAS_PORT=${UAS_PORT:-15070} UAC_PORT=${UAC_PORT:-15080}
CONTROL_PORT=${CONTROL_PORT:-18870}
for kind in numeric warm fresh; do
    sed -e "s/127\.0\.0\.1:15060/127.0.0.1:$SIP_PORT/" -e "s/:15070\"/:$UAS_PORT\"/" \
        "Perf/configs/dns-$kind.cfg" >"$TMP/dns-$kind.cfg"
done
proxies=(--proxy-addr "127.0.0.1:$SIP_PORT" --uas-port "$UAS_PORT" --uac-port "$UAC_PORT"
         --control-port "$CONTROL_PORT")
for round in $(seq "$ROUNDS"); do
    for kind in numeric warm fresh; do
        proxies+=(--proxy "$kind-$round=$BIN run -f $TMP/dns-$kind.cfg")
        # The fresh lookup adds DELAY ms to every INVITE -> 200: the usleep configs' bound, 50 + 2 x delay.
        [ "$kind" = fresh ] && proxies+=(--max-p90-for "fresh-$round=$((50 + 2 * DELAY))")
    done
done
python3 Perf/harness.py relay --out "$TMP/runs" "${proxies[@]}" "$@" | tee "$OUT/harness-output.txt"
chain after
cp -r "$TMP"/runs/*/. "$OUT/"
cp "$TMP/dns-numeric.cfg" "$TMP/dns-warm.cfg" "$TMP/dns-fresh.cfg" "$OUT/"
{
    echo "DNS delay ${DELAY} ms, rounds ${ROUNDS}, binary $BIN (tree at $(git rev-parse --short HEAD))."
    echo
    echo "DNS chain ceiling (dnsperf, fresh names, no SIP; port 15353 = the DNS side the proxy uses, RIG=$RIG):"
    echo
    sed 's/^/    /' "$OUT/dns-chain.txt"
    echo
    python3 Perf/dns_ratios.py "$OUT/results.json" --chain-ceiling "$(awk '/port 15353/ {print $4}' "$OUT/dns-chain.txt" | sort -n | head -1)"
} >"$OUT/NOTE.md"
echo "results: $OUT"
