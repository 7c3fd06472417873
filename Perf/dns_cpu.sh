#!/usr/bin/env bash
# DNS benchmark helper (issue 18): CPU per call at a fixed call rate, for one dns-*.cfg config, counted
# from /proc for the proxy, dnsmasq and Perf/dns_delay.py (clock ticks of 10 ms), so the cost of the
# lookup inside Tandem can be told apart from the cost of the local DNS rig sharing the cores.
# Usage: Perf/dns_cpu.sh CFG RATE CALLS DELAY_MS   (DELAY_MS -1: dnsmasq answers on 15353 itself)
# Env: TANDEM_BIN (default .build/release/tandem), PERF=1 to `perf record -g` the proxy into
# $OUT/perf.data. Output: one line "proxy CPU ticks N => U us/call; dnsmasq N ticks; delay B-A" + SIPp counts.
set -u
CFG=$1; RATE=$2; CALLS=$3; DELAY=$4
cd "$(dirname "$0")/.."
OUT=${OUT:-$(mktemp -d)}
BIN=${TANDEM_BIN:-.build/release/tandem}
if [ "$DELAY" -lt 0 ]; then DPORT=15353; else DPORT=15355; fi
/usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=$DPORT --user=root --group=root --cache-size=0 \
    --local-ttl=3600 --address=/perf.test/127.0.0.1 > $OUT/dnsmasq.log 2>&1 &
DM=$!
DL=
if [ "$DELAY" -ge 0 ]; then python3 Perf/dns_delay.py 15353 15355 $DELAY > $OUT/delay.log 2>&1 & DL=$!; fi
$BIN run -f $CFG > $OUT/proxy.log 2>&1 &
PX=$!
sleep 1.5
sipp -sf Tests/sipp/uas.xml -i 127.0.0.1 -p 15070 -cp 18880 -nostdin -timeout 60s > /dev/null 2>&1 &
UAS=$!
sleep 0.5
T0=$(awk '{print $14+$15}' /proc/$PX/stat)
D0=$(awk '{print $14+$15}' /proc/$DM/stat)
[ -n "$DL" ] && L0=$(awk '{print $14+$15}' /proc/$DL/stat)
[ -n "${PERF:-}" ] && { perf record -F 999 -g -p $PX -o $OUT/perf.data > /dev/null 2>&1 & PF=$!; }
sipp -sf Tests/sipp/uac.xml 127.0.0.1:15070 -rsa 127.0.0.1:15060 -i 127.0.0.1 -p 15080 -cp 18881 -r $RATE -m $CALLS -timeout 90s -trace_stat -stf $OUT/uac.csv > /dev/null 2>&1
T1=$(awk '{print $14+$15}' /proc/$PX/stat)
D1=$(awk '{print $14+$15}' /proc/$DM/stat)
[ -n "$DL" ] && L1=$(awk '{print $14+$15}' /proc/$DL/stat)
[ -n "${PERF:-}" ] && { kill -INT $PF; wait $PF; }
echo "proxy CPU ticks $((T1-T0)) => $(( (T1-T0)*10000 / CALLS )) us/call; dnsmasq $((D1-D0)) ticks; delay ${L1:-0}-${L0:-0}"
python3 - "$OUT/uac.csv" <<'PY'
import csv, sys
rows=list(csv.reader(open(sys.argv[1]),delimiter=';'))
h=rows[0]; l=rows[-1]
for k in ('SuccessfulCall(C)','FailedCall(C)','Retransmissions(C)'):
    print(k, l[h.index(k)])
PY
kill $PX $DM $DL $UAS 2>/dev/null; wait 2>/dev/null
