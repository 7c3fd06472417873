#!/bin/bash
# 100,000 calls suspended at once in async(sleep(90)) (async_timeout 120): log suspended_now and RSS each
# second until all are held, then stop (run from the repository root). Usage: run100k.sh BIN   (RUN_DIR: logs, default /tmp/tandem-100k)
BIN=$1; D=${RUN_DIR:-/tmp/tandem-100k}
mkdir -p "$D" && cp "$(dirname "$0")/100k-suspended.cfg" "$D/"
"$BIN" run -f $D/100k-suspended.cfg 2>$D/proxy.log &
PID=$!
sleep 1.5
echo "t=0 idle rss_kb=$(awk '/VmRSS/{print $2}' /proc/$PID/status)"
sipp -sf Tests/sipp/uas.xml -i 127.0.0.1 -p 25562 -cp 28562 -nostdin -timeout 200s -m 100000 -buff_size 4194304 >$D/uas.log 2>&1 &
UAS=$!
sleep 0.3
sipp -sf Tests/sipp/uac.xml 127.0.0.1:25562 -rsa 127.0.0.1:15062 -i 127.0.0.1 -p 25563 -cp 28563 -nostdin \
    -m 100000 -r 3000 -l 200000 -timeout 200s -buff_size 4194304 -max_recv_loops 10000 -max_sched_loops 10000 >$D/uac.log 2>&1 &
UAC=$!
for t in $(seq 1 80); do
  sleep 1
  s=$(curl -s http://127.0.0.1:28564/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["sip"]["suspended_now"])' 2>/dev/null || echo none)
  echo "t=$t suspended_now=$s rss_kb=$(awk '/VmRSS/{print $2}' /proc/$PID/status)"
  [ "$s" = 100000 ] && break
done
sleep 2
s=$(curl -s http://127.0.0.1:28564/stats | python3 -c 'import json,sys; print(json.load(sys.stdin)["sip"]["suspended_now"])' 2>/dev/null || echo none)
echo "final suspended_now=$s rss_kb=$(awk '/VmRSS/{print $2}' /proc/$PID/status) proxy_alive=$(kill -0 $PID && echo yes)"
kill $UAC $UAS 2>/dev/null; kill $PID; wait $PID 2>/dev/null
