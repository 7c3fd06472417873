#!/usr/bin/env python3
"""Offload variants side by side: one `harness.py relay` run over the matrix's offload scenarios (same configs as
`harness.py matrix`), each once per variant (a Tandem binary plus extra `modparam("tandem", ...)` lines), the
variants of one backend back to back so that they meet the same machine conditions.

    python3 Perf/offload_lanes.py --variant dispatch=.build/release/tandem \
        --variant threads=.build-main/release/tandem --backends exec,postgres,mongodb -- --duration 5

`--variant NAME=BINARY[,PARAM=VALUE...]`: PARAM=VALUE pairs become `modparam("tandem", "PARAM", "VALUE")`.
Starts the test servers the backends need (and Perf/delay_proxy.py for MongoDB), writes the configs to
OUT/configs/, runs `harness.py relay --skip-baseline --restart-after-failure` with one --proxy per backend x
variant (named `<backend>-<variant>`), stops the servers. Arguments after `--` go to `harness.py relay` (search
bounds, step duration). Each record of its results.json has `peak_threads` / `peak_threads_at_max` (the proxy's
threads, /proc/PID/stat, sampled every 0.25 s during each step).

The committed runs `results/lanes-20261203T131856Z` and `lanes-20261203T132219Z` were made with this script's
first form, `--lanes threads,dispatch` (and `dispatch,threads`): one binary whose `modparam("tandem",
"offload_lanes", ...)` chose pthread or Dispatch lanes; that modparam is gone since. To measure the pthread
lanes again, build a commit before Dispatch lanes into a separate checkout's `.build-main` and pass it as a
variant."""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

START = {"sleep": 1500, "exec": 400, "http": 800, "postgres": 500, "ldap": 1500, "mongodb": 1200}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--variant", action="append", required=True, metavar="NAME=BINARY[,PARAM=VALUE...]",
                   help="a Tandem binary and extra tandem modparams; several, run in the order given")
    p.add_argument("--backends", default="exec,postgres,mongodb", help="matrix backends (default %(default)s)")
    p.add_argument("--delay", type=int, default=20, help="backend delay in ms (default %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="udp_workers (default %(default)s)")
    p.add_argument("--offload-limit", type=int, default=64, help="offload_limit per driver (default %(default)s)")
    p.add_argument("--start-rate-for", action="append", default=[], metavar="NAME=RATE", help="passed to relay")
    p.add_argument("--port", type=int, default=15160, help="proxy port (default %(default)s)")
    p.add_argument("--out", default=str(harness.ROOT / "Perf" / "results"))
    p.add_argument("relay_args", nargs=argparse.REMAINDER, help="after --: arguments of harness.py relay")
    a = p.parse_args()
    relay_args = a.relay_args[1:] if a.relay_args[:1] == ["--"] else a.relay_args

    out = Path(a.out) / ("lanes-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    (out / "configs").mkdir(parents=True)
    backends = harness.Backends(out)
    proxies: list[str] = []
    starts: list[str] = []
    try:
        for backend in a.backends.split(","):
            sc = harness.Scenario(backend=backend, mode="offload", delay_ms=a.delay, workers=a.workers)
            env = backends.env_for(sc)
            base = harness.scenario_config(sc, a.port, env, out, a.offload_limit)
            for variant in a.variant:
                label, _, spec = variant.partition("=")
                binary, *params = spec.split(",")
                name = f"{backend}-{label}"
                cfg = out / "configs" / f"{name}.cfg"
                extra = "".join(f'modparam("tandem", "{k}", "{v}")\n' for k, _, v in (q.partition("=") for q in params))
                cfg.write_text(base + extra)
                proxies += ["--proxy", f"{name}={binary} run -f {cfg}"]
                starts += ["--start-rate-for", f"{name}={START.get(backend, 1000)}"]
                bound = 50 + 2 * a.delay  # the matrix bound for one wait
                starts += ["--max-p90-for", f"{name}={bound}"]
        for s in a.start_rate_for:
            starts += ["--start-rate-for", s]
        cmd = [sys.executable, str(harness.ROOT / "Perf" / "harness.py"), "relay", "--skip-baseline", "--restart-after-failure",
               "--proxy-addr", f"127.0.0.1:{a.port}", "--out", str(out / "relay")] + proxies + starts + relay_args
        harness.log("running: " + " ".join(cmd))
        return subprocess.run(cmd, cwd=harness.ROOT).returncode
    finally:
        backends.close()


if __name__ == "__main__":
    sys.exit(main())
