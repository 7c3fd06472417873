"""One SIPp step (uac -> proxy -> uas at a fixed rate): the runner, its statistics and the pass rule (judge)."""
from __future__ import annotations

import csv
import re
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from . import tandem_stats
from .common import SCENARIOS, free_port, log, parse_addr, port_free, safe_name, terminate
from .procstat import ProcSample, _read_stat
from .proxies import Proxy


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
        outdir = self.outdir  # a relative --out would not hold from SIPp's working directory
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
