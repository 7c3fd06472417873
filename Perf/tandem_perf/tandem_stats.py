"""Tandem's management endpoint (`GET /stats`, JSON) as seen by the perf harness: fetch, poll during a step,
and the per-step deltas of the async engine counters. Stdlib only.

The endpoint is enabled in a Tandem script by

    loadmodule "httpd.so"
    modparam("httpd", "ip", "127.0.0.1")
    modparam("httpd", "port", N)
    loadmodule "mi_http.so"
    loadmodule "prometheus.so"

and answers `GET http://127.0.0.1:N/stats` with
`{"state", "uptime_seconds", "sip": {"suspended_now", "transactions_in_use", ...},
  "async": {"drivers": [{"driver", "started", "completed", "timed_out", "cancelled", "rejected", "late_dropped",
  "in_flight", "queued", "offload_busy", ...}], "offload": {"threads", "threads_busy", ...}}, "script": {...}}`.
Every function here tolerates a missing or partial document (older Tandem, endpoint not enabled): it then
returns None or leaves the figure out.
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

#: Monotonic counters of one async driver whose step delta the harness records.
DRIVER_COUNTERS = ("started", "completed", "timed_out", "cancelled", "rejected", "late_dropped")
#: Gauges whose peak over a step the poller records: (name in the summary, path in the document).
PEAK_GAUGES = (("suspended_now", ("sip", "suspended_now")),
               ("transactions_in_use", ("sip", "transactions_in_use")),
               ("offload_threads_busy", ("async", "offload", "threads_busy")))


def fetch(url: str, timeout: float = 1.0) -> dict | None:
    """The parsed /stats document, or None when the endpoint does not answer 200 with a JSON object."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            if r.status != 200:
                return None
            doc = json.loads(r.read().decode("utf-8", "replace"))
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return doc if isinstance(doc, dict) else None


def _num(v) -> float | None:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _path(doc: dict | None, path: tuple[str, ...]):
    cur = doc
    for k in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(k)
    return cur


def drivers(doc: dict | None) -> dict[str, dict]:
    """Driver name -> its counters object, from a /stats document."""
    out: dict[str, dict] = {}
    for d in _path(doc, ("async", "drivers")) or []:
        if isinstance(d, dict) and isinstance(d.get("driver"), str):
            out[d["driver"]] = d
    return out


def delta(before: dict | None, after: dict | None) -> dict | None:
    """Per-step deltas between two /stats documents:
    `{"drivers": {name: {counter: after - before}}, "sip": {"requests_received": n, "retransmissions_absorbed": n}}`
    (counters absent after are left out; a driver or counter absent before counts from 0). None when either
    document is missing (the endpoint was not reachable: counters since start-up are no step figure)."""
    if before is None or after is None:
        return None
    b_drv, a_drv = drivers(before), drivers(after)
    out_drv: dict[str, dict[str, float]] = {}
    for name, a in a_drv.items():
        b = b_drv.get(name, {})
        row = {}
        for c in DRIVER_COUNTERS:
            av = _num(a.get(c))
            if av is None:
                continue
            row[c] = av - (_num(b.get(c)) or 0)
        if row:
            out_drv[name] = row
    sip = {}
    for c in ("requests_received", "retransmissions_absorbed"):
        av = _num(_path(after, ("sip", c)))
        if av is not None:
            sip[c] = av - (_num(_path(before, ("sip", c))) or 0)
    return {"drivers": out_drv, "sip": sip}


def gauges(doc: dict | None) -> dict[str, float]:
    """The PEAK_GAUGES present in one document, plus in_flight / queued summed over the drivers."""
    out: dict[str, float] = {}
    for name, path in PEAK_GAUGES:
        v = _num(_path(doc, path))
        if v is not None:
            out[name] = v
    drv = drivers(doc)
    for g in ("in_flight", "queued"):
        vals = [_num(d.get(g)) for d in drv.values()]
        vals = [v for v in vals if v is not None]
        if vals:
            out[g] = sum(vals)
    return out


def merge_peaks(peaks: dict[str, float], doc: dict | None) -> dict[str, float]:
    for k, v in gauges(doc).items():
        peaks[k] = max(peaks.get(k, v), v)
    return peaks


def totals(d: dict | None) -> dict[str, float] | None:
    """Counters of a `delta()` summed over the drivers; `rejected` includes `cancelled`."""
    if d is None:
        return None
    t = {c: 0.0 for c in DRIVER_COUNTERS}
    for row in d.get("drivers", {}).values():
        for c, v in row.items():
            t[c] = t.get(c, 0) + v
    t["rejected"] = t.get("rejected", 0) + t.get("cancelled", 0)
    return t


def _n(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"


def cell(step_stats: dict | None) -> str:
    """Compact Markdown cell: `12,000 done / 0 t/o / 0 rej` (+ ` / peak 40 susp` when known); `-` without data."""
    if not step_stats or step_stats.get("delta") is None:
        return "-"
    t = totals(step_stats["delta"])
    if not t or not step_stats["delta"].get("drivers"):
        return "no async"
    s = f"{_n(t['completed'])} done / {_n(t['timed_out'])} t/o / {_n(t['rejected'])} rej"
    peaks = step_stats.get("peaks") or {}
    if "suspended_now" in peaks:
        s += f" / peak {_n(peaks['suspended_now'])} susp"
    if peaks.get("offload_threads_busy"):
        s += f" / {_n(peaks['offload_threads_busy'])} thr"
    return s


class Poller:
    """Reads /stats before a step, every `interval` s during it (peaks of the gauges) and after it, on a
    background thread. `result()` gives `{"before_uptime_s", "delta", "peaks", "polls"}` or None when the
    endpoint never answered."""

    def __init__(self, url: str, interval: float = 1.0, timeout: float = 0.5):
        self.url, self.interval, self.timeout = url, interval, timeout
        self.before: dict | None = None
        self.after: dict | None = None
        self.peaks: dict[str, float] = {}
        self.polls = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.before = fetch(self.url, self.timeout)
        merge_peaks(self.peaks, self.before)
        self._thread = threading.Thread(target=self._run, name="stats-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            doc = fetch(self.url, self.timeout)
            if doc is not None:
                self.polls += 1
                merge_peaks(self.peaks, doc)

    def stop(self) -> dict | None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout + 1)
        self.after = fetch(self.url, self.timeout)
        merge_peaks(self.peaks, self.after)
        return self.result()

    def result(self) -> dict | None:
        if self.before is None and self.after is None:
            return None
        return {"delta": delta(self.before, self.after), "peaks": dict(self.peaks), "polls": self.polls,
                "complete": self.before is not None and self.after is not None}
