"""CPU time, threads and memory of a proxy process (and its session) from /proc."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .common import CLK_TCK


@dataclass
class ProcSample:
    """CPU seconds (user+system, all threads) and memory of a process at one instant."""
    t: float
    cpu_s: float
    rss_kb: int
    hwm_kb: int
    threads: int


def _read_stat(pid: int) -> tuple[float, int, int] | None:
    """(CPU seconds user+system of all threads, session id, thread count) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces: split after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / CLK_TCK, int(fields[3]), int(fields[17])


def _read_kb(path: str, keys: tuple[str, ...]) -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open(path) as f:
            for line in f:
                k = line.split(":", 1)[0]
                if k in keys:
                    out[k] = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return out


def session_members(sid: int) -> list[int]:
    """Processes of session `sid` (the proxy is started in its own session: multi-process proxies such as
    Kamailio fork their workers into it)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _read_stat(int(d)) if d != str(sid) else None
            if st is not None and st[1] == sid:
                pids.append(int(d))
    return pids


def sample_proc(pid: int) -> ProcSample | None:
    """The proxy `pid` plus every other process of its session. For one process, rss/hwm are VmRSS/VmHWM; for
    several, rss is the sum of Pss (shared memory split between its users) and hwm the largest sum seen so far
    (sampled between steps, so a lower bound)."""
    try:
        main = _read_stat(pid)
        if main is None:
            return None
        cpu, threads = main[0], main[2]
        others = session_members(pid) if main[1] == pid else []
        if not others:
            kb = _read_kb(f"/proc/{pid}/status", ("VmRSS", "VmHWM"))
            return ProcSample(time.monotonic(), cpu, kb.get("VmRSS", 0), kb.get("VmHWM", 0), threads)
        pss = _read_kb(f"/proc/{pid}/smaps_rollup", ("Pss",)).get("Pss", 0)
        for o in others:
            st = _read_stat(o)
            if st is None:
                continue
            cpu += st[0]
            threads += st[2]
            pss += _read_kb(f"/proc/{o}/smaps_rollup", ("Pss",)).get("Pss", 0)
        peak = max(pss, _PEAK.get(pid, 0))
        _PEAK[pid] = peak
        return ProcSample(time.monotonic(), cpu, pss, peak, threads)
    except (OSError, ValueError, IndexError):
        return None


_PEAK: dict[int, int] = {}
