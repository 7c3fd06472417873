#!/usr/bin/env python3
"""Per-round ratios of a Perf/dns_bench.sh run: each round's warm and fresh maximum sustained rate over
the numeric rate of the same round, and the same over all rounds (mean rates), as a Markdown table.
With --chain-ceiling QPS (the fresh queries/s the DNS server chain itself sustains, measured without SIP),
the fresh rate is also given over min(numeric rate, ceiling): a proxy cannot look names up faster than its
DNS servers answer.

Usage: python3 Perf/dns_ratios.py RESULTS.json [--chain-ceiling QPS]
"""
import json
import sys


def table(results: dict, ceiling: float | None = None) -> str:
    rates = {p["name"]: p["max_rate"] for p in results["proxies"]}
    cpu = {p["name"]: p.get("cpu_us_per_call_at_max") for p in results["proxies"]}
    rounds = sorted({int(n.rsplit("-", 1)[1]) for n in rates if n.rsplit("-", 1)[-1].isdigit()})
    bound = (lambda n: min(n, ceiling)) if ceiling else (lambda n: n)
    lines = ["| round | numeric cps | warm cps | warm / numeric | fresh cps | fresh / numeric "
             "| fresh / min(numeric, DNS chain) | CPU us/call numeric / warm / fresh |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    sums = {"numeric": 0, "warm": 0, "fresh": 0}
    for r in rounds:
        n, w, f = (rates.get(f"{k}-{r}") or 0 for k in ("numeric", "warm", "fresh"))
        for k, v in (("numeric", n), ("warm", w), ("fresh", f)):
            sums[k] += v
        c = " / ".join(str(cpu.get(f"{k}-{r}")) for k in ("numeric", "warm", "fresh"))
        lines.append(f"| {r} | {n} | {w} | {w / n:.2f} | {f} | {f / n:.2f} | {f / bound(n):.2f} | {c} |" if n
                     else f"| {r} | - | {w} | - | {f} | - | - | {c} |")
    if rounds and sums["numeric"]:
        k = len(rounds)
        lines.append(f"| mean | {sums['numeric'] / k:.0f} | {sums['warm'] / k:.0f} | {sums['warm'] / sums['numeric']:.2f} "
                     f"| {sums['fresh'] / k:.0f} | {sums['fresh'] / sums['numeric']:.2f} "
                     f"| {sums['fresh'] / k / bound(sums['numeric'] / k):.2f} | |")
    if ceiling:
        lines.append("")
        lines.append(f"DNS chain ceiling used: {ceiling:.0f} fresh queries/s.")
    return "\n".join(lines)


if __name__ == "__main__":
    args = sys.argv[1:]
    limit = None
    if len(args) == 3 and args[1] == "--chain-ceiling":
        limit = float(args[2]) if args[2] else None
        args = args[:1]
    if len(args) != 1:
        raise SystemExit(__doc__)
    print(table(json.load(open(args[0])), limit))
