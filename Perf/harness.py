#!/usr/bin/env python3
"""Tandem performance harness (Python 3, stdlib only).

Subcommands
  relay    Find the highest sustained call rate (calls/s) through one or more SIP proxies with SIPp
           (Tests/sipp/uac.xml -> proxy -> Tests/sipp/uas.xml), and the same search for SIPp uac <-> uas with
           no proxy (the generator's own ceiling) in the same run. Each proxy (--proxy NAME=CMD, repeatable,
           or one unnamed --proxy-cmd) is started fresh, searched, and stopped before the next one; its CPU
           time (/proc/PID/stat) and peak RSS (/proc/PID/status VmHWM) are recorded.
  compare  Print ratios between two results.json files.
  matrix   The relay search over backend x async mode x delay x udp_workers x udp_sockets scenarios with
           generated Tandem configs (--quick, --full, --list prints the run order and a run-time estimate; see Perf/README.md).
  chart    Re-render the SVG charts of a results.json.

A rate R passes when, over a run of D seconds at R calls/s (R*D calls) (judge()):
  * failed calls < 0.1% (--max-failed), every call created and >= 99.9% successful,
  * INVITE->200 p90 (SIPp -trace_rtt) <= the latency bound: --max-p90-ms (50) for relay targets (per proxy:
    --max-p90-for); in the matrix 50 ms + --p90-factor (2) x backend delay x backend calls per call,
  * retransmissions are not growing (second half of the run <= 2x first half + slack) and stay under 1% of
    calls (--max-retrans; at least 2 allowed),
  * the run took <= 1.15 x D + --late-slack (2) seconds.
A step that can no longer pass (failed calls or retransmissions over the limit, > 10% of its calls above the
latency bound) is stopped early. Each failing step records its reasons; the summary's "limit" column shows the
first failed step above the max rate and why.
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
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from svgchart import best_step_dict, latency_of, write_charts  # noqa: E402  (Perf/svgchart.py, stdlib only)
import tandem_stats  # noqa: E402  (Perf/tandem_stats.py: Tandem's GET /stats)

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

    def start(self, ready_timeout: float = 30.0, append: bool = False) -> None:
        log(f"starting proxy: {self.cmd}")
        self.logf = open(self.log_path, "ab" if append else "wb")
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

    def restart(self) -> None:
        """A fresh process of the same command (its log appended): stopped at once, not drained."""
        self.stop(at_once=True)
        wait_port_free(parse_addr(self.addr)[1])
        self.start(append=True)

    def stop(self, at_once: bool = False) -> None:
        if self.proc is None:
            return
        self.sample()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if at_once:
                # Tandem drains on the first SIGTERM and exits at once on a second one.
                try:
                    self.proc.wait(timeout=0.3)
                except subprocess.TimeoutExpired:
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
    # Most threads the proxy had during the step (/proc/PID/stat num_threads, i.e. /proc/PID/task entries, read
    # every 0.25 s and at both ends; the main process only).
    proxy_peak_threads: int | None = None
    ok: bool = False
    reason: str = ""
    # INVITE -> 200 response time (SIPp rtd): exact percentiles from -trace_rtt samples (1 ms resolution),
    # and SIPp's ResponseTimeRepartition1 histogram [[upper bound ms or None, calls], ...] from the stat CSV.
    rtt_samples: int = 0
    rtt_p50_ms: float | None = None
    rtt_p90_ms: float | None = None
    rtt_p99_ms: float | None = None
    rtt_hist: list | None = None
    # The latency bound this step was judged against (None: no bound), and whether it confirmed a search's best
    # rate (a longer step run after the search, see search()).
    p90_limit_ms: float | None = None
    confirm: bool = False
    # Tandem's GET /stats around the step (tandem_stats.Poller.result(): per-driver counter deltas, gauge peaks),
    # None when the endpoint was off or unreachable; the async_* / peak_* fields flatten it for steps.csv.
    stats: dict | None = None
    async_started: float | None = None
    async_completed: float | None = None
    async_timed_out: float | None = None
    async_rejected: float | None = None  # rejected + cancelled
    peak_suspended: float | None = None
    peak_offload_busy: float | None = None


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
        self.p90_limit_ms: float | None = None  # latency bound of the steps run now (set per target)
        self.stats_url: str | None = None  # Tandem's GET /stats of the proxy under test, when enabled
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

    def run(self, rate: int, target: str | None, duration: float | None = None, confirm: bool = False) -> Step:
        """One step at `rate`; `target` is the proxy's name, or None for SIPp uac <-> uas directly; `duration`
        overrides --duration (confirmation steps)."""
        a = self.args
        via_proxy = target is not None
        target = target or "baseline"
        dur = duration or a.duration
        calls = max(1, int(round(rate * dur)))
        st = Step(target=target, rate=rate, duration_s=dur, calls=calls, confirm=confirm,
                  p90_limit_ms=self.p90_limit_ms or None)
        tag = f"{safe_name(target)}-{rate}" + ("-confirm" if confirm else "")
        uac_csv = self.outdir / "sipp" / f"{tag}-uac.csv"
        uas_csv = self.outdir / "sipp" / f"{tag}-uas.csv"
        for p in (uac_csv, uas_csv):
            p.unlink(missing_ok=True)
        # A step slower than late_limit() fails anyway (see judge()): stop waiting shortly after that.
        wait_s = min(dur * 1.2 + a.drain, late_limit(dur, a.late_slack) + 0.5)
        uac_timeout = int(wait_s) + 2  # SIPp's own -timeout: a safety net behind the harness's kill
        big = ["-buff_size", "4194304"] if rate > 3000 else []
        loops = ["-max_recv_loops", "10000", "-max_sched_loops", "10000"] if rate > 3000 else []
        common = ["-nostdin", "-i", "127.0.0.1", "-trace_stat", "-fd", "1"] + big + loops
        uas_cmd = [a.sipp, "-sf", str(self.uas_xml), "-p", str(self.uas_port), "-cp", str(self.cp_uas),
                   "-timeout", str(uac_timeout + 10), "-stf", str(uas_csv)] + common
        uac_cmd = [a.sipp, "-sf", str(self.uac_xml), f"127.0.0.1:{self.uas_port}", "-p", str(self.uac_port),
                   "-cp", str(self.cp_uac), "-r", str(rate), "-m", str(calls), "-l", str(max(1000, rate * 4)),
                   "-timeout", str(uac_timeout), "-stf", str(uac_csv),
                   "-trace_rtt", "-rtt_freq", str(rtt_freq(rate))] + common
        if via_proxy:
            uac_cmd[4:4] = ["-rsa", a.proxy_addr]
        devnull = subprocess.DEVNULL
        uas = subprocess.Popen(uas_cmd, stdin=devnull, stdout=devnull, stderr=devnull, start_new_session=True)
        poller = tandem_stats.Poller(self.stats_url) if (via_proxy and self.stats_url) else None
        early = ""
        try:
            t_bind = time.monotonic() + 5
            while port_free(self.uas_port) and time.monotonic() < t_bind and uas.poll() is None:
                time.sleep(0.02)
            if poller:
                poller.start()
            before = self.proxy.sample() if (via_proxy and self.proxy) else None
            t0 = time.monotonic()
            uac = subprocess.Popen(uac_cmd, stdin=devnull, stdout=devnull, stderr=devnull, start_new_session=True,
                                   cwd=self.outdir / "sipp")
            # Wait for SIPp; every second, look at its statistics: a step whose failed calls or retransmissions
            # already exceed what the whole step may have cannot pass any more (stopped early, saves the drain).
            next_look = t0 + 1.5
            next_threads = t0  # the first look at once (the proxy's threads before the calls)
            rtt_path = self.outdir / "sipp" / f"uac_perf_{uac.pid}_rtt.csv"
            slow = SlowCounter(rtt_path, st.p90_limit_ms)
            while True:
                rc = uac.poll()
                if rc is not None:
                    st.uac_rc = rc
                    break
                now = time.monotonic()
                if via_proxy and self.proxy and self.proxy.proc and now >= next_threads:
                    next_threads = now + 0.25
                    self._threads(st, self.proxy.proc.pid)
                if now - t0 > wait_s:
                    terminate(uac)
                    st.uac_rc = None
                    break
                if a.early_stop and now >= next_look:
                    next_look = now + 1.0
                    early = early_stop_reason(read_stat_csv(uac_csv), calls, a.max_failed, a.max_retrans)
                    if not early and slow.limit_ms and slow.count() > 0.1 * calls:
                        early = f"over 10% of the calls above {slow.limit_ms:g} ms"
                    if early:
                        terminate(uac)
                        st.uac_rc = uac.returncode
                        break
                time.sleep(0.05)
            st.wall_s = round(time.monotonic() - t0, 3)
            after = self.proxy.sample() if (via_proxy and self.proxy) else None
            if via_proxy and self.proxy and self.proxy.proc:
                self._threads(st, self.proxy.proc.pid)
        finally:
            if poller:
                st.stats = poller.stop()
            time.sleep(0.2)
            terminate(uas)
        self._fill(st, uac_csv, uas_csv, before, after)
        self._rtt(st, self.outdir / "sipp" / f"uac_perf_{uac.pid}_rtt.csv")
        flatten_stats(st)
        proxy_dead = self.proxy is not None and via_proxy and not self.proxy.alive()
        reasons = judge(st, a.max_failed, a.max_retrans, a.late_slack, stats_seen=bool(read_stat_csv(uac_csv)),
                        proxy_dead=proxy_dead)
        if early:  # judge() names the cause again with the final figures
            reasons.append(f"stopped early at {st.wall_s:.1f} s")
        st.ok = not reasons
        st.reason = "; ".join(reasons)
        verdict = "PASS" if st.ok else f"FAIL ({st.reason})"
        extra = ""
        if st.proxy_cpu_pct is not None:
            extra = f" proxy cpu {st.proxy_cpu_pct:.0f}% rss {st.proxy_rss_kb} kB"
        if st.rtt_p90_ms is not None:
            extra += f" p90 {st.rtt_p90_ms:g} ms"
        if st.proxy_peak_threads is not None:
            extra += f" threads {st.proxy_peak_threads}"
        if st.stats is not None:
            extra += f" async {tandem_stats.cell(st.stats)}"
        log(f"{target:8s} {rate:6d} cps x {dur:g}s{' (confirm)' if confirm else ''}: ok {st.successful}/{calls} "
            f"failed {st.failed} retrans {st.retransmissions} achieved {st.achieved_rate:.0f} cps wall "
            f"{st.wall_s:.1f}s{extra} -> {verdict}")
        return st

    @staticmethod
    def _threads(st: Step, pid: int) -> None:
        """Raises the step's proxy_peak_threads to the proxy's thread count now."""
        stat = _read_stat(pid)
        if stat is not None:
            st.proxy_peak_threads = max(st.proxy_peak_threads or 0, stat[2])

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
        pick = lambda q: round(vals[min(len(vals) - 1, int(q * len(vals)))], 1)
        st.rtt_p50_ms, st.rtt_p90_ms, st.rtt_p99_ms = pick(0.5), pick(0.9), pick(0.99)

    def _fill(self, st: Step, uac_csv: Path, uas_csv: Path, before: ProcSample | None,
              after: ProcSample | None) -> None:
        """SIPp's and the proxy's figures of a finished step (judge() gives the verdict)."""
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


# ------------------------------------------------------------------------------------------------ pass rule

def late_limit(duration_s: float, slack_s: float) -> float:
    """Longest wall time of a passing step: 1.15 x its duration + slack (SIPp start, last calls' completion)."""
    return duration_s * 1.15 + slack_s


def retrans_allowed(calls: int, max_retrans: float) -> float:
    """Retransmissions a step may have: max_retrans per call, at least 2 (one lost packet in a 40-call step of a
    slow scenario is not a limit)."""
    return max(2.0, max_retrans * calls)


def rtt_freq(rate: int) -> int:
    """SIPp -rtt_freq: samples are written in batches of this size and a last partial batch is lost, so keep it
    small (the last calls of an overloaded step are the slow ones): rate / 20, 1..100."""
    return max(1, min(100, rate // 20))


def p90_limit(delay_ms: float, backend_calls: int, base_ms: float, factor: float) -> float | None:
    """The pass rule's latency bound on INVITE->200 p90: base + factor x (delay x backend calls per call), e.g.
    50 + 2 x 20 ms = 90 ms for one 20 ms backend wait, 50 ms for a plain relay; None (no bound) when base is 0."""
    if not base_ms or base_ms <= 0:
        return None
    return round(base_ms + factor * delay_ms * backend_calls, 1)


def early_stop_reason(rows: list[dict[str, str]], calls: int, max_failed: float, max_retrans: float) -> str:
    """Why a running step can no longer pass, from SIPp's periodic statistics so far ('' while it still can)."""
    if not rows:
        return ""
    last = rows[-1]
    failed, retrans = as_int(last, "FailedCall(C)"), as_int(last, "Retransmissions(C)")
    if failed > max_failed * calls:
        return f"failed calls {failed} > {max_failed * calls:g}"
    if retrans > retrans_allowed(calls, max_retrans):
        return f"retransmissions {retrans} > {retrans_allowed(calls, max_retrans):g}"
    return ""


def judge(st: Step, max_failed: float, max_retrans: float, late_slack: float, stats_seen: bool = True,
          proxy_dead: bool = False) -> list[str]:
    """The pass rule: the reasons a finished step fails, most telling first (empty: it passed).

    A step passes when every call was created, < max_failed of them failed and >= 1 - max_failed succeeded, it
    took <= late_limit() seconds, retransmissions stay under retrans_allowed() and are not growing (second
    half <= 2 x first half + slack), and INVITE->200 p90 <= st.p90_limit_ms (when set and samples exist)."""
    reasons = []
    if proxy_dead:
        reasons.append("proxy died")
    if not stats_seen:
        reasons.append("no SIPp statistics")
    if st.failed > max_failed * st.calls:
        reasons.append(f"failed calls {st.failed}")
    if st.p90_limit_ms and st.rtt_p90_ms is not None and st.rtt_p90_ms > st.p90_limit_ms:
        reasons.append(f"p90 {st.rtt_p90_ms:g} ms > {st.p90_limit_ms:g} ms")
    slack = max(10, int(0.001 * st.calls))
    if st.retrans_second_half > 2 * st.retrans_first_half + slack:
        reasons.append(f"retransmissions growing {st.retrans_first_half}->{st.retrans_second_half}")
    if st.retransmissions > retrans_allowed(st.calls, max_retrans):
        reasons.append(f"retransmissions {st.retransmissions}")
    if st.uac_rc is None:
        reasons.append("late (killed at time limit)")
    elif st.wall_s > late_limit(st.duration_s, late_slack):
        reasons.append(f"late ({st.wall_s:.1f} s for {st.duration_s:g} s)")
    if st.created < st.calls:
        reasons.append(f"created {st.created}/{st.calls}")
    if st.successful < (1 - max_failed) * st.calls:
        reasons.append(f"successful {st.successful}/{st.calls}")
    return reasons


def flatten_stats(st: Step) -> None:
    """Copies the /stats step deltas and peaks into the flat async_* / peak_* fields (for steps.csv)."""
    if not st.stats:
        return
    t = tandem_stats.totals(st.stats.get("delta"))
    if t is not None:
        st.async_started, st.async_completed = t["started"], t["completed"]
        st.async_timed_out, st.async_rejected = t["timed_out"], t["rejected"]
    peaks = st.stats.get("peaks") or {}
    st.peak_suspended = peaks.get("suspended_now")
    st.peak_offload_busy = peaks.get("offload_threads_busy")


def limit_reason(steps: list, max_rate: int) -> str:
    """Why a search stops where it does: the reason of the lowest-rate failed step above `max_rate` (the
    latest such step on ties), shortened to its first two causes. Steps are Step objects or their dicts."""
    worst = None
    for st in steps:
        d = st if isinstance(st, dict) else asdict(st)
        if d.get("ok") or (d.get("rate") or 0) <= max_rate:
            continue
        if worst is None or d["rate"] <= worst["rate"]:
            worst = d
    if worst is None:
        return ""
    parts = [p for p in (worst.get("reason") or "").split("; ") if p]
    short = "; ".join(parts[:2]) + (" ..." if len(parts) > 2 else "")
    return f"{worst['rate']}: {short}"


class SlowCounter:
    """Counts, while SIPp runs, the -trace_rtt samples above a latency bound (reading only what was appended
    since the last look). Once more than 10% of a step's planned calls are slower than the bound, its p90 cannot
    end below it, so the step can stop early."""

    def __init__(self, path: Path, limit_ms: float | None):
        self.path, self.limit_ms = path, limit_ms
        self.offset, self.slow, self.partial = 0, 0, ""

    def count(self) -> int:
        try:
            with open(self.path, errors="replace") as f:
                f.seek(self.offset)
                data = f.read()
                self.offset = f.tell()
        except OSError:
            return self.slow
        lines = (self.partial + data).split("\n")
        self.partial = lines.pop()  # an unfinished last line waits for the next look
        for line in lines:
            parts = line.split(";")
            if len(parts) >= 2:
                try:
                    if float(parts[1]) > (self.limit_ms or float("inf")):
                        self.slow += 1
                except ValueError:
                    pass  # the header
        return self.slow


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
    """The step behind a search's max rate: the last passing one at that rate (its confirmation, if any)."""
    if not s or not s.max_rate:
        return None
    for st in reversed(s.steps):
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
    p90_for = {n: float(v) for n, v in parse_named(a.max_p90_for, "--max-p90-for")}
    unknown = set(p90_for) - {n for n, _ in plist}
    if unknown:
        raise SystemExit(f"--max-p90-for: no proxy named {', '.join(sorted(unknown))}")
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
            runner.p90_limit_ms = a.max_p90_ms or None
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
            runner.p90_limit_ms = p90_for.get(name, a.max_p90_ms) or None
            s = None
            try:
                start = min(starts.get(name, a.start_rate), cap)
                reset = proxy.restart if (proxy and a.restart_after_failure) else None
                s = search(runner, name, start, cap, a.precision, a.max_steps, max(10.0, min(a.budget, left)),
                           reset=reset)
                searches.append(s)
            finally:
                if proxy:
                    proxy.stop()
                    if proxy.last:
                        rec["peak_rss_kb"] = proxy.last.hwm_kb
                        rec["cpu_seconds_total"] = round(proxy.last.cpu_s, 3)
                        rec["threads"] = proxy.last.threads
                    rec["exit_code"] = proxy.proc.returncode if proxy.proc else None
                    if s is not None:
                        rec.update(peak_threads_of(s))
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
                   "max_retrans": a.max_retrans, "max_p90_ms": a.max_p90_ms, "max_p90_for": p90_for,
                   "late_slack_s": a.late_slack, "early_stop": a.early_stop,
                   "proxy_addr": a.proxy_addr, "uas_port": runner.uas_port,
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

BACKENDS = ("none", "sleep", "exec", "http", "postgres", "mysql", "ldap", "mongodb", "mixed")
MODES = ("sync", "native", "offload")
#: Order of the modes within a group of a run: the async modes first (their figures seed each other's start).
RUN_MODE_ORDER = ("native", "offload", "sync")
#: Backend -> (driver names for async_mode/offload_limit, modes it has, test server scripts). A "mixed" call waits
#: on PostgreSQL, then HTTP, then LDAP (chained async(), each with the scenario's delay).
BACKEND_INFO = {
    "none": ((), (), ()),
    "sleep": (("usleep",), MODES, ()),
    "exec": (("exec",), MODES, ()),
    "http": (("http",), MODES, ("http",)),
    "postgres": (("postgres",), MODES, ("postgres",)),
    "mysql": (("mysql",), MODES, ("mariadb",)),  # MariaDB behind the delay proxy
    "ldap": (("ldap",), MODES, ("slapd",)),
    "mongodb": (("mongodb",), ("sync", "offload"), ("mongo",)),  # the MongoDB driver has no native path
    "mixed": (("postgres", "http", "ldap"), MODES, ("postgres", "http", "slapd")),
}
BACKEND_LABEL = {"sleep": "Sleep", "exec": "Exec", "http": "HTTP", "postgres": "PostgreSQL", "mysql": "MySQL", "ldap": "LDAP",
                 "mongodb": "MongoDB"}
SERVER_PORT_ENV = {"http": "TANDEM_TEST_HTTP_PORT", "postgres": "TANDEM_TEST_PG_PORT", "mariadb": "TANDEM_TEST_MYSQL_PORT",
                   "slapd": "TANDEM_TEST_LDAP_PORT", "mongo": "TANDEM_TEST_MONGO_PORT"}


#: Values of modparam("tandem", "udp_sockets"): "shared" (one socket per listen address, read by every UDP
#: worker: any idle worker takes the next datagram) and "per_worker" (one SO_REUSEPORT socket per worker: the
#: kernel hashes the peer address, so the single SIPp peer always lands on one worker). Also the run order of
#: a scenario's twins.
SOCKETS = ("shared", "per_worker")
#: Layout of records without a "sockets" field: runs made before the option existed, when Tandem always used
#: one SO_REUSEPORT socket per worker.
LEGACY_SOCKETS = "per_worker"


@dataclass(frozen=True)
class Scenario:
    """One matrix cell: backend waits per initial INVITE, their async mode, the backend delay, UDP workers and
    their socket layout ("shared" or "per_worker"; the latter's name ends in -pw)."""
    backend: str
    mode: str  # "-" for backend none
    delay_ms: int  # 0 for backend none
    workers: int
    sockets: str = "shared"
    #: Resuming a run made before udp_sockets existed: per_worker scenarios keep that run's names (no -pw).
    legacy_name: bool = False

    @property
    def name(self) -> str:
        suffix = "-pw" if self.sockets == "per_worker" and not self.legacy_name else ""
        if self.backend == "none":
            return f"none-w{self.workers}{suffix}"
        return f"{self.backend}-{self.mode}-{self.delay_ms}ms-w{self.workers}{suffix}"

    @property
    def spread_workers(self) -> int:
        """Workers the single SIPp peer's requests spread over: all with shared sockets, one with per_worker."""
        return self.workers if self.sockets == "shared" else 1

    def record(self) -> dict:
        """The scenario as stored in results.json (`legacy_name` only when set)."""
        d = asdict(self)
        if not self.legacy_name:
            del d["legacy_name"]
        return d

    @property
    def backend_calls(self) -> int:
        """Backend waits per call (each of delay_ms)."""
        return len(BACKEND_INFO[self.backend][0])

    def fields(self) -> dict[str, str]:
        return {"backend": self.backend, "mode": self.mode, "delay": str(self.delay_ms),
                "delay_ms": str(self.delay_ms), "workers": str(self.workers), "udp_workers": str(self.workers),
                "sockets": self.sockets, "udp_sockets": self.sockets, "name": self.name}


def rec_sockets(rec: dict | None) -> str:
    """The socket layout of a results.json record (records made before the option: LEGACY_SOCKETS)."""
    return ((rec or {}).get("scenario") or {}).get("sockets") or LEGACY_SOCKETS


def parse_sockets(value: str | None) -> list[str]:
    """--udp-sockets: a comma list of SOCKETS values (None: shared), deduplicated, in the given order."""
    out: list[str] = []
    for v in (value or "shared").split(","):
        v = v.strip()
        if not v:
            continue
        if v not in SOCKETS:
            raise SystemExit(f"--udp-sockets wants a comma list of {' and '.join(SOCKETS)} (got {v!r})")
        if v not in out:
            out.append(v)
    if not out:
        raise SystemExit(f"--udp-sockets wants a comma list of {' and '.join(SOCKETS)} (got {value!r})")
    return out


def all_scenarios(backends, modes, delays, workers, sockets=("shared",), legacy_names: bool = False) -> list[Scenario]:
    """The product backend x mode x delay x workers x sockets (`none`: workers x sockets); `legacy_names`: the
    scenarios of a run made before udp_sockets (per_worker, names without -pw)."""
    for so in sockets:
        if so not in SOCKETS:
            raise SystemExit(f"unknown udp_sockets {so!r} (one of {', '.join(SOCKETS)})")
    return [Scenario(sc.backend, sc.mode, sc.delay_ms, sc.workers, so, legacy_names)
            for sc in _cells(backends, modes, delays, workers) for so in sockets]


def _cells(backends, modes, delays, workers) -> list[Scenario]:
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


def run_order(scenarios: list[Scenario], delay_order: list[int], first_workers: int = 2) -> list[Scenario]:
    """The order scenarios run in: `none` first (its rates seed the others' starts), then by delay in
    `delay_order` (default 20, 1, 100: the 20 ms verdict first, so a time-boxed run yields it), within a delay
    `first_workers` first, then backend, then native, offload, sync (test servers stay up once started); a
    per_worker scenario right after its shared twin (the pair runs back to back, under the same conditions)."""
    def key(sc: Scenario):
        so = SOCKETS.index(sc.sockets)
        if sc.backend == "none":
            return (0, 0, sc.workers != first_workers, sc.workers, 0, 0, so)
        d = delay_order.index(sc.delay_ms) if sc.delay_ms in delay_order else len(delay_order) + sc.delay_ms
        return (1, d, sc.workers != first_workers, sc.workers, BACKENDS.index(sc.backend),
                RUN_MODE_ORDER.index(sc.mode), so)
    return sorted(scenarios, key=key)


def parse_filters(values: list[str] | None) -> list[dict[str, set[str]]]:
    """--only backend=http,mode=native (repeatable: a scenario passes if it matches any --only; within one,
    every key must match; a key's values are separated by |, e.g. backend=http|postgres)."""
    out = []
    for v in values or []:
        f: dict[str, set[str]] = {}
        for part in v.split(","):
            k, sep, val = part.partition("=")
            k = k.strip()
            if not sep or k not in ("backend", "mode", "delay", "delay_ms", "workers", "udp_workers", "sockets",
                                    "udp_sockets", "name"):
                raise SystemExit(f"--only wants KEY=VALUE[,KEY=VALUE] with KEY backend|mode|delay|workers|sockets|"
                                 f"name (got {v!r})")
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
# Tandem's management endpoint (GET /stats), read by the harness around every step.
CFG_STATS = """loadmodule "httpd.so"
modparam("httpd", "ip", "127.0.0.1")
modparam("httpd", "port", {port})
loadmodule "mi_http.so"
loadmodule "prometheus.so"
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
CFG_RESUME = """route[{route}] {{
    if ({fail}) {{ t_reply(503, "{what} Failed"); exit; }}
{next}
}}
"""


def _backend_call(backend: str, d: int, env: dict[str, str], sc: Scenario, outdir: Path) -> tuple[str, str, str]:
    """(module lines, the async function call, the $rc condition meaning 'the wait did not happen') of one
    backend wait of d ms."""
    if backend == "sleep":
        return 'loadmodule "cfgutils.so"\n', f"usleep({d * 1000})", "$rc < 0"
    if backend == "exec":
        return 'loadmodule "exec.so"\n', f'exec("sleep {d / 1000:.3f}")', "$rc < 0"
    if backend == "http":
        return ('loadmodule "rest_client.so"\n',
                f'rest_get("http://127.0.0.1:{env["http_port"]}/route?delay_ms={d}", $var(b))', "$rc < 0")
    if backend == "postgres":
        return ('loadmodule "avpops.so"\n'
                f'modparam("avpops", "db_url", "postgres://postgres@127.0.0.1:{env["postgres_port"]}/tandem")\n',
                f'avp_db_query("SELECT pg_sleep({d / 1000:.3f}), 1")', "$rc < 0")
    if backend == "mysql":
        # The delay proxy adds d ms to every answer of MariaDB; the query has one bound value (a prepared
        # statement, cached per connection), so each call is one delayed round trip.
        return ('loadmodule "avpops.so"\n'
                f'modparam("avpops", "db_url", "mysql://tandem:tandem@127.0.0.1:{env["delay_port"]}/tandem")\n',
                'avp_db_query("SELECT CHAR_LENGTH($ci), 1")', "$rc < 0")
    if backend == "ldap":
        conf = outdir / "configs" / f"{sc.name}-ldap.conf"
        conf.write_text(f'[people]\nldap_server_url = "ldap://127.0.0.1:{env["delay_port"]}"\n'
                        'ldap_bind_dn = "cn=admin,dc=example,dc=com"\nldap_bind_password = "secret"\n'
                        'ldap_network_timeout = 2000\nldap_client_bind_timeout = 2000\n')
        return (f'loadmodule "ldap.so"\nmodparam("ldap", "config_file", "{conf}")\n',
                'ldap_search("ldap://people/ou=people,dc=example,dc=com?telephoneNumber?sub?(uid=alice)")', "$rc < 0")
    if backend == "mongodb":
        return ('loadmodule "avpops.so"\n'
                f'modparam("avpops", "db_url", "mongodb://127.0.0.1:{env["delay_port"]}/tandem")\n',
                'avp_db_query("{\\"find\\": \\"subscriber\\", \\"filter\\": {\\"username\\": \\"$fU\\"}}", "$avp(u)")',
                "$rc == -1 || $rc == -3 || $rc == -4")
    raise SystemExit(f"no template for backend {backend}")


def scenario_config(sc: Scenario, port: int, env: dict[str, str], outdir: Path, offload_limit: int,
                    stats_port: int | None = None) -> str:
    """The Tandem configuration of a scenario (written to OUT/configs/<name>.cfg); with `stats_port`, the
    management endpoint (GET /stats) listens on 127.0.0.1:stats_port."""
    text = CFG_HEAD.format(name=sc.name, workers=sc.workers, port=port)
    text += f'modparam("tandem", "udp_sockets", "{sc.sockets}")\n'
    if stats_port:
        text += CFG_STATS.format(port=stats_port)
    if sc.backend == "none":
        return text + CFG_ROUTE.format(wait="    t_relay();")
    env = dict(env)
    if sc.backend != "mixed" and "port" in env:  # single-backend scenarios: the server's port
        env.setdefault(f"{sc.backend}_port", env["port"])
    parts = [("sleep", "usleep")] if sc.backend == "sleep" else [(b, b) for b in BACKEND_INFO[sc.backend][0]]
    modules: list[str] = []
    calls: list[tuple[str, str, str]] = []
    for backend, driver in parts:
        mods, call, fail = _backend_call(backend, sc.delay_ms, env, sc, outdir)
        if mods not in modules:
            modules.append(mods)
        calls.append((backend, call, fail))
    text += "".join(modules)
    drivers = [d for _, d in parts]
    text += f'modparam("tandem", "async_mode", "{";".join(f"{d}={sc.mode}" for d in drivers)}")\n'
    if sc.mode == "offload":
        text += f'modparam("tandem", "offload_limit", "{";".join(f"{d}={offload_limit}" for d in drivers)}")\n'
    # One call: async(call, resume). Several: route -> after_<first> -> ... -> resume, each checking $rc.
    routes = [f"after_{b}" for b, _, _ in calls[:-1]] + ["resume"]
    text += CFG_ROUTE.format(wait=f"    async({calls[0][1]}, {routes[0]});")
    for i, (backend, _, fail) in enumerate(calls):
        nxt = "    t_relay();" if i + 1 == len(calls) else f"    async({calls[i + 1][1]}, {routes[i + 1]});"
        text += CFG_RESUME.format(route=routes[i], fail=fail, what=BACKEND_LABEL.get(backend, "Backend"), next=nxt)
    return text


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
        """Ports of the scenario's servers: `<backend>_port` each (postgres_port, http_port, ...), `port` for a
        single-backend scenario, `delay_port` for the delay proxy in front of slapd, MariaDB or the MongoDB server."""
        scripts = BACKEND_INFO[sc.backend][2]
        env: dict[str, str] = {}
        for script, backend in zip(scripts, [b for b in BACKEND_INFO[sc.backend][0]]):
            senv = self.server(script)
            env[f"{backend}_port"] = senv["port"]
            if len(scripts) == 1:
                env.update(senv)
            if script in ("slapd", "mongo", "mariadb"):
                env["delay_port"] = str(self.delay_proxy(int(senv["port"]), sc.delay_ms))
        return env

    def close(self) -> None:
        self.stop_delay()
        for script in list(self.started):
            sh = ROOT / "scripts" / "test-servers" / f"{script}.sh"
            log(f"stopping test server {script}")
            with open(self.outdir / f"server-{script}.log", "ab") as f:
                subprocess.run(["bash", str(sh), "stop"], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT, timeout=60)
            del self.started[script]


# ------------------------------------------------------------------------------ matrix: start rates, time

def blocking_bound(sc: Scenario, offload_limit: int) -> float | None:
    """Theoretical ceiling of a blocking mode in calls/s: sync blocks a worker for delay x backend calls
    (workers x 1000 / (delay x calls); per_worker sockets: one worker, the one SIPp's address hashes to); offload keeps at most `offload_limit` jobs per driver pool, each for
    one delay (limit x 1000 / delay: the pools of a mixed call work in sequence). None for native and none."""
    if sc.backend == "none" or sc.mode == "native":
        return None
    d = max(1, sc.delay_ms)
    if sc.mode == "sync":
        return sc.spread_workers * 1000 / (d * sc.backend_calls)
    return offload_limit * 1000 / d


def _known_rate(rec: dict | None) -> int | None:
    if not rec or rec.get("error") or rec.get("incomplete") or not rec.get("max_rate"):
        return None
    return int(rec["max_rate"])


def predict_start(sc: Scenario, known: dict[str, dict], default: int, offload_limit: int) -> tuple[int, str]:
    """(first ramp rate, why) of a scenario, from what this run (or the resumed folder) already measured, only
    from scenarios of the same socket layout (`sockets`; per_worker sync does not scale with workers: one peer,
    one worker):
    sync: a known sync rate of the same backend and delay scaled by workers, else half its bound (sync holds
    about half of it: an INVITE retransmitted while blocked runs the script again); native/offload: the same
    backend and mode at the same delay (other workers), else at another delay, else the other async mode,
    else half the relay rate (none-wN); offload is capped at 0.9 x its bound; everything at the relay rate."""
    def twin(b: str, m: str, d: int, w: int) -> Scenario:
        return Scenario(b, m, d, w, sc.sockets, sc.legacy_name)

    def rate(b: str, m: str, d: int, w: int) -> int | None:
        return _known_rate(known.get(twin(b, m, d, w).name))

    relay = rate("none", "-", 0, sc.workers) or max(
        [r for r in (rate("none", "-", 0, w) for w in (1, 2, 4, 8)) if r] or [0]) or None
    if sc.backend == "none":
        others = [(w, r) for w in (2, 1, 4, 8) if w != sc.workers and (r := rate("none", "-", 0, w))]
        # A plain relay holds thousands of calls/s here: start high enough for the ramp to reach it.
        return ((others[0][1], twin("none", "-", 0, others[0][0]).name) if others
                else (max(default, 4000), "relay default"))
    bound = blocking_bound(sc, offload_limit)
    ws = sorted({1, 2, 4, 8, sc.workers} - {sc.workers}, key=lambda w: (abs(w - sc.workers), w))
    guess: float | None = None
    why = "default"
    if sc.mode == "sync":
        for w in ws:
            r = rate(sc.backend, "sync", sc.delay_ms, w)
            if r:
                other = twin(sc.backend, "sync", sc.delay_ms, w)
                guess = r * sc.spread_workers / other.spread_workers
                why = other.name + (" x workers" if sc.sockets == "shared" else "")
                break
        if guess is None and bound:
            guess, why = bound / 2, f"half the sync bound {bound:.0f}"
    else:
        delays = sorted({1, 20, 100, sc.delay_ms} - {sc.delay_ms}, key=lambda d: abs(d - sc.delay_ms))
        cands = [(sc.mode, sc.delay_ms, w) for w in ws] + [(sc.mode, d, w) for d in delays
                                                          for w in [sc.workers] + ws]
        other = "offload" if sc.mode == "native" else "native"
        if other in BACKEND_INFO[sc.backend][1]:
            cands += [(other, sc.delay_ms, w) for w in [sc.workers] + ws]
        for m, d, w in cands:
            r = rate(sc.backend, m, d, w)
            if r:
                guess, why = float(r), twin(sc.backend, m, d, w).name
                break
        if guess is None:
            if relay:
                guess, why = relay / 2, "half the relay rate"
            else:
                guess = default if sc.delay_ms < 100 else default / 2
        if bound and guess > 0.9 * bound:
            guess, why = 0.9 * bound, f"0.9 x offload bound {bound:.0f}"
    if relay and guess and guess > relay:
        guess, why = relay, why + ", capped at the relay rate"
    return tidy_rate(max(1.0, guess or default)), why


# Calibration of the run-time estimate (seconds), from a quick matrix on this 2-vCPU machine (41 steps, 11
# scenarios): beyond its duration a step costs ~0.5 s (SIPp start/stop, the call tail); a failing step ends at
# ~0.6 x its duration on average (early stop on failed calls/retransmissions at 1.5-2.5 s, or late at ~1.1 x);
# ~1 s per scenario for the proxy's start and stop; the first start of each test server.
EST_STEP_OVERHEAD_S = 0.5
EST_FAIL_FRACTION = 0.6
EST_SCENARIO_OVERHEAD_S = 1.0
EST_SERVER_START_S = {"postgres": 4.0, "mariadb": 6.0, "http": 1.5, "slapd": 1.5, "mongo": 8.0}


def estimate_scenario_s(sc: Scenario, a) -> float:
    """Expected seconds of one scenario: `est_steps` search steps, half passing (duration + tail), half failing
    (EST_FAIL_FRACTION x duration), plus the confirmation (+ a 20% chance of a second one)."""
    tail = sc.delay_ms * max(1, sc.backend_calls) / 1000
    pass_s = a.duration + EST_STEP_OVERHEAD_S + tail
    fail_s = EST_FAIL_FRACTION * a.duration + EST_STEP_OVERHEAD_S
    steps = min(a.max_steps, a.est_steps)
    search_s = min(a.budget + pass_s, steps * (pass_s + fail_s) / 2)
    confirm_s = 1.2 * (a.confirm_duration + EST_STEP_OVERHEAD_S + tail) if a.confirm_duration else 0.0
    return EST_SCENARIO_OVERHEAD_S + search_s + confirm_s


def estimate_run_s(scenarios: list[Scenario], a, with_baseline: bool) -> float:
    servers = {s for sc in scenarios for s in BACKEND_INFO[sc.backend][2]}
    total = sum(estimate_scenario_s(sc, a) for sc in scenarios) + sum(EST_SERVER_START_S.get(s, 3) for s in servers)
    if with_baseline:
        total += min(a.budget, a.max_steps * (a.duration + EST_STEP_OVERHEAD_S))
    return total


# ---------------------------------------------------------------------------------- matrix: the verdict

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

    backends = Backends(outdir)
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
    r.add_argument("--restart-after-failure", action="store_true",
                   help="a step that follows a failed one runs on a freshly started proxy (as in matrix)")
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
    r.add_argument("--max-p90-ms", type=float, default=50.0,
                   help="a step fails when INVITE->200 p90 exceeds this (default %(default)s ms; 0: no bound)")
    r.add_argument("--max-p90-for", action="append", metavar="NAME=MS",
                   help="the p90 bound of one proxy, e.g. a config with a 20 ms wait: usleep-async=90; repeatable")
    r.add_argument("--late-slack", type=float, default=2.0,
                   help="a step fails when it takes more than 1.15 x duration + this many s (default %(default)s)")
    r.add_argument("--no-early-stop", dest="early_stop", action="store_false",
                   help="run every step to its end even when its failed calls already exceed --max-failed")
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
    m = sub.add_parser("matrix", help="relay searches over backend x mode x delay x udp_workers x udp_sockets "
                       "scenarios")
    m.add_argument("--backends", default=",".join(BACKENDS), help="comma list (default: all: %(default)s)")
    m.add_argument("--modes", default=",".join(MODES), help="comma list (default %(default)s; mongodb has no native)")
    m.add_argument("--delays", default="1,20,100", help="backend delays in ms (default %(default)s)")
    m.add_argument("--workers", default="1,2,4", help="udp_workers values (default %(default)s)")
    m.add_argument("--udp-sockets", metavar="LIST",
                   help="comma list of udp_sockets layouts: shared (one socket read by every UDP worker), "
                        "per_worker (one SO_REUSEPORT socket per worker; names end in -pw); default shared. "
                        "Both: each per_worker scenario runs right after its shared twin")
    m.add_argument("--delay-order", default="20,1,100",
                   help="run order of the delays (default %(default)s: the verdict's 20 ms first)")
    m.add_argument("--only", action="append", metavar="KEY=V[,KEY=V]",
                   help="keep scenarios matching all pairs (keys backend, mode, delay, workers, sockets, name; "
                        "values may "
                        "be V1|V2); repeatable: any --only matches")
    m.add_argument("--resume", metavar="DIR", help="write into DIR and skip the scenarios its results.json has")
    m.add_argument("--list", action="store_true",
                   help="print the selected scenarios in run order, their p90 bound, and the run-time estimate")
    m.add_argument("--quick", action="store_true",
                   help="4 scenarios (none, usleep native/sync, http native; 2 workers, 20 ms), 4 s steps, "
                        "under 3 minutes")
    m.add_argument("--full", action="store_true",
                   help="every scenario in about 85 minutes: 4 s steps, x1.5 ramp from predicted start rates, "
                        "precision 0.2, at most 5 search steps or 35 s per search, then a 10 s confirmation")
    m.add_argument("--tandem", default=".build/release/tandem", help="Tandem binary (default %(default)s)")
    m.add_argument("--offload-limit", type=int, default=64, help="offload_limit for offload scenarios")
    m.add_argument("--proxy-port", type=int, default=15160, help="first port tried for the proxy")
    m.add_argument("--no-stats", action="store_true",
                   help="do not enable Tandem's /stats endpoint (httpd/mi_http/prometheus modules) in the configs")
    m.add_argument("--stats-port", type=int, default=18990, help="first port tried for /stats")
    m.add_argument("--skip-baseline", action="store_true")
    m.add_argument("--duration", type=float, help="seconds per step (quick 4, full 4, default 10)")
    m.add_argument("--confirm-duration", type=float,
                   help="seconds of the confirmation step at the best rate (full 10; 0: none, quick/default)")
    m.add_argument("--confirm-tries", type=int, default=2,
                   help="confirmations tried, each at a lower rate after a failure (default %(default)s)")
    m.add_argument("--ramp", type=float, help="ramp factor (full 1.5, else 2)")
    m.add_argument("--start-rate", type=int,
                   help="first ramp rate when nothing predicts one (default 1000; see README: start rates)")
    m.add_argument("--max-rate", type=int, default=40000)
    m.add_argument("--precision", type=float, help="bisection precision (quick 0.5, full 0.2, default 0.15)")
    m.add_argument("--max-steps", type=int, help="search steps per scenario (quick 4, full 5, default 8)")
    m.add_argument("--budget", type=float, help="seconds per search (quick 30, full 35, default 150), "
                   "confirmation not included")
    m.add_argument("--total-budget", type=float, help="seconds for the whole invocation (quick 165; full: 1.25 x "
                   "the estimate; default: budget x (scenarios + 1)); scenarios left are skipped, resume later")
    m.add_argument("--est-steps", type=float, help=argparse.SUPPRESS)  # search steps the estimate assumes
    m.add_argument("--max-p90-ms", type=float, default=50.0,
                   help="latency bound base: a step fails when INVITE->200 p90 > this + --p90-factor x delay x "
                        "backend calls (default %(default)s ms; 0: no latency bound)")
    m.add_argument("--p90-factor", type=float, default=2.0, help="see --max-p90-ms (default %(default)s)")
    m.add_argument("--late-slack", type=float, default=2.0,
                   help="a step fails when it takes more than 1.15 x duration + this many s (default %(default)s)")
    m.add_argument("--no-early-stop", dest="early_stop", action="store_false",
                   help="run every step to its end even when its failed calls already exceed --max-failed")
    m.add_argument("--margin", type=float, default=5.0,
                   help="the verdict's PASS margin: best async >= this x best sync (default %(default)s)")
    m.add_argument("--verdict-delay", type=int, default=20, help="delay (ms) of the verdict table (default 20)")
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
