#!/usr/bin/env bash
# DNS benchmark helper (issue 18): system calls per call of the proxy for one dns-*.cfg config at a low
# fixed rate (strace -c on every thread, attached only while SIPp runs), so what a fresh lookup costs
# inside Tandem can be compared with the numeric next hop, or one binary with another, in counts that do
# not move with the load of a shared machine (unlike CPU time; this VM has no hardware instruction
# counter, and valgrind 3.19 cannot run Swift 6.3 binaries).
# Usage: Perf/dns_syscalls.sh CFG RATE CALLS DELAY_MS OUT_DIR
# Env: TANDEM_BIN (default .build/release/tandem). Needs strace, dnsmasq, sip-tester, a C compiler.
# Output: OUT_DIR/strace.txt and one line "CFG: N calls ok, S syscalls, S/call" + the top calls per call.
set -u
CFG=$1; RATE=$2; CALLS=$3; DELAY=$4; OUT=$5
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
BIN=${TANDEM_BIN:-.build/release/tandem}
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null' EXIT
/usr/sbin/dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --listen-address=127.0.0.1 --bind-interfaces --port=15355 --user=root --group=root --cache-size=0 \
    --local-ttl=3600 --address=/perf.test/127.0.0.1 >"$OUT/dnsmasq.log" 2>&1 &
PIDS+=($!)
cc -O2 -o "$OUT/dns_delay" Perf/dns_delay.c
"$OUT/dns_delay" 15353 15355 "$DELAY" >"$OUT/delay.log" 2>&1 &
PIDS+=($!)
"$BIN" run -f "$CFG" >"$OUT/proxy.log" 2>&1 &
PX=$!
PIDS+=($PX)
sipp -sf Tests/sipp/uas.xml -i 127.0.0.1 -p 15070 -cp 18880 -nostdin -timeout 300s >/dev/null 2>&1 &
PIDS+=($!)
sleep 2
kill -0 $PX 2>/dev/null || { echo "proxy did not start: $OUT/proxy.log" >&2; exit 1; }
args=()
for t in /proc/$PX/task/*; do args+=(-p "${t##*/}"); done
strace -c -S calls -o "$OUT/strace.txt" "${args[@]}" 2>/dev/null &
ST=$!
sleep 1
sipp -sf Tests/sipp/uac.xml 127.0.0.1:15070 -rsa 127.0.0.1:15060 -i 127.0.0.1 -p 15080 -cp 18881 -r "$RATE" \
    -m "$CALLS" -timeout 300s -trace_stat -stf "$OUT/uac.csv" >/dev/null 2>&1
sleep 1
kill -INT $ST
wait $ST 2>/dev/null
python3 - "$OUT/uac.csv" "$OUT/strace.txt" "$(basename "$CFG")" <<'PY' | tee "$OUT/summary.txt"
import csv, sys
rows = list(csv.reader(open(sys.argv[1]), delimiter=';'))
h, l = rows[0], rows[-1]
ok, failed, retrans = (int(l[h.index(k)]) for k in ('SuccessfulCall(C)', 'FailedCall(C)', 'Retransmissions(C)'))
calls = {}
for line in open(sys.argv[2]):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] != 'total':
        calls[f[-1]] = int(f[3])
total = sum(calls.values())
print(f"{sys.argv[3]}: {ok} calls ok, {failed} failed, {retrans} retransmissions; {total} syscalls, "
      f"{total / max(ok, 1):.2f} per call")
print("  per call: " + ", ".join(f"{n} {c / max(ok, 1):.2f}" for n, c in sorted(calls.items(), key=lambda x: -x[1])[:10]))
PY
