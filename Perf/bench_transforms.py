#!/usr/bin/env python3
"""Per-transformation cost of the routing-script interpreter (issue 15), one or more `tandem` binaries side by side.

Each `Perf/bench-script/*.cfg` has the same 5 setup statements and 20 copies of one measured statement
(`$var(a) = $(ru{uri.user});` ...). `plain.cfg` (`$var(a) = $ru;`) and `plain-var.cfg` (`$var(a) = $var(n);`) are
the bare variable reads. The extra cost of a transformation is (ns/run - ns/run of the bare read of the same
kind of input) / 20, computed within the same round and binary, so slow phases of a shared machine cancel out
as far as they can.

Every round runs every (binary, script) pair once, binaries alternating per script, and the figures quoted are
medians over the rounds. The load average is recorded at the start and end of every round.

Usage:  python3 Perf/bench_transforms.py [--bin before=/tmp/before/tandem] [--bin after=.build/release/tandem]
                                         [--rounds 7] [--iterations 100000] [--only uri-user,s-len]
Output: Perf/results/transforms-<UTC timestamp>/ (runs.csv, summary.md).
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CFG_DIR = ROOT / "Perf" / "bench-script"
STATEMENTS = 20
# Route runs outside the timed loop of `tandem bench-script`: 1,000 warm-up runs and one counting run.
WARMUP = 1001
LINE = re.compile(r"(\d+) ns/run")


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def measured_statement(cfg: Path) -> str:
    """The statement repeated 20 times (the last assignment of the route)."""
    lines = [l.strip() for l in cfg.read_text().splitlines() if l.strip().startswith("$var(a)")]
    return lines[-1] if lines else "?"


def base_of(cfg: Path) -> str:
    """The bare read the script is compared with: same kind of input variable."""
    stmt = measured_statement(cfg)
    return "plain-var" if "$(var(" in stmt else "plain"


def run_one(binary: str, cfg: Path | None, iterations: int) -> tuple[float, float]:
    """(wall ns/run as the benchmark prints it, CPU ns/run of the whole process from its rusage).

    The CPU figure counts every route run of the process (the timed ones, 1,000 warm-up runs and one
    counting run) and its start-up and script compilation, which are the same for every script and cancel
    out in the difference with the bare read. Unlike the wall clock it does not count the time the process
    waits for a core, so it is far less disturbed by the other jobs of a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # No script: the built-in typical request route (`tandem bench-script`).
    extra = ["-f", str(cfg)] if cfg else []
    out = subprocess.run([binary, "bench-script", "--iterations", str(iterations)] + extra,
                         capture_output=True, text=True, timeout=900)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = LINE.search(out.stdout)
    if out.returncode != 0 or not m:
        raise SystemExit(f"{binary} {cfg}: rc={out.returncode} {out.stdout} {out.stderr}")
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return float(m.group(1)), cpu * 1e9 / (iterations + WARMUP)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", action="append", default=[], help="label=path of a tandem binary (repeatable)")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--iterations", type=int, default=100_000)
    ap.add_argument("--only", default="", help="comma-separated script names (the bare reads are always run)")
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    bins = [b.split("=", 1) for b in (args.bin or [f"this={ROOT}/.build/release/tandem"])]
    cfgs = sorted(CFG_DIR.glob("*.cfg"))
    if args.only:
        keep = set(args.only.split(",")) | {"plain", "plain-var"}
        cfgs = [c for c in cfgs if c.stem in keep]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out_dir = Path(args.out) if args.out else ROOT / "Perf" / "results" / f"transforms-{stamp}"
    out_dir.mkdir(parents=True, exist_ok=True)

    rows = []  # (round, label, script, wall ns/run, cpu ns/run)
    loads = []
    for r in range(args.rounds):
        l0 = load()
        for i, cfg in enumerate(cfgs):
            order = bins if (r + i) % 2 == 0 else list(reversed(bins))
            for label, path in order:
                rows.append((r, label, cfg.stem) + run_one(path, cfg, args.iterations))
        for label, path in (bins if r % 2 == 0 else list(reversed(bins))):
            rows.append((r, label, "typical") + run_one(path, None, args.iterations))
        loads.append((r, l0, load()))
        print(f"round {r + 1}/{args.rounds} done, load {l0} -> {loads[-1][2]}", flush=True)

    with open(out_dir / "runs.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["round", "binary", "script", "wall_ns_per_run", "cpu_ns_per_run"])
        w.writerows(rows)

    labels = [lab for lab, _ in bins]
    lines = [f"# Per-transformation cost ({stamp})", "",
             f"{args.rounds} rounds x {args.iterations} runs per (binary, script), binaries alternating; "
             f"extra ns = (ns/run - bare read ns/run) / {STATEMENTS}, per round, then the median over rounds. "
             "CPU: the process's user+system time per route run (not disturbed by waiting for a core); "
             "wall: the benchmark's own clock.", "",
             "Binaries: " + ", ".join(f"`{lab}` = {path}" for lab, path in bins), "",
             "Load average (1/5/15 min) per round, start -> end: "
             + "; ".join(f"{l0} -> {l1}" for _, l0, l1 in loads), ""]
    for metric, col in (("CPU", 4), ("wall", 3)):
        per = {(row[0], row[1], row[2]): row[col] for row in rows}
        head = f"| statement ({metric}) | " + " | ".join(f"{lab}: extra ns" for lab in labels)
        sep = "|---|" + "---:|" * len(labels)
        if len(labels) == 2:
            head += f" | {labels[1]}/{labels[0]} extra | median pairwise ns/run {labels[1]}/{labels[0]}"
            sep += "---:|---:|"
        lines += [head + " |", sep]
        for cfg in cfgs:
            s = cfg.stem
            stmt = measured_statement(cfg).replace("|", "\\|")
            if s in ("plain", "plain-var"):
                cells = [f"{statistics.median(per[(r, lab, s)] for r in range(args.rounds)) / STATEMENTS:.1f} ns/stmt"
                         for lab in labels]
                lines.append(f"| `{stmt}` (bare read) | " + " | ".join(cells) + (" | | |" if len(labels) == 2 else " |"))
                continue
            base = base_of(cfg)
            med = {lab: statistics.median((per[(r, lab, s)] - per[(r, lab, base)]) / STATEMENTS
                                          for r in range(args.rounds)) for lab in labels}
            cells = [f"{med[lab]:.0f}" for lab in labels]
            if len(labels) == 2:
                a, b = labels
                ratio = f"{med[b] / med[a]:.2f}" if med[a] > 0 else "-"
                pair = statistics.median(per[(r, b, s)] / per[(r, a, s)] for r in range(args.rounds))
                cells += [ratio, f"{pair:.2f}"]
            lines.append(f"| `{stmt}` | " + " | ".join(cells) + " |")
        cells = [f"{statistics.median(per[(r, lab, 'typical')] for r in range(args.rounds)):.0f} ns/run" for lab in labels]
        if len(labels) == 2:
            a, b = labels
            pair = statistics.median(per[(r, b, "typical")] / per[(r, a, "typical")] for r in range(args.rounds))
            cells += ["", f"{pair:.2f}"]
        lines.append("| typical request route (`tandem bench-script`, no transformation) | " + " | ".join(cells) + " |")
        lines.append("")
    (out_dir / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwritten to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
