"""Tandem's performance harness as a package (Python 3 stdlib only); `Perf/harness.py` is its command line.

Modules, in the order a run uses them:
  common      paths, logging, ports, process helpers
  procstat    CPU/threads/memory of a proxy from /proc
  proxies     a proxy under test (start, SIP probe, stop)
  sipp        one SIPp step and its pass rule
  search      the rate search (ramp, bisection, confirmation)
  scenarios   matrix scenarios and their generated Tandem configs
  backends    test servers and delay proxies behind the scenarios
  ceilings    each backend's own ceiling, measured by a direct client
  reports     results.json / steps.csv / summary.md of a relay run
  verdict     the matrix verdict tables
  charts      SVG charts (stdlib only)
  tandem_stats  Tandem's GET /stats
  relay, matrix, cli  the subcommands and the argument parser

`namespace()` gives every module's top-level names in one dict (what `harness.py` re-exports for its tests and
for scripts that `import harness`).
"""
from __future__ import annotations

import importlib

MODULES = ("common", "procstat", "proxies", "sipp", "search", "scenarios", "backends", "ceilings", "reports",
           "verdict", "charts", "tandem_stats", "relay", "matrix", "cli")


def namespace() -> dict:
    """Every top-level name of the package's modules (later modules win on a clash), plus the modules."""
    ns: dict = {}
    for name in MODULES:
        mod = importlib.import_module(f"{__name__}.{name}")
        ns[name] = mod
        ns.update({k: v for k, v in vars(mod).items() if not k.startswith("__")})
    return ns
