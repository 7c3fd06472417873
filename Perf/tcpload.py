#!/usr/bin/env python3
"""TCP relay benchmark (issue 17): Tandem's TCP relay side by side with Kamailio 5.6's TCP relay, and Tandem's
UDP relay, in one run. Record-routed INVITE/200/ACK/BYE calls from a SIPp UAC (Tests/sipp/uac.xml, -rsa to the
proxy; over TCP with -t tn, a connection per call, or -t t1, one connection) through the proxy to a SIPp UAS
(Tests/sipp/uas.xml, UDP or TCP). Tandem runs Perf/configs/tcpload.cfg, Kamailio Perf/configs/kamailio-tcpload.cfg:
the same stateful relay on a UDP and a TCP socket, the same worker count (Tandem udp_workers = Kamailio children =
tcp_children). A call that comes in over TCP leaves over TCP.

1. Fixed rate (--rate, --seconds): every (proxy, mode) of --fixed runs rate x seconds calls on a fresh proxy, the
   list repeated --repeat times round-robin (so a burst of load from other jobs on the shared machine hits one
   round, not one proxy); proxy CPU per call (user+system of all its processes and threads, /proc, sampled just
   before and after the UAC) is reported per round and as the median.
2. Max rate: every (proxy, mode) of --max climbs --rates; a step passes with 0 failed, every call successful and
   the run done within 1.15 x calls/rate + 3 s; the climb stops at its first failing rate. The default climbs use
   -t t1: with -t tn SIPp itself (a socket per call, polled in one loop) stalls near 1,000-1,500 calls/s here
   while the proxy idles, so a tn climb measures SIPp.
3. TLS handshakes per second: Perf/tls_handshakes.sh (tandem bench-tls, in-memory, no sockets).

Setup (once): python3 Perf/regload.py --setup (Kamailio, SIPp), then swift build -c release --product tandem.
Usage:  python3 Perf/tcpload.py [--workers 2] [--rate 300] [--seconds 10] [--repeat 3]
                                [--fixed tandem:udp,tandem:tn,kamailio:tn,...] [--max tandem:t1,kamailio:t1,...]
                                [--rates 500,1000,1500,2000,3000,4000,6000] [--max-seconds 5] [--tls-count 1000]
Output: Perf/results/tcpload-<UTC timestamp>/ (results.json, summary.md, machine.md, per-step SIPp logs).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, Proxy, free_port, log, sample_proc  # noqa: E402  (Perf/harness.py)
from regload import finish_uas, sipp  # noqa: E402  (Perf/regload.py: one SIPp run to its end, its last statistics row; the UAS stopped)

SIPP_DIR = ROOT / "Tests" / "sipp"
MODES = ("udp", "t1", "tn")


def pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for item in filter(None, text.split(",")):
        proxy, _, mode = item.partition(":")
        if proxy not in ("tandem", "kamailio") or mode not in MODES:
            raise SystemExit(f"bad proxy:mode {item!r} (proxies tandem, kamailio; modes {', '.join(MODES)})")
        out.append((proxy, mode))
    return out


def proxy_command(name: str, a, port: int, uas_tcp: int, outdir: Path) -> str:
    if name == "tandem":
        text = (ROOT / "Perf/configs/tcpload.cfg").read_text()
        text = (text.replace("LISTENPORT", str(port)).replace("UASTCPPORT", str(uas_tcp))
                .replace("WORKERS", str(a.workers)))
        cfg = outdir / "tandem-tcpload.cfg"
        cfg.write_text(text)
        return f"{a.tandem} run -f {cfg}"
    text = (ROOT / "Perf/configs/kamailio-tcpload.cfg").read_text()
    text = (text.replace("!LISTENPORT!15060!", f"!LISTENPORT!{port}!")
            .replace("!UASTCPPORT!15070!", f"!UASTCPPORT!{uas_tcp}!").replace("!WORKERS!2!", f"!WORKERS!{a.workers}!"))
    cfg = outdir / "kamailio-tcpload.cfg"
    cfg.write_text(text)
    return f"kamailio -DD -E -m 2048 -Y {outdir} -f {cfg}"


def step(name: str, mode: str, rate: int, calls: int, a, outdir: Path, tag: str) -> dict:
    """One fresh proxy, one UAS, one UAC run of `calls` calls at `rate`: outcome and proxy CPU per call."""
    taken: set[int] = set()
    port = free_port(15400, taken); taken.add(port)
    uas_port = free_port(15600, taken); taken.add(uas_port)
    sdir = outdir / tag
    sdir.mkdir(parents=True, exist_ok=True)
    proxy = Proxy(proxy_command(name, a, port, uas_port, sdir), f"127.0.0.1:{port}", sdir / "proxy.log")
    proxy.start()
    result: dict = {"proxy": name, "mode": mode, "rate": rate, "calls": calls}
    limit = 1.15 * calls / rate + 3
    tune = ["-buff_size", "4194304", "-max_recv_loops", "10000", "-max_sched_loops", "10000"]
    transport = [] if mode == "udp" else ["-t", mode, "-max_socket", "10000"]
    try:
        uas = subprocess.Popen(["sipp", "-sf", str(SIPP_DIR / "uas.xml"), "-i", "127.0.0.1", "-p", str(uas_port),
                                "-cp", str(free_port(18000, taken)), "-nostdin", "-m", str(calls),
                                "-timeout", f"{int(limit + 40)}s"] + ([] if mode == "udp" else ["-t", "t1"]) + tune,
                               stdout=open(sdir / "uas.log", "wb"), stderr=subprocess.STDOUT, cwd=sdir)
        time.sleep(0.3)
        before = sample_proc(proxy.proc.pid)
        t0 = time.monotonic()
        uac = sipp(["-sf", str(SIPP_DIR / "uac.xml"), f"127.0.0.1:{uas_port}", "-rsa", f"127.0.0.1:{port}",
                    "-i", "127.0.0.1", "-p", str(free_port(16500, taken)), "-cp", str(free_port(17500, taken)),
                    "-m", str(calls), "-r", str(rate), "-timeout", f"{int(limit + 30)}s"] + transport,
                   sdir, "uac", limit + 40)
        seconds = time.monotonic() - t0
        after = sample_proc(proxy.proc.pid)
        result.update(uac)
        result["seconds"] = round(seconds, 2)
        if before and after:
            cpu = after.cpu_s - before.cpu_s
            result["cpu_s"] = round(cpu, 2)
            result["cpu_us_per_call"] = round(cpu * 1e6 / max(1, uac["ok"]), 1)
            result["cpu_pct"] = round(100 * cpu / max(0.01, seconds), 1)
        result["pass"] = uac["failed"] == 0 and uac["ok"] == calls and seconds <= limit
        finish_uas(uas)
        result["proxy_alive"] = proxy.alive()
    finally:
        proxy.stop()
    log(f"{tag}: {result}")
    return result


def tls_handshakes(a, outdir: Path) -> list[str]:
    out = subprocess.run(["bash", str(ROOT / "Perf/tls_handshakes.sh"), str(a.tls_count)], cwd=ROOT,
                         capture_output=True, text=True, env=dict(os.environ, TANDEM_BIN=a.tandem))
    (outdir / "tls_handshakes.log").write_text(out.stdout + out.stderr)
    return [line for line in out.stdout.splitlines() if line.strip()] or [f"failed: {out.stderr.strip()[-300:]}"]


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def ratio(x: float | None, y: float | None) -> str:
    return f"{x / y:.2f}" if x and y else "n/a"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rate", type=int, default=300, help="the fixed rate of the CPU comparison (calls/s)")
    p.add_argument("--seconds", type=int, default=10, help="calls per fixed-rate step = rate x seconds")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--fixed", default="tandem:udp,tandem:tn,tandem:t1,kamailio:tn,kamailio:t1,kamailio:udp")
    p.add_argument("--max", default="tandem:t1,kamailio:t1,tandem:udp")
    p.add_argument("--rates", default="500,1000,1500,2000,3000,4000,6000")
    p.add_argument("--max-seconds", type=int, default=5, help="calls per max-rate step = rate x seconds")
    p.add_argument("--tls-count", type=int, default=1000, help="handshakes per TLS variant (0: skip)")
    p.add_argument("--tandem", default=str(ROOT / ".build/release/tandem"))
    p.add_argument("--out", default=None)
    a = p.parse_args()
    fixed, climb = pairs(a.fixed), pairs(a.max)
    if any(pr == "kamailio" for pr, _ in fixed + climb) and subprocess.run(
            ["sh", "-c", "command -v kamailio"], capture_output=True).returncode != 0:
        raise SystemExit("Kamailio is missing: python3 Perf/regload.py --setup")
    outdir = Path(a.out) if a.out else ROOT / "Perf/results" / ("tcpload-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "machine.md").write_text(subprocess.run(["bash", str(ROOT / "Perf/machine.sh")], cwd=ROOT,
                                                      capture_output=True, text=True).stdout)
    results: dict = {"workers": a.workers, "rate": a.rate, "seconds": a.seconds, "repeat": a.repeat,
                     "fixed": [], "max": [], "tls": []}

    def save() -> None:
        (outdir / "results.json").write_text(json.dumps(results, indent=1))

    for rnd in range(a.repeat):
        for proxy, mode in fixed:
            results["fixed"].append(dict(step(proxy, mode, a.rate, a.rate * a.seconds, a, outdir,
                                              f"fixed-{proxy}-{mode}-{rnd}"), round=rnd))
            save()
    best: dict[str, int] = {}
    for proxy, mode in climb:
        best[f"{proxy}:{mode}"] = 0
        for rate in [int(r) for r in a.rates.split(",")]:
            r = step(proxy, mode, rate, rate * a.max_seconds, a, outdir, f"max-{proxy}-{mode}-{rate}")
            results["max"].append(r)
            save()
            if not r.get("pass"):
                break
            best[f"{proxy}:{mode}"] = rate
    results["best"] = best
    if a.tls_count > 0:
        results["tls"] = tls_handshakes(a, outdir)
    save()
    write_summary(a, results, outdir)
    return 0


def write_summary(a, results: dict, outdir: Path) -> None:
    cpu: dict[str, float | None] = {}
    lines = [f"# TCP relay benchmark ({a.workers} workers; Tandem vs Kamailio 5.6, one run)", "",
             f"## Proxy CPU per call at {a.rate} calls/s ({a.rate * a.seconds} calls a step, {a.repeat} rounds)", "",
             "| proxy | transport | CPU µs/call per round | median µs/call | median CPU % | calls not successful (all rounds) |",
             "|---|---|---|---|---|---|"]
    keys = []
    for r in results["fixed"]:
        if (r["proxy"], r["mode"]) not in keys:
            keys.append((r["proxy"], r["mode"]))
    for proxy, mode in keys:
        rows = [r for r in results["fixed"] if r["proxy"] == proxy and r["mode"] == mode]
        values = [r["cpu_us_per_call"] for r in rows if r.get("cpu_us_per_call") is not None]
        cpu[f"{proxy}:{mode}"] = median(values)
        failed = sum(r["calls"] - max(0, r.get("ok", 0)) for r in rows)
        lines.append(f"| {proxy} | {mode} | {', '.join(str(v) for v in values)} | {cpu[f'{proxy}:{mode}']} | "
                     f"{median([r['cpu_pct'] for r in rows if 'cpu_pct' in r])} | {failed} |")
    lines += ["", "Ratios (medians; tn = a TCP connection per call, t1 = one TCP connection for all calls):", ""]
    for mode in ("tn", "t1"):
        t, u, k = cpu.get(f"tandem:{mode}"), cpu.get("tandem:udp"), cpu.get(f"kamailio:{mode}")
        if t and u:
            lines.append(f"- Tandem TCP ({mode}) / Tandem UDP: {ratio(t, u)} (target ≤ 1.30: "
                         f"{'met' if t <= 1.3 * u else 'NOT met'})")
        if t and k:
            lines.append(f"- Tandem TCP ({mode}) / Kamailio TCP ({mode}): {ratio(t, k)} (target < 1: "
                         f"{'met' if t < k else 'NOT met'})")
    if cpu.get("tandem:udp") and cpu.get("kamailio:udp"):
        lines.append(f"- Tandem UDP / Kamailio UDP: {ratio(cpu['tandem:udp'], cpu['kamailio:udp'])}")
    if results["max"]:
        lines += ["", f"## Max rate (0 failed, done within 1.15 x calls/rate + 3 s; {a.max_seconds} s of calls a step)",
                  "", "| proxy | transport | max calls/s | steps (rate: ok/failed, s, CPU %) |", "|---|---|---|---|"]
        for key, rate in results["best"].items():
            proxy, mode = key.split(":")
            steps = [f"{r['rate']}: {r.get('ok')}/{r.get('failed')}, {r.get('seconds')} s, {r.get('cpu_pct')}%"
                     for r in results["max"] if r["proxy"] == proxy and r["mode"] == mode]
            shown = str(rate) if rate else "below the lowest rate tried"
            lines.append(f"| {proxy} | {mode} | {shown} | {'; '.join(steps)} |")
    if results["tls"]:
        lines += ["", "## TLS handshakes per second (tandem bench-tls, in memory, one thread)", ""]
        lines += [f"- {line}" for line in results["tls"]]
    lines += ["", "SIPp (UAC and UAS) runs on the same CPUs as the proxy; the machine is shared with other jobs."]
    (outdir / "summary.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
