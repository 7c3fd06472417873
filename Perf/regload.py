#!/usr/bin/env python3
"""Registrar-proxy benchmark (issue 16): registrations/s and calls/s with digest auth and location lookup,
Tandem (Perf/configs/regload.cfg) side by side with Kamailio 5.6 (Perf/configs/kamailio-regload.cfg: registrar +
auth_db + usrloc db_mode 1), both against the same PostgreSQL (scripts/test-servers/postgres.sh), each in its own
database, at several added database latencies (Perf/delay_proxy.py between the proxy and PostgreSQL), with the
same worker count (Tandem udp_workers = Kamailio children).

For each latency and proxy, fixed rates are tried in increasing order (--rates); at each rate N users
(min(--users, rate x --seconds), at least 100) are inserted into `subscriber`, the location table is emptied, a
fresh proxy is started, N users REGISTER through the 401 challenge (Tests/sipp/regload_register.xml) at that rate,
then N calls between them (user i calls user i+1) through the 407 challenge (Tests/sipp/regload_call.xml) at that
rate, to a SIPp UAS (Tests/sipp/uas.xml) that every contact points at. A phase passes with 0 failed, every
transaction successful, and the phase done within 1.15 x N/rate + 3 s. The search for a phase stops at its
first failing rate. CPU seconds of the proxy (all its processes, /proc) per registration and per call are recorded.

Setup (once): python3 Perf/regload.py --setup (apt-get install of PACKAGES), then swift build -c release.
Usage:  python3 Perf/regload.py [--users 2000] [--workers 4] [--delays 0,20] [--proxies tandem,kamailio]
                                [--rates 50,100,200,400,800,1600,3200] [--seconds 8]
                                [--rates-for kamailio@20=10,25,50,75,100,150] (repeatable: the grid of one
                                proxy at one latency, instead of --rates, so a slow proxy's rate is found)
                                [--warmup 400] (register that many users at 200/s before each measured step)
Output: Perf/results/regload-<UTC timestamp>/ (results.json, summary.md, logs).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, Proxy, free_port, log, sample_proc  # noqa: E402  (Perf/harness.py)

SIPP_DIR = ROOT / "Tests" / "sipp"
KAMAILIO_SQL = Path("/usr/share/kamailio/postgres")
# Debian packages of this benchmark (Kamailio is only a reference here: never in the test PACKAGES).
PACKAGES = ["kamailio", "kamailio-postgres-modules", "sip-tester", "postgresql-15", "postgresql-client-15"]


def psql(url: str, sql: str) -> str:
    out = subprocess.run(["psql", url, "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def psql_file(url: str, path: Path, replace: tuple[str, str] | None = None) -> None:
    text = path.read_text()
    if replace:
        text = text.replace(*replace)
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1"], input=text, check=True, text=True,
                   capture_output=True)


class Database:
    """The test PostgreSQL (started here unless it runs) with one database per proxy."""

    def __init__(self):
        subprocess.run(["bash", str(ROOT / "scripts/test-servers/postgres.sh"), "start"], check=True, cwd=ROOT)
        env = subprocess.run(["bash", str(ROOT / "scripts/test-servers/postgres.sh"), "env"], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout
        values = dict(line.split("=", 1) for line in env.split() if "=" in line)
        self.port = int(values["TANDEM_TEST_PG_PORT"].strip("'\""))
        self.admin = f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        for name in ("regload_tandem", "regload_kam"):
            psql(self.admin, f"DROP DATABASE IF EXISTS {name}")
            psql(self.admin, f"CREATE DATABASE {name}")
        self.tandem = f"postgres://postgres@127.0.0.1:{self.port}/regload_tandem"
        self.kam = f"postgres://postgres@127.0.0.1:{self.port}/regload_kam"
        psql_file(self.tandem, ROOT / "Configs/residential.sql")
        psql_file(self.tandem, ROOT / "Configs/location-postgres.sql")
        psql(self.tandem, "ALTER TABLE subscriber ADD COLUMN IF NOT EXISTS ha1 varchar(64)")
        for f in ("standard-create.sql", "auth_db-create.sql", "usrloc-create.sql"):
            psql_file(self.kam, KAMAILIO_SQL / f)

    def fixtures(self, proxy: str, users: int) -> None:
        url = self.kam if proxy == "kamailio" else self.tandem
        psql(url, f"""
            TRUNCATE location; DELETE FROM subscriber;
            INSERT INTO subscriber (username, domain, password, ha1)
                SELECT 'rl' || i, 'example.com', 'pw' || i, md5('rl' || i || ':example.com:pw' || i)
                FROM generate_series(0, {users - 1}) AS i""")

    def statements(self, proxy: str) -> list[dict]:
        """What the proxy's database ran since the last call (pg_stat_statements, --pg-statements), then reset."""
        dbname = "regload_kam" if proxy == "kamailio" else "regload_tandem"
        rows = psql(self.admin, f"""
            SELECT json_agg(json_build_object('calls', calls, 'exec_ms', round(total_exec_time::numeric, 1),
                                              'plan_ms', round(total_plan_time::numeric, 1), 'rows', rows,
                                              'query', left(query, 300)) ORDER BY calls DESC)
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '{dbname}'""")
        psql(self.admin, "SELECT pg_stat_statements_reset()")
        return json.loads(rows) if rows else []

    def url(self, proxy: str, port: int) -> str:
        base = self.kam if proxy == "kamailio" else self.tandem
        return base.replace(f":{self.port}/", f":{port}/")


class Delay:
    """Perf/delay_proxy.py in front of PostgreSQL (none at 0 ms)."""

    def __init__(self, target: int, ms: int, outdir: Path):
        self.proc = None
        self.port = target
        if ms <= 0:
            return
        self.port = free_port(26500, set())
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "Perf/delay_proxy.py"), str(self.port), str(target),
                                      str(ms)], stdout=open(outdir / "delay_proxy.log", "ab"),
                                     stderr=subprocess.STDOUT)
        # Until it listens (a fixed 0.5 s was too short on a loaded machine: the proxy then found no database).
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=5)


def sipp(args: list[str], outdir: Path, label: str, timeout: float) -> dict:
    """Runs SIPp to its end (bounded by `timeout`); its last statistics row."""
    stf = outdir / f"{label}.csv"
    # -trace_err: SIPp's <scenario>_<pid>_errors.log in the step folder says what a failed call got.
    cmd = ["sipp"] + args + ["-nostdin", "-trace_stat", "-trace_err", "-stf", str(stf), "-fd", "1",
                             "-buff_size", "4194304",
                             "-max_recv_loops", "10000", "-max_sched_loops", "10000"]
    with open(outdir / f"{label}.log", "wb") as logf:
        proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, cwd=outdir)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=10)
    row: dict = {}
    if stf.exists():
        lines = stf.read_text().splitlines()
        if len(lines) > 1:
            row = dict(zip(lines[0].split(";"), lines[-1].split(";")))

    def num(key: str) -> int:
        try:
            return int(row.get(key, "-1").strip())
        except ValueError:
            return -1
    return {"exit": proc.returncode, "ok": num("SuccessfulCall(C)"), "failed": num("FailedCall(C)"),
            "retrans": num("Retransmissions(C)")}


def injection(path: Path, users: int, contact: str) -> None:
    lines = ["SEQUENTIAL"] + [f"rl{i};example.com;[authentication username=rl{i} password=pw{i}];rl{(i + 1) % users};"
                              f"{contact}" for i in range(users)]
    path.write_text("\n".join(lines) + "\n")


def proxy_command(name: str, a, dburl: str, port: int, outdir: Path) -> str:
    if name != "kamailio":
        text = Path(a.configs.get(name, ROOT / "Perf/configs/regload.cfg")).read_text()
        text = text.replace("DBURL", dburl).replace("LISTENPORT", str(port)).replace("WORKERS", str(a.workers))
        cfg = outdir / "tandem-regload.cfg"
        cfg.write_text(text)
        return f"{a.binaries.get(name, a.tandem)} run -f {cfg}"
    text = (ROOT / "Perf/configs/kamailio-regload.cfg").read_text()
    text = text.replace("postgres://postgres@127.0.0.1:5432/kamailio", dburl)
    text = text.replace("!LISTENPORT!15070!", f"!LISTENPORT!{port}!").replace("!WORKERS!4!", f"!WORKERS!{a.workers}!")
    cfg = outdir / "kamailio-regload.cfg"
    cfg.write_text(text)
    return f"kamailio -DD -E -m 1024 -Y {outdir} -f {cfg}"


def step(name: str, a, db: Database, delay: Delay, rate: int, outdir: Path) -> dict:
    users = max(100, min(a.users, rate * a.seconds))
    db.fixtures(name, users)
    taken: set[int] = set()
    port = free_port(15400, taken); taken.add(port)
    uas_port = free_port(15600, taken); taken.add(uas_port)
    tag = f"{name}-d{a.current_delay}-r{rate}" + (f"-round{a.current_round}" if a.rounds > 1 else "")
    sdir = outdir / tag
    sdir.mkdir(parents=True, exist_ok=True)
    inf = sdir / "users.csv"
    injection(inf, users, f"127.0.0.1:{uas_port}")
    proxy = Proxy(proxy_command(name, a, db.url(name, delay.port), port, sdir), f"127.0.0.1:{port}",
                  sdir / "proxy.log")
    proxy.start()
    result: dict = {"proxy": name, "delay_ms": a.current_delay, "rate": rate, "users": users,
                    "round": a.current_round,
                    "loadavg_1m": round(os.getloadavg()[0], 2)}  # the box is shared: how busy it was
    try:
        limit = 1.15 * users / rate + 3
        common = ["-i", "127.0.0.1", "-m", str(users), "-r", str(rate), "-inf", str(inf),
                  "-timeout", f"{int(limit + 30)}s"]
        if a.warmup:
            # A fresh proxy meets the step's first burst cold (database connections, caches): register the
            # first --warmup users at a low rate first, outside the measured phase (they re-register in it).
            warm = sipp(["-sf", str(SIPP_DIR / "regload_register.xml"), f"127.0.0.1:{port}", "-p", str(uas_port),
                         "-cp", str(free_port(17200, taken)), "-i", "127.0.0.1", "-m", str(min(a.warmup, users)),
                         "-r", "200", "-inf", str(inf), "-timeout", "60s"], sdir, "warmup", 90)
            result["warmup"] = warm
        if a.pg_statements:
            db.statements(name)  # only the REGISTER phase's statements
        before = sample_proc(proxy.proc.pid)
        t0 = time.monotonic()
        reg = sipp(["-sf", str(SIPP_DIR / "regload_register.xml"), f"127.0.0.1:{port}", "-p",
                    str(uas_port), "-cp", str(free_port(17000, taken))] + common, sdir, "register",
                   limit + 40)
        reg["seconds"] = round(time.monotonic() - t0, 2)
        mid = sample_proc(proxy.proc.pid)
        if a.pg_statements:
            reg["statements"] = db.statements(name)
        reg["cpu_ms_each"] = round((mid.cpu_s - before.cpu_s) * 1000 / max(1, users), 3) if before and mid else None
        reg["pass"] = reg["failed"] == 0 and reg["ok"] == users and reg["seconds"] <= limit
        result["register"] = reg
        uas = subprocess.Popen(["sipp", "-sf", str(SIPP_DIR / "uas.xml"), "-i", "127.0.0.1", "-p", str(uas_port),
                                "-cp", str(free_port(18000, taken)), "-nostdin", "-m", str(users),
                                "-timeout", f"{int(limit + 40)}s", "-buff_size", "4194304",
                                "-max_recv_loops", "10000", "-max_sched_loops", "10000"],
                               stdout=open(sdir / "uas.log", "wb"), stderr=subprocess.STDOUT, cwd=sdir)
        time.sleep(0.3)
        t1 = time.monotonic()
        call = sipp(["-sf", str(SIPP_DIR / "regload_call.xml"), f"127.0.0.1:{port}", "-p",
                     str(free_port(16500, taken)), "-cp", str(free_port(17500, taken))] + common, sdir, "call",
                    limit + 40)
        call["seconds"] = round(time.monotonic() - t1, 2)
        end = sample_proc(proxy.proc.pid)
        call["cpu_ms_each"] = round((end.cpu_s - mid.cpu_s) * 1000 / max(1, users), 3) if mid and end else None
        call["pass"] = call["failed"] == 0 and call["ok"] == users and call["seconds"] <= limit
        result["call"] = call
        finish_uas(uas)
        result["proxy_alive"] = proxy.alive()
    finally:
        proxy.stop()
    log(f"{tag} (load {result['loadavg_1m']}): register {result.get('register')} call {result.get('call')}")
    return result


def finish_uas(uas: subprocess.Popen) -> None:
    """Waits up to 20 s for the SIPp UAS to end on its own (its -m count), then stops it."""
    try:
        uas.wait(timeout=20)
    except subprocess.TimeoutExpired:
        uas.terminate()
        uas.wait(timeout=10)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--delays", default="0,20")
    p.add_argument("--proxies", default="tandem,kamailio")
    p.add_argument("--rates", default="50,100,200,400,800,1600,3200")
    p.add_argument("--rates-for", action="append", default=[], metavar="PROXY@DELAY=R1,R2,...",
                   help="the rates of one proxy at one latency (instead of --rates); repeatable")
    p.add_argument("--seconds", type=int, default=8, help="users per step = rate x seconds (capped by --users)")
    p.add_argument("--tandem", default=str(ROOT / ".build/release/tandem"))
    p.add_argument("--binary", action="append", default=[], metavar="NAME=PATH",
                   help="a further Tandem binary under its own proxy name (in --proxies; every name but kamailio "
                        "is a Tandem), e.g. --proxies main,branch,kamailio --binary main=/tmp/a --binary branch=/tmp/b; "
                        "repeatable")
    p.add_argument("--config", action="append", default=[], metavar="NAME=PATH",
                   help="another Tandem config (DBURL, LISTENPORT, WORKERS filled in) for the Tandem proxy NAME "
                        "(default Perf/configs/regload.cfg), e.g. a pool variant; repeatable")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat the proxy list this many times at each latency (alternating runs on a noisy box)")
    p.add_argument("--warmup", type=int, default=0,
                   help="register this many users at 200/s before each measured step (a fresh proxy starts cold)")
    p.add_argument("--pg-statements", action="store_true",
                   help="load pg_stat_statements and record what each REGISTER phase ran (calls, exec and plan "
                        "time per statement) in results.json")
    p.add_argument("--out", default=None)
    p.add_argument("--setup", action="store_true", help="apt-get install the benchmark's Debian packages and exit")
    a = p.parse_args()
    a.binaries = dict(spec.split("=", 1) for spec in a.binary)
    a.configs = dict(spec.split("=", 1) for spec in a.config)
    if a.setup:
        subprocess.run(["apt-get", "update"], check=True)
        subprocess.run(["apt-get", "install", "-y"] + PACKAGES, check=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        return 0
    if "kamailio" in a.proxies and not (KAMAILIO_SQL / "usrloc-create.sql").exists():
        raise SystemExit("Kamailio's PostgreSQL modules are missing: python3 Perf/regload.py --setup")
    outdir = Path(a.out).resolve() if a.out else ROOT / "Perf/results" / ("regload-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    outdir.mkdir(parents=True, exist_ok=True)
    if a.pg_statements:
        # The server's per-statement counts and times (postgres.sh passes these options on).
        os.environ["TANDEM_TEST_PG_OPTIONS"] = ("-c shared_preload_libraries=pg_stat_statements "
                                                "-c pg_stat_statements.track_planning=on")
    db = Database()
    if a.pg_statements:
        psql(db.admin, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    try:
        return run(a, db, outdir)
    finally:
        subprocess.run(["bash", str(ROOT / "scripts/test-servers/postgres.sh"), "stop"], cwd=ROOT)


def rate_grids(a) -> dict[tuple[str, int], list[int]]:
    """--rates-for PROXY@DELAY=R1,R2,...: (proxy, delay) -> its rates."""
    grids = {}
    for spec in a.rates_for:
        target, _, values = spec.partition("=")
        name, _, delay = target.partition("@")
        grids[(name, int(delay))] = [int(r) for r in values.split(",")]
    return grids


def run(a, db: Database, outdir: Path) -> int:
    rates = [int(r) for r in a.rates.split(",")]
    grids = rate_grids(a)
    results = []
    for d in [int(x) for x in a.delays.split(",")]:
        a.current_delay = d
        delay = Delay(db.port, d, outdir)
        try:
            for round_index, name in enumerate(a.proxies.split(",") * a.rounds):
                a.current_round = round_index // len(a.proxies.split(","))
                best = {"register": 0, "call": 0}
                clean = {"register": 0, "call": 0}  # 0 failed and 0 retransmissions (every answer within 500 ms)
                clean_alive = {"register": True, "call": True}
                alive = {"register": True, "call": True}
                for rate in grids.get((name, d), rates):
                    if not any(alive.values()):
                        break
                    r = step(name, a, db, delay, rate, outdir)
                    results.append(r)
                    for phase in ("register", "call"):
                        if alive[phase] and r.get(phase, {}).get("pass"):
                            best[phase] = rate
                            if clean_alive[phase] and r[phase].get("retrans") == 0:
                                clean[phase] = rate
                            else:
                                clean_alive[phase] = False
                        else:
                            alive[phase] = False
                results.append({"summary": True, "proxy": name, "delay_ms": d, "round": a.current_round, "max_register_rate": best["register"],
                                "max_call_rate": best["call"], "clean_register_rate": clean["register"],
                                "clean_call_rate": clean["call"]})
        finally:
            delay.stop()
    (outdir / "results.json").write_text(json.dumps({"workers": a.workers, "users": a.users, "rates": rates,
                                                     "rates_for": a.rates_for, "steps": results}, indent=1))
    summary = [r for r in results if r.get("summary")]
    grid = a.rates + "".join(f"; {spec}" for spec in a.rates_for)
    lines = [f"# Registrar-proxy benchmark ({a.workers} workers, rates {grid}, up to {a.users} users per step)", "",
             "| DB latency | proxy | max REGISTER/s (0 failed) | max calls/s (0 failed) | CPU ms/REGISTER | CPU ms/call "
             "| retransmissions at max (REGISTER / call) | max REGISTER/s, 0 retrans | CPU ms/REGISTER there |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in summary:
        def at_max(phase: str, key: str) -> str:
            at = [r for r in results if not r.get("summary") and r["proxy"] == s["proxy"]
                  and r["delay_ms"] == s["delay_ms"] and r.get("round") == s.get("round") and r["rate"] == s[f"max_{phase}_rate"]]
            return str(at[0][phase][key]) if at and phase in at[0] else "-"

        def at_clean(phase: str, key: str) -> str:
            at = [r for r in results if not r.get("summary") and r["proxy"] == s["proxy"]
                  and r["delay_ms"] == s["delay_ms"] and r.get("round") == s.get("round") and r["rate"] == s.get(f"clean_{phase}_rate")]
            return str(at[0][phase][key]) if at and phase in at[0] else "-"
        # A phase passes with retransmissions (answers later than 500 ms); they say how close to the edge.
        lines.append(f"| {s['delay_ms']} ms | {s['proxy']}{' #' + str(s['round'] + 1) if a.rounds > 1 else ''} | {s['max_register_rate']} | {s['max_call_rate']} | "
                     f"{at_max('register', 'cpu_ms_each')} | {at_max('call', 'cpu_ms_each')} | "
                     f"{at_max('register', 'retrans')} / {at_max('call', 'retrans')} | "
                     f"{s.get('clean_register_rate', '-')} | {at_clean('register', 'cpu_ms_each')} |")
    for d in sorted({s["delay_ms"] for s in summary}):
        t = next((s for s in summary if s["delay_ms"] == d and s["proxy"] == "tandem"), None)
        k = next((s for s in summary if s["delay_ms"] == d and s["proxy"] == "kamailio"), None)
        if t and k:
            for phase in ("register", "call"):
                kv, tv = k[f"max_{phase}_rate"], t[f"max_{phase}_rate"]
                ratio = f"{tv / kv:.1f}x" if kv else "n/a"
                lines.append(f"- {d} ms, {phase}: Tandem {tv}/s vs Kamailio {kv}/s = {ratio}")
    (outdir / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
