"""The `relay`, `chart` and `compare` subcommands."""
from __future__ import annotations

import json
import os
import platform
import shutil
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path

from .charts import write_charts
from .common import git_rev, log, parse_addr, parse_named, safe_name, sipp_version, wait_port_free
from .proxies import Proxy
from .reports import compare, write_reports
from .search import Search, best_step, peak_threads_of, search
from .sipp import Runner, read_stat_csv, rtt_histogram


def cmd_relay(a) -> int:
    if a.quick:
        a.duration = a.duration or 6.0
        a.precision = a.precision or 0.15
        a.max_steps = a.max_steps or 9
        a.budget = a.budget or 75.0
        a.start_rate = a.start_rate or 1000
    else:
        a.duration = a.duration or 30.0
        a.precision = a.precision or 0.05
        a.max_steps = a.max_steps or 14
        a.budget = a.budget or 900.0
        a.start_rate = a.start_rate or 500
    if not shutil.which(a.sipp):
        raise SystemExit(f"{a.sipp} not found (apt-get install sip-tester)")

    # The proxies, in order: --proxy-cmd (unnamed, "proxy") first, then every --proxy NAME=CMD.
    plist: list[tuple[str, str | None]] = []
    if a.proxy_cmd:
        plist.append(("proxy", a.proxy_cmd))
    elif a.proxy_running:
        plist.append(("proxy", None))
    for name, cmd in parse_named(a.proxy, "--proxy"):
        if any(n == name for n, _ in plist):
            raise SystemExit(f"--proxy: name {name!r} given twice")
        plist.append((name, cmd))
    if a.no_proxy:
        plist = []
    elif not plist:
        raise SystemExit("give --proxy NAME=CMD (repeatable) or --proxy-cmd CMD (or --proxy-running, or --no-proxy "
                         "for the SIPp-alone ceiling)")
    if a.proxy_running and len(plist) > 1:
        raise SystemExit("--proxy-running works with a single proxy only")
    starts = {n: int(r) for n, r in parse_named(a.start_rate_for, "--start-rate-for")}
    unknown = set(starts) - {n for n, _ in plist}
    if unknown:
        raise SystemExit(f"--start-rate-for: no proxy named {', '.join(sorted(unknown))}")
    p90_for = {n: float(v) for n, v in parse_named(a.max_p90_for, "--max-p90-for")}
    unknown = set(p90_for) - {n for n, _ in plist}
    if unknown:
        raise SystemExit(f"--max-p90-for: no proxy named {', '.join(sorted(unknown))}")
    n_searches = len(plist) + (0 if a.skip_baseline else 1)
    a.total_budget = a.total_budget or ((150.0 if a.quick else 2400.0) if n_searches <= 2 else a.budget * n_searches)

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    outdir = Path(a.out) / stamp
    outdir.mkdir(parents=True, exist_ok=True)
    t_start = time.monotonic()
    deadline = t_start + a.total_budget
    log(f"results in {outdir}; {n_searches} searches, total budget {a.total_budget:.0f} s")

    runner = Runner(a, outdir, None)
    baseline: Search | None = None
    searches: list[Search] = []
    records: list[dict] = []
    interrupted = False
    broken = False
    _, proxy_port = parse_addr(a.proxy_addr)
    try:
        if not a.skip_baseline:
            runner.p90_limit_ms = a.max_p90_ms or None
            baseline = search(runner, None, a.start_rate, a.max_rate, a.precision, a.max_steps,
                              min(a.budget, a.total_budget))
        cap = a.max_rate
        if baseline and baseline.max_rate and baseline.first_fail:
            cap = min(cap, baseline.first_fail)  # the proxy path cannot beat the generator
        for name, cmd in plist:
            rec: dict = {"name": name, "cmd": cmd}
            records.append(rec)
            left = deadline - time.monotonic()
            if left <= 0:
                s = Search(target=name, stopped_by="total budget spent before it started")
                searches.append(s)
                log(f"{name}: skipped, total budget spent")
                continue
            proxy = None
            if cmd is not None:
                if not wait_port_free(proxy_port):
                    rec["error"] = f"port {proxy_port} still busy before start"
                    searches.append(Search(target=name, stopped_by="not started"))
                    broken = True
                    log(f"{name}: {rec['error']}")
                    continue
                log_name = "proxy.log" if name == "proxy" else f"proxy-{safe_name(name)}.log"
                proxy = Proxy(cmd, a.proxy_addr, outdir / log_name)
                try:
                    proxy.start()
                except SystemExit as e:  # did not come up: record it, go on with the next proxy
                    rec["error"] = str(e)
                    searches.append(Search(target=name, stopped_by="not started"))
                    broken = True
                    log(f"{name}: {e}")
                    continue
            runner.proxy = proxy
            runner.p90_limit_ms = p90_for.get(name, a.max_p90_ms) or None
            s = None
            try:
                start = min(starts.get(name, a.start_rate), cap)
                reset = proxy.restart if (proxy and a.restart_after_failure) else None
                s = search(runner, name, start, cap, a.precision, a.max_steps, max(10.0, min(a.budget, left)),
                           reset=reset)
                searches.append(s)
            finally:
                if proxy:
                    proxy.stop()
                    if proxy.last:
                        rec["peak_rss_kb"] = proxy.last.hwm_kb
                        rec["cpu_seconds_total"] = round(proxy.last.cpu_s, 3)
                        rec["threads"] = proxy.last.threads
                    rec["exit_code"] = proxy.proc.returncode if proxy.proc else None
                    if s is not None:
                        rec.update(peak_threads_of(s))
                    if s is not None and any("proxy died" in st.reason for st in s.steps):
                        rec["error"] = "proxy died during the search"
                        broken = True
                runner.proxy = None
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted; writing what was measured")

    by_name = {s.target: s for s in searches}
    first_rate = None
    for rec in records:
        s = by_name.get(rec["name"])
        if s is None:
            continue
        b = best_step(s)
        rec.update({"max_rate": s.max_rate, "first_fail": s.first_fail, "stopped_by": s.stopped_by,
                    "cpu_pct_at_max": b.proxy_cpu_pct if b else None,
                    "cpu_us_per_call_at_max": b.proxy_cpu_us_per_call if b else None,
                    "steps": [asdict(st) for st in s.steps]})
        if "error" in rec and not s.steps:
            continue  # not started: no figures, no ratios
        if baseline and baseline.max_rate:
            rec["ratio_to_baseline"] = round(s.max_rate / baseline.max_rate, 3)
        if first_rate is None:
            first_rate = s.max_rate
        rec["ratio_to_first"] = round(s.max_rate / first_rate, 3) if first_rate else None
    result: dict = {
        "schema": 2,
        "timestamp": stamp,
        "git": git_rev(),
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                 "sipp": sipp_version(a.sipp)},
        "params": {"quick": a.quick, "duration_s": a.duration, "precision": a.precision, "max_steps": a.max_steps,
                   "budget_s": a.budget, "total_budget_s": a.total_budget, "start_rate": a.start_rate,
                   "start_rate_for": starts, "max_rate": a.max_rate, "max_failed": a.max_failed,
                   "max_retrans": a.max_retrans, "max_p90_ms": a.max_p90_ms, "max_p90_for": p90_for,
                   "late_slack_s": a.late_slack, "early_stop": a.early_stop,
                   "proxy_addr": a.proxy_addr, "uas_port": runner.uas_port,
                   "uac_port": runner.uac_port},
        "interrupted": interrupted,
        "elapsed_s": round(time.monotonic() - t_start, 1),
    }
    if baseline:
        result["baseline"] = {"max_rate": baseline.max_rate, "first_fail": baseline.first_fail,
                              "stopped_by": baseline.stopped_by, "steps": [asdict(s) for s in baseline.steps]}
    if records:
        result["proxies"] = records
        result["proxy"] = records[0]  # schema 1 readers (compare) look here
    write_reports(outdir, result, baseline, searches)
    print((outdir / "summary.md").read_text())
    if a.compare:
        earlier = json.loads(Path(a.compare).read_text())
        print("\n".join(compare(earlier, result)))
    log(f"done in {result['elapsed_s']} s; results in {outdir}")
    all_steps = (baseline.steps if baseline else []) + [st for s in searches for st in s.steps]
    if interrupted:
        return 130
    if broken:
        return 2
    if all_steps and all(st.reason.startswith("no SIPp statistics") for st in all_steps):
        log("no step produced SIPp statistics: SIPp or the harness is broken")
        return 3
    return 0


def enrich_rtt_from_csv(result: dict, outdir: Path) -> None:
    """For steps of an older results.json without latency data, read SIPp's response-time histogram from the
    step's kept stat CSV (sipp/<target>-<rate>-uac.csv), in memory only."""
    targets = ([("baseline", result["baseline"])] if result.get("baseline") else []) + \
        [(p["name"], p) for p in result.get("proxies", [])]
    for name, s in targets:
        for st in s.get("steps", []):
            if st.get("rtt_p50_ms") is not None or st.get("rtt_hist"):
                continue
            rows = read_stat_csv(outdir / "sipp" / f"{safe_name(name)}-{st.get('rate')}-uac.csv")
            if rows:
                st["rtt_hist"] = rtt_histogram(rows[-1])


def cmd_chart(a) -> int:
    """Re-renders throughput.svg / latency.svg next to an existing results.json and links them from its
    summary.md (inserted after the first paragraph when missing; the rest of summary.md is left alone)."""
    path = Path(a.results)
    if path.is_dir():
        path = path / "results.json"
    result = json.loads(path.read_text())
    outdir = path.parent
    enrich_rtt_from_csv(result, outdir)
    names = write_charts(outdir, result)
    for n in names:
        ET.parse(outdir / n)  # valid XML or an exception
    summary = outdir / "summary.md"
    if summary.exists() and names:
        text = summary.read_text()
        if "](throughput.svg)" not in text:
            links = " ".join(f"![{n[:-4]}]({n})" for n in names)
            head, sep, rest = text.partition("\n\n")
            rest_head, sep2, rest_tail = rest.partition("\n\n")  # after the title and the first paragraph
            summary.write_text(head + sep + rest_head + sep2 + links + "\n\n" + rest_tail if sep2
                               else text.rstrip("\n") + "\n\n" + links + "\n")
    log(f"wrote {', '.join(str(outdir / n) for n in names)}")
    return 0


def cmd_compare(a) -> int:
    earlier = json.loads(Path(a.earlier).read_text())
    now = json.loads(Path(a.now).read_text())
    print("\n".join(compare(earlier, now, parse_named(a.match, "--match"))))
    return 0
