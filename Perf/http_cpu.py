#!/usr/bin/env python3
"""Tandem's CPU per call at a fixed call rate: plain relay against async `rest_get` over HTTP/1.1 keep-alive,
over HTTP/2 (TLS, ALPN) and async `avp_db_query` on a pipelined PostgreSQL pool, side by side in one run (issue 19).

On a shared, noisy box the highest sustained rate moves with the other load; the CPU time one call costs the
Tandem process does not (much). If an async HTTP call costs <= 1.1x a relayed call's CPU, its rate reaches 0.9x
of the relay's whenever Tandem's CPU is the limit. This starts nginx (scripts/test-servers/nginx.sh; postgres.sh for
`pgpipe`) behind delay proxies (DELAY ms; Perf/delay_proxy.c, or .py with --delay-proxy python), writes the targets' matrix configs
(`none-w2`, `http-native-<D>ms-w2`, `http2-native-<D>ms-w2`, `pgpipe-native-<D>ms-w2`, ..., as `harness.py matrix`
generates them, no /stats)
and runs Perf/relay_cpu.py over them: RATE calls/s, CALLS calls per step, ROUNDS interleaved rounds. Also
records the delay proxies' CPU per call.

    python3 Perf/http_cpu.py --rate 400 --calls 8000 --rounds 3 --out Perf/results/httpcpu-STAMP

Leaves nginx / PostgreSQL running when they were already up; stops them otherwise (and the delay proxies always).
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from tandem_perf.backends import Backends  # noqa: E402
from tandem_perf.scenarios import Scenario, scenario_config  # noqa: E402

ROOT = HERE.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=400)
    ap.add_argument("--calls", type=int, default=8000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--delay", type=int, default=20, help="ms added by the delay proxies (default 20)")
    ap.add_argument("--delay-proxy", choices=("c", "python"), default="c")
    ap.add_argument("--tandem", default=".build/release/tandem")
    ap.add_argument("--targets", default="relay,sleep,http1,http2",
                    help="comma list of relay, sleep (async usleep: the async engine without a driver), http1, http2, "
                         "pgpipe (avp_db_query on PostgreSQL: the matrix's pipelined pool)")
    ap.add_argument("--tandem-b", metavar="BIN",
                    help="a second Tandem binary (e.g. the build before a change): every target but relay runs "
                         "with it too, as <target>-b, in the same rounds")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "configs").mkdir(exist_ok=True)
    was_up = {s for s in ("nginx", "postgres") if (ROOT / ".test-servers" / s / "env").exists()}
    backends = Backends(a.out, a.delay_proxy)
    try:
        names = {"relay": ("none", "-", 0), "sleep": ("sleep", "native", a.delay), "http1": ("http", "native", a.delay),
                 "http2": ("http2", "native", a.delay), "pgpipe": ("pgpipe", "native", a.delay)}
        #: backend -> (test server script, its env variable of the port Tandem's requests go to)
        servers = {"http": ("nginx", "port"), "http2": ("nginx", "TANDEM_TEST_NGINX_TLS_PORT"),
                   "pgpipe": ("postgres", "port")}
        targets, proxies = [], {}
        for t in a.targets.split(","):
            backend, mode, delay = names[t]
            sc = Scenario(backend, mode, delay, 2)
            env: dict[str, str] = {}
            if backend in servers:
                script, port_key = servers[backend]
                server_port = int(backends.server(script)[port_key])
                port = backends.delay_proxy(server_port, delay)
                env[f"{backend}_port"] = str(port)
                proxies[t] = backends.delays[server_port][0].pid
            cfg = a.out / "configs" / f"{sc.name}.cfg"
            cfg.write_text(scenario_config(sc, 15060, env, a.out, 64))
            targets += ["--target", f"{t}={a.tandem} run -f {cfg}"]
            if a.tandem_b and t != "relay":
                targets += ["--target", f"{t}-b={a.tandem_b} run -f {cfg}"]
        before = {t: ticks(pid) for t, pid in proxies.items()}
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, str(HERE / "relay_cpu.py"), "--rate", str(a.rate), "--calls", str(a.calls),
                            "--rounds", str(a.rounds), "--out", str(a.out)] + targets, cwd=ROOT)
        spent = {t: ticks(pid) - before[t] for t, pid in proxies.items()}
        calls = a.calls * a.rounds
        with open(a.out / "summary.md", "a") as f:
            f.write(f"\nDelay proxy ({backends.delay_kind}, {a.delay} ms) CPU over the run: "
                    + ", ".join(f"{t}: {spent[t] / CLK_TCK * 1e6 / calls:.1f} µs/call" for t in spent)
                    + f"; load average at the end {os.getloadavg()[0]:.1f} (run {time.monotonic() - t0:.0f} s).\n")
        print((a.out / "summary.md").read_text())
        return r.returncode
    finally:
        backends.stop_delay()
        for script in [s for s in backends.started if s in was_up]:
            del backends.started[script]  # left running: it was up before
        backends.close()


if __name__ == "__main__":
    sys.exit(main())
