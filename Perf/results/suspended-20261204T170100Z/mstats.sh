#!/usr/bin/env bash
# glibc malloc_stats() of a proxy before the load and with N calls suspended (as Perf/suspended_memory.sh),
# to see where RSS goes beyond what heaptrack counts as requested: per arena, "system bytes" (taken
# from the kernel) vs "in use bytes" (chunks handed out, headers and rounding included).
# Usage (worktree root, under the perf lock): mstats.sh BIN [CALLS] [RATE]
set -euo pipefail
BIN=$1; CALLS=${2:-10000}; RATE=${3:-2000}
SEND_S=$(( (CALLS + RATE - 1) / RATE )); SLEEP=$(( SEND_S + 10 ))
OUT=$(mktemp -d)
sed -e "s/sleep(5)/sleep($SLEEP)/" -e 's/^log_level = 1/log_level = 1\nmodparam("tandem", "max_suspended", 0)\nmodparam("tandem", "max_transactions", 0)\nloadmodule "httpd.so"\nmodparam("httpd", "ip", "127.0.0.1")\nmodparam("httpd", "port", 28564)\nloadmodule "mi_http.so"/' \
    Perf/configs/suspended.cfg > "$OUT/suspended.cfg"
"$BIN" run -f "$OUT/suspended.cfg" 2>"$OUT/proxy.log" &
PID=$!
trap 'kill $PID 2>/dev/null || true; kill $UAS $UAC 2>/dev/null || true' EXIT
UAS=; UAC=
sleep 1.5
rss() { awk '/VmRSS/ { print $2 }' /proc/$PID/status; }
suspended() { curl -s http://127.0.0.1:28564/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["sip"]["suspended_now"])' 2>/dev/null || echo 0; }
mstats() { gdb -p $PID -batch -ex 'call (void)malloc_stats()' >/dev/null 2>&1; sleep 0.2; }
echo "idle rss $(rss) kB"; mstats; echo "=== idle" >> "$OUT/proxy.log"
sipp -sf Tests/sipp/uas.xml -i 127.0.0.1 -p 25562 -cp 28562 -nostdin -timeout $((SLEEP + 60))s -m "$CALLS" \
    -buff_size 4194304 >"$OUT/uas.log" 2>&1 &
UAS=$!
sleep 0.3
sipp -sf Tests/sipp/uac.xml 127.0.0.1:25562 -rsa 127.0.0.1:15062 -i 127.0.0.1 -p 25563 -cp 28563 -nostdin \
    -m "$CALLS" -r "$RATE" -l $((CALLS * 2)) -timeout $((SLEEP + 60))s -buff_size 4194304 \
    -max_recv_loops 10000 -max_sched_loops 10000 >"$OUT/uac.log" 2>&1 &
UAC=$!
held=0; t=0
while [ "$t" -lt $(( (SLEEP - 2) * 10 )) ]; do
    held=$(suspended); [ "$held" -ge "$CALLS" ] && break
    sleep 0.1; t=$((t + 1))
done
sleep 0.5
echo "suspended $held rss $(rss) kB"; mstats; echo "=== suspended" >> "$OUT/proxy.log"
grep -E "^Arena|system bytes|in use bytes|^Total|max mmap|===" "$OUT/proxy.log"
