#!/usr/bin/env python3
"""One fixed-rate SIPp run through Tandem's pgpipe scenario (or the plain relay) with a 100 ms timeline of
where the time goes: the machine's CPU (/proc/stat: busy, idle, steal), the CPU of every process taking part
(Tandem per thread, SIPp uac/uas, the delay proxy, the PostgreSQL backends), Tandem's /stats (suspended
transactions, PostgreSQL pool gauges) and SIPp's INVITE->200 samples (-trace_rtt) per 100 ms.

    bash scripts/test-servers/postgres.sh start
    flock /tmp/tandem-perf.lock python3 Perf/pg_stall.py --rate 3750 --seconds 12 --out /tmp/stall

Needs a built `.build/perf-tools/delay_proxy` (the matrix builds it) and `.build/release/tandem`. Writes
timeline.csv, summary.txt, the config, Tandem's log and SIPp's error trace into --out.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Perf"))
from tandem_perf.scenarios import Scenario, scenario_config  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def pg_env() -> dict[str, str]:
    out = subprocess.run(["bash", str(ROOT / "scripts/test-servers/postgres.sh"), "env"], capture_output=True,
                         text=True, check=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[7:].split("=", 1)
            env[k] = v
    return env


def cpu_of(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def threads_of(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (summed over threads of one name)."""
    out: dict[str, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
            name = text[text.index("(") + 1:text.rindex(")")]
            parts = text.rsplit(")", 1)[1].split()
            out[name] = out.get(name, 0.0) + (int(parts[11]) + int(parts[12])) / TICK
        except (OSError, ValueError, IndexError):
            continue
    return out


def machine() -> tuple[float, float, float]:
    """(busy, idle, steal) jiffies of all CPUs, in seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    steal = v[7] if len(v) > 7 else 0
    return (sum(v[:8]) - idle - steal) / TICK, idle / TICK, steal / TICK


def postgres_pids() -> list[int]:
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as f:
                    if f.read().strip() == "postgres":
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def client_backends() -> set[int]:
    """PIDs of the PostgreSQL backends serving a TCP client (process title `postgres: USER DB 127.0.0.1(PORT) ...`)."""
    out = set()
    for p in postgres_pids():
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if b"127.0.0.1(" in f.read():
                    out.add(p)
        except OSError:
            pass
    return out


def fetch(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return json.loads(r.read())
    except Exception:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=int, default=3750)
    ap.add_argument("--seconds", type=float, default=12)
    ap.add_argument("--delay", type=int, default=20)
    ap.add_argument("--backend", default="pgpipe", help="pgpipe, postgres or none")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tandem", default=str(ROOT / ".build/release/tandem"))
    ap.add_argument("--extra", action="append", default=[], help="a config line added after the generated ones")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    out = Path(a.out).resolve()
    (out / "configs").mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen] = []

    def spawn(cmd, **kw) -> subprocess.Popen:
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True, **kw)
        procs.append(p)
        return p

    try:
        env = {}
        proxy = None
        if a.backend in ("pgpipe", "postgres", "pgsleep"):
            pg = pg_env()
            dport = 25990
            proxy = spawn([str(ROOT / ".build/perf-tools/delay_proxy"), str(dport), pg["TANDEM_TEST_PG_PORT"],
                           str(a.delay)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            env = {"port": str(dport)}
            time.sleep(0.2)
        sc = Scenario(backend=a.backend, mode="-" if a.backend == "none" else "native",
                      delay_ms=0 if a.backend == "none" else a.delay, workers=a.workers)
        stats_port = 15091
        cfg = scenario_config(sc, 15060, env, out, 64, stats_port=stats_port)
        for line in a.extra:
            cfg = cfg.replace("route {", line + "\nroute {", 1)
        (out / "tandem.cfg").write_text(cfg)
        log = open(out / "tandem.log", "w")
        tandem = spawn([a.tandem, "run", "-f", str(out / "tandem.cfg")], stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{stats_port}/stats"
        for _ in range(100):
            if fetch(url):
                break
            time.sleep(0.05)
        sipp_dir = out / "sipp"
        sipp_dir.mkdir(exist_ok=True)
        uas_xml = sipp_dir / "uas.xml"
        uas_xml.write_text((ROOT / "Tests/sipp/uas.xml").read_text().replace('<timewait milliseconds="8000"/>',
                                                                            '<timewait milliseconds="1000"/>'))
        (sipp_dir / "uac.xml").write_text((ROOT / "Tests/sipp/uac.xml").read_text())
        calls = int(a.rate * a.seconds)
        common = ["-nostdin", "-i", "127.0.0.1", "-buff_size", "4194304", "-max_recv_loops", "10000",
                  "-max_sched_loops", "10000", "-trace_stat", "-fd", "1", "-trace_err"]
        uas = spawn(["sipp", "-sf", str(uas_xml), "-p", "15070", "-cp", "15071", "-timeout", "60",
                     "-stf", str(sipp_dir / "uas.csv")] + common, cwd=sipp_dir,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)
        pg_seen: dict[int, float] = {}
        pg_base = {p: cpu_of(p) or 0.0 for p in postgres_pids()}

        def pg_cpu() -> float:
            """CPU seconds of the PostgreSQL processes since the start (backends that appear later count from 0)."""
            for p in postgres_pids():
                c = cpu_of(p)
                if c is not None:
                    pg_seen[p] = c - pg_base.get(p, 0.0)
            return sum(pg_seen.values())
        t0 = time.monotonic()
        uac = spawn(["sipp", "-sf", str(sipp_dir / "uac.xml"), "127.0.0.1:15070", "-rsa", "127.0.0.1:15060",
                     "-p", "15080", "-cp", "15081", "-r", str(a.rate), "-m", str(calls), "-l", str(a.rate * 4),
                     "-timeout", str(int(a.seconds * 2 + 10)), "-stf", str(sipp_dir / "uac.csv"),
                     "-trace_rtt", "-rtt_freq", "1"] + common, cwd=sipp_dir,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rows = []
        prev = None
        while uac.poll() is None and time.monotonic() - t0 < a.seconds * 2 + 12:
            now = time.monotonic()
            sample = {
                "t": now - t0, "wall": time.time(), "machine": machine(),
                "tandem": threads_of(tandem.pid), "uac": cpu_of(uac.pid), "uas": cpu_of(uas.pid),
                "proxy": cpu_of(proxy.pid) if proxy else 0.0,
                "pg": pg_cpu(),
                "backends": client_backends(),
            }
            doc = fetch(url)
            sample["stats"] = doc
            if prev:
                rows.append((prev, sample))
            prev = sample
            time.sleep(max(0.0, 0.1 - (time.monotonic() - now)))
        wall = time.monotonic() - t0
        if a.backend in ("pgpipe", "postgres", "pgsleep"):
            # Tandem's connections are still open (idle timeout 10 s): how many, and when each started (a
            # connection that broke and was replaced during the run starts late).
            q = ("SELECT count(*), min(backend_start)::text, max(backend_start)::text, now()::text FROM pg_stat_activity "
                 "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
            r = subprocess.run(["/usr/lib/postgresql/15/bin/psql", "-qtA", "-h", "127.0.0.1", "-p",
                                pg["TANDEM_TEST_PG_PORT"], "-U", "postgres", "-d", "tandem", "-c", q],
                               capture_output=True, text=True)
            (out / "pg_connections.txt").write_text(
                "connections|first started|last started|now (Tandem's pools, read after the run)\n" + r.stdout)
            print("postgres connections after the run:", r.stdout.strip())
        # Timeline.
        lines = ["t,machine_busy,idle,steal,tandem_total,tandem_threads,uac,uas,delay_proxy,postgres,pg_backends,"
                 "new_backends,suspended,pg"]
        for p, s in rows:
            dt = s["t"] - p["t"]
            mb = (s["machine"][0] - p["machine"][0]) / dt
            mi = (s["machine"][1] - p["machine"][1]) / dt
            ms = (s["machine"][2] - p["machine"][2]) / dt
            th = {k: (v - p["tandem"].get(k, 0.0)) / dt for k, v in s["tandem"].items()}
            busy_threads = ";".join(f"{k}={v:.2f}" for k, v in sorted(th.items()) if v > 0.02)
            def d(key):
                return ((s[key] or 0) - (p[key] or 0)) / dt
            st = s.get("stats") or {}
            susp = st.get("sip", {}).get("suspended_now", "") if isinstance(st, dict) else ""
            pool = ""
            if isinstance(st, dict):
                for drv in st.get("async", {}).get("drivers", []):
                    if drv.get("driver") == "postgres":
                        pool = f"in_flight={drv.get('in_flight')} rejected={drv.get('rejected')}"
            lines.append(f"{s['t']:.2f},{mb:.2f},{mi:.2f},{ms:.2f},{sum(th.values()):.2f},{busy_threads},"
                         f"{d('uac'):.2f},{d('uas'):.2f},{d('proxy'):.2f},{d('pg'):.2f},{len(s['backends'])},{len(s['backends'] - p['backends'])},{susp},\"{pool}\"")
        (out / "timeline.csv").write_text("\n".join(lines) + "\n")
        if rows:
            first, last = rows[0][0], rows[-1][1]
            ok = 0
            try:
                with open(sipp_dir / "uac.csv") as fh:
                    data = [line.split(";") for line in fh.read().splitlines()]
                ok = int(data[-1][data[0].index("SuccessfulCall(C)")])
            except (OSError, ValueError, IndexError):
                pass
            span = last["t"] - first["t"]
            busy = last["machine"][0] - first["machine"][0]
            parts = {"tandem": sum(last["tandem"].values()) - sum(first["tandem"].values()),
                     "uac": (last["uac"] or 0) - (first["uac"] or 0), "uas": (last["uas"] or 0) - (first["uas"] or 0),
                     "delay_proxy": (last["proxy"] or 0) - (first["proxy"] or 0), "postgres": last["pg"] - first["pg"]}
            text = [f"rate {a.rate} x {a.seconds:g} s, backend {a.backend}, {ok} successful calls, sampled {span:.1f} s,"
                    f" load {os.getloadavg()[0]:.1f}, machine busy {busy / span:.2f} CPUs"]
            for k, v in parts.items():
                text.append(f"{k:12s} {v:7.2f} CPU-s  {1e6 * v / max(ok, 1):7.1f} us/call  {v / span:5.2f} CPUs")
            total = sum(parts.values())
            text.append(f"{'all':12s} {total:7.2f} CPU-s  {1e6 * total / max(ok, 1):7.1f} us/call  {total / span:5.2f} CPUs")
            (out / "summary.txt").write_text("\n".join(text) + "\n")
            print("\n".join(text))
        if rows:
            (out / "stats-last.json").write_text(json.dumps(rows[-1][1].get("stats"), indent=1))
        # RTT per 100 ms (SIPp's sample file: date_ms;response_time_ms;...).
        rtt = {}
        for f in sipp_dir.glob("uac_*_rtt.csv"):
            with open(f) as fh:
                next(fh, None)
                for line in fh:
                    parts = line.split(";")
                    try:
                        ms, r = float(parts[0]), float(parts[1])
                    except (ValueError, IndexError):
                        continue
                    rtt.setdefault(int(ms // 100), []).append(r)
            f.unlink()
        if rtt:
            base = min(rtt)
            rl = ["t,n,p50,p90,max"]
            for k in sorted(rtt):
                v = sorted(rtt[k])
                rl.append(f"{(k - base) / 10:.1f},{len(v)},{v[len(v) // 2]:g},{v[int(len(v) * 0.9)]:g},{v[-1]:g}")
            (out / "rtt.csv").write_text("\n".join(rl) + "\n")
        print(f"uac rc {uac.returncode} wall {wall:.1f}s; see {out}")
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except OSError:
                    pass
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
