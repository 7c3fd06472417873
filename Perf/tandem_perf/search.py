"""The rate search: exponential ramp, bisection, confirmation; bounded in steps and time."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from .common import log
from .sipp import Runner, Step


@dataclass
class Search:
    """Result of a rate search: the highest passing (and, with confirmation, confirmed) rate and every step run."""
    target: str
    max_rate: int = 0
    first_fail: int | None = None
    stopped_by: str = ""
    steps: list[Step] = field(default_factory=list)
    # The search ran into the invocation's total deadline: its figure is partial (matrix --resume reruns it).
    incomplete: bool = False
    # Highest rate that passed a (short) search step, before confirmation.
    search_max_rate: int = 0


def peak_threads_of(s: Search) -> dict[str, int | None]:
    """`peak_threads`: most proxy threads seen in any step of the search; `peak_threads_at_max`: in its best
    (highest passing) step."""
    seen = [st.proxy_peak_threads for st in s.steps if st.proxy_peak_threads is not None]
    b = best_step(s)
    return {"peak_threads": max(seen) if seen else None,
            "peak_threads_at_max": b.proxy_peak_threads if b else None}


def tidy_rate(rate: float) -> int:
    """A rate rounded to 50 above 1,000 cps, to 10 above 100, to 1 below (at least 1)."""
    gran = 50 if rate > 1000 else (10 if rate > 100 else 1)
    return max(1, int(round(rate / gran)) * gran)


def search(runner: Runner, name: str | None, start: int, max_rate: int, precision: float, max_steps: int,
           budget_s: float, min_rate: int = 50, ramp: float = 2.0, confirm_s: float = 0.0, confirm_tries: int = 2,
           hard_deadline: float | None = None, reset: Callable[[], None] | None = None) -> Search:
    """Rate search against proxy `name` (None: the SIPp-alone baseline); bounded by max_steps and budget_s.

    Ramp x`ramp` from `start` while steps pass (down by the same factor while the start fails, not below
    `min_rate`), then bisection until (fail - pass) / pass <= precision. With `confirm_s`, the best rate is then
    run once more for confirm_s seconds; when that fails, a lower rate (the next lower passing search rate, or
    0.8 x) is tried, up to `confirm_tries` confirmations, so the reported rate is never a lucky short step.
    `hard_deadline` (monotonic) is the invocation's: reaching it marks the search incomplete. `reset`, when
    given, is called before any step that follows a failed one (the matrix restarts the proxy there, so a step
    never inherits the previous overload's backlog of queued and suspended calls)."""
    target = name or "baseline"
    res = Search(target=target)
    deadline = time.monotonic() + budget_s
    if hard_deadline is not None:
        deadline = min(deadline, hard_deadline)
    lo, hi = 0, None

    def fresh() -> None:
        if reset is not None and res.steps and not res.steps[-1].ok:
            reset()

    def step(rate: int) -> bool:
        fresh()
        st = runner.run(rate, name)
        res.steps.append(st)
        return st.ok

    def out_of_budget() -> bool:
        if len(res.steps) >= max_steps:
            res.stopped_by = "max steps"
            return True
        if time.monotonic() >= deadline:
            res.stopped_by = "time budget"
            if hard_deadline is not None and time.monotonic() >= hard_deadline:
                res.incomplete = True
            return True
        return False

    rate = min(start, max_rate)
    # Ramp up.
    while not out_of_budget():
        if step(rate):
            lo = rate
            if rate >= max_rate:
                res.stopped_by = "reached max rate"
                break
            rate = min(max(rate + 1, tidy_rate(rate * ramp)), max_rate)
        else:
            hi = rate
            break
    # The start rate already failed: step down until something passes.
    while lo == 0 and hi is not None and hi > min_rate and not out_of_budget():
        rate = max(min(min_rate, start), min(hi - 1, tidy_rate(hi / ramp)))
        if step(rate):
            lo = rate
        else:
            hi = rate
    # Bisection.
    while lo > 0 and hi is not None and (hi - lo) / lo > precision and not out_of_budget():
        gran = 50 if hi > 1000 else (10 if hi > 100 else 1)
        mid = max(lo + 1, int(round((lo + hi) / 2 / gran)) * gran)
        if mid >= hi:
            break
        if step(mid):
            lo = mid
        else:
            hi = mid
    if not res.stopped_by:
        if lo == 0:
            res.stopped_by = "nothing passed"
        else:
            res.stopped_by = "precision reached" if hi is not None else "ramp ended"
    res.search_max_rate = lo
    # Confirmation of the best rate with a longer step.
    if confirm_s > 0 and lo > 0 and not res.incomplete:
        passed = sorted({st.rate for st in res.steps if st.ok and st.rate < lo})
        cand, confirmed = lo, 0
        for i in range(max(1, confirm_tries)):
            if hard_deadline is not None and time.monotonic() >= hard_deadline:
                res.incomplete = True
                break
            fresh()
            st = runner.run(cand, name, duration=confirm_s, confirm=True)
            res.steps.append(st)
            if st.ok:
                confirmed = cand
                break
            hi = cand if hi is None else min(hi, cand)
            lower = [r for r in passed if r < cand] + [tidy_rate(cand * 0.8)]
            cand = max(r for r in lower if r < cand) if any(r < cand for r in lower) else 0
            if cand <= 0:
                break
        lo = confirmed
        res.stopped_by += (f"; confirmed {confirm_s:g} s" if confirmed == res.search_max_rate else
                           f"; confirmed {confirmed} at {confirm_s:g} s" if confirmed else "; not confirmed")
    res.max_rate, res.first_fail = lo, hi
    log(f"{target}: highest passing rate {lo} cps (first failing {hi}), {len(res.steps)} steps, {res.stopped_by}")
    return res


def best_step(s: Search | None) -> Step | None:
    """The step behind a search's max rate: the last passing one at that rate (its confirmation, if any)."""
    if not s or not s.max_rate:
        return None
    for st in reversed(s.steps):
        if st.ok and st.rate == s.max_rate:
            return st
    return None
