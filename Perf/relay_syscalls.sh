#!/usr/bin/env bash
# Relay CPU per call, counted (issue 19): `perf stat` of the proxy over one SIPp relay run at a fixed rate —
# task-clock, context switches, page faults and the system calls of the relay path per relayed call,
# including the receives that found the socket empty (`recvmmsg`/`recvfrom` returning EAGAIN) and the
# memory-map calls of malloc (`mprotect`, `madvise`, `mmap`, `munmap`, `brk`). Counts move much less with
# the load of a shared machine than CPU time does (this VM has no hardware instruction counter).
# Usage: Perf/relay_syscalls.sh OUT_DIR RATE CALLS NAME=COMMAND [NAME=COMMAND ...]
#   e.g. Perf/relay_syscalls.sh /tmp/sc 300 4500 main="/tmp/tandem-main run -f Perf/configs/relay4.cfg"
#   A COMMAND may start with ENV=VALUE words (e.g. GLIBC_TUNABLES=...), passed through `env`.
# Ports: proxy 15060 (the configs'), UAS 15070, UAC 15080 (SIPp control 18880/18881). Wrap it in
# `flock /tmp/tandem-perf.lock` on a shared machine. Output: OUT_DIR/perf-NAME.txt, OUT_DIR/syscalls.md.
set -u
OUT=$1; RATE=$2; CALLS=$3; shift 3
cd "$(dirname "$0")/.."
mkdir -p "$OUT"
EVENTS=(-e task-clock -e context-switches -e page-faults
        -e syscalls:sys_enter_recvmmsg -e syscalls:sys_exit_recvmmsg --filter 'ret < 0'
        -e syscalls:sys_enter_recvfrom -e syscalls:sys_exit_recvfrom --filter 'ret < 0'
        -e syscalls:sys_enter_sendto -e syscalls:sys_enter_sendmmsg -e syscalls:sys_enter_epoll_wait
        -e syscalls:sys_enter_futex -e syscalls:sys_enter_mprotect -e syscalls:sys_enter_madvise
        -e syscalls:sys_enter_mmap -e syscalls:sys_enter_munmap -e syscalls:sys_enter_brk)
for target in "$@"; do
    name=${target%%=*}; cmd=${target#*=}
    # shellcheck disable=SC2086
    setsid env $cmd >"$OUT/proxy-$name.log" 2>&1 &
    PX=$!
    sipp -sf Tests/sipp/uas.xml -i 127.0.0.1 -p 15070 -cp 18880 -nostdin -timeout 120s -buff_size 4194304 \
        >/dev/null 2>&1 &
    UAS=$!
    sleep 2
    kill -0 $PX 2>/dev/null || { echo "$name: proxy did not start: $OUT/proxy-$name.log" >&2; kill $UAS; exit 1; }
    perf stat "${EVENTS[@]}" -p "$PX" -o "$OUT/perf-$name.txt" &
    PS=$!
    sleep 0.5
    sipp -sf Tests/sipp/uac.xml 127.0.0.1:15070 -rsa 127.0.0.1:15060 -i 127.0.0.1 -p 15080 -cp 18881 \
        -nostdin -r "$RATE" -m "$CALLS" -max_recv_loops 10000 -max_sched_loops 10000 -timeout 120s \
        -buff_size 4194304 -trace_stat -stf "$OUT/uac-$name.csv" -fd 1 >/dev/null 2>&1
    kill -INT $PS; wait $PS 2>/dev/null
    kill $UAS; kill -TERM -- -$PX 2>/dev/null; wait $PX $UAS 2>/dev/null
done
python3 - "$OUT" "$RATE" "$CALLS" "$(cut -d' ' -f1-3 /proc/loadavg)" "$@" <<'PY' | tee "$OUT/syscalls.md"
import sys
out, rate, calls, load = sys.argv[1:5]
names = [t.split("=", 1)[0] for t in sys.argv[5:]]
cols = {}
for n in names:
    rows = [l.split(";") for l in open(f"{out}/uac-{n}.csv") if l.strip()]
    h, last = rows[0], rows[-1]
    ok = int(last[h.index("SuccessfulCall(C)")])
    c = {"calls ok": ok, "failed": int(last[h.index("FailedCall(C)")]),
         "retransmissions": int(last[h.index("Retransmissions(C)")])}
    seen = {}
    for line in open(f"{out}/perf-{n}.txt"):
        f = line.split()
        if len(f) >= 2 and f[0].replace(",", "").replace(".", "").isdigit() and f[1] != "seconds":
            ev = f[1] if f[1] != "msec" else f[2]
            key = ev.replace("syscalls:sys_enter_", "").replace("syscalls:sys_exit_", "")
            if ev.startswith("syscalls:sys_exit_"):
                key += " failed (EAGAIN)"
            v = float(f[0].replace(",", ""))
            c[key + (" µs" if ev == "task-clock" else "")] = v * (1000 if ev == "task-clock" else 1) / max(ok, 1)
    cols[n] = c
keys = list(dict.fromkeys(k for c in cols.values() for k in c))
print(f"# Per relayed call at {rate} calls/s x {calls} calls (`Perf/relay_syscalls.sh`), load average {load}\n")
print("| per call | " + " | ".join(names) + " |")
print("|---|" + "---:|" * len(names))
for k in keys:
    cells = []
    for n in names:
        v = cols[n].get(k)
        cells.append("" if v is None else (str(v) if isinstance(v, int) else f"{v:.2f}"))
    print(f"| {k} | " + " | ".join(cells) + " |")
PY
