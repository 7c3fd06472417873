#!/bin/bash
# heaptrack a proxy holding N suspended calls; stop it hard when all are suspended (leaks = what they hold)
# Usage: heaptrack_run.sh BIN NAME [N] [RATE]   (run from the repository root; heaptrack-suspended.cfg in HT_DIR, as ht.sh puts it)
BIN=$1; NAME=$2; N=${3:-10000}; RATE=${4:-1000}
D=${HT_DIR:-/tmp/tandem-ht}
WT=$(pwd)
heaptrack -o $D/$NAME "$BIN" run -f $D/heaptrack-suspended.cfg > $D/$NAME.proxy.log 2>&1 &
HT=$!
sleep 3
PID=$(pgrep -f "^$BIN run -f $D/heaptrack-suspended.cfg" | head -1)
echo "tandem pid $PID"
sipp -sf $WT/Tests/sipp/uac.xml 127.0.0.1:25862 -rsa 127.0.0.1:15862 -i 127.0.0.1 -p 25863 -cp 28863 -nostdin \
  -m $N -r $RATE -l $((N*2)) -timeout 200s -buff_size 4194304 > $D/$NAME.uac.log 2>&1 &
UAC=$!
for i in $(seq 1 600); do
  s=$(curl -s http://127.0.0.1:28864/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["sip"]["suspended_now"])' 2>/dev/null || echo 0)
  [ "$s" -ge "$N" ] && break
  if [ "$s" -gt 0 ] && [ "$s" = "${last:-}" ]; then same=$((same + 1)); else same=0; fi
  last=$s
  [ "${same:-0}" -ge 15 ] && break
  sleep 0.2
done
echo "suspended $s rss $(awk '/VmRSS/{print $2}' /proc/$PID/status)"
sleep 1
kill -TERM $PID; sleep 0.5; kill -TERM $PID
kill $UAC
wait $HT
