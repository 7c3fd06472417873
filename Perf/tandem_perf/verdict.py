"""The matrix's verdict tables (async vs relay at the verdict delay, shared vs per_worker sockets) and reports."""
from __future__ import annotations

import csv
from pathlib import Path

from .charts import best_step_dict
from .reports import search_from_dict, write_reports
from .ceilings import fraction
from .scenarios import BACKENDS, rec_sockets


def verdict_sockets(records: list[dict]) -> str | None:
    """The socket layout the verdict uses: "shared" when the records hold more than one layout, else None (all)."""
    layouts = {rec_sockets(r) for r in records if r.get("scenario")}
    return "shared" if len(layouts) > 1 and "shared" in layouts else None


def verdict_rows(records: list[dict], delay_ms: int, margin: float, sockets: str | None = None) -> list[dict]:
    """Per backend at `delay_ms`: the best async scenario (native or offload, any workers) against the best sync
    one, their ratio, and PASS when async >= margin x sync (FAIL with the reason otherwise, n/a when a side was
    not measured); with `sockets`, only the scenarios of that socket layout."""
    best: dict[str, dict[str, dict]] = {}
    for r in records:
        sc = r.get("scenario") or {}
        if sc.get("delay_ms") != delay_ms or sc.get("backend") in (None, "none") or not r.get("steps"):
            continue
        if sockets is not None and rec_sockets(r) != sockets:
            continue
        side = "sync" if sc.get("mode") == "sync" else "async"
        cur = best.setdefault(sc["backend"], {}).get(side)
        if cur is None or (r.get("max_rate") or 0) > (cur.get("max_rate") or 0):
            best[sc["backend"]][side] = r
    rows = []
    for b in [x for x in BACKENDS if x in best]:
        a_rec, s_rec = best[b].get("async"), best[b].get("sync")
        row = {"backend": b, "async": a_rec and a_rec["name"], "async_rate": a_rec and (a_rec.get("max_rate") or 0),
               "sync": s_rec and s_rec["name"], "sync_rate": s_rec and (s_rec.get("max_rate") or 0),
               "ratio": None, "verdict": "n/a", "reason": ""}
        if a_rec is None or s_rec is None:
            row["reason"] = f"{'async' if a_rec is None else 'sync'} not measured"
        elif not row["async_rate"]:
            row.update(verdict="FAIL", reason=f"async: nothing passed ({a_rec.get('limit') or a_rec.get('stopped_by')})")
        else:
            ratio = row["async_rate"] / row["sync_rate"] if row["sync_rate"] else float("inf")
            row["ratio"] = round(ratio, 2) if ratio != float("inf") else None
            if ratio >= margin:
                row["verdict"] = "PASS"
                if not row["sync_rate"]:
                    row["reason"] = "sync: nothing passed"
            else:
                row["verdict"] = "FAIL"
                row["reason"] = (f"{ratio:.1f}x < {margin:g}x; async limited by "
                                 f"{a_rec.get('limit') or a_rec.get('stopped_by') or '?'}")
        if any(x and x.get("incomplete") for x in (a_rec, s_rec)):
            row["reason"] += ("; " if row["reason"] else "") + "incomplete search"
        rows.append(row)
    return rows


def verdict_md(rows: list[dict], delay_ms: int, margin: float, sockets: str | None = None) -> list[str]:
    only = (f" Only `udp_sockets={sockets}` scenarios (this run also measured another layout: see "
            f"\"shared vs per_worker\")." if sockets else "")
    out = [f"## {delay_ms} ms verdict" + (f" ({sockets} sockets)" if sockets else ""), "",
           f"Per backend at {delay_ms} ms: the best async scenario (native or offload, any `udp_workers`) against the "
           f"best sync one; PASS when async >= {margin:g}x sync (`--margin`).{only}", "",
           "| backend | best async | cps | best sync | cps | async / sync | verdict | reason |",
           "|---|---|---:|---|---:|---:|---|---|"]
    for r in rows:
        ratio = ("-" if r["async_rate"] is None or r["sync_rate"] is None else
                 "inf" if r["ratio"] is None and r["async_rate"] else
                 f"{r['ratio']:.1f}x" if r["ratio"] is not None else "-")
        out.append(f"| {r['backend']} | {r['async'] or '-'} | {r['async_rate'] if r['async_rate'] is not None else '-'}"
                   f" | {r['sync'] or '-'} | {r['sync_rate'] if r['sync_rate'] is not None else '-'} | {ratio} | "
                   f"**{r['verdict']}** | {r['reason'] or ''} |")
    if not rows:
        out.append("| (no scenario at this delay) | | | | | | | |")
    return out


#: Issue 19's target: Tandem's best async rate >= this x min(relay rate, the backend's own ceiling).
CEILING_TARGET = 0.9


def ceiling_rows(records: list[dict], delay_ms: int, sockets: str | None = None) -> list[dict]:
    """Per backend at `delay_ms` with a measured ceiling: the best async scenario, the ceiling measured with
    that scenario's budget, the relay rate at its workers (none-wN, same socket layout), and the async rate as
    a fraction of min(relay, ceiling); `limit` names the smaller one ("backend": the server is itself the limit)."""
    relay: dict[tuple, int] = {}
    best: dict[str, dict] = {}
    for r in records:
        sc = r.get("scenario") or {}
        if sockets is not None and rec_sockets(r) != sockets:
            continue
        if sc.get("backend") == "none" and r.get("max_rate"):
            key = (sc.get("workers"), rec_sockets(r))
            relay[key] = max(relay.get(key, 0), r["max_rate"])
        elif (sc.get("delay_ms") == delay_ms and sc.get("mode") in ("native", "offload") and r.get("steps")
              and ((r.get("max_rate") or 0) > (best.get(sc["backend"], {}).get("max_rate") or -1))):
            best[sc["backend"]] = r
    rows = []
    for b in [x for x in BACKENDS if x in best]:
        r = best[b]
        sc, ceil = r["scenario"], r.get("ceiling") or {}
        rl = relay.get((sc.get("workers"), rec_sockets(r)))
        c_rate = ceil.get("rate")
        frac, limit = fraction(r.get("max_rate") or 0, rl, c_rate)
        same = r.get("ceiling_same_concurrency") or {}
        s_rate = same.get("rate")
        rows.append({"backend": b, "scenario": r["name"], "rate": r.get("max_rate") or 0, "relay": rl,
                     "ceiling": c_rate, "ceiling_budget": (f"{ceil['connections']}x{ceil['depth']}" if ceil else None),
                     "client_bound": bool(ceil.get("client_bound")), "fraction": frac, "limit": limit,
                     "target": None if frac is None else ("met" if frac >= CEILING_TARGET else "not met"),
                     "tandem_in_flight": same.get("tandem_in_flight"), "ceiling_same": s_rate,
                     "fraction_same": round((r.get("max_rate") or 0) / s_rate, 2) if s_rate else None})
    return rows


def ceiling_md(rows: list[dict], delay_ms: int) -> list[str]:
    out = [f"## Against each backend's own ceiling ({delay_ms} ms)", "",
           "The ceiling is what a direct client (Perf/tandem_perf/ceilings.py: no SIP, no Tandem) got from the same "
           "server through the same delay proxy with the scenario's concurrency budget (connections x requests in "
           "flight per connection), measured in this run just before the scenario. fraction = Tandem's best async "
           f"cps / min(relay cps at the same workers, ceiling); target >= {CEILING_TARGET:g}. \"(client-bound)\": "
           "the client used most of a core, so the ceiling is a lower bound. \"at Tandem's concurrency\": the "
           "direct client again, right after the scenario, with as many requests in flight as Tandem had at its max "
           "rate (/stats peak), and Tandem's cps as a fraction of it (a rate bound by latency at low concurrency "
           "against the server at that concurrency).", "",
           "| backend | best async | cps | relay cps | ceiling cps (budget) | fraction | limit | target "
           "| at Tandem's concurrency: in flight, ceiling cps, fraction |",
           "|---|---|---:|---:|---:|---:|---|---|---|"]
    for r in rows:
        ceil = ("-" if r["ceiling"] is None else
                f"{r['ceiling']:.0f} ({r['ceiling_budget']})" + (" (client-bound)" if r["client_bound"] else ""))
        frac = "-" if r["fraction"] is None else f"{r['fraction']:.2f}"
        same = ("-" if not r.get("ceiling_same") else
                f"{r['tandem_in_flight']}, {r['ceiling_same']:.0f}, {r['fraction_same']:.2f}")
        out.append(f"| {r['backend']} | {r['scenario']} | {r['rate']} | {r['relay'] or '-'} | {ceil} | {frac} | "
                   f"{r['limit'] or '-'} | {r['target'] or 'n/a'} | {same} |")
    if not rows:
        out.append("| (no async scenario at this delay) | | | | | | | | |")
    limited = [r for r in rows if r["limit"] == "backend"]
    if limited:
        out += ["", "Backends that are themselves the limit (ceiling below Tandem's relay rate): " + ", ".join(
            f"{r['backend']} ({r['ceiling']:.0f} < {r['relay']} cps)" for r in limited) + "."]
    return out


def sockets_pairs(records: list[dict]) -> list[dict]:
    """Per scenario measured with both socket layouts (same backend, mode, delay, workers), in record order:
    the two records' names and max rates and shared / per_worker (None when per_worker passed nothing)."""
    cells: dict[tuple, dict[str, dict]] = {}
    for r in records:
        sc = r.get("scenario") or {}
        if not sc or not r.get("steps"):
            continue
        key = (sc.get("backend"), sc.get("mode"), sc.get("delay_ms"), sc.get("workers"))
        cells.setdefault(key, {})[rec_sockets(r)] = r
    rows = []
    for key, by in cells.items():
        sh, pw = by.get("shared"), by.get("per_worker")
        if sh is None or pw is None:
            continue
        a, b = sh.get("max_rate") or 0, pw.get("max_rate") or 0
        rows.append({"shared": sh["name"], "per_worker": pw["name"], "shared_rate": a, "per_worker_rate": b,
                     "ratio": round(a / b, 2) if b else None,
                     "incomplete": bool(sh.get("incomplete") or pw.get("incomplete"))})
    return rows


def sockets_md(rows: list[dict]) -> list[str]:
    out = ["## shared vs per_worker", "",
           "Max sustained cps of each scenario measured with both `udp_sockets` layouts (run back to back): "
           "`shared` = one socket read by every UDP worker, `per_worker` = one SO_REUSEPORT socket per worker "
           "(SIPp's single address hashes to one worker).", "",
           "| shared | cps | per_worker | cps | shared / per_worker |", "|---|---:|---|---:|---:|"]
    for r in rows:
        ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else ("inf" if r["shared_rate"] else "-")
        out.append(f"| {r['shared']} | {r['shared_rate']} | {r['per_worker']} | {r['per_worker_rate']} | {ratio}"
                   f"{' (incomplete)' if r['incomplete'] else ''} |")
    return out


def write_matrix_reports(outdir: Path, result: dict, recs: list[dict], skipped: list[str], verdict_delay: int,
                         margin: float) -> None:
    """results.json, steps.csv, summary.md (+ charts) and matrix.csv of a matrix run: `recs` are the scenario
    records in run order (their ratios are filled in); the verdict uses only shared-socket scenarios when the
    run has both layouts, which also get a "shared vs per_worker" table."""
    base = search_from_dict("baseline", result.get("baseline"))
    first_rate = None
    for rec in recs:
        if base and base.max_rate and rec.get("steps"):
            rec["ratio_to_baseline"] = round((rec.get("max_rate") or 0) / base.max_rate, 3)
        if first_rate is None and rec.get("max_rate"):
            first_rate = rec["max_rate"]
        rec["ratio_to_first"] = round((rec.get("max_rate") or 0) / first_rate, 3) if first_rate else None
    result["proxies"] = recs
    result["skipped"] = skipped
    vs = verdict_sockets(recs)
    rows = verdict_rows(recs, verdict_delay, margin, vs)
    result["verdict"] = {"delay_ms": verdict_delay, "margin": margin, "rows": rows, "udp_sockets": vs or "all"}
    sections = verdict_md(rows, verdict_delay, margin, vs)
    crows = ceiling_rows(recs, verdict_delay, vs)
    result["ceilings"] = {"delay_ms": verdict_delay, "target": CEILING_TARGET, "rows": crows}
    if crows:
        sections += [""] + ceiling_md(crows, verdict_delay)
    pairs = sockets_pairs(recs)
    result["sockets_pairs"] = pairs
    if pairs:
        sections += [""] + sockets_md(pairs)
    if skipped:
        sections += ["", f"Not run (total budget spent; `--resume {outdir}`): {', '.join(skipped)}"]
    searches = [search_from_dict(r["name"], r) for r in recs]
    write_reports(outdir, result, base, searches, title="Tandem scenario matrix", sections=sections)
    with open(outdir / "matrix.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["scenario", "backend", "mode", "delay_ms", "udp_workers", "udp_sockets", "max_rate", "first_fail",
                    "limit", "ratio_to_baseline", "cpu_pct_at_max", "cpu_us_per_call_at_max", "peak_rss_kb",
                    "rtt_p50_ms", "rtt_p90_ms", "rtt_p99_ms", "p90_limit_ms", "async_completed",
                    "async_timed_out", "async_rejected", "peak_suspended", "start_rate", "stopped_by",
                    "incomplete", "error"])
        for r in recs:
            sc = r.get("scenario", {})
            b = best_step_dict(r) or {}
            w.writerow([r["name"], sc.get("backend"), sc.get("mode"), sc.get("delay_ms"), sc.get("workers"),
                        rec_sockets(r) if sc else None, r.get("max_rate"), r.get("first_fail"), r.get("limit", ""),
                        r.get("ratio_to_baseline"), r.get("cpu_pct_at_max"), r.get("cpu_us_per_call_at_max"),
                        r.get("peak_rss_kb"), b.get("rtt_p50_ms"), b.get("rtt_p90_ms"), b.get("rtt_p99_ms"),
                        r.get("p90_limit_ms"), b.get("async_completed"), b.get("async_timed_out"),
                        b.get("async_rejected"), b.get("peak_suspended"), r.get("start_rate"), r.get("stopped_by"),
                        r.get("incomplete", False), r.get("error", "")])
