#!/usr/bin/env python3
"""Where the CPU goes, per answer, when a backend is reached directly and through Tandem: one run, side by side.

    python3 Perf/cpu_share.py --backend mongodb --mode offload --rate 150 --rounds 2

For a matrix backend (`mongodb`, `mysql`, `postgres`, `ldap`) at `--delay` ms: starts its test server and the
delay proxy as the matrix does, then alternates, `--rounds` times,
  * the direct client of `tandem_perf/ceilings.py` with `--connections` (default: the matrix budget of the
    scenario) for `--duration` s, and
  * Tandem (the matrix's generated config) + SIPp uac/uas at the fixed `--rate` calls/s for `--duration` s,
sampling the CPU time (/proc/PID/stat) of every process taking part: the client or SIPp (uac, uas) and Tandem,
the backend server and the delay proxy. Writes OUT/cpu-<backend>-<UTC timestamp>/cpu_share.json and
summary.md: answers/s and CPU microseconds per answer of each process, and the load average.

Why: on this shared 2-core box every process of a session shares one scheduler group (autogroup), so when the
backend (the Python nx-27017, the Python delay proxy) is CPU-bound, the rate it reaches is set by the CPU
per answer of everything else in the group. A direct client spends a few tens of microseconds per answer; SIPp and
Tandem spend a SIP call each. The "predicted rate ratio" column is
(client + server + proxy CPU per answer) / (SIPp + Tandem + server + proxy CPU per answer) of the direct run just
before: the ratio of the two rates if the group's CPU share were the only limit. It means something only
when the server and the delay proxy are CPU-bound (nx-27017); MariaDB (C, threaded) is not, and its rates follow
the relay and latency instead. The server's own CPU per answer is higher under SIPp's paced (open-loop) arrivals
than under the closed-loop direct client, which sends the next request the moment an answer arrives and so lets
an asyncio server handle several requests per loop iteration.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tandem_perf import ceilings  # noqa: E402
from tandem_perf.backends import Backends  # noqa: E402
from tandem_perf.common import ROOT, SCENARIOS, free_port, terminate  # noqa: E402
from tandem_perf.procstat import _read_stat  # noqa: E402
from tandem_perf.scenarios import Scenario, scenario_config  # noqa: E402
from tandem_perf.sipp import read_stat_csv, as_int  # noqa: E402


def listener_pid(port: int) -> int | None:
    """The pid of the process listening on 127.0.0.1:port (TCP), from `ss -ltnp`."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    for part in out.split("pid=")[1:]:
        return int(part.split(",", 1)[0])
    return None


def cpu_of(pids: dict[str, int | None]) -> dict[str, float]:
    out = {}
    for name, pid in pids.items():
        s = _read_stat(pid) if pid else None
        out[name] = s[0] if s else 0.0
    return out


def delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: b[k] - a[k] for k in a}


def direct(backend: str, port: int, delay: int, conns: int, duration: float, pids: dict) -> dict:
    before, t0 = cpu_of(pids), time.monotonic()
    c = ceilings.measure(backend, port, delay, ceilings.Budget(conns), duration, 0.5)
    wall = time.monotonic() - t0
    used = delta(before, cpu_of(pids))
    answers_all = c.rate * wall  # the rate of the measured window over the whole wall time (warm-up included)
    used["client"] = c.client_cpu * wall
    return {"kind": "direct", "connections": conns, "rate": c.rate, "errors": c.errors, "wall_s": round(wall, 2),
            "cpu_s": {k: round(v, 3) for k, v in used.items()},
            "us_per_answer": {k: round(v / max(1, answers_all) * 1e6, 1) for k, v in used.items()}}


def via_tandem(a, cfg: Path, proxy_port: int, pids: dict, out: Path, n: int) -> dict:
    uas_port, uac_port = free_port(25400, {proxy_port}), free_port(25500, {proxy_port})
    tlog = open(out / f"tandem-{n}.log", "wb")
    tandem = subprocess.Popen([a.tandem, "run", "-f", str(cfg)], stdout=tlog, stderr=subprocess.STDOUT,
                              start_new_session=True)
    common = ["-nostdin", "-i", "127.0.0.1", "-trace_stat", "-fd", "1"]
    uas = subprocess.Popen(["sipp", "-sf", str(SCENARIOS / "uas.xml"), "-p", str(uas_port)] + common
                           + ["-stf", str(out / f"uas-{n}.csv")], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(2.0)
    calls = int(a.rate * a.duration)
    uac_csv = out / f"uac-{n}.csv"
    uac = subprocess.Popen(["sipp", "-sf", str(SCENARIOS / "uac.xml"), f"127.0.0.1:{uas_port}", "-rsa",
                            f"127.0.0.1:{proxy_port}", "-p", str(uac_port), "-r", str(a.rate), "-m", str(calls),
                            "-l", str(max(1000, a.rate * 4)), "-timeout", str(int(a.duration * 3) + 10),
                            "-stf", str(uac_csv)] + common, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    p = dict(pids, tandem=tandem.pid, uac=uac.pid, uas=uas.pid)
    before, t0 = cpu_of(p), time.monotonic()
    last = before
    while uac.poll() is None and time.monotonic() - t0 < a.duration * 3 + 15:
        last = cpu_of(p)  # the uac's figures vanish with it: keep the last sample
        time.sleep(0.2)
    wall = time.monotonic() - t0
    after = cpu_of(p)
    after["uac"] = max(after["uac"], last["uac"])
    used = delta(before, after)
    for proc in (uac, uas, tandem):
        terminate(proc)
    tlog.close()
    rows = read_stat_csv(uac_csv)
    ok = as_int(rows[-1], "SuccessfulCall(C)") if rows else 0
    failed = as_int(rows[-1], "FailedCall(C)") if rows else 0
    return {"kind": "tandem", "rate_offered": a.rate, "calls": calls, "successful": ok, "failed": failed,
            "rate": round(ok / wall, 1), "wall_s": round(wall, 2),
            "cpu_s": {k: round(v, 3) for k, v in used.items()},
            "us_per_answer": {k: round(v / max(1, ok) * 1e6, 1) for k, v in used.items()}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", default="mongodb")
    ap.add_argument("--mode", default="offload")
    ap.add_argument("--delay", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--offload-limit", type=int, default=64)
    ap.add_argument("--connections", help="direct client connections, a comma list: each is one direct run per "
                    "round (default: the matrix budget of the scenario)")
    ap.add_argument("--rate", type=int, default=150, help="SIPp calls/s through Tandem (below its max)")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tandem", default=str(ROOT / ".build" / "release" / "tandem"))
    ap.add_argument("--port", type=int, default=25360, help="Tandem's SIP port")
    ap.add_argument("--out", default=str(ROOT / "Perf" / "results"))
    a = ap.parse_args()
    out = Path(a.out) / f"cpu-{a.backend}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    out.mkdir(parents=True)
    sc = Scenario(backend=a.backend, mode=a.mode, delay_ms=a.delay, workers=a.workers)
    conns = [int(x) for x in a.connections.split(",")] if a.connections else \
        [ceilings.budget(a.backend, a.mode, a.workers, a.offload_limit).connections]
    backends = Backends(out)
    runs: list[dict] = []
    try:
        env = backends.env_for(sc)
        port = int(env[f"{a.backend}_port"])
        pids = {"server": listener_pid(int(env[f"server_port_{a.backend}"])), "delay_proxy": listener_pid(port)}
        cfg = out / "tandem.cfg"
        cfg.write_text(scenario_config(sc, a.port, env, out, a.offload_limit))
        for n in range(a.rounds):
            for what in [("direct", c) for c in conns] + [("tandem", 0)]:
                load = os.getloadavg()[0]
                r = direct(a.backend, port, a.delay, what[1], a.duration, pids) if what[0] == "direct" else \
                    via_tandem(a, cfg, a.port, pids, out, n)
                r["load1"] = round(load, 1)
                runs.append(r)
                print(json.dumps(r), flush=True)
    finally:
        backends.close()
    (out / "cpu_share.json").write_text(json.dumps({"backend": a.backend, "mode": a.mode, "delay_ms": a.delay,
                                                    "workers": a.workers, "runs": runs}, indent=1))
    names = ["client", "uac", "uas", "tandem", "server", "delay_proxy"]
    lines = [f"# CPU per answer: {a.backend} ({a.mode}, {a.delay} ms), direct client vs Tandem + SIPp\n",
             "Command: `python3 Perf/cpu_share.py " + " ".join(sys.argv[1:]) + "`\n",
             "| run | load1 | answers/s | " + " | ".join(f"{n} us" for n in names) + " | total us | predicted rate ratio |",
             "|---|---:|---:|" + "---:|" * (len(names) + 2)]
    direct_total = None
    for r in runs:
        u = r["us_per_answer"]
        total = sum(u.get(n, 0.0) for n in names)
        if r["kind"] == "direct":
            direct_total = total
        pred = f"{direct_total / total:.2f}" if r["kind"] == "tandem" and direct_total else "-"
        label = f"direct {r['connections']} conns" if r["kind"] == "direct" else f"Tandem at {r['rate_offered']}/s"
        lines.append(f"| {label} | {r['load1']} | {r['rate']} | " + " | ".join(
            f"{u[n]:.0f}" if n in u else "-" for n in names) + f" | {total:.0f} | {pred} |")
    (out / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
