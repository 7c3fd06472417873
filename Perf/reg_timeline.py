#!/usr/bin/env python3
"""A 100 ms timeline of where the CPU goes while Perf/regload.py runs (issue 16): run it beside regload.py,
it samples /proc until stopped (SIGINT/SIGTERM) or --seconds pass.

Per tick: the machine's busy CPUs (/proc/stat), the CPU of Tandem per thread name, of Kamailio (all its
processes), of the PostgreSQL backends of each proxy's database (`regload_tandem`, `regload_kam`: the process
title names the database) and the rest of PostgreSQL, of SIPp; the count of backends per database, how many
are busy (title not `idle`), how many appeared in this tick (a fork + connect on the server); and which SIPp
scenario runs (`register`, `call`, `warmup`), so the REGISTER phase of each step is found afterwards.

    python3 Perf/reg_timeline.py --out /tmp/timeline.csv &  # then Perf/regload.py …; then kill %1
    python3 Perf/reg_timeline.py --summarize /tmp/timeline.csv

The summary gives per proxy and REGISTER phase (a run of ticks with the register scenario running): its length,
and CPU seconds of each component over it, per 1,000 registrations when --users is given.
"""
from __future__ import annotations

import argparse
import csv
import os
import signal
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    return (sum(v[:8]) - idle - steal) / TICK


def stat_cpu(path: str) -> tuple[str, float] | None:
    try:
        with open(path) as f:
            text = f.read()
        name = text[text.index("(") + 1:text.rindex(")")]
        parts = text.rsplit(")", 1)[1].split()
        return name, (int(parts[11]) + int(parts[12])) / TICK
    except (OSError, ValueError, IndexError):
        return None


def cmdline(pid: str) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""


def sample() -> dict:
    """CPU seconds so far per component, backend counts, and the SIPp scenario running."""
    cpu: dict[str, float] = {}
    counts = {"be_tandem": 0, "be_kam": 0, "busy_tandem": 0, "busy_kam": 0}
    pids: set[int] = set()
    scenario = ""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        got = stat_cpu(f"/proc/{d}/stat")
        if not got:
            continue
        comm, seconds = got
        if comm == "postgres":
            title = cmdline(d)
            if b"regload_tandem" in title:
                key, db = "pg_tandem", "tandem"
            elif b"regload_kam" in title:
                key, db = "pg_kam", "kam"
            else:
                key, db = "pg_other", None
            if db:
                counts["be_" + db] += 1
                if not title.rstrip(b"\0").endswith(b"idle"):
                    counts["busy_" + db] += 1
                pids.add(int(d))
            cpu[key] = cpu.get(key, 0.0) + seconds
        elif comm == "kamailio":
            cpu["kamailio"] = cpu.get("kamailio", 0.0) + seconds
        elif comm == "sipp":
            cpu["sipp"] = cpu.get("sipp", 0.0) + seconds
            line = cmdline(d)
            if b"regload_register" in line:
                scenario = "warmup" if b"-r\x00200\x00" in line and not scenario else "register"
            elif b"regload_call" in line and scenario != "register":
                scenario = "call"
        elif comm.startswith("tandem"):  # the binary's name, maybe a copy (tandem-main…)
            try:
                tids = os.listdir(f"/proc/{d}/task")
            except OSError:
                continue
            for tid in tids:
                t = stat_cpu(f"/proc/{d}/task/{tid}/stat")
                if t:
                    key = "t:" + t[0]
                    cpu[key] = cpu.get(key, 0.0) + t[1]
    return {"cpu": cpu, "counts": counts, "pids": pids, "scenario": scenario}


def record(out: str, seconds: float, interval: float) -> None:
    stop = False

    def handler(*_):
        nonlocal stop
        stop = True
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    rows = []
    prev = sample()
    prev_busy = machine_busy()
    t0 = last = time.monotonic()
    seen = set(prev["pids"])
    while not stop and time.monotonic() - t0 < seconds:
        time.sleep(interval)
        now = time.monotonic()
        elapsed = now - last
        last = now
        cur = sample()
        busy = machine_busy()
        row = {"t": round(now - t0, 2), "wall": round(time.time(), 2), "scenario": cur["scenario"],
               "dt": round(elapsed, 3), "machine": round(busy - prev_busy, 2)}
        for key, value in cur["cpu"].items():
            # A process that ended between samples loses its share (fine at 100 ms).
            row[key] = round(max(0.0, value - prev["cpu"].get(key, 0.0)), 2)
        row.update(cur["counts"])
        row["be_new"] = len(cur["pids"] - seen)
        seen |= cur["pids"]
        rows.append(row)
        prev, prev_busy = cur, busy
    keys: list[str] = []
    for r in rows:
        for k in r:
            if k not in keys:
                keys.append(k)
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, restval=0)
        w.writeheader()
        w.writerows(rows)


def summarize(path: str, users: int) -> None:
    with open(path) as f:
        rows = list(csv.DictReader(f))
    phases: list[list[dict]] = []
    current: list[dict] = []
    for r in rows:
        if r["scenario"] == "register":
            current.append(r)
        elif current:
            phases.append(current)
            current = []
    if current:
        phases.append(current)
    for ph in phases:
        def total(prefix: str) -> float:
            return sum(float(r[k] or 0) for r in ph for k in r if k.startswith(prefix))
        tandem = total("t:")
        kam = total("kamailio")
        proxy = "tandem" if tandem > kam else "kamailio"
        seconds = sum(float(r["dt"]) for r in ph)
        parts = {"proxy": round(max(tandem, kam), 2), "pg_backends": round(total("pg_tandem" if proxy == "tandem" else "pg_kam"), 2),
                 "pg_other": round(total("pg_other"), 2), "sipp": round(total("sipp"), 2),
                 "machine": round(total("machine"), 2)}
        be = max(int(r["be_tandem" if proxy == "tandem" else "be_kam"] or 0) for r in ph)
        new = sum(int(r["be_new"] or 0) for r in ph)
        per = f" per 1000 reg: " + ", ".join(f"{k} {v * 1000 / users:.3f}" for k, v in parts.items()) if users else ""
        print(f"{proxy:9s} start {ph[0]['t']:>7s}s {seconds:5.1f}s  cpu s: {parts}  backends max {be} new {new}{per}")
        if proxy == "tandem":
            threads: dict[str, float] = {}
            for r in ph:
                for k in r:
                    if k.startswith("t:"):
                        threads[k] = threads.get(k, 0.0) + float(r[k] or 0)
            print("           threads: " + ", ".join(f"{k[2:]} {v:.2f}" for k, v in sorted(threads.items(), key=lambda x: -x[1]) if v > 0))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out")
    p.add_argument("--seconds", type=float, default=3600)
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--summarize")
    p.add_argument("--users", type=int, default=0)
    a = p.parse_args()
    if a.summarize:
        summarize(a.summarize, a.users)
    else:
        record(a.out, a.seconds, a.interval)
    return 0


if __name__ == "__main__":
    sys.exit(main())
