"""Tandem performance harness (Python 3, stdlib only).

Subcommands
  relay    Find the highest sustained call rate (calls/s) through one or more SIP proxies with SIPp
           (Tests/sipp/uac.xml -> proxy -> Tests/sipp/uas.xml), and the same search for SIPp uac <-> uas with
           no proxy (the generator's own ceiling) in the same run. Each proxy (--proxy NAME=CMD, repeatable,
           or one unnamed --proxy-cmd) is started fresh, searched, and stopped before the next one; its CPU
           time (/proc/PID/stat) and peak RSS (/proc/PID/status VmHWM) are recorded.
  compare  Print ratios between two results.json files.
  matrix   The relay search over backend x async mode x delay x udp_workers x udp_sockets scenarios with
           generated Tandem configs (--quick, --full, --list prints the run order and a run-time estimate; see Perf/README.md).
  chart    Re-render the SVG charts of a results.json.

A rate R passes when, over a run of D seconds at R calls/s (R*D calls) (judge()):
  * failed calls < 0.1% (--max-failed), every call created and >= 99.9% successful,
  * INVITE->200 p90 (SIPp -trace_rtt) <= the latency bound: --max-p90-ms (50) for relay targets (per proxy:
    --max-p90-for); in the matrix 50 ms + --p90-factor (2) x backend delay x backend calls per call,
  * retransmissions are not growing (second half of the run <= 2x first half + slack) and stay under 1% of
    calls (--max-retrans; at least 2 allowed),
  * the run took <= 1.15 x D + --late-slack (2) seconds.
A step that can no longer pass (failed calls or retransmissions over the limit, > 10% of its calls above the
latency bound) is stopped early. Each failing step records its reasons; the summary's "limit" column shows the
first failed step above the max rate and why.
Search: exponential ramp (x2) from --start-rate until the first failure or --max-rate, then bisection until
the gap is below --precision; every loop is bounded in steps (--max-steps) and time (--budget per search).

Output: Perf/results/<UTC timestamp>/ with results.json, steps.csv, summary.md, proxy-<NAME>.log (proxy.log for
the unnamed --proxy-cmd), sipp/*.csv. The summary gives each proxy's ratio to the baseline and to the first proxy.
Exit status: 0 when every search ran (slow figures never fail the run), 2 when a proxy did not start or died,
3 when no step produced SIPp statistics (the harness or SIPp is broken), 130 when interrupted.

Examples
  python3 Perf/harness.py relay --quick --no-proxy                  # SIPp-alone ceiling only
  python3 Perf/harness.py relay --quick --proxy-cmd ".build/release/tandem run -f Perf/configs/relay.cfg"
  python3 Perf/harness.py relay --duration 10 --proxy tandem=".build/release/tandem run -f Perf/configs/relay.cfg" \
      --proxy kamailio="kamailio -DD -E -f Perf/configs/kamailio-relay.cfg" --start-rate-for sync=25 ...
  python3 Perf/harness.py relay --proxy-cmd "..." --compare Perf/results/20260101T000000Z/results.json
  python3 Perf/harness.py compare OLD/results.json NEW/results.json [--match proxy=tandem-relay2]
"""
from __future__ import annotations

import argparse
import sys

from .backends import DELAY_PROXY_KINDS
from .common import ROOT
from .matrix import cmd_matrix
from .relay import cmd_chart, cmd_compare, cmd_relay
from .scenarios import BACKENDS, MODES


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("relay", help="highest sustained call rate through the proxies (and SIPp alone)")
    r.add_argument("--proxy", action="append", metavar="NAME=CMD",
                   help="a proxy to measure, started fresh from CMD in the foreground (run from the repo root); "
                        "repeatable, measured in the given order after the baseline")
    r.add_argument("--proxy-cmd", help="one unnamed proxy (named 'proxy'), measured before any --proxy")
    r.add_argument("--start-rate-for", action="append", metavar="NAME=RATE",
                   help="first ramp rate for one proxy (e.g. a blocking config: sync=25); repeatable")
    r.add_argument("--proxy-addr", default="127.0.0.1:15060",
                   help="where every proxy listens (default %(default)s)")
    r.add_argument("--proxy-running", action="store_true", help="the proxy is already running at --proxy-addr")
    r.add_argument("--no-proxy", action="store_true", help="only the SIPp uac <-> uas baseline")
    r.add_argument("--skip-baseline", action="store_true", help="only the proxy searches")
    r.add_argument("--restart-after-failure", action="store_true",
                   help="a step that follows a failed one runs on a freshly started proxy (as in matrix)")
    r.add_argument("--quick", action="store_true", help="6 s steps, coarse search: under 3 minutes for one proxy")
    r.add_argument("--duration", type=float, help="seconds per step (quick 6, full 30)")
    r.add_argument("--start-rate", type=int, help="first rate of the ramp (quick 1000, full 500)")
    r.add_argument("--max-rate", type=int, default=40000, help="highest rate tried (default %(default)s)")
    r.add_argument("--precision", type=float, help="stop bisecting when (fail-pass)/pass is below this")
    r.add_argument("--max-steps", type=int, help="steps per search (quick 9, full 14)")
    r.add_argument("--budget", type=float, help="seconds per search (quick 75, full 900)")
    r.add_argument("--total-budget", type=float,
                   help="seconds for all searches (baseline + one proxy: quick 150, full 2400; more proxies: "
                        "budget x searches); a step started in time may finish later")
    r.add_argument("--drain", type=float, default=6.0, help="seconds allowed after the last call is created")
    r.add_argument("--max-failed", type=float, default=0.001, help="allowed failed-call ratio (default 0.1%%)")
    r.add_argument("--max-retrans", type=float, default=0.01, help="allowed retransmissions per call")
    r.add_argument("--max-p90-ms", type=float, default=50.0,
                   help="a step fails when INVITE->200 p90 exceeds this (default %(default)s ms; 0: no bound)")
    r.add_argument("--max-p90-for", action="append", metavar="NAME=MS",
                   help="the p90 bound of one proxy, e.g. a config with a 20 ms wait: usleep-async=90; repeatable")
    r.add_argument("--late-slack", type=float, default=2.0,
                   help="a step fails when it takes more than 1.15 x duration + this many s (default %(default)s)")
    r.add_argument("--no-early-stop", dest="early_stop", action="store_false",
                   help="run every step to its end even when its failed calls already exceed --max-failed")
    r.add_argument("--uas-port", type=int, default=15070)
    r.add_argument("--uac-port", type=int, default=15080)
    r.add_argument("--control-port", type=int, default=18870, help="first SIPp control port (-cp)")
    r.add_argument("--sipp", default="sipp")
    r.add_argument("--out", default=str(ROOT / "Perf" / "results"))
    r.add_argument("--compare", metavar="EARLIER.json", help="print ratios against an earlier results.json")
    r.set_defaults(func=cmd_relay)
    c = sub.add_parser("compare", help="ratios between two results.json files")
    c.add_argument("earlier")
    c.add_argument("now")
    c.add_argument("--match", action="append", metavar="OLD=NEW",
                   help="compare proxy OLD of the earlier file with proxy NEW of the later one (repeatable)")
    c.set_defaults(func=cmd_compare)
    ch = sub.add_parser("chart", help="re-render throughput.svg / latency.svg from a results.json")
    ch.add_argument("results", help="results.json (or its folder)")
    ch.set_defaults(func=cmd_chart)
    m = sub.add_parser("matrix", help="relay searches over backend x mode x delay x udp_workers x udp_sockets "
                       "scenarios")
    m.add_argument("--backends", default=",".join(BACKENDS), help="comma list (default: all: %(default)s)")
    m.add_argument("--modes", default=",".join(MODES), help="comma list (default %(default)s; mongodb has no native)")
    m.add_argument("--delays", default="1,20,100", help="backend delays in ms (default %(default)s)")
    m.add_argument("--workers", default="1,2,4", help="udp_workers values (default %(default)s)")
    m.add_argument("--udp-sockets", metavar="LIST",
                   help="comma list of udp_sockets layouts: shared (one socket read by every UDP worker), "
                        "per_worker (one SO_REUSEPORT socket per worker; names end in -pw); default shared. "
                        "Both: each per_worker scenario runs right after its shared twin")
    m.add_argument("--delay-order", default="20,1,100",
                   help="run order of the delays (default %(default)s: the verdict's 20 ms first)")
    m.add_argument("--only", action="append", metavar="KEY=V[,KEY=V]",
                   help="keep scenarios matching all pairs (keys backend, mode, delay, workers, sockets, name; "
                        "values may "
                        "be V1|V2); repeatable: any --only matches")
    m.add_argument("--resume", metavar="DIR", help="write into DIR and skip the scenarios its results.json has")
    m.add_argument("--list", action="store_true",
                   help="print the selected scenarios in run order, their p90 bound, and the run-time estimate")
    m.add_argument("--quick", action="store_true",
                   help="4 scenarios (none, usleep native/sync, http native; 2 workers, 20 ms), 4 s steps, "
                        "under 3 minutes")
    m.add_argument("--full", action="store_true",
                   help="every scenario in about 85 minutes: 4 s steps, x1.5 ramp from predicted start rates, "
                        "precision 0.2, at most 5 search steps or 35 s per search, then a 10 s confirmation")
    m.add_argument("--tandem", default=".build/release/tandem", help="Tandem binary (default %(default)s)")
    m.add_argument("--offload-limit", type=int, default=64, help="offload_limit for offload scenarios")
    m.add_argument("--ceiling-duration", type=float, default=3.0,
                   help="seconds of each backend's direct-client ceiling measurement, before its async scenarios "
                        "(Perf/tandem_perf/ceilings.py; 0: none); default %(default)s")
    m.add_argument("--delay-proxy", choices=DELAY_PROXY_KINDS, default="c",
                   help="the latency proxy in front of the delayed backends: c (Perf/delay_proxy.c, built with cc "
                        "into .build/perf-tools; the Python one when there is no C compiler) or python "
                        "(Perf/delay_proxy.py, the runs before 2026-12-04); default %(default)s")
    m.add_argument("--proxy-port", type=int, default=15160, help="first port tried for the proxy")
    m.add_argument("--no-stats", action="store_true",
                   help="do not enable Tandem's /stats endpoint (httpd/mi_http/prometheus modules) in the configs")
    m.add_argument("--stats-port", type=int, default=18990, help="first port tried for /stats")
    m.add_argument("--skip-baseline", action="store_true")
    m.add_argument("--duration", type=float, help="seconds per step (quick 4, full 4, default 10)")
    m.add_argument("--confirm-duration", type=float,
                   help="seconds of the confirmation step at the best rate (full 10; 0: none, quick/default)")
    m.add_argument("--confirm-tries", type=int, default=2,
                   help="confirmations tried, each at a lower rate after a failure (default %(default)s)")
    m.add_argument("--ramp", type=float, help="ramp factor (full 1.5, else 2)")
    m.add_argument("--start-rate", type=int,
                   help="first ramp rate when nothing predicts one (default 1000; see README: start rates)")
    m.add_argument("--max-rate", type=int, default=40000)
    m.add_argument("--precision", type=float, help="bisection precision (quick 0.5, full 0.2, default 0.15)")
    m.add_argument("--max-steps", type=int, help="search steps per scenario (quick 4, full 5, default 8)")
    m.add_argument("--budget", type=float, help="seconds per search (quick 30, full 35, default 150), "
                   "confirmation not included")
    m.add_argument("--total-budget", type=float, help="seconds for the whole invocation (quick 165; full: 1.25 x "
                   "the estimate; default: budget x (scenarios + 1)); scenarios left are skipped, resume later")
    m.add_argument("--est-steps", type=float, help=argparse.SUPPRESS)  # search steps the estimate assumes
    m.add_argument("--max-p90-ms", type=float, default=50.0,
                   help="latency bound base: a step fails when INVITE->200 p90 > this + --p90-factor x delay x "
                        "backend calls (default %(default)s ms; 0: no latency bound)")
    m.add_argument("--p90-factor", type=float, default=2.0, help="see --max-p90-ms (default %(default)s)")
    m.add_argument("--late-slack", type=float, default=2.0,
                   help="a step fails when it takes more than 1.15 x duration + this many s (default %(default)s)")
    m.add_argument("--no-early-stop", dest="early_stop", action="store_false",
                   help="run every step to its end even when its failed calls already exceed --max-failed")
    m.add_argument("--margin", type=float, default=5.0,
                   help="the verdict's PASS margin: best async >= this x best sync (default %(default)s)")
    m.add_argument("--verdict-delay", type=int, default=20, help="delay (ms) of the verdict table (default 20)")
    m.add_argument("--drain", type=float, default=6.0)
    m.add_argument("--max-failed", type=float, default=0.001)
    m.add_argument("--max-retrans", type=float, default=0.01)
    m.add_argument("--uas-port", type=int, default=15070)
    m.add_argument("--uac-port", type=int, default=15080)
    m.add_argument("--control-port", type=int, default=18870)
    m.add_argument("--sipp", default="sipp")
    m.add_argument("--out", default=str(ROOT / "Perf" / "results"))
    m.set_defaults(func=cmd_matrix)
    a = ap.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
