"""The `matrix` subcommand: every scenario's relay search with generated configs, resumable."""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

from . import tandem_stats
from .backends import Backends
from .ceilings import Budget, budget, measure as measure_ceiling
from .common import ROOT, free_port, git_rev, log, sipp_version, wait_port_free
from .proxies import Proxy
from .scenarios import (LEGACY_SOCKETS, SOCKETS, Scenario, all_scenarios, estimate_run_s, estimate_scenario_s, matches,
                        parse_filters, parse_sockets, predict_start, run_order, scenario_config)
from .search import best_step, peak_threads_of, search
from .sipp import Runner, limit_reason, p90_limit
from .verdict import write_matrix_reports


# Field filters (not names): with --udp-sockets shared,per_worker they keep both twins.
QUICK_ONLY = ["backend=none,workers=2", "backend=sleep,mode=native,delay=20,workers=2",
              "backend=sleep,mode=sync,delay=20,workers=2", "backend=http,mode=native,delay=20,workers=2"]


def matrix_defaults(a) -> None:
    """Fills the unset search parameters for --quick, --full or the default (long) matrix."""
    if a.quick and a.full:
        raise SystemExit("--quick and --full exclude each other")
    if a.quick:
        preset = dict(duration=4.0, precision=0.5, max_steps=4, budget=30.0, start_rate=1000, ramp=2.0,
                      confirm_duration=0.0, est_steps=3.5)
        a.drain = min(a.drain, 3.0)
        if not a.only:
            a.only = QUICK_ONLY
    elif a.full:
        preset = dict(duration=4.0, precision=0.2, max_steps=5, budget=35.0, start_rate=1000, ramp=1.5,
                      confirm_duration=10.0, est_steps=4.0)
    else:
        preset = dict(duration=10.0, precision=0.15, max_steps=8, budget=150.0, start_rate=1000, ramp=2.0,
                      confirm_duration=0.0, est_steps=5.0)
    for k, v in preset.items():
        if getattr(a, k, None) is None:
            setattr(a, k, v)


def stats_wait(url: str, timeout: float = 2.0) -> dict | None:
    deadline = time.monotonic() + timeout
    while True:
        doc = tandem_stats.fetch(url, timeout=0.5)
        if doc is not None or time.monotonic() >= deadline:
            return doc
        time.sleep(0.2)


def resume_sockets(prior: dict, requested: str | None, sockets: list[str]) -> tuple[bool, list[str]]:
    """(legacy, socket layouts to run) for a run resumed from `prior` (its results.json, {} for a new run).
    A run made before udp_sockets (params without it, or marked legacy_socket_names) is legacy: its scenarios
    were measured with per-worker sockets under names without -pw, so the rest of it runs per_worker under the
    same names; asking for another layout (`requested`, the raw --udp-sockets) is refused."""
    params = prior.get("params")
    if params is None or ("udp_sockets" in params and not params.get("legacy_socket_names")):
        return False, sockets
    if requested is not None and sockets != ["per_worker"]:
        raise SystemExit("--resume: this run was made before udp_sockets existed (per-worker sockets, scenario "
                         "names without -pw); it can only go on with --udp-sockets per_worker (or no "
                         "--udp-sockets). Start a new run to measure shared sockets.")
    return True, ["per_worker"]


def rec_ceiling(rec: dict, sc: Scenario, env: dict[str, str], a, cache: dict[tuple, dict]) -> None:
    """Stores in `rec["ceiling"]` the direct-client ceiling of an async scenario's backend at its delay and
    concurrency budget (measured once per run and budget: `cache`); nothing for sync, "none" and backends
    without a client (mixed, sleep, exec)."""
    b = budget(sc.backend, sc.mode, sc.workers, a.offload_limit)
    if b is None or sc.mode == "sync" or f"{sc.backend}_port" not in env:
        return
    key = (sc.backend, sc.delay_ms, b.connections, b.depth)
    if key not in cache:
        try:
            c = measure_ceiling(sc.backend, int(env[f"{sc.backend}_port"]), sc.delay_ms, b, a.ceiling_duration)
            cache[key] = c.record()
            log(f"{sc.backend} ceiling at {sc.delay_ms} ms, {b.connections}x{b.depth} in flight: {c.rate:.0f}/s"
                f" (client CPU {c.client_cpu:.2f}{', client-bound' if c.client_bound else ''})")
        except Exception as e:  # a broken client must not stop the matrix
            cache[key] = {"error": f"{type(e).__name__}: {e}"}
            log(f"{sc.backend} ceiling at {sc.delay_ms} ms: {cache[key]['error']}")
    rec["ceiling"] = cache[key]


def rec_ceiling_same_concurrency(rec: dict, sc: Scenario, env: dict[str, str], a) -> None:
    """Stores in `rec["ceiling_same_concurrency"]` the direct client's rate with as many requests in flight as
    Tandem had at its max rate (the /stats in-flight peak of that step, spread over the budget's connections first), so
    a rate limited by latency at low concurrency is compared with the server at that concurrency, not at the
    full budget. Measured right after the scenario; nothing without a budget ceiling or /stats peak."""
    ceil = rec.get("ceiling") or {}
    peaks = ((rec.get("async_at_max") or {}).get("peaks") or {})
    in_flight = peaks.get("in_flight") or peaks.get("suspended_now")
    if not ceil.get("rate") or not in_flight or not rec.get("max_rate") or f"{sc.backend}_port" not in env:
        return
    conns = max(1, min(int(ceil.get("connections") or 1), int(in_flight)))
    depth = max(1, min(int(ceil.get("depth") or 1), -(-int(in_flight) // conns)))
    try:
        c = measure_ceiling(sc.backend, int(env[f"{sc.backend}_port"]), sc.delay_ms, Budget(conns, depth),
                            a.ceiling_duration)
        rec["ceiling_same_concurrency"] = dict(c.record(), tandem_in_flight=int(in_flight))
        log(f"{sc.backend} ceiling at Tandem's concurrency ({in_flight} in flight at {rec['max_rate']} cps): "
            f"{conns}x{depth}: {c.rate:.0f}/s")
    except Exception as e:  # a broken client must not stop the matrix
        rec["ceiling_same_concurrency"] = {"error": f"{type(e).__name__}: {e}"}


def cmd_matrix(a) -> int:
    matrix_defaults(a)
    if not shutil.which(a.sipp) and not a.list:
        raise SystemExit(f"{a.sipp} not found (apt-get install sip-tester)")
    split = lambda v, conv=str: [conv(x) for x in v.split(",") if x.strip()]
    delay_order = split(a.delay_order, int)
    sockets = parse_sockets(a.udp_sockets)
    prior: dict = {}
    if a.resume:
        outdir = Path(a.resume).resolve()
        rp = outdir / "results.json"
        if rp.exists():
            prior = json.loads(rp.read_text())
    else:
        outdir = Path(a.out) / ("matrix-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    legacy, sockets = resume_sockets(prior, a.udp_sockets, sockets)
    if legacy:
        log(f"{outdir.name} was made before udp_sockets existed (per-worker sockets): its remaining scenarios run "
            f"with udp_sockets=per_worker and keep its names (no -pw)")
        for p in prior.get("proxies", []):
            if p.get("scenario"):
                p["scenario"].setdefault("sockets", LEGACY_SOCKETS)
    scenarios = run_order([sc for sc in all_scenarios(split(a.backends), split(a.modes), split(a.delays, int),
                                                       split(a.workers, int), sockets, legacy)
                           if matches(sc, parse_filters(a.only))], delay_order)
    # Kept from DIR: scenarios that ran to the end (not those that did not start, were cut by the total budget,
    # or only got "no SIPp statistics").
    done = {p["name"]: p for p in prior.get("proxies", []) if p.get("steps") and not p.get("error")
            and not p.get("incomplete")
            and not all(st.get("reason", "").startswith("no SIPp statistics") for st in p["steps"])}
    todo = [sc for sc in scenarios if sc.name not in done]
    need_baseline = not a.skip_baseline and not prior.get("baseline")
    est = estimate_run_s(todo, a, need_baseline)
    if a.full and not a.total_budget:
        a.total_budget = round(est * 1.25 / 60) * 60
    a.total_budget = a.total_budget or (165.0 if a.quick else a.budget * (len(todo) + 1))
    est_line = (f"{len(scenarios)} scenarios ({len(scenarios) - len(todo)} already done), {len(todo)} to run: "
                f"estimated {est / 60:.0f} min ({a.duration:g} s steps, ~{min(a.est_steps, a.max_steps):g} search "
                f"steps each" + (f", one {a.confirm_duration:g} s confirmation" if a.confirm_duration else "") +
                f"); total budget {a.total_budget / 60:.0f} min")
    if a.list:
        for sc in scenarios:
            lim = p90_limit(sc.delay_ms, sc.backend_calls, a.max_p90_ms, a.p90_factor)
            print(f"{sc.name:28s} p90 <= {lim or '-'} ms  ~{estimate_scenario_s(sc, a):.0f} s"
                  + ("  (done)" if sc.name in done else ""))
        print(f"estimate: {est_line}")
        return 0
    tandem = Path(a.tandem)
    if not tandem.is_absolute():
        tandem = ROOT / tandem
    if not tandem.exists():
        raise SystemExit(f"{tandem} not found: swift build -c release (or give --tandem PATH)")
    if not scenarios:
        raise SystemExit("no scenario left after --only")
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "configs").mkdir(exist_ok=True)
    t_start = time.monotonic()
    deadline = t_start + a.total_budget
    log(f"matrix: {est_line}; results in {outdir}")

    taken: set[int] = set()
    proxy_port = free_port(a.proxy_port, taken)
    a.proxy_addr = f"127.0.0.1:{proxy_port}"
    a.uas_port = max(a.uas_port, 0)
    runner = Runner(a, outdir, None)
    # The /stats endpoint: "on" until Tandem refuses the modules or the endpoint does not answer (then "refused"
    # or "unreachable" for the rest of the run: same binary), "off" with --no-stats.
    stats_state = "off" if a.no_stats else "on"
    stats_port = None if a.no_stats else free_port(a.stats_port, taken)
    stamp = prior.get("timestamp") or outdir.name.removeprefix("matrix-")
    result: dict = {
        "schema": 2, "kind": "matrix", "timestamp": stamp, "git": git_rev(),
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                 "sipp": sipp_version(a.sipp)},
        "params": {"quick": a.quick, "full": a.full, "duration_s": a.duration, "confirm_s": a.confirm_duration,
                   "confirm_tries": a.confirm_tries, "ramp": a.ramp, "precision": a.precision,
                   "max_steps": a.max_steps, "budget_s": a.budget, "total_budget_s": a.total_budget,
                   "start_rate": a.start_rate, "max_rate": a.max_rate, "max_failed": a.max_failed,
                   "max_retrans": a.max_retrans, "max_p90_ms": a.max_p90_ms, "p90_factor": a.p90_factor,
                   "late_slack_s": a.late_slack, "early_stop": a.early_stop, "offload_limit": a.offload_limit,
                   "margin": a.margin, "verdict_delay_ms": a.verdict_delay, "delay_order": delay_order,
                   "stats": not a.no_stats, "tandem": str(tandem), "estimate_s": round(est),
                   "udp_sockets": [so for so in SOCKETS
                                   if so in sockets or so in (prior.get("params") or {}).get("udp_sockets", [])]},
        "runs": prior.get("runs", []) + [{"git": git_rev(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                     time.gmtime())}],
        "interrupted": False,
    }
    if legacy:
        result["params"]["legacy_socket_names"] = True
    if prior.get("baseline"):
        result["baseline"] = prior["baseline"]
    records: dict[str, dict] = dict(done)
    order = [sc.name for sc in scenarios] + [n for n in done if n not in {sc.name for sc in scenarios}]
    skipped: list[str] = []

    def save() -> None:
        result["elapsed_s"] = round(time.monotonic() - t_start, 1)
        write_matrix_reports(outdir, result, [records[n] for n in order if n in records], skipped,
                             a.verdict_delay, a.margin)

    backends = Backends(outdir, a.delay_proxy)
    result["params"]["delay_proxy"] = backends.delay_kind
    ceilings: dict[tuple, dict] = {}
    broken = False
    try:
        if not a.skip_baseline and not result.get("baseline"):
            runner.p90_limit_ms = a.max_p90_ms or None
            bs = search(runner, None, max(a.start_rate, 2000) if a.full else a.start_rate, a.max_rate, a.precision,
                        a.max_steps + (1 if a.full else 0), min(a.budget, max(10.0, deadline - time.monotonic())))
            result["baseline"] = {"max_rate": bs.max_rate, "first_fail": bs.first_fail, "stopped_by": bs.stopped_by,
                                  "limit": limit_reason(bs.steps, bs.max_rate),
                                  "steps": [asdict(s) for s in bs.steps]}
            save()
        base = result.get("baseline") or {}
        cap = a.max_rate
        if base.get("max_rate") and base.get("first_fail"):
            cap = min(cap, base["first_fail"])
        for idx, sc in enumerate(todo):
            left = deadline - time.monotonic()
            if left < max(5.0, 0.6 * estimate_scenario_s(sc, a)):
                skipped.extend(s.name for s in todo[idx:])
                log(f"total budget spent: {len(todo) - idx} scenarios left, from {sc.name} (run again with "
                    f"--resume {outdir})")
                break
            rec: dict = {"name": sc.name, "scenario": sc.record()}
            records[sc.name] = rec
            try:
                env = backends.env_for(sc)
            except (RuntimeError, subprocess.TimeoutExpired, SystemExit) as e:
                rec.update({"error": f"backend: {e}", "max_rate": 0, "stopped_by": "not started", "steps": []})
                log(f"{sc.name}: {rec['error']}")
                broken = True
                save()
                continue
            if a.ceiling_duration > 0:
                rec_ceiling(rec, sc, env, a, ceilings)
            cfg = outdir / "configs" / f"{sc.name}.cfg"
            if not wait_port_free(proxy_port):
                rec.update({"error": f"port {proxy_port} still busy", "max_rate": 0, "stopped_by": "not started",
                            "steps": []})
                broken = True
                save()
                continue
            use_stats = stats_state == "on"
            if use_stats and not wait_port_free(stats_port, 5.0):
                stats_port = free_port(stats_port + 1, taken)
            cfg.write_text(scenario_config(sc, proxy_port, env, outdir, a.offload_limit,
                                           stats_port if use_stats else None))
            rec["cmd"] = f"{tandem} run -f {cfg}"
            proxy = Proxy(rec["cmd"], a.proxy_addr, outdir / f"proxy-{sc.name}.log")
            try:
                try:
                    proxy.start()
                except SystemExit as e:
                    if not use_stats:
                        raise
                    # Perhaps a Tandem without the management endpoint: the same scenario without it.
                    log(f"{sc.name}: {e}; retrying without the /stats modules")
                    cfg.write_text(scenario_config(sc, proxy_port, env, outdir, a.offload_limit, None))
                    plog = outdir / f"proxy-{sc.name}.log"
                    if plog.exists():
                        plog.rename(outdir / f"proxy-{sc.name}.with-stats.log")
                    wait_port_free(proxy_port)
                    proxy = Proxy(rec["cmd"], a.proxy_addr, outdir / f"proxy-{sc.name}.log")
                    proxy.start()
                    stats_state = "refused"
                    use_stats = False
                    log("tandem refused the httpd/mi_http/prometheus modules: no /stats for the rest of the run")
            except SystemExit as e:
                rec.update({"error": str(e), "max_rate": 0, "stopped_by": "not started", "steps": []})
                log(f"{sc.name}: {e}")
                broken = True
                save()
                continue
            runner.stats_url = None
            if use_stats:
                url = f"http://127.0.0.1:{stats_port}/stats"
                if stats_wait(url) is not None:
                    runner.stats_url = url
                else:
                    stats_state = "unreachable"
                    log(f"{sc.name}: {url} does not answer: no /stats for the rest of the run")
            rec["stats_endpoint"] = "ok" if runner.stats_url else ("off (--no-stats)" if a.no_stats else stats_state)
            runner.proxy = proxy
            lim = p90_limit(sc.delay_ms, sc.backend_calls, a.max_p90_ms, a.p90_factor)
            runner.p90_limit_ms = lim
            known = {**records, **done}
            start, why = predict_start(sc, known, a.start_rate, a.offload_limit)
            start = min(start, cap)
            rec.update({"p90_limit_ms": lim, "start_rate": start, "start_why": why})
            log(f"{sc.name}: start {start} cps ({why}), p90 bound {lim} ms")
            s = None
            restarts = 0

            def reset() -> None:
                # A step after a failed one runs on a fresh proxy: no backlog from the overload.
                nonlocal restarts
                restarts += 1
                for attempt in range(3):
                    try:
                        if use_stats:
                            # The old process (or a child it spawned) may hold the /stats port for a moment.
                            wait_port_free(stats_port, 5.0)
                        proxy.restart()
                        break
                    except SystemExit as e:
                        if attempt == 2:
                            raise
                        log(f"{sc.name}: restart failed ({e}); retrying")
                        time.sleep(1.0)
                if runner.stats_url and stats_wait(runner.stats_url) is None:
                    runner.stats_url = None

            try:
                s = search(runner, sc.name, start, cap, a.precision, a.max_steps,
                           max(10.0, min(a.budget, deadline - time.monotonic())), min_rate=1, ramp=a.ramp,
                           confirm_s=a.confirm_duration, confirm_tries=a.confirm_tries, hard_deadline=deadline,
                           reset=reset)
            finally:
                proxy.stop()
                runner.proxy = None
                runner.stats_url = None
                if proxy.last:
                    rec["peak_rss_kb"] = proxy.last.hwm_kb
                    rec["cpu_seconds_total"] = round(proxy.last.cpu_s, 3)
                    rec["threads"] = proxy.last.threads
                rec["exit_code"] = proxy.proc.returncode if proxy.proc else None
                rec["proxy_restarts"] = restarts
            rec.update(peak_threads_of(s))
            b = best_step(s)
            rec.update({"max_rate": s.max_rate, "first_fail": s.first_fail, "stopped_by": s.stopped_by,
                        "search_max_rate": s.search_max_rate, "limit": limit_reason(s.steps, s.max_rate),
                        "cpu_pct_at_max": b.proxy_cpu_pct if b else None,
                        "cpu_us_per_call_at_max": b.proxy_cpu_us_per_call if b else None,
                        "async_at_max": b.stats if b else None,
                        "steps": [asdict(st) for st in s.steps]})
            if a.ceiling_duration > 0 and sc.mode != "sync":
                rec_ceiling_same_concurrency(rec, sc, env, a)
            if s.incomplete:
                rec["incomplete"] = True
            if any("proxy died" in st.reason for st in s.steps):
                rec["error"] = "proxy died during the search"
                broken = True
            save()
    except KeyboardInterrupt:
        result["interrupted"] = True
        log("interrupted; writing what was measured")
    finally:
        backends.close()
    save()
    print((outdir / "summary.md").read_text())
    log(f"done in {result['elapsed_s']} s (estimate {est:.0f} s); results in {outdir} (resume with --resume {outdir})")
    if result["interrupted"]:
        return 130
    return 2 if broken else 0
