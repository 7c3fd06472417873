"""results.json, steps.csv, summary.md and charts of a relay run; comparing two runs."""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from . import tandem_stats
from .charts import latency_of, write_charts
from .search import Search, best_step
from .sipp import Step, limit_reason


def fmt_ratio(x: float | None) -> str:
    return f"{x:.2f}x" if x is not None else "-"


def rtt_cell(st: Step | None) -> str:
    if st is None:
        return "-"
    d, kind = latency_of(asdict(st))
    if not d:
        return "-"
    le = "" if kind == "exact" else "<="
    return f"{le}{d['p50']:g} / {le}{d['p90']:g} / {le}{d['p99']:g}"


def csv_value(v):
    """A steps.csv cell: dicts and lists (rtt_hist, stats) as JSON, None as empty."""
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, separators=(",", ":"))
    return v


def write_reports(outdir: Path, result: dict, baseline: Search | None, searches: list[Search],
                  title: str = "Tandem relay benchmark", sections: list[str] | None = None) -> None:
    """results.json, steps.csv, summary.md (+ charts); `sections` are Markdown lines put after the main table."""
    (outdir / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    steps = (baseline.steps if baseline else []) + [st for s in searches for st in s.steps]
    names = list(Step.__dataclass_fields__)
    with open(outdir / "steps.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for st in steps:
            d = asdict(st)
            w.writerow([csv_value(d[n]) for n in names])
    proxies = {p["name"]: p for p in result.get("proxies", [])}
    first = result["proxies"][0]["name"] if result.get("proxies") else None
    params = result["params"]
    lat = ""
    if params.get("max_p90_ms"):
        lat = (f", INVITE->200 p90 <= {params['max_p90_ms']:g} ms" +
               (f" + {params['p90_factor']:g} x backend delay x backend calls" if params.get("p90_factor") else ""))
    confirm = (f"; the best rate is confirmed by one {params['confirm_s']:g} s step"
               if params.get("confirm_s") else "")
    md = [f"# {title} {result['timestamp']}", "",
          f"Commit `{result['git']}`, {result['host']['cpus']} CPUs, {result['host']['sipp']}, "
          f"{params['duration_s']:g} s per step{confirm}, pass = <{100 * params['max_failed']:g}% failed, "
          f"retransmissions not growing, on time{lat}.", ""]
    charts = write_charts(outdir, result)
    if charts:
        md += [" ".join(f"![{c[:-4]}]({c})" for c in charts), "",
               "INVITE->200 ms p50 / p90 / p99 at the max sustained rate: from SIPp `-trace_rtt` samples (1 ms "
               "resolution); `<=` marks upper bounds from SIPp's response-time histogram when no samples exist.", ""]
    if first is not None:
        md += [f"Ratios: `x baseline` = max cps / SIPp-alone max cps; `x {first}` = max cps / the first proxy's. "
               "`limit`: the first failed step above the max rate and why it failed.", ""]
    with_async = any(st.stats is not None for s in searches for st in s.steps) or result.get("kind") == "matrix"
    acol, asep = (" async at max (/stats) |", "---|") if with_async else ("", "")
    md += [f"| target | max sustained cps | x baseline | x {first or 'first'} | first failing cps | steps | "
           f"proxy CPU at max | CPU us/call | peak RSS | INVITE->200 ms p50/p90/p99 | limit |{acol} stopped by |",
           f"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|{asep}---|"]
    if baseline is not None:
        md.append(f"| baseline | {baseline.max_rate} | - | - | {baseline.first_fail or '-'} | {len(baseline.steps)} "
                  f"| - | - | - | {rtt_cell(best_step(baseline))} | "
                  f"{limit_reason(baseline.steps, baseline.max_rate) or '-'} |{' - |' if with_async else ''} "
                  f"{baseline.stopped_by} |")
    for s in searches:
        pr = proxies.get(s.target, {})
        b = best_step(s)
        cpu = f"{b.proxy_cpu_pct:.0f}%" if b and b.proxy_cpu_pct is not None else "-"
        us = f"{b.proxy_cpu_us_per_call:.1f}" if b and b.proxy_cpu_us_per_call is not None else "-"
        rss = f"{pr['peak_rss_kb'] / 1024:.1f} MiB" if pr.get("peak_rss_kb") else "-"
        stopped = s.stopped_by + (f"; {pr['error']}" if pr.get("error") else "") + \
            ("; incomplete" if pr.get("incomplete") else "")
        acell = ""
        if with_async:
            ep = pr.get("stats_endpoint")
            acell = f" {tandem_stats.cell(b.stats) if b else '-'}" + \
                (f" (/stats {ep})" if ep not in (None, "ok") and not (b and b.stats) else "") + " |"
        md.append(f"| {s.target} | {s.max_rate} | {fmt_ratio(pr.get('ratio_to_baseline'))} | "
                  f"{fmt_ratio(pr.get('ratio_to_first'))} | {s.first_fail or '-'} | {len(s.steps)} | {cpu} | {us} | "
                  f"{rss} | {rtt_cell(b)} | {limit_reason(s.steps, s.max_rate) or '-'} |{acell} {stopped} |")
    if sections:
        md += [""] + sections
    if proxies:
        md += ["", "Proxy commands:", ""]
        md += [f"- `{n}`: `{p.get('cmd') or '(already running)'}`" for n, p in proxies.items()]
    md += ["", "## Steps", "",
           "| target | rate | s | ok | successful | failed | retrans | achieved cps | wall s | proxy CPU | p90 ms "
           "(limit) | reason |",
           "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for st in steps:
        cpu = f"{st.proxy_cpu_pct:.0f}%" if st.proxy_cpu_pct is not None else "-"
        p90 = "-" if st.rtt_p90_ms is None else f"{st.rtt_p90_ms:g}"
        if st.p90_limit_ms:
            p90 += f" ({st.p90_limit_ms:g})"
        md.append(f"| {st.target} | {st.rate} | {st.duration_s:g}{' c' if st.confirm else ''} | "
                  f"{'yes' if st.ok else 'no'} | {st.successful}/{st.calls} | {st.failed} | "
                  f"{st.retransmissions} | {st.achieved_rate:.0f} | {st.wall_s:.1f} | {cpu} | {p90} | {st.reason} |")
    (outdir / "summary.md").write_text("\n".join(md) + "\n")


def proxies_of(d: dict) -> dict[str, dict]:
    """Name -> proxy result of a results.json (schema 1 had a single "proxy" entry)."""
    if "proxies" in d:
        return {p["name"]: p for p in d["proxies"]}
    if "proxy" in d:
        return {"proxy": d["proxy"]}
    return {}


def compare(earlier: dict, now: dict, match: list[tuple[str, str]] | None = None) -> list[str]:
    """Lines with now/earlier ratios of the headline numbers, per proxy name found in both files; `match` pairs
    an earlier name with a later one (e.g. ("proxy", "tandem-relay2"))."""
    out = [f"compare: {earlier.get('timestamp', '?')} ({earlier.get('git', '')}) -> "
           f"{now.get('timestamp', '?')} ({now.get('git', '')})"]

    def line(name: str, a, b, higher_better: bool) -> None:
        if a is None or b is None:
            out.append(f"  {name:36s} {a!s:>10} -> {b!s:>10}")
            return
        ratio = (b / a) if a else float("inf")
        better = (ratio >= 1) == higher_better
        out.append(f"  {name:36s} {a:>10} -> {b:>10}  x{ratio:.3f} "
                   f"({'same' if ratio == 1 else ('better' if better else 'worse')})")

    line("baseline max cps", (earlier.get("baseline") or {}).get("max_rate"),
         (now.get("baseline") or {}).get("max_rate"), True)
    pe, pn = proxies_of(earlier), proxies_of(now)
    if len(pe) == 1 and len(pn) == 1 and not match:  # one proxy each: compare them whatever their names
        pe, pn = {"proxy": next(iter(pe.values()))}, {"proxy": next(iter(pn.values()))}
    for old, new in match or []:
        if old in pe and new in pn:
            pe = {(new if k == old else k): v for k, v in pe.items()}
    for name in [n for n in pn if n in pe]:
        a, b = pe[name], pn[name]
        line(f"{name} max cps", a.get("max_rate"), b.get("max_rate"), True)
        line(f"{name}/baseline", a.get("ratio_to_baseline"), b.get("ratio_to_baseline"), True)
        line(f"{name} CPU us/call at max", a.get("cpu_us_per_call_at_max"), b.get("cpu_us_per_call_at_max"), False)
        line(f"{name} peak RSS kB", a.get("peak_rss_kb"), b.get("peak_rss_kb"), False)
    missing = sorted(set(pe) ^ set(pn))
    if missing:
        out.append(f"  (in one file only: {', '.join(missing)})")
    return out


def search_from_dict(target: str, d: dict | None) -> Search | None:
    """A Search rebuilt from its results.json form (unknown step keys dropped, missing ones defaulted)."""
    if d is None:
        return None
    known = set(Step.__dataclass_fields__)
    steps = [Step(**{k: v for k, v in st.items() if k in known}) for st in d.get("steps", [])]
    return Search(target=target, max_rate=d.get("max_rate") or 0, first_fail=d.get("first_fail"),
                  stopped_by=d.get("stopped_by", ""), steps=steps)
