#!/usr/bin/env bash
# Memory per suspended transaction (issue 19): N calls wait in async(sleep) all at once; the figure is the
# proxy's RSS when every one of them is suspended and none resumed yet (/stats sip.suspended_now == N),
# minus its RSS just before the load, divided by N. That is the transaction with its message (and the
# SIPp UAC's retransmission-free INVITE), nothing else.
#
# Usage: Perf/suspended_memory.sh [CALLS (10000)] [RATE (2000)]
# Env: TANDEM_BIN (default: build and use .build/release/tandem).
#
# Calls that fail after the resume (the 10,000 resume at the sending rate, each a full call through the
# proxy) do not change the figure, which is read before. On a loaded machine they come from datagrams the
# kernel drops on the proxy's socket (proxy_udp_drops): a plain relay at the same call rate (no async)
# fails as often, and Kamailio 5.6 too (Perf/results/suspended-*/summary.md).
#
# Also printed, for comparison with the figure this script gave before (6.4 KB): the peak RSS over the
# whole run. The sleep then outlasts the sending, so the peak also holds the calls already relayed (their
# INVITE transactions waiting out Timer L, 32 s, and BYE transactions Timer J), which a suspended
# transaction does not cost; the old script's 5 s sleep at 2,000 calls/s measured that mix.
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${1:-10000}
RATE=${2:-2000}
if [ -z "${TANDEM_BIN:-}" ]; then swift build -c release --product tandem >/dev/null; TANDEM_BIN=.build/release/tandem; fi
SEND_S=$(( (CALLS + RATE - 1) / RATE ))
SLEEP=$(( SEND_S + 10 ))
OUT=$(mktemp -d)
# suspended.cfg with a sleep that outlasts the sending, the overload bounds off and /stats on 28564.
sed -e "s/sleep(5)/sleep($SLEEP)/" -e 's/^log_level = 1/log_level = 1\nmodparam("tandem", "max_suspended", 0)\nmodparam("tandem", "max_transactions", 0)\nloadmodule "httpd.so"\nmodparam("httpd", "ip", "127.0.0.1")\nmodparam("httpd", "port", 28564)\nloadmodule "mi_http.so"/' \
    Perf/configs/suspended.cfg > "$OUT/suspended.cfg"
"$TANDEM_BIN" run -f "$OUT/suspended.cfg" 2>"$OUT/proxy.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; kill $UAS $UAC 2>/dev/null || true' EXIT
UAS=; UAC=
sleep 1.5
rss() { awk '/VmRSS/ { print $2 }' /proc/$PID/status; }
suspended() { curl -s http://127.0.0.1:28564/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["sip"]["suspended_now"])' 2>/dev/null || echo 0; }
idle=$(rss)
sipp -sf Tests/sipp/uas.xml -i 127.0.0.1 -p 25562 -cp 28562 -nostdin -timeout $((SLEEP + 60))s -m "$CALLS" \
    -buff_size 4194304 >"$OUT/uas.log" 2>&1 &
UAS=$!
sleep 0.3
sipp -sf Tests/sipp/uac.xml 127.0.0.1:25562 -rsa 127.0.0.1:15062 -i 127.0.0.1 -p 25563 -cp 28563 -nostdin \
    -m "$CALLS" -r "$RATE" -l $((CALLS * 2)) -timeout $((SLEEP + 60))s -buff_size 4194304 \
    -max_recv_loops 10000 -max_sched_loops 10000 \
    -trace_stat -stf "$OUT/uac.csv" -fd 1 >"$OUT/uac.log" 2>&1 &
UAC=$!
# Wait until every call is suspended (or the sleep is nearly over), then read RSS.
held=0; t=0
while [ "$t" -lt $(( (SLEEP - 2) * 10 )) ]; do
    held=$(suspended)
    [ "$held" -ge "$CALLS" ] && break
    sleep 0.1; t=$((t + 1))
done
sleep 0.5
all=$(rss)
held_at_read=$(suspended)
peak=$all
while kill -0 $UAC 2>/dev/null; do
    r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.2
done
wait $UAC || true
# Datagrams the kernel dropped on the proxy's socket (receive queue full): the cause of the failed
# calls seen on a loaded machine (every retransmission of a lost reply adds to the queue).
drops=$(awk -v port="$(printf ':%04X' 15062)" '$2 ~ port"$" { d += $NF } END { print d + 0 }' /proc/net/udp)
wait $UAS || true
ok=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} END{print $c["SuccessfulCall(C)"]}' "$OUT/uac.csv")
failed=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} END{print $c["FailedCall(C)"]}' "$OUT/uac.csv")
echo "calls=$CALLS rate=$RATE sleep_s=$SLEEP ok=$ok failed=$failed proxy_udp_drops=$drops suspended_at_read=$held_at_read" \
     "idle_rss_kb=$idle all_suspended_rss_kb=$all peak_rss_kb=$peak" \
     "bytes_per_suspended_txn=$(( (all - idle) * 1024 / CALLS ))" \
     "peak_bytes_per_call=$(( (peak - idle) * 1024 / CALLS ))"
