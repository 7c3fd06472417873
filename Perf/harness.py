#!/usr/bin/env python3
"""Tandem performance harness (Python 3, stdlib only).

Subcommands
  relay    Find the highest sustained call rate (calls/s) through one or more SIP proxies with SIPp
           (Tests/sipp/uac.xml -> proxy -> Tests/sipp/uas.xml), and the same search for SIPp uac <-> uas with
           no proxy (the generator's own ceiling) in the same run. Each proxy (--proxy NAME=CMD, repeatable,
           or one unnamed --proxy-cmd) is started fresh, searched, and stopped before the next one; its CPU
           time (/proc/PID/stat) and peak RSS (/proc/PID/status VmHWM) are recorded.
  compare  Print ratios between two results.json files.

A rate R passes when, over a run of D seconds at R calls/s (R*D calls):
  * every call was created and the run finished in time (achieved rate >= 95% of R),
  * failed calls < 0.1% (--max-failed) and successful calls >= 99.9%,
  * retransmissions are not growing (second half of the run <= 2x first half + slack) and stay under 1% of
    calls (--max-retrans).
Search: exponential ramp (x2) from --start-rate until the first failure or --max-rate, then bisection until
the gap is below --precision; every loop is bounded in steps (--max-steps) and time (--budget per search).

Output: Perf/results/<UTC timestamp>/ with results.json, steps.csv, summary.md, proxy-<NAME>.log (proxy.log for
the unnamed --proxy-cmd), sipp/*.csv. The summary gives each proxy's ratio to the baseline and to the first proxy.
Exit status: 0 when every search ran (slow figures never fail the run), 2 when a proxy did not start or died,
3 when no step produced SIPp statistics (the harness or SIPp is broken), 130 when interrupted.

Examples
  python3 Perf/harness.py relay --quick --no-proxy                  # SIPp-alone ceiling only
  python3 Perf/harness.py relay --quick --proxy-cmd ".build/release/tandem run -f Perf/configs/relay.cfg"
  python3 Perf/harness.py relay --duration 10 --proxy tandem=".build/release/tandem run -f Perf/configs/relay.cfg" \
      --proxy kamailio="kamailio -DD -E -f Perf/configs/kamailio-relay.cfg" --start-rate-for sync=25 ...
  python3 Perf/harness.py relay --proxy-cmd "..." --compare Perf/results/20260101T000000Z/results.json
  python3 Perf/harness.py compare OLD/results.json NEW/results.json [--match proxy=tandem-relay2]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from svgchart import latency_of, write_charts  # noqa: E402  (Perf/svgchart.py, stdlib only)

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "Tests" / "sipp"
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------------------------- utilities

def log(msg: str) -> None:
    print(f"[harness {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def port_free(port: int) -> bool:
    """True when `port` can be bound on 127.0.0.1 and 0.0.0.0 for both UDP and TCP."""
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        for host in ("127.0.0.1", "0.0.0.0"):
            s = socket.socket(socket.AF_INET, kind)
            try:
                s.bind((host, port))
            except OSError:
                return False
            finally:
                s.close()
    return True


def free_port(base: int, taken: set[int], span: int = 200) -> int:
    for p in range(base, base + span):
        if p not in taken and port_free(p):
            taken.add(p)
            return p
    raise SystemExit(f"no free port in {base}..{base + span - 1}")


def parse_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host or "127.0.0.1", int(port)


# ------------------------------------------------------------------------------------------- process stats

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


# --------------------------------------------------------------------------------------------------- proxy

class Proxy:
    """The proxy under test, started from a command line; stopped with SIGTERM (SIGKILL after 5 s)."""

    def __init__(self, cmd: str, addr: str, log_path: Path):
        self.cmd, self.addr, self.log_path = cmd, addr, log_path
        self.proc: subprocess.Popen | None = None
        self.first: ProcSample | None = None
        self.last: ProcSample | None = None

    def start(self, ready_timeout: float = 30.0) -> None:
        log(f"starting proxy: {self.cmd}")
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(shlex.split(self.cmd), cwd=ROOT, stdout=self.logf, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        host, port = parse_addr(self.addr)
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"proxy exited with {self.proc.returncode} before answering; see {self.log_path}")
            if sip_probe(host, port, timeout=0.5):
                self.first = self.last = sample_proc(self.proc.pid)
                log(f"proxy pid {self.proc.pid} answers on {self.addr}")
                return
            time.sleep(0.2)
        if not port_free(port):
            log(f"warning: proxy did not answer an OPTIONS probe on {self.addr} but the port is bound; going on")
            self.first = self.last = sample_proc(self.proc.pid)
            return
        self.stop()
        raise SystemExit(f"proxy did not come up on {self.addr} within {ready_timeout:.0f}s; see {self.log_path}")

    def sample(self) -> ProcSample | None:
        if self.proc is None:
            return None
        s = sample_proc(self.proc.pid)
        if s is not None:
            self.last = s
        return s

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is None:
            return
        self.sample()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.logf.close()


def sip_probe(host: str, port: int, timeout: float) -> bool:
    """Sends OPTIONS with Max-Forwards: 0 (answered locally by any proxy: 483 or 200) and waits for a response."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 0))
        lport = s.getsockname()[1]
        branch = f"z9hG4bK-probe-{os.getpid()}-{time.monotonic_ns()}"
        msg = (f"OPTIONS sip:probe@{host}:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch={branch}\r\n"
               f"From: <sip:harness@127.0.0.1:{lport}>;tag=probe\r\n"
               f"To: <sip:probe@{host}:{port}>\r\n"
               f"Call-ID: probe-{branch}@127.0.0.1\r\n"
               "CSeq: 1 OPTIONS\r\nMax-Forwards: 0\r\nContent-Length: 0\r\n\r\n")
        s.settimeout(timeout)
        s.sendto(msg.encode(), (host, port))
        data, _ = s.recvfrom(65535)
        return data.startswith(b"SIP/2.0 ")
    except OSError:
        return False
    finally:
        s.close()


# ------------------------------------------------------------------------------------------------ one step

@dataclass
class Step:
    """One load run at a fixed call rate and its verdict."""
    target: str
    rate: int
    duration_s: float
    calls: int
    wall_s: float = 0.0
    created: int = 0
    successful: int = 0
    failed: int = 0
    retransmissions: int = 0
    retrans_first_half: int = 0
    retrans_second_half: int = 0
    achieved_rate: float = 0.0
    uac_rc: int | None = None
    uas_successful: int = 0
    uas_failed: int = 0
    proxy_cpu_s: float | None = None
    proxy_cpu_pct: float | None = None
    proxy_cpu_us_per_call: float | None = None
    proxy_rss_kb: int | None = None
    proxy_hwm_kb: int | None = None
    ok: bool = False
    reason: str = ""
    # INVITE -> 200 response time (SIPp rtd): exact percentiles from -trace_rtt samples (1 ms resolution),
    # and SIPp's ResponseTimeRepartition1 histogram [[upper bound ms or None, calls], ...] from the stat CSV.
    rtt_samples: int = 0
    rtt_p50_ms: float | None = None
    rtt_p90_ms: float | None = None
    rtt_p99_ms: float | None = None
    rtt_hist: list | None = None


def read_stat_csv(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="", errors="replace") as f:
        rows = list(csv.reader(f, delimiter=";"))
    if len(rows) < 2:
        return []
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:] if len(r) >= len(head) - 1]


def rtt_histogram(row: dict[str, str]) -> list | None:
    """SIPp's ResponseTimeRepartition1_<N / _>=N columns (cumulative counts) as [[upper bound ms, count], ...]."""
    out = []
    for k, v in row.items():
        m = re.fullmatch(r"ResponseTimeRepartition1_(<|>=)(\d+)", k or "")
        if m:
            ub = float(m.group(2)) if m.group(1) == "<" else None  # None: the open last bucket
            out.append([ub, as_int(row, k)])
    out.sort(key=lambda x: float("inf") if x[0] is None else x[0])
    return out if any(c for _, c in out) else None


def as_int(row: dict[str, str], key: str) -> int:
    try:
        return int(float(row.get(key, "0") or 0))
    except ValueError:
        return 0


class Runner:
    """Runs SIPp uac.xml against uas.xml at a given rate, directly or through the proxy (-rsa)."""

    def __init__(self, args, outdir: Path, proxy: Proxy | None):
        # Absolute: SIPp runs with the sipp/ folder as its working directory (for its -trace_rtt files).
        self.args, self.outdir, self.proxy = args, outdir.resolve(), proxy
        taken: set[int] = set()
        if args.proxy_addr:
            taken.add(parse_addr(args.proxy_addr)[1])
        self.uas_port = free_port(args.uas_port, taken)
        self.uac_port = free_port(args.uac_port, taken)
        self.cp_uas = free_port(args.control_port, taken)
        self.cp_uac = free_port(self.cp_uas + 1, taken)
        (outdir / "sipp").mkdir(parents=True, exist_ok=True)
        # A copy of uas.xml with a short timewait: at thousands of calls/s the 8 s timewait of the
        # functional scenario would keep tens of thousands of finished calls in memory.
        self.uas_xml = outdir / "sipp" / "uas_perf.xml"
        text = (SCENARIOS / "uas.xml").read_text()
        self.uas_xml.write_text(re.sub(r'<timewait milliseconds="\d+"/>', '<timewait milliseconds="1000"/>', text))
        # A copy of uac.xml in the output folder: SIPp writes -trace_rtt samples next to the scenario
        # (<scenario>_<pid>_rtt.csv), which must not be Tests/sipp.
        self.uac_xml = outdir / "sipp" / "uac_perf.xml"
        self.uac_xml.write_text((SCENARIOS / "uac.xml").read_text())
        log(f"ports: uas {self.uas_port} uac {self.uac_port} control {self.cp_uas}/{self.cp_uac}")

    def run(self, rate: int, target: str | None) -> Step:
        """One step at `rate`; `target` is the proxy's name, or None for SIPp uac <-> uas directly."""
        a = self.args
        via_proxy = target is not None
        target = target or "baseline"
        dur = a.duration
        calls = max(1, int(round(rate * dur)))
        st = Step(target=target, rate=rate, duration_s=dur, calls=calls)
        tag = f"{safe_name(target)}-{rate}"
        uac_csv = self.outdir / "sipp" / f"{tag}-uac.csv"
        uas_csv = self.outdir / "sipp" / f"{tag}-uas.csv"
        for p in (uac_csv, uas_csv):
            p.unlink(missing_ok=True)
        drain = a.drain
        # A step slower than dur*1.15+2 s fails anyway (see _fill): stop waiting shortly after that.
        uac_timeout = int(min(dur * 1.2 + drain, dur * 1.15 + 4))
        big = ["-buff_size", "4194304"] if rate > 3000 else []
        loops = ["-max_recv_loops", "10000", "-max_sched_loops", "10000"] if rate > 3000 else []
        common = ["-nostdin", "-i", "127.0.0.1", "-trace_stat", "-fd", "1"] + big + loops
        uas_cmd = [a.sipp, "-sf", str(self.uas_xml), "-p", str(self.uas_port), "-cp", str(self.cp_uas),
                   "-timeout", str(uac_timeout + 10), "-stf", str(uas_csv)] + common
        uac_cmd = [a.sipp, "-sf", str(self.uac_xml), f"127.0.0.1:{self.uas_port}", "-p", str(self.uac_port),
                   "-cp", str(self.cp_uac), "-r", str(rate), "-m", str(calls), "-l", str(max(1000, rate * 4)),
                   "-timeout", str(uac_timeout), "-stf", str(uac_csv),
                   "-trace_rtt", "-rtt_freq", str(max(100, min(rate, 5000)))] + common
        if via_proxy:
            uac_cmd[4:4] = ["-rsa", a.proxy_addr]
        devnull = subprocess.DEVNULL
        uas = subprocess.Popen(uas_cmd, stdin=devnull, stdout=devnull, stderr=devnull, start_new_session=True)
        try:
            t_bind = time.monotonic() + 5
            while port_free(self.uas_port) and time.monotonic() < t_bind and uas.poll() is None:
                time.sleep(0.02)
            before = self.proxy.sample() if (via_proxy and self.proxy) else None
            t0 = time.monotonic()
            uac = subprocess.Popen(uac_cmd, stdin=devnull, stdout=devnull, stderr=devnull, start_new_session=True,
                                   cwd=self.outdir / "sipp")
            try:
                st.uac_rc = uac.wait(timeout=uac_timeout + 3)
            except subprocess.TimeoutExpired:
                terminate(uac)
                st.uac_rc = None
            st.wall_s = round(time.monotonic() - t0, 3)
            after = self.proxy.sample() if (via_proxy and self.proxy) else None
        finally:
            time.sleep(0.2)
            terminate(uas)
        self._fill(st, uac_csv, uas_csv, before, after)
        self._rtt(st, self.outdir / "sipp" / f"uac_perf_{uac.pid}_rtt.csv")
        verdict = "PASS" if st.ok else f"FAIL ({st.reason})"
        extra = ""
        if st.proxy_cpu_pct is not None:
            extra = f" proxy cpu {st.proxy_cpu_pct:.0f}% rss {st.proxy_rss_kb} kB"
        log(f"{target:8s} {rate:6d} cps x {dur:g}s: ok {st.successful}/{calls} failed {st.failed} "
            f"retrans {st.retransmissions} achieved {st.achieved_rate:.0f} cps wall {st.wall_s:.1f}s{extra} -> {verdict}")
        return st

    @staticmethod
    def _rtt(st: Step, path: Path) -> None:
        """Percentiles of the step's -trace_rtt samples (then the sample file is removed: it has one line per
        call)."""
        vals: list[float] = []
        try:
            with open(path, errors="replace") as f:
                next(f, None)
                for line in f:
                    parts = line.split(";")
                    if len(parts) >= 2:
                        try:
                            vals.append(float(parts[1]))
                        except ValueError:
                            pass
            path.unlink()
        except OSError:
            return
        if not vals:
            return
        vals.sort()
        st.rtt_samples = len(vals)
        pick = lambda q: vals[min(len(vals) - 1, int(q * len(vals)))]
        st.rtt_p50_ms, st.rtt_p90_ms, st.rtt_p99_ms = pick(0.5), pick(0.9), pick(0.99)

    def _fill(self, st: Step, uac_csv: Path, uas_csv: Path, before: ProcSample | None,
              after: ProcSample | None) -> None:
        a = self.args
        rows = read_stat_csv(uac_csv)
        if rows:
            last = rows[-1]
            st.created = as_int(last, "OutgoingCall(C)") or as_int(last, "TotalCallCreated")
            st.successful = as_int(last, "SuccessfulCall(C)")
            st.failed = as_int(last, "FailedCall(C)")
            st.retransmissions = as_int(last, "Retransmissions(C)")
            per = [as_int(r, "Retransmissions(P)") for r in rows]
            half = len(per) // 2
            st.retrans_first_half, st.retrans_second_half = sum(per[:half]), sum(per[half:])
            st.rtt_hist = rtt_histogram(last)
        urows = read_stat_csv(uas_csv)
        if urows:
            st.uas_successful = as_int(urows[-1], "SuccessfulCall(C)")
            st.uas_failed = as_int(urows[-1], "FailedCall(C)")
        # Generation time: all calls were created after (calls-1)/rate seconds; the rest is call completion.
        st.achieved_rate = round(st.successful / st.wall_s, 1) if st.wall_s > 0 else 0.0
        if before and after:
            d_cpu = after.cpu_s - before.cpu_s
            d_t = max(after.t - before.t, 1e-6)
            st.proxy_cpu_s = round(d_cpu, 3)
            st.proxy_cpu_pct = round(100.0 * d_cpu / d_t, 1)
            st.proxy_cpu_us_per_call = round(1e6 * d_cpu / st.successful, 1) if st.successful else None
            st.proxy_rss_kb, st.proxy_hwm_kb = after.rss_kb, after.hwm_kb
        slack = max(10, int(0.001 * st.calls))
        reasons = []
        if not rows:
            reasons.append("no SIPp statistics")
        if st.uac_rc is None:
            reasons.append("killed after time limit")
        if st.created < st.calls:
            reasons.append(f"created {st.created}/{st.calls}")
        if st.failed > a.max_failed * st.calls:
            reasons.append(f"failed {st.failed}")
        if st.successful < (1 - a.max_failed) * st.calls:
            reasons.append(f"successful {st.successful}")
        if st.wall_s > st.duration_s * 1.15 + 2.0:
            reasons.append(f"too slow ({st.wall_s:.1f}s for {st.duration_s:g}s)")
        if st.retrans_second_half > 2 * st.retrans_first_half + slack:
            reasons.append(f"retrans growing {st.retrans_first_half}->{st.retrans_second_half}")
        if st.retransmissions > a.max_retrans * st.calls:
            reasons.append(f"retrans {st.retransmissions}")
        if self.proxy is not None and st.target != "baseline" and not self.proxy.alive():
            reasons.append("proxy died")
        st.ok = not reasons
        st.reason = "; ".join(reasons)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "proxy"


def terminate(p: subprocess.Popen) -> None:
    if p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=3)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=3)
    except ProcessLookupError:
        pass


# -------------------------------------------------------------------------------------------------- search

@dataclass
class Search:
    """Result of a rate search: the highest passing rate and every step run."""
    target: str
    max_rate: int = 0
    first_fail: int | None = None
    stopped_by: str = ""
    steps: list[Step] = field(default_factory=list)


def search(runner: Runner, name: str | None, start: int, max_rate: int, precision: float, max_steps: int,
           budget_s: float, min_rate: int = 50) -> Search:
    """Rate search against proxy `name` (None: the SIPp-alone baseline); bounded by max_steps and budget_s."""
    target = name or "baseline"
    res = Search(target=target)
    deadline = time.monotonic() + budget_s
    lo, hi = 0, None

    def step(rate: int) -> bool:
        st = runner.run(rate, name)
        res.steps.append(st)
        return st.ok

    def out_of_budget() -> bool:
        if len(res.steps) >= max_steps:
            res.stopped_by = "max steps"
            return True
        if time.monotonic() >= deadline:
            res.stopped_by = "time budget"
            return True
        return False

    rate = min(start, max_rate)
    # Exponential ramp.
    while not out_of_budget():
        if step(rate):
            lo = rate
            if rate >= max_rate:
                res.stopped_by = "reached max rate"
                break
            rate = min(rate * 2, max_rate)
        else:
            hi = rate
            break
    # The start rate already failed: halve until something passes.
    while lo == 0 and hi is not None and hi > min_rate and not out_of_budget():
        rate = max(min(min_rate, start), hi // 2)
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
    res.max_rate, res.first_fail = lo, hi
    log(f"{target}: highest passing rate {lo} cps (first failing {hi}), {len(res.steps)} steps, {res.stopped_by}")
    return res


# ------------------------------------------------------------------------------------------------- reports

def sipp_version(sipp: str) -> str:
    try:
        out = subprocess.run([sipp, "-v"], capture_output=True, text=True, timeout=5)
        m = re.search(r"SIPp v[\w.\-]+", out.stdout + out.stderr)
        return m.group(0) if m else "unknown"
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"


def git_rev() -> str:
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def best_step(s: Search | None) -> Step | None:
    if not s or not s.max_rate:
        return None
    for st in s.steps:
        if st.ok and st.rate == s.max_rate:
            return st
    return None


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


def write_reports(outdir: Path, result: dict, baseline: Search | None, searches: list[Search],
                  title: str = "Tandem relay benchmark") -> None:
    (outdir / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    steps = (baseline.steps if baseline else []) + [st for s in searches for st in s.steps]
    names = list(Step.__dataclass_fields__)
    with open(outdir / "steps.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for st in steps:
            d = asdict(st)
            w.writerow([d[n] for n in names])
    proxies = {p["name"]: p for p in result.get("proxies", [])}
    first = result["proxies"][0]["name"] if result.get("proxies") else None
    md = [f"# {title} {result['timestamp']}", "",
          f"Commit `{result['git']}`, {result['host']['cpus']} CPUs, {result['host']['sipp']}, "
          f"{result['params']['duration_s']:g} s per step, pass = <{100 * result['params']['max_failed']:g}% failed, "
          f"retransmissions not growing.", ""]
    charts = write_charts(outdir, result)
    if charts:
        md += [" ".join(f"![{c[:-4]}]({c})" for c in charts), "",
               "INVITE->200 ms p50 / p90 / p99 at the max sustained rate: from SIPp `-trace_rtt` samples (1 ms "
               "resolution); `<=` marks upper bounds from SIPp's response-time histogram when no samples exist.", ""]
    if first is not None:
        md += [f"Ratios: `x baseline` = max cps / SIPp-alone max cps; `x {first}` = max cps / the first proxy's.", ""]
    md += [f"| target | max sustained cps | x baseline | x {first or 'first'} | first failing cps | steps | "
           "proxy CPU at max | CPU us/call | peak RSS | INVITE->200 ms p50/p90/p99 | stopped by |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    if baseline is not None:
        md.append(f"| baseline | {baseline.max_rate} | - | - | {baseline.first_fail or '-'} | {len(baseline.steps)} "
                  f"| - | - | - | {rtt_cell(best_step(baseline))} | {baseline.stopped_by} |")
    for s in searches:
        pr = proxies.get(s.target, {})
        b = best_step(s)
        cpu = f"{b.proxy_cpu_pct:.0f}%" if b and b.proxy_cpu_pct is not None else "-"
        us = f"{b.proxy_cpu_us_per_call:.1f}" if b and b.proxy_cpu_us_per_call is not None else "-"
        rss = f"{pr['peak_rss_kb'] / 1024:.1f} MiB" if pr.get("peak_rss_kb") else "-"
        stopped = s.stopped_by + (f"; {pr['error']}" if pr.get("error") else "")
        md.append(f"| {s.target} | {s.max_rate} | {fmt_ratio(pr.get('ratio_to_baseline'))} | "
                  f"{fmt_ratio(pr.get('ratio_to_first'))} | {s.first_fail or '-'} | {len(s.steps)} | {cpu} | {us} | "
                  f"{rss} | {rtt_cell(b)} | {stopped} |")
    if proxies:
        md += ["", "Proxy commands:", ""]
        md += [f"- `{n}`: `{p.get('cmd') or '(already running)'}`" for n, p in proxies.items()]
    md += ["", "## Steps", "", "| target | rate | ok | successful | failed | retrans | achieved cps | wall s | proxy CPU | reason |",
           "|---|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for st in steps:
        cpu = f"{st.proxy_cpu_pct:.0f}%" if st.proxy_cpu_pct is not None else "-"
        md.append(f"| {st.target} | {st.rate} | {'yes' if st.ok else 'no'} | {st.successful}/{st.calls} | {st.failed} | "
                  f"{st.retransmissions} | {st.achieved_rate:.0f} | {st.wall_s:.1f} | {cpu} | {st.reason} |")
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


# ---------------------------------------------------------------------------------------------------- main

def parse_named(values: list[str] | None, what: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for v in values or []:
        name, sep, rest = v.partition("=")
        name = name.strip()
        if not sep or not name or not rest.strip() or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise SystemExit(f"{what} wants NAME=VALUE with NAME of letters, digits, _ . - (got {v!r})")
        out.append((name, rest.strip()))
    return out


def wait_port_free(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_free(port):
            return True
        time.sleep(0.2)
    return port_free(port)


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
            s = None
            try:
                start = min(starts.get(name, a.start_rate), cap)
                s = search(runner, name, start, cap, a.precision, a.max_steps, max(10.0, min(a.budget, left)))
                searches.append(s)
            finally:
                if proxy:
                    proxy.stop()
                    if proxy.last:
                        rec["peak_rss_kb"] = proxy.last.hwm_kb
                        rec["cpu_seconds_total"] = round(proxy.last.cpu_s, 3)
                        rec["threads"] = proxy.last.threads
                    rec["exit_code"] = proxy.proc.returncode if proxy.proc else None
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
                   "max_retrans": a.max_retrans, "proxy_addr": a.proxy_addr, "uas_port": runner.uas_port,
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


# -------------------------------------------------------------------------------------------------- charts

def search_from_dict(target: str, d: dict | None) -> Search | None:
    """A Search rebuilt from its results.json form (unknown step keys dropped, missing ones defaulted)."""
    if d is None:
        return None
    known = set(Step.__dataclass_fields__)
    steps = [Step(**{k: v for k, v in st.items() if k in known}) for st in d.get("steps", [])]
    return Search(target=target, max_rate=d.get("max_rate") or 0, first_fail=d.get("first_fail"),
                  stopped_by=d.get("stopped_by", ""), steps=steps)


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


# -------------------------------------------------------------------------------------------------- matrix

BACKENDS = ("none", "sleep", "exec", "http", "postgres", "ldap", "mongodb")
MODES = ("sync", "native", "offload")
#: Backend -> (driver name for async_mode/offload_limit, modes it has, test server script or None).
BACKEND_INFO = {
    "none": (None, (), None),
    "sleep": ("usleep", MODES, None),
    "exec": ("exec", MODES, None),
    "http": ("http", MODES, "http"),
    "postgres": ("postgres", MODES, "postgres"),
    "ldap": ("ldap", MODES, "slapd"),
    "mongodb": ("mongodb", ("sync", "offload"), "mongo"),  # the MongoDB driver has no native path
}
SERVER_PORT_ENV = {"http": "TANDEM_TEST_HTTP_PORT", "postgres": "TANDEM_TEST_PG_PORT",
                   "slapd": "TANDEM_TEST_LDAP_PORT", "mongo": "TANDEM_TEST_MONGO_PORT"}


@dataclass(frozen=True)
class Scenario:
    """One matrix cell: a backend wait per initial INVITE, its async mode, the backend delay, UDP workers."""
    backend: str
    mode: str  # "-" for backend none
    delay_ms: int  # 0 for backend none
    workers: int

    @property
    def name(self) -> str:
        if self.backend == "none":
            return f"none-w{self.workers}"
        return f"{self.backend}-{self.mode}-{self.delay_ms}ms-w{self.workers}"

    def fields(self) -> dict[str, str]:
        return {"backend": self.backend, "mode": self.mode, "delay": str(self.delay_ms),
                "delay_ms": str(self.delay_ms), "workers": str(self.workers), "udp_workers": str(self.workers),
                "name": self.name}


def all_scenarios(backends, modes, delays, workers) -> list[Scenario]:
    out: list[Scenario] = []
    for b in backends:
        if b not in BACKEND_INFO:
            raise SystemExit(f"unknown backend {b!r} (one of {', '.join(BACKENDS)})")
        bmodes = BACKEND_INFO[b][1]
        for w in workers:
            if b == "none":
                out.append(Scenario("none", "-", 0, w))
                continue
            for m in modes:
                if m not in MODES:
                    raise SystemExit(f"unknown mode {m!r} (one of {', '.join(MODES)})")
                if m not in bmodes:
                    continue
                for d in delays:
                    out.append(Scenario(b, m, d, w))
    return out


def parse_filters(values: list[str] | None) -> list[dict[str, set[str]]]:
    """--only backend=http,mode=native (repeatable: a scenario passes if it matches any --only; within one,
    every key must match; a key's values are separated by |, e.g. backend=http|postgres)."""
    out = []
    for v in values or []:
        f: dict[str, set[str]] = {}
        for part in v.split(","):
            k, sep, val = part.partition("=")
            k = k.strip()
            if not sep or k not in ("backend", "mode", "delay", "delay_ms", "workers", "udp_workers", "name"):
                raise SystemExit(f"--only wants KEY=VALUE[,KEY=VALUE] with KEY backend|mode|delay|workers|name "
                                 f"(got {v!r})")
            f[k] = {x.strip().removesuffix("ms") if k.startswith("delay") else x.strip() for x in val.split("|")}
        out.append(f)
    return out


def matches(sc: Scenario, filters: list[dict[str, set[str]]]) -> bool:
    if not filters:
        return True
    fl = sc.fields()
    return any(all(fl[k] in vals for k, vals in f.items()) for f in filters)


CFG_HEAD = """# Generated by Perf/harness.py matrix for scenario {name}; not committed.
log_level = 1
udp_workers = {workers}
socket = udp:127.0.0.1:{port}
loadmodule "tm.so"
loadmodule "rr.so"
loadmodule "sl.so"
loadmodule "maxfwd.so"
loadmodule "sipmsgops.so"
"""
CFG_ROUTE = """route {{
    if (!mf_process_maxfwd_header(70)) {{ sl_send_reply(483, "Too Many Hops"); exit; }}
    if (has_totag()) {{ if (loose_route()) {{ t_relay(); exit; }} sl_send_reply(404, "Not Here"); exit; }}
    record_route();
{wait}
}}
"""
# $rc < 0 (mongodb: -1/-3/-4; 0 rows is -2 there, still a completed wait): the wait did not happen (offload
# queue full, backend error): refuse the call rather than relay it without the delay.
CFG_RESUME = """route[resume] {{
    if ({fail}) {{ t_reply(503, "Backend Failed"); exit; }}
    t_relay();
}}
"""


def scenario_config(sc: Scenario, port: int, env: dict[str, str], outdir: Path, offload_limit: int) -> str:
    """The Tandem configuration of a scenario (written to OUT/configs/<name>.cfg)."""
    driver = BACKEND_INFO[sc.backend][0]
    text = CFG_HEAD.format(name=sc.name, workers=sc.workers, port=port)
    fail = "$rc < 0"
    d = sc.delay_ms
    if sc.backend == "none":
        return text + CFG_ROUTE.format(wait="    t_relay();")
    if sc.backend == "sleep":
        call = f"usleep({d * 1000})"
        text += 'loadmodule "cfgutils.so"\n'
    elif sc.backend == "exec":
        call = f'exec("sleep {d / 1000:.3f}")'
        text += 'loadmodule "exec.so"\n'
    elif sc.backend == "http":
        call = f'rest_get("http://127.0.0.1:{env["port"]}/route?delay_ms={d}", $var(b))'
        text += 'loadmodule "rest_client.so"\n'
    elif sc.backend == "postgres":
        call = f'avp_db_query("SELECT pg_sleep({d / 1000:.3f}), 1")'
        text += ('loadmodule "avpops.so"\n'
                 f'modparam("avpops", "db_url", "postgres://postgres@127.0.0.1:{env["port"]}/tandem")\n')
    elif sc.backend == "ldap":
        conf = outdir / "configs" / f"{sc.name}-ldap.conf"
        conf.write_text(f'[people]\nldap_server_url = "ldap://127.0.0.1:{env["delay_port"]}"\n'
                        'ldap_bind_dn = "cn=admin,dc=example,dc=com"\nldap_bind_password = "secret"\n'
                        'ldap_network_timeout = 2000\nldap_client_bind_timeout = 2000\n')
        call = 'ldap_search("ldap://people/ou=people,dc=example,dc=com?telephoneNumber?sub?(uid=alice)")'
        text += f'loadmodule "ldap.so"\nmodparam("ldap", "config_file", "{conf}")\n'
    elif sc.backend == "mongodb":
        call = 'avp_db_query("{\\"find\\": \\"subscriber\\", \\"filter\\": {\\"username\\": \\"$fU\\"}}", "$avp(u)")'
        text += ('loadmodule "avpops.so"\n'
                 f'modparam("avpops", "db_url", "mongodb://127.0.0.1:{env["delay_port"]}/tandem")\n')
        fail = "$rc == -1 || $rc == -3 || $rc == -4"
    else:
        raise SystemExit(f"no template for backend {sc.backend}")
    text += f'modparam("tandem", "async_mode", "{driver}={sc.mode}")\n'
    if sc.mode == "offload":
        text += f'modparam("tandem", "offload_limit", "{driver}={offload_limit}")\n'
    return text + CFG_ROUTE.format(wait=f"    async({call}, resume);") + CFG_RESUME.format(fail=fail)


class Backends:
    """Test servers (scripts/test-servers/*.sh) and delay proxies the scenarios need; started on demand,
    kept for the following scenarios, stopped by close()."""

    def __init__(self, outdir: Path):
        self.outdir = outdir
        self.started: dict[str, dict[str, str]] = {}
        self.delay: tuple[subprocess.Popen, int, int, int] | None = None  # (process, port, delay ms, target)

    def server(self, script: str) -> dict[str, str]:
        if script in self.started:
            return self.started[script]
        sh = ROOT / "scripts" / "test-servers" / f"{script}.sh"
        log(f"starting test server: bash {sh.relative_to(ROOT)} start")
        with open(self.outdir / f"server-{script}.log", "ab") as f:
            r = subprocess.run(["bash", str(sh), "start"], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                               timeout=300)
        if r.returncode != 0:
            raise RuntimeError(f"{script}.sh start failed ({r.returncode}); see server-{script}.log")
        out = subprocess.run(["bash", str(sh), "env"], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout
        env: dict[str, str] = {}
        for line in out.splitlines():
            parts = shlex.split(line)
            if parts and parts[0] == "export":
                parts = parts[1:]
            for p in parts:
                k, _, v = p.partition("=")
                env[k] = v
        env["port"] = env.get(SERVER_PORT_ENV[script], "")
        if not env["port"]:
            raise RuntimeError(f"{script}.sh env gave no {SERVER_PORT_ENV[script]}")
        self.started[script] = env
        return env

    def delay_proxy(self, target_port: int, delay_ms: int) -> int:
        """Perf/delay_proxy.py in front of target_port with delay_ms; one at a time (restarted on change)."""
        if self.delay and self.delay[0].poll() is None and self.delay[2] == delay_ms and self.delay[3] == target_port:
            return self.delay[1]
        self.stop_delay()
        port = free_port(27300, set())
        logf = open(self.outdir / "delay_proxy.log", "ab")
        proc = subprocess.Popen([sys.executable, str(ROOT / "Perf" / "delay_proxy.py"), str(port), str(target_port),
                                 str(delay_ms)], stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
        logf.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and port_free(port) and proc.poll() is None:
            time.sleep(0.05)
        if proc.poll() is not None or port_free(port):
            terminate(proc)
            raise RuntimeError("delay_proxy.py did not come up")
        self.delay = (proc, port, delay_ms, target_port)
        return port

    def stop_delay(self) -> None:
        if self.delay:
            terminate(self.delay[0])
            self.delay = None

    def env_for(self, sc: Scenario) -> dict[str, str]:
        script = BACKEND_INFO[sc.backend][2]
        if script is None:
            return {}
        env = dict(self.server(script))
        if sc.backend in ("ldap", "mongodb"):
            env["delay_port"] = str(self.delay_proxy(int(env["port"]), sc.delay_ms))
        return env

    def close(self) -> None:
        self.stop_delay()
        for script in list(self.started):
            sh = ROOT / "scripts" / "test-servers" / f"{script}.sh"
            log(f"stopping test server {script}")
            with open(self.outdir / f"server-{script}.log", "ab") as f:
                subprocess.run(["bash", str(sh), "stop"], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, timeout=60)
            del self.started[script]


def start_rate_for(sc: Scenario, default: int, offload_limit: int) -> int:
    """First ramp rate: about half of the scenario's theoretical bound, so blocking modes do not start far
    above what they can do (each failing step costs a full step plus drain)."""
    if sc.backend == "none" or sc.mode == "native":
        return default if sc.delay_ms < 100 else max(50, default // 2)
    if sc.mode == "sync":
        bound = sc.workers * 1000 / max(1, sc.delay_ms)
    else:
        bound = offload_limit * 1000 / max(1, sc.delay_ms)
    return int(max(5, min(default, bound / 2)))


QUICK_ONLY = ["name=none-w2", "name=sleep-native-20ms-w2", "name=sleep-sync-20ms-w2", "name=http-native-20ms-w2"]


def cmd_matrix(a) -> int:
    if a.quick:
        a.duration = a.duration or 4.0
        a.precision = a.precision or 0.5
        a.max_steps = a.max_steps or 4
        a.budget = a.budget or 30.0
        a.start_rate = a.start_rate or 1000
        a.total_budget = a.total_budget or 165.0
        a.drain = min(a.drain, 3.0)
        if not a.only:
            a.only = QUICK_ONLY
    else:
        a.duration = a.duration or 10.0
        a.precision = a.precision or 0.15
        a.max_steps = a.max_steps or 8
        a.budget = a.budget or 150.0
        a.start_rate = a.start_rate or 1000
    if not shutil.which(a.sipp):
        raise SystemExit(f"{a.sipp} not found (apt-get install sip-tester)")
    split = lambda v, conv=str: [conv(x) for x in v.split(",") if x.strip()]
    scenarios = [sc for sc in all_scenarios(split(a.backends), split(a.modes), split(a.delays, int),
                                            split(a.workers, int)) if matches(sc, parse_filters(a.only))]
    if a.list:
        print("\n".join(sc.name for sc in scenarios))
        return 0
    tandem = Path(a.tandem)
    if not tandem.is_absolute():
        tandem = ROOT / tandem
    if not tandem.exists():
        raise SystemExit(f"{tandem} not found: swift build -c release (or give --tandem PATH)")
    if not scenarios:
        raise SystemExit("no scenario left after --only")

    prior: dict = {}
    if a.resume:
        outdir = Path(a.resume).resolve()
        rp = outdir / "results.json"
        if rp.exists():
            prior = json.loads(rp.read_text())
    else:
        outdir = Path(a.out) / ("matrix-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "configs").mkdir(exist_ok=True)
    # Kept from DIR: scenarios that ran (not those that did not start or only got "no SIPp statistics").
    done = {p["name"]: p for p in prior.get("proxies", []) if p.get("steps") and not p.get("error")
            and not all(st.get("reason", "").startswith("no SIPp statistics") for st in p["steps"])}
    todo = [sc for sc in scenarios if sc.name not in done]
    a.total_budget = a.total_budget or a.budget * (len(todo) + 1)
    t_start = time.monotonic()
    deadline = t_start + a.total_budget
    log(f"matrix: {len(scenarios)} scenarios selected, {len(scenarios) - len(todo)} already in {outdir}, "
        f"{len(todo)} to run; total budget {a.total_budget:.0f} s")

    taken: set[int] = set()
    proxy_port = free_port(a.proxy_port, taken)
    a.proxy_addr = f"127.0.0.1:{proxy_port}"
    a.uas_port = max(a.uas_port, 0)
    runner = Runner(a, outdir, None)
    stamp = prior.get("timestamp") or outdir.name.removeprefix("matrix-")
    result: dict = {
        "schema": 2, "kind": "matrix", "timestamp": stamp, "git": git_rev(),
        "host": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
                 "sipp": sipp_version(a.sipp)},
        "params": {"quick": a.quick, "duration_s": a.duration, "precision": a.precision, "max_steps": a.max_steps,
                   "budget_s": a.budget, "total_budget_s": a.total_budget, "start_rate": a.start_rate,
                   "max_rate": a.max_rate, "max_failed": a.max_failed, "max_retrans": a.max_retrans,
                   "offload_limit": a.offload_limit, "tandem": str(tandem)},
        "runs": prior.get("runs", []) + [{"git": git_rev(), "started": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                     time.gmtime())}],
        "interrupted": False,
    }
    if prior.get("baseline"):
        result["baseline"] = prior["baseline"]
    records: dict[str, dict] = dict(done)
    order = [sc.name for sc in scenarios] + [n for n in done if n not in {sc.name for sc in scenarios}]

    def save() -> None:
        base = search_from_dict("baseline", result.get("baseline"))
        recs = [records[n] for n in order if n in records]
        first_rate = None
        for rec in recs:
            if base and base.max_rate and rec.get("steps"):
                rec["ratio_to_baseline"] = round((rec.get("max_rate") or 0) / base.max_rate, 3)
            if first_rate is None and rec.get("max_rate"):
                first_rate = rec["max_rate"]
            rec["ratio_to_first"] = round((rec.get("max_rate") or 0) / first_rate, 3) if first_rate else None
        result["proxies"] = recs
        result["elapsed_s"] = round(time.monotonic() - t_start, 1)
        searches = [search_from_dict(r["name"], r) for r in recs]
        write_reports(outdir, result, base, searches, title="Tandem scenario matrix")
        with open(outdir / "matrix.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["scenario", "backend", "mode", "delay_ms", "udp_workers", "max_rate", "first_fail",
                        "ratio_to_baseline", "cpu_pct_at_max", "cpu_us_per_call_at_max", "peak_rss_kb",
                        "rtt_p50_ms", "rtt_p90_ms", "rtt_p99_ms", "stopped_by", "error"])
            for r in recs:
                sc = r.get("scenario", {})
                b = next((st for st in r.get("steps", []) if st.get("ok") and st.get("rate") == r.get("max_rate")),
                         {})
                w.writerow([r["name"], sc.get("backend"), sc.get("mode"), sc.get("delay_ms"), sc.get("workers"),
                            r.get("max_rate"), r.get("first_fail"), r.get("ratio_to_baseline"),
                            r.get("cpu_pct_at_max"), r.get("cpu_us_per_call_at_max"), r.get("peak_rss_kb"),
                            b.get("rtt_p50_ms"), b.get("rtt_p90_ms"), b.get("rtt_p99_ms"), r.get("stopped_by"),
                            r.get("error", "")])

    backends = Backends(outdir)
    broken = False
    try:
        if not a.skip_baseline and not result.get("baseline"):
            bs = search(runner, None, a.start_rate, a.max_rate, a.precision, a.max_steps,
                        min(a.budget, max(10.0, deadline - time.monotonic())))
            result["baseline"] = {"max_rate": bs.max_rate, "first_fail": bs.first_fail, "stopped_by": bs.stopped_by,
                                  "steps": [asdict(s) for s in bs.steps]}
            save()
        base = result.get("baseline") or {}
        cap = a.max_rate
        if base.get("max_rate") and base.get("first_fail"):
            cap = min(cap, base["first_fail"])
        # Group by backend so each test server starts once.
        for sc in sorted(todo, key=lambda s: (BACKENDS.index(s.backend), s.delay_ms, MODES.index(s.mode)
                                              if s.mode in MODES else -1, s.workers)):
            left = deadline - time.monotonic()
            rec: dict = {"name": sc.name, "scenario": asdict(sc)}
            if left <= 5:
                log(f"{sc.name}: skipped, total budget spent (run again with --resume {outdir})")
                continue
            records[sc.name] = rec
            try:
                env = backends.env_for(sc)
            except (RuntimeError, subprocess.TimeoutExpired, SystemExit) as e:
                rec.update({"error": f"backend: {e}", "max_rate": 0, "stopped_by": "not started", "steps": []})
                log(f"{sc.name}: {rec['error']}")
                broken = True
                save()
                continue
            cfg = outdir / "configs" / f"{sc.name}.cfg"
            cfg.write_text(scenario_config(sc, proxy_port, env, outdir, a.offload_limit))
            rec["cmd"] = f"{tandem} run -f {cfg}"
            if not wait_port_free(proxy_port):
                rec.update({"error": f"port {proxy_port} still busy", "max_rate": 0, "stopped_by": "not started",
                            "steps": []})
                broken = True
                save()
                continue
            proxy = Proxy(rec["cmd"], a.proxy_addr, outdir / f"proxy-{sc.name}.log")
            try:
                proxy.start()
            except SystemExit as e:
                rec.update({"error": str(e), "max_rate": 0, "stopped_by": "not started", "steps": []})
                log(f"{sc.name}: {e}")
                broken = True
                save()
                continue
            runner.proxy = proxy
            s = None
            try:
                start = min(start_rate_for(sc, a.start_rate, a.offload_limit), cap)
                s = search(runner, sc.name, start, cap, a.precision, a.max_steps, max(10.0, min(a.budget, left)))
            finally:
                proxy.stop()
                runner.proxy = None
                if proxy.last:
                    rec["peak_rss_kb"] = proxy.last.hwm_kb
                    rec["cpu_seconds_total"] = round(proxy.last.cpu_s, 3)
                    rec["threads"] = proxy.last.threads
                rec["exit_code"] = proxy.proc.returncode if proxy.proc else None
            b = best_step(s)
            rec.update({"max_rate": s.max_rate, "first_fail": s.first_fail, "stopped_by": s.stopped_by,
                        "cpu_pct_at_max": b.proxy_cpu_pct if b else None,
                        "cpu_us_per_call_at_max": b.proxy_cpu_us_per_call if b else None,
                        "steps": [asdict(st) for st in s.steps]})
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
    log(f"done in {result['elapsed_s']} s; results in {outdir} (resume with --resume {outdir})")
    if result["interrupted"]:
        return 130
    return 2 if broken else 0


def cmd_compare(a) -> int:
    earlier = json.loads(Path(a.earlier).read_text())
    now = json.loads(Path(a.now).read_text())
    print("\n".join(compare(earlier, now, parse_named(a.match, "--match"))))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("relay", help="highest sustained call rate through the proxies (and SIPp alone)")
    r.add_argument("--proxy", action="append", metavar="NAME=CMD",
                   help="a proxy to measure, started fresh from CMD in the foreground (run from the repo root); "
                        "repeatable, measured in the given order after the baseline")
    r.add_argument("--proxy-cmd", help="one unnamed proxy (named 'proxy'), measured before any --proxy")
    r.add_argument("--start-rate-for", action="append", metavar="NAME=RATE",
                   help="first ramp rate for one proxy (e.g. a blocking config: sync=25); repeatable")
    r.add_argument("--proxy-addr", default="127.0.0.1:15060",
                   help="where every proxy listens (default %(default)s)")
    r.add_argument("--proxy-running", action="store_true", help="the proxy is already running at --proxy-addr")
    r.add_argument("--no-proxy", action="store_true", help="only the SIPp uac <-> uas baseline")
    r.add_argument("--skip-baseline", action="store_true", help="only the proxy searches")
    r.add_argument("--quick", action="store_true", help="6 s steps, coarse search: under 3 minutes for one proxy")
    r.add_argument("--duration", type=float, help="seconds per step (quick 6, full 30)")
    r.add_argument("--start-rate", type=int, help="first rate of the ramp (quick 1000, full 500)")
    r.add_argument("--max-rate", type=int, default=40000, help="highest rate tried (default %(default)s)")
    r.add_argument("--precision", type=float, help="stop bisecting when (fail-pass)/pass is below this")
    r.add_argument("--max-steps", type=int, help="steps per search (quick 9, full 14)")
    r.add_argument("--budget", type=float, help="seconds per search (quick 75, full 900)")
    r.add_argument("--total-budget", type=float,
                   help="seconds for all searches (baseline + one proxy: quick 150, full 2400; more proxies: "
                        "budget x searches); a step started in time may finish later")
    r.add_argument("--drain", type=float, default=6.0, help="seconds allowed after the last call is created")
    r.add_argument("--max-failed", type=float, default=0.001, help="allowed failed-call ratio (default 0.1%%)")
    r.add_argument("--max-retrans", type=float, default=0.01, help="allowed retransmissions per call")
    r.add_argument("--uas-port", type=int, default=15070)
    r.add_argument("--uac-port", type=int, default=15080)
    r.add_argument("--control-port", type=int, default=18870, help="first SIPp control port (-cp)")
    r.add_argument("--sipp", default="sipp")
    r.add_argument("--out", default=str(ROOT / "Perf" / "results"))
    r.add_argument("--compare", metavar="EARLIER.json", help="print ratios against an earlier results.json")
    r.set_defaults(func=cmd_relay)
    c = sub.add_parser("compare", help="ratios between two results.json files")
    c.add_argument("earlier")
    c.add_argument("now")
    c.add_argument("--match", action="append", metavar="OLD=NEW",
                   help="compare proxy OLD of the earlier file with proxy NEW of the later one (repeatable)")
    c.set_defaults(func=cmd_compare)
    ch = sub.add_parser("chart", help="re-render throughput.svg / latency.svg from a results.json")
    ch.add_argument("results", help="results.json (or its folder)")
    ch.set_defaults(func=cmd_chart)
    m = sub.add_parser("matrix", help="relay searches over backend x mode x delay x udp_workers scenarios")
    m.add_argument("--backends", default=",".join(BACKENDS), help="comma list (default: all: %(default)s)")
    m.add_argument("--modes", default=",".join(MODES), help="comma list (default %(default)s; mongodb has no native)")
    m.add_argument("--delays", default="1,20,100", help="backend delays in ms (default %(default)s)")
    m.add_argument("--workers", default="1,2,4", help="udp_workers values (default %(default)s)")
    m.add_argument("--only", action="append", metavar="KEY=V[,KEY=V]",
                   help="keep scenarios matching all pairs (keys backend, mode, delay, workers, name; values may "
                        "be V1|V2); repeatable: any --only matches")
    m.add_argument("--resume", metavar="DIR", help="write into DIR and skip the scenarios its results.json has")
    m.add_argument("--list", action="store_true", help="print the selected scenario names and exit")
    m.add_argument("--quick", action="store_true",
                   help="4 scenarios (none, usleep native/sync, http native; 2 workers, 20 ms), 4 s steps, "
                        "under 3 minutes")
    m.add_argument("--tandem", default=".build/release/tandem", help="Tandem binary (default %(default)s)")
    m.add_argument("--offload-limit", type=int, default=64, help="offload_limit for offload scenarios")
    m.add_argument("--proxy-port", type=int, default=15160, help="first port tried for the proxy")
    m.add_argument("--skip-baseline", action="store_true")
    m.add_argument("--duration", type=float, help="seconds per step (quick 4, full 10)")
    m.add_argument("--start-rate", type=int, help="first ramp rate (blocking modes start lower, see README)")
    m.add_argument("--max-rate", type=int, default=40000)
    m.add_argument("--precision", type=float, help="bisection precision (quick 0.5, full 0.15)")
    m.add_argument("--max-steps", type=int, help="steps per search (quick 4, full 8)")
    m.add_argument("--budget", type=float, help="seconds per search (quick 30, full 150)")
    m.add_argument("--total-budget", type=float, help="seconds for the whole invocation (quick 165; full: "
                   "budget x (scenarios + 1)); scenarios left are skipped, resume later")
    m.add_argument("--drain", type=float, default=6.0)
    m.add_argument("--max-failed", type=float, default=0.001)
    m.add_argument("--max-retrans", type=float, default=0.01)
    m.add_argument("--uas-port", type=int, default=15070)
    m.add_argument("--uac-port", type=int, default=15080)
    m.add_argument("--control-port", type=int, default=18870)
    m.add_argument("--sipp", default="sipp")
    m.add_argument("--out", default=str(ROOT / "Perf" / "results"))
    m.set_defaults(func=cmd_matrix)
    a = ap.parse_args(argv)
    return a.func(a)


if __name__ == "__main__":
    sys.exit(main())
