"""SVG charts for Perf/harness.py results (Python 3 stdlib only: no matplotlib on the CI machines).

throughput_svg(rows)  horizontal bars: max sustained calls/s per target, value labels.
latency_svg(rows)     grouped horizontal bars: INVITE->200 response time p50/p90/p99 (ms) per target.
write_charts(outdir, result) renders both from a results.json dict and returns the file names written.
"""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'
COLORS = {"baseline": "#888888", "bar": "#3b73b9", "fail": "#c0392b",
          "p50": "#6baed6", "p90": "#3182bd", "p99": "#08519c"}


def _fmt(v: float) -> str:
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def _nice_max(v: float) -> float:
    """A round axis end >= v (1, 2, 2.5, 5 x 10^k)."""
    if v <= 0:
        return 1.0
    k = 1.0
    while k * 10 <= v:
        k *= 10
    while k > v:
        k /= 10
    for m in (1, 2, 2.5, 5, 10):
        if m * k >= v:
            return m * k
    return 10 * k


def _frame(width: int, height: int, title: str, subtitle: str) -> list[str]:
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {FONT} font-size="12">',
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
            f'<text x="10" y="20" font-size="15" font-weight="bold">{escape(title)}</text>',
            f'<text x="10" y="38" fill="#555">{escape(subtitle)}</text>']


def _axis(out: list[str], x0: float, plot_w: float, top: float, bottom: float, vmax: float, unit: str) -> None:
    for i in range(5):
        v = vmax * i / 4
        x = x0 + plot_w * i / 4
        out.append(f'<line x1="{x:.1f}" y1="{top:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{bottom + 14:.1f}" text-anchor="middle" fill="#555">{_fmt(v)}</text>')
    out.append(f'<text x="{x0 + plot_w / 2:.1f}" y="{bottom + 30:.1f}" text-anchor="middle" fill="#333">'
               f'{escape(unit)}</text>')


def throughput_svg(rows: list[tuple[str, float | None, str]], title: str = "Max sustained call rate",
                   subtitle: str = "") -> str:
    """rows: (label, calls/s or None when not measured, kind: "baseline" | "proxy" | "error")."""
    label_w = max([len(r[0]) for r in rows] + [8]) * 7 + 20
    plot_w, row_h, top = 460, 24, 52
    width = int(label_w + plot_w + 90)
    height = int(top + row_h * max(1, len(rows)) + 50)
    vmax = _nice_max(max([r[1] or 0 for r in rows] + [1]))
    out = _frame(width, height, title, subtitle or "calls/s that passed a full step (higher is better)")
    bottom = top + row_h * len(rows)
    _axis(out, label_w, plot_w, top, bottom, vmax, "calls/s")
    for i, (label, value, kind) in enumerate(rows):
        y = top + i * row_h
        out.append(f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end">{escape(label)}</text>')
        if value is None:
            out.append(f'<text x="{label_w + 4}" y="{y + 16}" fill="{COLORS["fail"]}">not measured</text>')
            continue
        w = plot_w * value / vmax
        color = COLORS["baseline"] if kind == "baseline" else (COLORS["fail"] if value == 0 else COLORS["bar"])
        out.append(f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{color}"/>')
        out.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 16}">{_fmt(value)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def latency_svg(rows: list[tuple[str, dict[str, float] | None, str]], title: str = "INVITE \u2192 200 response time",
                subtitle: str = "", note: str = "") -> str:
    """rows: (label, {"p50": ms, "p90": ms, "p99": ms} or None, value prefix such as "\u2264" for bounds).
    One group of three bars per row."""
    keys = ("p50", "p90", "p99")
    label_w = max([len(r[0]) for r in rows] + [8]) * 7 + 20
    plot_w, bar_h, top = 460, 9, 68
    group_h = bar_h * 3 + 10
    width = int(label_w + plot_w + 90)
    height = int(top + group_h * max(1, len(rows)) + 50 + (16 if note else 0))
    vmax = _nice_max(max([v for _, d, _ in rows if d for v in d.values() if v is not None] + [1]))
    out = _frame(width, height, title, subtitle or "ms at the highest sustained rate (lower is better)")
    for j, k in enumerate(keys):  # legend
        x = 10 + j * 70
        out.append(f'<rect x="{x}" y="48" width="12" height="10" fill="{COLORS[k]}"/>')
        out.append(f'<text x="{x + 16}" y="57">{k}</text>')
    bottom = top + group_h * len(rows)
    _axis(out, label_w, plot_w, top, bottom, vmax, "ms")
    for i, (label, d, prefix) in enumerate(rows):
        y = top + i * group_h
        out.append(f'<text x="{label_w - 8}" y="{y + group_h / 2 + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        if not d:
            out.append(f'<text x="{label_w + 4}" y="{y + group_h / 2 + 4:.1f}" fill="{COLORS["fail"]}">no data</text>')
            continue
        for j, k in enumerate(keys):
            v = d.get(k)
            if v is None:
                continue
            by = y + 4 + j * bar_h
            w = max(1.0, plot_w * v / vmax)
            out.append(f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 1}" fill="{COLORS[k]}"/>')
            out.append(f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 1}" font-size="9">{escape(prefix)}{v:g}</text>')
    if note:
        out.append(f'<text x="10" y="{height - 8}" fill="#555" font-size="11">{escape(note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _targets(result: dict) -> list[tuple[str, dict | None, dict]]:
    """(label, search dict or None, record) in chart order: baseline first, then proxies/scenarios."""
    out: list[tuple[str, dict | None, dict]] = []
    if result.get("baseline"):
        out.append(("SIPp alone (baseline)", result["baseline"], {"kind": "baseline"}))
    for p in result.get("proxies", []):
        out.append((p["name"], p, p))
    return out


def best_step_dict(s: dict | None) -> dict | None:
    """The step that gave a search its max rate: the last passing one at that rate (a confirmation step when
    there is one)."""
    if not s or not s.get("max_rate"):
        return None
    for st in reversed(s.get("steps", [])):
        if st.get("ok") and st.get("rate") == s["max_rate"]:
            return st
    return None


def latency_of(step: dict | None) -> tuple[dict[str, float] | None, str]:
    """Percentiles of a step: exact ones from -trace_rtt (rtt_p50_ms...), else upper bounds from SIPp's
    ResponseTimeRepartition1 histogram (rtt_hist), else None. Second value: "exact" | "histogram" | ""."""
    if not step:
        return None, ""
    if step.get("rtt_p50_ms") is not None:
        return {k: step.get(f"rtt_{k}_ms") for k in ("p50", "p90", "p99")}, "exact"
    hist = step.get("rtt_hist")
    if hist:
        return hist_percentiles(hist), "histogram"
    return None, ""


def hist_percentiles(hist: list[list[float]]) -> dict[str, float] | None:
    """hist: [[upper bound ms (None for the open last bucket), count], ...]; percentiles as the bucket's upper bound (the
    last bucket, >= its lower bound, is reported at that bound)."""
    total = sum(c for _, c in hist)
    if total <= 0:
        return None
    out: dict[str, float] = {}
    for k, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99)):
        acc, prev = 0.0, 0.0
        for ub, c in hist:
            acc += c
            if acc >= q * total:
                out[k] = ub if ub is not None else prev
                break
            prev = ub
    return out


def write_charts(outdir: Path, result: dict) -> list[str]:
    """Writes throughput.svg and latency.svg next to results.json; returns the names written."""
    targets = _targets(result)
    if not targets:
        return []
    rows = []
    for label, s, rec in targets:
        kind = "baseline" if rec.get("kind") == "baseline" else ("error" if rec.get("error") and not s.get("steps")
                                                                 else "proxy")
        rows.append((label, None if kind == "error" else float(s.get("max_rate") or 0), kind))
    sub = f"{result.get('timestamp', '')}, commit {result.get('git', '?')}, " \
          f"{result.get('params', {}).get('duration_s', '?')} s steps (higher is better)"
    (outdir / "throughput.svg").write_text(throughput_svg(rows, subtitle=sub))
    lrows, kinds = [], set()
    for label, s, rec in targets:
        d, kind = latency_of(best_step_dict(s))
        if kind:
            kinds.add(kind)
        lrows.append((label, d, "\u2264" if kind == "histogram" else ""))
    note = ""
    if "histogram" in kinds:
        note = ("Histogram bounds (SIPp ResponseTimeRepartition1: <10,<20,<50,<100,<200,<500,<1000 ms), "
                "not exact: this run had no -trace_rtt samples.")
    (outdir / "latency.svg").write_text(latency_svg(
        lrows, subtitle="ms at each target's highest sustained rate (lower is better)", note=note))
    return ["throughput.svg", "latency.svg"]
