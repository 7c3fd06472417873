#!/usr/bin/env bash
# Instructions per relayed call under callgrind (issue 19): a release tandem on Perf/configs/relay.cfg
# runs under valgrind; the counters are zeroed once the proxy is up, SIPp runs CALLS record-routed calls
# (INVITE/100/180/200/ACK/BYE/200) at RATE calls/s, and the dump taken after the load gives the
# instructions (Ir) of the load alone, divided by CALLS. Reproducible to about 1% between runs.
# Usage: Perf/relay_callgrind.sh [CALLS (2000)] [RATE (100)] [CONFIG (Perf/configs/relay.cfg)]
# Note: Debian 12's valgrind 3.19 aborts on Swift 6.3 binaries (a SIGSEGV inside valgrind in libdispatch,
# also with --tool=none, and DWARF 5 it cannot read); use a newer valgrind.
# Env: TANDEM_BIN (default .build/release/tandem; build it with -Xswiftc -g for symbol names),
#      OUT (default a temp dir): callgrind.out.* there, `callgrind_annotate` it.
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${1:-2000}
RATE=${2:-100}
CFG=${3:-Perf/configs/relay.cfg}
BIN=${TANDEM_BIN:-.build/release/tandem}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out.%p" "$BIN" run -f "$CFG" \
    >"$OUT/proxy.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; kill $UAS 2>/dev/null || true' EXIT
UAS=
# Up once it logs "listening" (or after 60 s).
for _ in $(seq 1 120); do
    grep -q "listening" "$OUT/proxy.log" && break
    sleep 0.5
done
sleep 1
sipp -sf Tests/sipp/uas.xml -i 127.0.0.1 -p 15070 -cp 18892 -nostdin -timeout 300s >/dev/null 2>&1 &
UAS=$!
sleep 0.5
# A few warm-up calls (first-use allocations, lazy initialisation), then zero the counters.
sipp -sf Tests/sipp/uac.xml 127.0.0.1:15070 -rsa 127.0.0.1:15060 -i 127.0.0.1 -p 15080 -cp 18893 -nostdin \
    -r 20 -m 50 -timeout 120s >/dev/null 2>&1 || true
callgrind_control --zero $PID >/dev/null
sipp -sf Tests/sipp/uac.xml 127.0.0.1:15070 -rsa 127.0.0.1:15060 -i 127.0.0.1 -p 15080 -cp 18893 -nostdin \
    -r "$RATE" -m "$CALLS" -timeout 300s -trace_stat -stf "$OUT/uac.csv" -fd 1 >/dev/null 2>&1 || true
sleep 1
callgrind_control --dump=load $PID >/dev/null
sleep 1
kill $PID; wait $PID 2>/dev/null || true
DUMP=$(grep -l "^desc: Trigger: .*load" "$OUT"/callgrind.out.* | head -1)
IR=$(awk '/^summary:/ {print $2}' "$DUMP")
read -r OK FAILED < <(awk -F';' 'NR==1{for(i=1;i<=NF;i++)c[$i]=i} END{print $c["SuccessfulCall(C)"], $c["FailedCall(C)"]}' "$OUT/uac.csv")
echo "calls=$CALLS ok=$OK failed=$FAILED instructions=$IR instructions_per_call=$(( IR / CALLS )) dump=$DUMP"
