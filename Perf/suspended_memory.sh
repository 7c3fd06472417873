#!/usr/bin/env bash
# Memory per suspended transaction: RSS of a release tandem while N calls wait 5 s in async(sleep),
# minus its RSS just before the load. Usage: Perf/suspended_memory.sh [CALLS (10000)] [RATE (2000)]
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${1:-10000}
RATE=${2:-2000}
swift build -c release >/dev/null
.build/release/tandem run -f Perf/configs/suspended.cfg 2>/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
sleep 1
rss() { awk '/VmRSS/ { print $2 }' /proc/$PID/status; }
idle=$(rss)
OUT=$(mktemp -d)
sipp -sf Tests/sipp/uas.xml -i 127.0.0.1 -p 25562 -cp 28562 -nostdin -timeout 60s -m "$CALLS" \
    -buff_size 4194304 >"$OUT/uas.log" 2>&1 &
UAS=$!
sleep 0.3
sipp -sf Tests/sipp/uac.xml 127.0.0.1:25562 -rsa 127.0.0.1:15062 -i 127.0.0.1 -p 25563 -cp 28563 -nostdin \
    -m "$CALLS" -r "$RATE" -l $((CALLS * 2)) -timeout 60s -buff_size 4194304 \
    -trace_stat -stf "$OUT/uac.csv" -fd 1 >"$OUT/uac.log" 2>&1 &
UAC=$!
peak=$idle
for _ in $(seq 1 80); do
    r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.1
done
wait $UAC || true
wait $UAS || true
ok=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} END{print $c["SuccessfulCall(C)"]}' "$OUT/uac.csv")
failed=$(awk -F';' 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} END{print $c["FailedCall(C)"]}' "$OUT/uac.csv")
echo "calls=$CALLS rate=$RATE ok=$ok failed=$failed idle_rss_kb=$idle peak_rss_kb=$peak" \
     "bytes_per_suspended_txn=$(( (peak - idle) * 1024 / CALLS ))"
